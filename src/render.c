#include "render.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cairo_status_t S_write(void *closure, const unsigned char *data, unsigned int length)
{
    strbuf_append_len(closure, (const char *)data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* RGBA pixels (straight alpha) to a cairo surface (premultiplied ARGB32),
 * scaled into the item's box. */
static void S_paint_image(cairo_t *cr, const pd_item *it)
{
    const pd_image *im = it->image;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, im->width, im->height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return;
    }
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < im->height; y++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * (size_t)stride);
        for (int x = 0; x < im->width; x++) {
            const unsigned char *p = im->rgba + ((size_t)y * (size_t)im->width + (size_t)x) * 4;
            unsigned a = p[3];
            row[x] = (uint32_t)a << 24 | (uint32_t)((p[0] * a + 127) / 255) << 16 |
                     (uint32_t)((p[1] * a + 127) / 255) << 8 | (uint32_t)((p[2] * a + 127) / 255);
        }
    }
    cairo_surface_mark_dirty(s);
    cairo_save(cr);
    cairo_translate(cr, it->x, it->y);
    cairo_scale(cr, it->w / im->width, it->h / im->height);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(s);
}

static void S_paint_page(cairo_t *cr, const pd_page *page)
{
    for (size_t i = 0; i < page->n_items; i++) {
        const pd_item *it = &page->items[i];
        cairo_set_source_rgb(cr, it->rgb[0], it->rgb[1], it->rgb[2]);
        if (it->kind == PD_ITEM_RECT) {
            cairo_rectangle(cr, it->x, it->y, it->w, it->h);
            cairo_fill(cr);
        } else if (it->kind == PD_ITEM_BOX) {
            cairo_set_line_width(cr, 0.8);
            cairo_rectangle(cr, it->x, it->y, it->w, it->h);
            cairo_stroke(cr);
            if (it->checked) {
                cairo_set_line_width(cr, 1.4);
                cairo_move_to(cr, it->x + it->w * 0.18, it->y + it->h * 0.55);
                cairo_line_to(cr, it->x + it->w * 0.42, it->y + it->h * 0.80);
                cairo_line_to(cr, it->x + it->w * 0.85, it->y + it->h * 0.18);
                cairo_stroke(cr);
            }
        } else if (it->kind == PD_ITEM_IMAGE && it->image) {
            S_paint_image(cr, it);
        } else if (it->line) {
            cairo_move_to(cr, it->x, it->y);
            pango_cairo_show_layout_line(cr, it->line);
        }
    }
}

/* The last occurrence of needle in the n bytes at hay (PDFs hold binary
 * streams: no str* functions here), or NULL. */
static const char *S_last(const char *hay, size_t n, const char *needle)
{
    const char *found = NULL;
    size_t k = strlen(needle);
    for (const char *p = hay; (p = memmem(p, n - (size_t)(p - hay), needle, k)); p++)
        found = p;
    return found;
}

/* The number after `key` (e.g. "/Root ") within [s, end), or -1. */
static long S_number_after(const char *s, const char *end, const char *key)
{
    const char *p = memmem(s, (size_t)(end - s), key, strlen(key));
    if (!p)
        return -1;
    p += strlen(key);
    long v = 0;
    const char *q = p;
    for (; q < end && *q >= '0' && *q <= '9' && v < 1000000000L; q++)
        v = v * 10 + (*q - '0');
    return q == p ? -1 : v;
}

/* cairo 1.16 has no API for the document language (/Lang in the catalog),
 * which screen readers need to read a French or Chinese document in the
 * right voice. It is added by an incremental update, as PDF allows: a new
 * version of the catalog object, an xref section for it and a trailer
 * pointing back to cairo's. Anything unexpected leaves the file as cairo
 * wrote it. */
static void S_add_lang(strbuf *pdf, const char *lang)
{
    const char *data = strbuf_str(pdf), *end = data + pdf->len;
    /* the trailer is in the last few hundred bytes */
    size_t tail = pdf->len < 4096 ? pdf->len : 4096;
    const char *trailer = S_last(end - tail, tail, "\ntrailer");
    if (!trailer)
        return;
    long size = S_number_after(trailer, end, "/Size "),
         root = S_number_after(trailer, end, "/Root ");
    long info = S_number_after(trailer, end, "/Info ");
    long prev = S_number_after(trailer, end, "startxref\n");
    if (size <= 0 || root <= 0 || prev <= 0)
        return;
    char head[32];
    snprintf(head, sizeof head, "\n%ld 0 obj\n", root);
    const char *obj = S_last(data, pdf->len, head);
    const char *endobj = obj ? memmem(obj, (size_t)(end - obj), "endobj", 6) : NULL;
    const char *open = obj ? memmem(obj, (size_t)(end - obj), "<<", 2) : NULL;
    if (!obj || !endobj || !open || open > endobj)
        return;
    const char *close = NULL;
    for (const char *p = open + 2; (p = memmem(p, (size_t)(endobj - p), ">>", 2)); p += 2)
        close = p;
    if (!close)
        return;
    strbuf add = STRBUF_INIT;
    size_t offset = pdf->len;
    strbuf_printf(&add, "%ld 0 obj\n", root);
    strbuf_append_len(&add, open, (size_t)(close - open));
    strbuf_printf(&add, "   /Lang (%s)\n>>\nendobj\n", lang);
    size_t xref = offset + add.len;
    strbuf_printf(&add, "xref\n0 1\n0000000000 65535 f \n%ld 1\n%010zu 00000 n \n", root, offset);
    strbuf_printf(&add, "trailer\n<< /Size %ld\n   /Root %ld 0 R\n", size, root);
    if (info > 0)
        strbuf_printf(&add, "   /Info %ld 0 R\n", info);
    strbuf_printf(&add, "   /Prev %ld\n>>\nstartxref\n%zu\n%%%%EOF\n", prev, xref);
    strbuf_append_len(pdf, add.data, add.len);
    strbuf_free(&add);
}

