/* render: painting laid-out pages onto an output device.
 *  - PDF (pildoc's own writer, pdfobj.h and pdffont.h): fonts subset by
 *    hb-subset and embedded, metadata, document language, outline;
 *  - PNG of one page (cairo image surface), used to compare pixels with a
 *    rasterised PDF, so that a glyph lost in PDF font subsetting shows;
 *  - text: one line per laid-out line ("page x y text"), to test layout
 *    without parsing PDFs.
 * Ownership: output goes into a caller-owned strbuf. */
#ifndef PILDOC_RENDER_H
#define PILDOC_RENDER_H

#include <stdbool.h>

#include "error.h"
#include "layout.h"
#include "strbuf.h"

typedef struct pd_pdf_info {
    const char *creator;     /* "pildoc 0.1.0" */
    const char *create_date; /* ISO 8601 "YYYY-MM-DDThh:mm:ss", or NULL for now */
    /* --plain: no PDF/A (no XMP, OutputIntent, CIDSets) and, once the
     * structure tree is written, no tags: the smallest file. Default
     * (false): PDF/A-1b. */
    bool plain;
    /* declare PDF/UA-1 in the XMP (pdfmeta.h): for a tagged document */
    bool pdfua;
} pd_pdf_info;

/* What a batch worker keeps between PDFs: font subsets, deflated, and the
 * base glyph sets (below). Owned by the caller (one per worker). */
typedef struct pd_pdf_cache pd_pdf_cache;
pd_pdf_cache *pd_pdf_cache_new(void);
void pd_pdf_cache_free(pd_pdf_cache *cache);
/* Base glyph sets: `blank` (the template's document without values, for a
 * language and paper) gives every face's base glyphs under `key`. A PDF
 * rendered with that key embeds, per face, one subset of the base glyphs
 * (the same for every document with that key, made once and reused) and
 * one of the glyphs outside it. The files depend only on the document and
 * the blank document, never on what the cache held before. blank may be
 * NULL (no base: every glyph is "outside"). */
bool pd_pdf_cache_has_base(const pd_pdf_cache *cache, const char *key);
void pd_pdf_cache_set_base(pd_pdf_cache *cache, const char *key, const pd_pages *blank);
/* Laid-out lines painted from the cache's bytes (hits) and painted anew
 * (misses) so far: a worker's layouts share their lines between
 * documents, and a line painted in the same context gives the same
 * bytes (render.c, S_paint_cached). */
void pd_pdf_cache_line_stats(const pd_pdf_cache *cache, size_t *hits, size_t *misses);
/* Laid-out lines whose glyphs a PDF's fonts were made from by the
 * cache's record of the line (hits; a line met before, still in its
 * layout) and by walking its glyphs (walks) so far. */
void pd_pdf_cache_usage_stats(const pd_pdf_cache *cache, size_t *hits, size_t *walks);
/* Streams (page contents, ToUnicode maps) written from the cache's
 * deflated bytes (hits) and deflated anew (misses) so far. */
void pd_pdf_cache_stream_stats(const pd_pdf_cache *cache, size_t *hits, size_t *misses);

/* cache may be NULL (a temporary one is used); base_key may be NULL. */
bool pd_render_pdf(const pd_pages *pages, const pd_pdf_info *info, pd_pdf_cache *cache,
                   const char *base_key, strbuf *out, pd_error *err);
/* The same with a fillable form at the pages' fields (pdfform.h). */
bool pd_render_pdf_form(const pd_pages *pages, const pd_pdf_info *info, pd_pdf_cache *cache,
                        const char *base_key, strbuf *out, pd_error *err);
/* page is 1-based; dpi the resolution. */
bool pd_render_png(const pd_pages *pages, size_t page, double dpi, strbuf *out, pd_error *err);
void pd_render_text(const pd_pages *pages, strbuf *out);

#endif
