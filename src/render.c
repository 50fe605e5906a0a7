#include "render.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cairo_status_t S_write(void *closure, const unsigned char *data, unsigned int length)
{
    strbuf_append_len(closure, (const char *)data, length);
    return CAIRO_STATUS_SUCCESS;
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
        } else if (it->line) {
            cairo_move_to(cr, it->x, it->y);
            pango_cairo_show_layout_line(cr, it->line);
        }
    }
}

static void S_escape_outline(strbuf *sb, const char *s)
{
    /* cairo parses link attributes; the outline text itself is plain */
    strbuf_append(sb, s);
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
            strbuf text = STRBUF_INIT;
            S_escape_outline(&text, it->outline_text);
            int id = cairo_pdf_surface_add_outline(
                surface, it->outline_level == 1 ? CAIRO_PDF_OUTLINE_ROOT : parent,
                strbuf_str(&text), strbuf_str(&link), CAIRO_PDF_OUTLINE_FLAG_OPEN);
            if (it->outline_level == 1)
                parent = id;
            strbuf_free(&link);
            strbuf_free(&text);
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
                strbuf_printf(out, "%zu %.1f %.1f [%s]\n", p + 1, it->x, it->y,
                              it->checked ? "x" : " ");
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