bool pd_render_pdf(const pd_pages *pages, const pd_pdf_info *info, strbuf *out, pd_error *err)
{
    cairo_surface_t *surface =
        cairo_pdf_surface_create_for_stream(S_write, out, pages->paper.width, pages->paper.height);
    cairo_pdf_surface_restrict_to_version(surface, CAIRO_PDF_VERSION_1_5);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, pages->title);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, pages->subject);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, pages->author);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, info->creator);
    if (info->create_date) {
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, info->create_date);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, info->create_date);
    }
    cairo_t *cr = cairo_create(surface);
    int parent = CAIRO_PDF_OUTLINE_ROOT;
    for (size_t p = 0; p < pages->n_pages; p++) {
        const pd_page *page = &pages->pages[p];
        for (size_t i = 0; i < page->n_items; i++) {
            const pd_item *it = &page->items[i];
            if (!it->outline_level || !it->outline_text)
                continue;
            strbuf link = STRBUF_INIT;
            strbuf_printf(&link, "page=%zu pos=[%.1f %.1f]", p + 1, it->x,
                          it->y - 16 > 0 ? it->y - 16 : 0);
            int id = cairo_pdf_surface_add_outline(
                surface, it->outline_level == 1 ? CAIRO_PDF_OUTLINE_ROOT : parent, it->outline_text,
                strbuf_str(&link), CAIRO_PDF_OUTLINE_FLAG_OPEN);
            if (it->outline_level == 1)
                parent = id;
            strbuf_free(&link);
        }
        S_paint_page(cr, page);
        cairo_show_page(cr);
    }
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    cairo_status_t status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS)
        return pd_error_set(err, NULL, 0, "PDF output failed: %s", cairo_status_to_string(status));
    if (pages->lang_tag && *pages->lang_tag)
        S_add_lang(out, pages->lang_tag);
    return true;
}

bool pd_render_png(const pd_pages *pages, size_t page, double dpi, strbuf *out, pd_error *err)
{
    if (page < 1 || page > pages->n_pages)
        return pd_error_set(err, NULL, 0, "page %zu does not exist (the document has %zu)", page,
                            pages->n_pages);
    double scale = dpi / 72.0;
    int w = (int)(pages->paper.width * scale + 0.5), h = (int)(pages->paper.height * scale + 0.5);
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    S_paint_page(cr, &pages->pages[page - 1]);
    cairo_destroy(cr);
    cairo_status_t status = cairo_surface_write_to_png_stream(surface, S_write, out);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS)
        return pd_error_set(err, NULL, 0, "PNG output failed: %s", cairo_status_to_string(status));
    return true;
}

void pd_render_text(const pd_pages *pages, strbuf *out)
{
    for (size_t p = 0; p < pages->n_pages; p++) {
        const pd_page *page = &pages->pages[p];
        for (size_t i = 0; i < page->n_items; i++) {
            const pd_item *it = &page->items[i];
            if (it->kind == PD_ITEM_BOX) {
                strbuf_printf(out, "%zu %.1f %.1f [%s] %.1fx%.1fmm\n", p + 1, it->x, it->y,
                              it->checked ? "x" : " ", it->w * 25.4 / 72.0, it->h * 25.4 / 72.0);
                continue;
            }
            if (it->kind == PD_ITEM_RECT && it->writeon) {
                /* a line to write on, with its length and what it is for */
                static const char *const kinds[] = {"text", "name", "phone", "date", "part", "id"};
                int k = it->writeon - 1;
                strbuf_printf(out, "%zu %.1f %.1f ____ %.1fmm %s\n", p + 1, it->x, it->y,
                              it->w * 25.4 / 72.0, k >= 0 && k < 6 ? kinds[k] : "text");
                continue;
            }
            if (it->kind == PD_ITEM_IMAGE) {
                strbuf_printf(out, "%zu %.1f %.1f [image: %s]\n", p + 1, it->x, it->y,
                              it->image ? it->image->alt : "");
                continue;
            }
            if (it->kind != PD_ITEM_LINE)
                continue;
            char *text = pd_item_text(it);
            strbuf_printf(out, "%zu %.1f %.1f %s\n", p + 1, it->x, it->y, text);
            free(text);
        }
    }
}
