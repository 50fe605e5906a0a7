/* pdfmeta: the document-level objects of pildoc's PDF writer: the
 * document information dictionary, the catalog and, for PDF/A-1b, the
 * XMP metadata stream (the same title, author, subject, dates and producer
 * as the information dictionary, and pdfaid:part 1, conformance B) and the
 * sRGB OutputIntent with its ICC profile.
 *
 * The catalog takes extra entries as bytes (`extra`), so that the modules
 * writing the structure tree or a form add /StructTreeRoot, /MarkInfo or
 * /AcroForm without touching the catalog writer. The file identifier
 * (/ID) is made by render.c from what the document holds (pages, images,
 * the information dictionary): see pd_render_pdf.
 *
 * Ownership: a pd_pdfmeta_icc is owned by its caller (one per batch
 * worker, kept in the PDF cache: the profile is read and deflated once);
 * everything else writes into the caller's pd_pdfobj and strbufs. */
#ifndef PILDOC_PDFMETA_H
#define PILDOC_PDFMETA_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "pdfobj.h"
#include "strbuf.h"

/* The sRGB profile of Debian's icc-profiles-free (zlib licence), ICC
 * version 2 as PDF/A-1 requires. Set at build time (ICC_PROFILE in the
 * Makefile). */
#ifndef PILDOC_ICC_PROFILE
#define PILDOC_ICC_PROFILE "/usr/share/color/icc/sRGB.icc"
#endif

typedef struct pd_pdfmeta_info {
    const char *title, *subject, *author; /* UTF-8, or NULL/"" for none */
    const char *lang;                     /* BCP 47 tag ("fr-FR"), or NULL */
    const char *creator;                  /* creator tool and producer: "pildoc 0.1.0" */
    /* ISO 8601 "YYYY-MM-DDThh:mm:ssZ" (SOURCE_DATE_EPOCH), or NULL: now
     * (resolve it once with pd_pdfmeta_resolve_date so that the
     * information dictionary and the XMP agree to the second) */
    const char *date;
    /* Declare PDF/UA-1 (pdfuaid:part 1, with the pdfaExtension schema
     * description PDF/A-1 requires for that namespace). Only for a tagged
     * document: off until the structure tree is written. */
    bool pdfua;
    /* A bilingual document: its second language, and that language's own
     * title and subject (title and subject above are "first / second"):
     * dc:title and dc:description then hold each language's with its
     * xml:lang besides the x-default, and dc:language both. Else NULL. */
    const char *also_lang, *title2, *subject2;
} pd_pdfmeta_info;

/* `date` as "YYYY-MM-DDThh:mm:ssZ" into buf (at least 32 bytes): the
 * current time (UTC) when date is NULL or malformed. Returns buf. */
const char *pd_pdfmeta_resolve_date(const char *date, char buf[32]);

/* The information dictionary's entries (without << >>): /Title,
 * /Subject, /Author, /Creator, /Producer, /CreationDate, /ModDate. */
void pd_pdfmeta_info_entries(strbuf *out, const pd_pdfmeta_info *info);

/* The XMP packet (UTF-8 XML) describing the document as the information
 * dictionary does, declaring PDF/A-1b (and PDF/UA-1 when info->pdfua). */
void pd_pdfmeta_xmp(strbuf *out, const pd_pdfmeta_info *info);

/* The ICC profile, deflated. */
typedef struct pd_pdfmeta_icc pd_pdfmeta_icc;
/* Reads and deflates the profile at `path`; NULL with err set (naming the
 * file and the Debian package) when it cannot be read or is not an RGB
 * profile. */
pd_pdfmeta_icc *pd_pdfmeta_icc_load(const char *path, pd_error *err);
void pd_pdfmeta_icc_free(pd_pdfmeta_icc *icc);

/* PDF/A-1b: writes the XMP metadata stream (unfiltered, as PDF/A-1
 * requires) and the ICC profile stream as new objects of w, and appends
 * /Metadata and /OutputIntents (GTS_PDFA1, sRGB) to `catalog`. */
void pd_pdfmeta_write_archival(pd_pdfobj *w, const pd_pdfmeta_info *info, const pd_pdfmeta_icc *icc,
                               strbuf *catalog);

typedef struct pd_pdfmeta_catalog {
    uint32_t pages;    /* the page tree */
    uint32_t outlines; /* the outline, or 0: none (then no /PageMode) */
    const char *lang;  /* /Lang, or NULL */
    /* more entries, written as they are: /Metadata and /OutputIntents
     * (pd_pdfmeta_write_archival), /StructTreeRoot, /MarkInfo, /AcroForm */
    const strbuf *extra;
} pd_pdfmeta_catalog;

/* Object `num` as the document catalog: /Pages, /Outlines with /PageMode
 * /UseOutlines (the outline shows when the file opens), /Lang,
 * /ViewerPreferences <</DisplayDocTitle true>> (viewers show the title,
 * not the file name), then the extra entries. */
void pd_pdfmeta_write_catalog(pd_pdfobj *w, uint32_t num, const pd_pdfmeta_catalog *c);

#endif
