/* pdffont: fonts for pildoc's PDF writer, subset by HarfBuzz (hb-subset).
 *
 * A pd_pdffont is one embeddable subset of one font face: the glyphs a
 * document uses (or a deterministic part of them), its font program
 * deflated, its widths and font descriptor written as PDF bytes. TrueType
 * faces become CIDFontType2 (FontFile2) with dense new glyph ids as codes
 * and CIDToGIDMap /Identity; CFF faces become CIDFontType0 (FontFile3
 * /CIDFontType0C) whose codes are the original CIDs, which hb-subset keeps
 * in the subset's charset (Noto Sans CJK's CIDs are its glyph ids). The
 * ToUnicode map depends on the text, not the glyphs: render.c writes it.
 * New glyph ids rather than HB_SUBSET_FLAGS_RETAIN_GIDS, measured on 800
 * glyphs of the Core Chinese face: 175 against 179 KB deflated and 9.2
 * against 11.3 ms to subset and deflate (RETAIN_GIDS keeps a loca and hmtx
 * entry for each of the face's 40,363 glyphs).
 *
 * A subset is a pure function of (face, glyph set): the same glyphs give
 * the same bytes in every process, so a batch worker can make it once and
 * reuse it for every document that needs exactly those glyphs, and a
 * lasting one (a template's base glyphs) is kept on disk for the next
 * process too (src/diskcache.h; pd_pdffont_set_file names the font file,
 * whose identity is part of the key).
 *
 * Ownership: the cache owns every pd_pdffont it returns and the face
 * references it holds; pointers stay valid until pd_pdffont_cache_trim or
 * pd_pdffont_cache_free. One cache per worker (not thread-safe). */
#ifndef PILDOC_PDFFONT_H
#define PILDOC_PDFFONT_H

#include <hb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "pdfobj.h"
#include "strbuf.h"

typedef struct pd_pdffont {
    char *base_font; /* "ABCDEF+NotoSans-Regular": tag from the glyph set */
    bool cff;        /* CIDFontType0 (CFF) rather than CIDFontType2 */
    size_t n;
    uint32_t *gids;     /* original glyph ids, ascending */
    uint32_t *codes;    /* the 2-byte code written for gids[i] */
    strbuf program;     /* the font program, deflated */
    size_t program_len; /* its length before deflating */
    strbuf widths;      /* "/DW w/W[...]" */
    strbuf descriptor;  /* FontDescriptor entries other than /FontName and the file */
    strbuf cidset;      /* the CIDs of the font program as a bit string, deflated (PDF/A) */
} pd_pdffont;

typedef struct pd_pdffont_cache pd_pdffont_cache;

pd_pdffont_cache *pd_pdffont_cache_new(void);
void pd_pdffont_cache_free(pd_pdffont_cache *cache);
/* Drops cached subsets when there are too many (call between documents:
 * it invalidates pointers returned before). */
void pd_pdffont_cache_trim(pd_pdffont_cache *cache);

/* The subset of `face` with the glyphs `gids` (ascending, unique, n > 0).
 * `lasting`: kept for the cache's life (a template's base glyphs), else
 * dropped by a trim when there are many. NULL with err set when hb-subset
 * fails. */
const pd_pdffont *pd_pdffont_get(pd_pdffont_cache *cache, hb_face_t *face, const uint32_t *gids,
                                 size_t n, bool lasting, pd_error *err);
/* The font file `face` was loaded from (first call per face wins): subsets
 * are then made from a mapping of their own (see pdffont.c). */
void pd_pdffont_set_file(pd_pdffont_cache *cache, hb_face_t *face, const char *path,
                         unsigned index);
/* The code of an original glyph id in a subset (it must be one of its). */
uint32_t pd_pdffont_code(const pd_pdffont *font, uint32_t gid);
/* Advance of an original glyph in 1/1000 em, as written in /W. */
double pd_pdffont_face_width(pd_pdffont_cache *cache, hb_face_t *face, uint32_t gid);

/* Appends a FontDescriptor's metrics to d: /Flags flags, /FontBBox from
 * face's head table, /ItalicAngle, /Ascent, /Descent, /CapHeight from
 * font, scaled by k (1000 / units per em), and /StemV. */
void pd_pdffont_describe(strbuf *d, hb_font_t *font, hb_face_t *face, double k, int flags);

/* Object numbers of one embedded CID font (cidset 0: none). */
typedef struct pd_pdffont_objects {
    uint32_t font, cid, descriptor, file, tounicode, cidset;
} pd_pdffont_objects;

/* Writes the three dictionaries of a Type0 font over one CID font, the
 * same for the document's fonts and a form's: the Type0 font (object
 * o->font: Identity-H, o->tounicode), its CIDFont (CIDFontType0 for a CFF
 * program, else CIDFontType2 with /CIDToGIDMap/Identity; `widths` is
 * "/DW d/W[...]") and its FontDescriptor (`descriptor`: the entries other
 * than /FontName, /CIDSet when o->cidset, and the file). The streams are
 * the caller's to write (pd_pdffont_write_program for the font file). */
void pd_pdffont_write_dicts(pd_pdfobj *w, const pd_pdffont_objects *o, const char *base_font,
                            bool cff, const strbuf *widths, const strbuf *descriptor);
/* The font file stream `num`: `program` already deflated, `len` bytes
 * before deflating (/Length1 of a TrueType program). */
void pd_pdffont_write_program(pd_pdfobj *w, uint32_t num, bool cff, const strbuf *program,
                              size_t len);

#endif
