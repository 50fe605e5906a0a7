/* render: painting laid-out pages onto an output device.
 *  - PDF (cairo): fonts embedded, metadata, outline of headings;
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
} pd_pdf_info;

bool pd_render_pdf(const pd_pages *pages, const pd_pdf_info *info, strbuf *out, pd_error *err);
/* page is 1-based; dpi the resolution. */
bool pd_render_png(const pd_pages *pages, size_t page, double dpi, strbuf *out, pd_error *err);
void pd_render_text(const pd_pages *pages, strbuf *out);

#endif
