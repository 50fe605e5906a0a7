#include "layout.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"

static const pd_paper S_papers[] = {
    {"a4", 595.2756, 841.8898},
    {"letter", 612.0, 792.0},
};

const pd_paper *pd_paper_find(const char *name)
{
    for (size_t i = 0; i < sizeof S_papers / sizeof S_papers[0]; i++)
        if (strcasecmp(name, S_papers[i].name) == 0)
            return &S_papers[i];
    return NULL;
}

/* Page geometry and type, in points. */
#define MARGIN_X 56.0
#define MARGIN_TOP 52.0
#define MARGIN_BOTTOM 64.0
#define FOOTER_BASELINE 34.0 /* above the paper's bottom edge */

typedef struct S_style {
    double size;
    int bold;
    double rgb[3];
    double space_before;
} S_style;

static const S_style S_title = {21.0, 1, {0.05, 0.30, 0.38}, 0};
static const S_style S_subtitle = {13.0, 0, {0.25, 0.25, 0.25}, 3};
static const S_style S_edition = {8.5, 0, {0.35, 0.35, 0.35}, 4};
static const S_style S_h1 = {14.0, 1, {0.05, 0.30, 0.38}, 15};
static const S_style S_h2 = {11.5, 1, {0.10, 0.10, 0.10}, 9};
static const S_style S_body = {10.0, 0, {0.08, 0.08, 0.08}, 5};
static const S_style S_item = {10.0, 0, {0.08, 0.08, 0.08}, 2.5};
static const S_style S_cell = {9.0, 0, {0.08, 0.08, 0.08}, 0};
static const S_style S_footer = {7.5, 0, {0.35, 0.35, 0.35}, 0};

#define LIST_INDENT 16.0
#define CELL_PAD 4.0
#define CALLOUT_PAD 8.0
#define CALLOUT_BAR 3.0
#define TABLE_SPACE 7.0
#define INITIALS_W 34.0
#define INITIALS_H 20.0
#define SIGN_SPACE 24.0 /* room above a signature line for the hand */

typedef struct S_slice {
    double height;
    double space_before; /* dropped at the top of a page */
    int keep_with_next;
    int table;        /* 1-based table id, or 0 */
    int table_header; /* this slice is its table's header row */
    int frame;        /* 1-based callout id, or 0 */
    pd_item *items;   /* y relative to the slice's top */
    size_t n_items;
} S_slice;

typedef struct S_frame {
    int urgent;
    double left, width;
} S_frame;

typedef struct S_state {
    pd_fonts *fonts;
    PangoContext *ctx;
    const char *families;
    const char *lang_tag;
    pd_pages *out;
    S_slice *slices;
    size_t n_slices;
    S_frame *frames;
    size_t n_frames;
    int n_tables;
    double body_h;
    pd_error *err;
} S_state;

static S_slice *S_new_slice(S_state *st, double height, double space_before)
{
    st->slices = xrealloc(st->slices, (st->n_slices + 1) * sizeof *st->slices);
    S_slice *s = &st->slices[st->n_slices++];
    memset(s, 0, sizeof *s);
    s->height = height;
    s->space_before = space_before;
    return s;
}

static pd_item *S_add_item(S_slice *s)
{
    s->items = xrealloc(s->items, (s->n_items + 1) * sizeof *s->items);
    pd_item *it = &s->items[s->n_items++];
    memset(it, 0, sizeof *it);
    return it;
}

static void S_add_rect(S_slice *s, double x, double y, double w, double h, const double rgb[3])
{
    pd_item *it = S_add_item(s);
    it->kind = PD_ITEM_RECT;
    it->x = x;
    it->y = y;
    it->w = w;
    it->h = h;
    memcpy(it->rgb, rgb, sizeof it->rgb);
}

/* An image, w points wide at (x, top of the slice), in a slice of its own
 * (the copy of the pixels belongs to the pages). */
static void S_image(S_state *st, const pd_image *image, double x, double w, double space_before)
{
    pd_pages *p = st->out;
    p->images = xrealloc(p->images, (p->n_images + 1) * sizeof(pd_image *));
    pd_image *copy = pd_image_copy(image);
    p->images[p->n_images++] = copy;
    double h = w * image->height / image->width;
    if (h > st->body_h / 2) { /* never more than half a page */
        w *= st->body_h / 2 / h;
        h = st->body_h / 2;
    }
    S_slice *s = S_new_slice(st, h, space_before);
    pd_item *it = S_add_item(s);
    it->kind = PD_ITEM_IMAGE;
    it->x = x;
    it->y = 0;
    it->w = w;
    it->h = h;
    it->image = copy;
}

static void S_keep_layout(S_state *st, PangoLayout *layout)
{
    pd_pages *p = st->out;
    p->layouts = xrealloc(p->layouts, (p->n_layouts + 1) * sizeof(PangoLayout *));
    p->layouts[p->n_layouts++] = layout;
}

/* Byte offsets where each span starts in the layout's text. */
typedef struct S_spanmap {
    const pd_text *text;
    size_t *starts;
} S_spanmap;

static bool S_check_glyphs(S_state *st, PangoLayout *layout, const S_spanmap *map)
{
    if (pango_layout_get_unknown_glyphs_count(layout) == 0)
        return true;
    for (GSList *l = pango_layout_get_lines_readonly(layout); l; l = l->next) {
        PangoLayoutLine *line = l->data;
        for (GSList *r = line->runs; r; r = r->next) {
            PangoGlyphItem *run = r->data;
            for (int i = 0; i < run->glyphs->num_glyphs; i++) {
                PangoGlyph g = run->glyphs->glyphs[i].glyph;
                if (!(g & PANGO_GLYPH_UNKNOWN_FLAG))
                    continue;
                unsigned cp = g & ~PANGO_GLYPH_UNKNOWN_FLAG;
                size_t byte = (size_t)run->item->offset + (size_t)run->glyphs->log_clusters[i];
                const pd_span *span = NULL;
                for (size_t s = 0; map && s < map->text->n_spans; s++)
                    if (map->starts[s] <= byte)
                        span = &map->text->spans[s];
                if (span && span->origin.file)
                    return pd_error_set(st->err, span->origin.file, span->origin.line,
                                        "no shipped font has a glyph for U+%04X (in the %s)", cp,
                                        span->origin.what ? span->origin.what : "template text");
                return pd_error_set(st->err, NULL, 0, "no shipped font has a glyph for U+%04X", cp);
            }
        }
    }
    return pd_error_set(st->err, NULL, 0, "a character has no glyph in the shipped fonts");
}

/* Makes a layout of `text` `width` points wide; NULL on a missing glyph. */
/* A key naming everything that makes a layout what it is. */
static char *S_layout_key(const S_state *st, const pd_text *text, double width,
                          const S_style *style, PangoAlignment align)
{
    strbuf k = STRBUF_INIT;
    strbuf_printf(&k, "%s|%.3f|%.2f|%d|%d", st->lang_tag, width, style->size, style->bold,
                  (int)align);
    for (size_t i = 0; i < text->n_spans; i++) {
        const pd_span *sp = &text->spans[i];
        strbuf_printf(&k, "\x1f%u:%.2f:", sp->style, sp->blank_em);
        strbuf_append(&k, sp->text);
    }
    return strbuf_take(&k);
}

static PangoLayout *S_new_layout(S_state *st, const pd_text *text, double width,
                                 const S_style *style, PangoAlignment align)
{
    strbuf s = STRBUF_INIT;
    PangoAttrList *attrs = pango_attr_list_new();
    S_spanmap map = {text, xcalloc(text->n_spans + 1, sizeof(size_t))};
    for (size_t i = 0; i < text->n_spans; i++) {
        const pd_span *sp = &text->spans[i];
        size_t start = s.len;
        map.starts[i] = start;
        if (sp->style & PD_SPAN_BREAK) {
            strbuf_append(&s, "\xe2\x80\xa8"); /* U+2028 LINE SEPARATOR */
        } else if (sp->style & PD_SPAN_BLANK) {
            /* a line to write on: no-break spaces, underlined */
            int n = (int)ceil(sp->blank_em * 3.6);
            for (int k = 0; k < n; k++)
                strbuf_append(&s, "\xc2\xa0");
            PangoAttribute *u = pango_attr_underline_new(PANGO_UNDERLINE_SINGLE);
            u->start_index = (guint)start;
            u->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, u);
        } else {
            strbuf_append(&s, sp->text);
        }
        if (sp->style & PD_SPAN_BOLD) {
            PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
            a->start_index = (guint)start;
            a->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, a);
        }
        if (sp->style & PD_SPAN_ITALIC) {
            PangoAttribute *a = pango_attr_style_new(PANGO_STYLE_ITALIC);
            a->start_index = (guint)start;
            a->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, a);
        }
    }
    PangoAttribute *lang = pango_attr_language_new(pango_language_from_string(st->lang_tag));
    pango_attr_list_insert_before(attrs, lang);

    PangoLayout *layout = pango_layout_new(st->ctx);
    PangoFontDescription *fd = pango_font_description_from_string(st->families);
    pango_font_description_set_absolute_size(fd, style->size * PANGO_SCALE);
    pango_font_description_set_weight(fd, style->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, fd);
    pango_font_description_free(fd);
    if (width > 0) /* else: one line of natural width */
        pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout, align);
    pango_layout_set_text(layout, strbuf_str(&s), (int)s.len);
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
    strbuf_free(&s);
    bool ok = S_check_glyphs(st, layout, &map);
    free(map.starts);
    if (!ok) {
        g_object_unref(layout);
        return NULL;
    }
    return layout;
}

/* Makes (or finds already made) a layout of `text` `width` points wide;
 * NULL on a missing glyph. The layout lives as long as the pages. */
static PangoLayout *S_make_layout(S_state *st, const pd_text *text, double width,
                                  const S_style *style, PangoAlignment align)
{
    char *key = S_layout_key(st, text, width, style, align);
    PangoLayout *layout = pd_fonts_cached_layout(st->fonts, key);
    if (layout) {
        g_object_ref(layout);
    } else {
        layout = S_new_layout(st, text, width, style, align);
        if (layout)
            pd_fonts_cache_layout(st->fonts, key, layout);
    }
    free(key);
    if (layout)
        S_keep_layout(st, layout);
    return layout;
}

typedef struct S_line {
    PangoLayoutLine *line;
    double top, height, baseline; /* baseline relative to the line's top */
    double x;
} S_line;

static S_line *S_lines(PangoLayout *layout, size_t *n)
{
    size_t count = (size_t)pango_layout_get_line_count(layout), i = 0;
    S_line *lines = xcalloc(count ? count : 1, sizeof *lines);
    PangoLayoutIter *it = pango_layout_get_iter(layout);
    do {
        PangoRectangle logical;
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        if (i < count) {
            lines[i].line = pango_layout_iter_get_line_readonly(it);
            lines[i].top = (double)logical.y / PANGO_SCALE;
            lines[i].height = (double)logical.height / PANGO_SCALE;
            lines[i].baseline =
                (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE - lines[i].top;
            lines[i].x = (double)logical.x / PANGO_SCALE;
            i++;
        }
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    *n = i;
    return lines;
}

static void S_line_item(S_slice *s, const S_line *l, double x, double y_top, const double rgb[3])
{
    pd_item *it = S_add_item(s);
    it->kind = PD_ITEM_LINE;
    it->x = x + l->x;
    it->y = y_top + l->baseline;
    it->line = l->line;
    memcpy(it->rgb, rgb, sizeof it->rgb);
}

/* A block of text as one slice per line, with widow/orphan and
 * keep-with-next rules. marker: a list marker drawn left of line one. */
/* box: 0 none, 1 an empty checkbox, 2 a ticked one, 3 a box for initials */
static bool S_text_block_box(S_state *st, const pd_text *text, const S_style *style, double left,
                             double width, double space_before, int frame, int heading_level,
                             const char *marker, int box)
{
    PangoLayout *layout = S_make_layout(st, text, width, style, PANGO_ALIGN_LEFT);
    if (!layout)
        return false;
    size_t n;
    S_line *lines = S_lines(layout, &n);
    S_line *mlines = NULL;
    if (marker) {
        pd_text mt = {0};
        pd_origin o = {NULL, 0, NULL};
        pd_text_add(&mt, marker, strlen(marker), 0, o);
        PangoLayout *ml = S_make_layout(st, &mt, LIST_INDENT, style, PANGO_ALIGN_LEFT);
        pd_text_clear(&mt);
        if (!ml) {
            free(lines);
            return false;
        }
        size_t mn;
        mlines = S_lines(ml, &mn);
    }
    for (size_t i = 0; i < n; i++) {
        S_slice *s = S_new_slice(st, lines[i].height, i == 0 ? space_before : 0);
        s->frame = frame;
        /* a heading never ends a page; no orphan (a first line alone at
           the foot of a page); no widow (a last line alone at the top) */
        bool orphan = i == 0 && n >= 2, widow = n >= 2 && i == n - 2;
        s->keep_with_next = heading_level || orphan || widow;
        S_line_item(s, &lines[i], left, 0, style->rgb);
        if (i == 0 && heading_level) {
            s->items[s->n_items - 1].outline_level = heading_level;
            s->items[s->n_items - 1].outline_text = pd_text_plain(text);
        }
        if (i == 0 && box) {
            pd_item *it = S_add_item(s);
            it->kind = PD_ITEM_BOX;
            bool initials = box == 3;
            it->w = initials ? INITIALS_W : 8.5;
            it->h = initials ? INITIALS_H : 8.5;
            it->x = left - (initials ? INITIALS_W + 8 : LIST_INDENT);
            it->y = initials ? lines[0].baseline - INITIALS_H + 4 : lines[0].baseline - 8.0;
            it->checked = box == 2;
            memcpy(it->rgb, style->rgb, sizeof it->rgb);
        }
        if (i == 0 && mlines) {
            pd_item *it = S_add_item(s);
            it->kind = PD_ITEM_LINE;
            it->x = left - LIST_INDENT + 2;
            it->y = lines[0].baseline;
            it->line = mlines[0].line;
            memcpy(it->rgb, style->rgb, sizeof it->rgb);
        }
    }
    free(lines);
    free(mlines);
    return true;
}

static bool S_text_block(S_state *st, const pd_text *text, const S_style *style, double left,
                         double width, double space_before, int frame, int heading_level,
                         const char *marker)
{
    return S_text_block_box(st, text, style, left, width, space_before, frame, heading_level,
                            marker, 0);
}

static const double S_rule_rgb[3] = {0.55, 0.62, 0.65};
static const double S_header_rgb[3] = {0.87, 0.93, 0.94};

static bool S_table(S_state *st, const pd_block *b, double left, double width, int frame)
{
    int table = ++st->n_tables;
    double total = 0;
    for (size_t c = 0; c < b->n_cols; c++)
        total += b->widths[c] > 0 ? b->widths[c] : 1;
    double *colw = xcalloc(b->n_cols, sizeof *colw);
    for (size_t c = 0; c < b->n_cols; c++)
        colw[c] = width * (b->widths[c] > 0 ? b->widths[c] : 1) / total;
    bool ok = true;
    for (size_t r = 0; r < b->n_rows && ok; r++) {
        const pd_row *row = &b->rows[r];
        S_style style = S_cell;
        style.bold = row->header;
        PangoLayout **cells = xcalloc(row->n_cells, sizeof(PangoLayout *));
        double h = 0;
        for (size_t c = 0; c < row->n_cells && ok; c++) {
            cells[c] =
                S_make_layout(st, &row->cells[c], colw[c] - 2 * CELL_PAD, &style, PANGO_ALIGN_LEFT);
            if (!cells[c]) {
                ok = false;
                break;
            }
            PangoRectangle logical;
            pango_layout_get_extents(cells[c], NULL, &logical);
            double ch = (double)logical.height / PANGO_SCALE;
            if (ch > h)
                h = ch;
        }
        if (ok) {
            double rowh = h + 2 * CELL_PAD;
            if (rowh > st->body_h) {
                ok = pd_error_set(st->err,
                                  row->cells[0].n_spans ? row->cells[0].spans[0].origin.file : NULL,
                                  row->cells[0].n_spans ? row->cells[0].spans[0].origin.line : 0,
                                  "a table row is taller than a page");
                free(cells);
                break;
            }
            S_slice *s = S_new_slice(st, rowh, r == 0 ? TABLE_SPACE : 0);
            s->frame = frame;
            s->table = table;
            s->table_header = row->header;
            s->keep_with_next = row->header;
            if (row->header)
                S_add_rect(s, left, 0, width, rowh, S_header_rgb);
            if (r == 0)
                S_add_rect(s, left, 0, width, 0.8, S_rule_rgb);
            double x = left;
            for (size_t c = 0; c < row->n_cells; c++) {
                size_t n;
                S_line *lines = S_lines(cells[c], &n);
                for (size_t i = 0; i < n; i++)
                    S_line_item(s, &lines[i], x + CELL_PAD, CELL_PAD + lines[i].top, style.rgb);
                free(lines);
                x += colw[c];
            }
            S_add_rect(s, left, rowh - (r + 1 == b->n_rows ? 0.8 : 0.4), width,
                       r + 1 == b->n_rows ? 0.8 : 0.4, S_rule_rgb);
        }
        free(cells);
    }
    free(colw);
    return ok;
}

static bool S_blocks(S_state *st, const pd_block *blocks, size_t n, double left, double width,
                     int frame, bool first_in_frame);
static void S_keep_together(S_state *st, size_t first);

static bool S_callout(S_state *st, const pd_block *b, double left, double width)
{
    st->frames = xrealloc(st->frames, (st->n_frames + 1) * sizeof *st->frames);
    st->frames[st->n_frames] = (S_frame){b->urgent, left, width};
    int frame = (int)++st->n_frames;
    size_t first = st->n_slices;
    S_slice *top = S_new_slice(st, CALLOUT_PAD, 10);
    top->frame = frame;
    top->keep_with_next = 1;
    double inner = left + CALLOUT_BAR + CALLOUT_PAD;
    if (!S_blocks(st, b->children, b->n_children, inner, width - CALLOUT_BAR - 2 * CALLOUT_PAD,
                  frame, true))
        return false;
    st->slices[st->n_slices - 1].keep_with_next = 1;
    S_slice *bottom = S_new_slice(st, CALLOUT_PAD, 0);
    bottom->frame = frame;
    S_keep_together(st, first); /* whole on one page when it fits on one */
    return true;
}

/* Glues slices first..last-1 to their successors when the group fits on
 * one page, so that pagination moves it whole. */
static void S_keep_together(S_state *st, size_t first)
{
    double total = 0;
    for (size_t i = first; i < st->n_slices; i++)
        total += st->slices[i].height + (i == first ? 0 : st->slices[i].space_before);
    if (total <= st->body_h)
        for (size_t i = first; i + 1 < st->n_slices; i++)
            st->slices[i].keep_with_next = 1;
}

static bool S_blocks(S_state *st, const pd_block *blocks, size_t n, double left, double width,
                     int frame, bool first_in_frame)
{
    for (size_t i = 0; i < n; i++) {
        const pd_block *b = &blocks[i];
        bool first = first_in_frame && i == 0;
        bool ok = true;
        switch (b->kind) {
        case PD_BLOCK_H1:
        case PD_BLOCK_H2: {
            const S_style *style = b->kind == PD_BLOCK_H1 ? &S_h1 : &S_h2;
            ok = S_text_block(st, &b->text, style, left, width, first ? 0 : style->space_before,
                              frame, b->kind == PD_BLOCK_H1 ? 1 : 2, NULL);
            break;
        }
        case PD_BLOCK_PARA:
            ok = S_text_block(st, &b->text, &S_body, left, width, first ? 0 : S_body.space_before,
                              frame, 0, NULL);
            break;
        case PD_BLOCK_ITEM:
            ok = S_text_block(st, &b->text, &S_item, left + LIST_INDENT, width - LIST_INDENT,
                              S_item.space_before, frame, 0, b->marker);
            break;
        case PD_BLOCK_LIST: {
            size_t before = st->n_slices;
            ok = S_blocks(st, b->children, b->n_children, left, width, frame, false);
            if (ok && st->n_slices > before && !first)
                st->slices[before].space_before = S_body.space_before;
            else if (ok && st->n_slices > before)
                st->slices[before].space_before = 0;
            break;
        }
        case PD_BLOCK_TABLE: ok = S_table(st, b, left, width, frame); break;
        case PD_BLOCK_CALLOUT: ok = S_callout(st, b, left, width); break;
        case PD_BLOCK_FIELD:
            ok = S_text_block(st, &b->text, &S_body, left, width, first ? 0 : 6.0, frame, 0, NULL);
            break;
        case PD_BLOCK_SIGN:
            ok = S_text_block(st, &b->text, &S_body, left, width, first ? 8.0 : SIGN_SPACE, frame,
                              0, NULL);
            break;
        case PD_BLOCK_CHECK:
            ok = S_text_block_box(st, &b->text, &S_body, left + LIST_INDENT, width - LIST_INDENT,
                                  first ? 0 : 5.0, frame, 0, NULL, b->checked ? 2 : 1);
            break;
        case PD_BLOCK_INITIALS:
            ok = S_text_block_box(st, &b->text, &S_body, left + INITIALS_W + 8,
                                  width - INITIALS_W - 8, first ? 4.0 : 12.0, frame, 0, NULL, 3);
            break;
        case PD_BLOCK_IMAGE: {
            /* width in em of the body text; by default a quarter of the column */
            double w = b->width_em > 0 ? b->width_em * S_body.size : width / 4;
            S_image(st, b->image, left, w < width ? w : width, S_body.space_before);
            break;
        }
        case PD_BLOCK_KEEP: {
            size_t before = st->n_slices;
            ok = S_blocks(st, b->children, b->n_children, left, width, frame, first);
            if (ok && st->n_slices > before)
                S_keep_together(st, before);
            break;
        }
        }
        if (!ok)
            return false;
    }
    return true;
}

static void S_place(pd_page *page, const S_slice *s, double top)
{
    page->items = xrealloc(page->items, (page->n_items + s->n_items) * sizeof *page->items);
    for (size_t i = 0; i < s->n_items; i++) {
        pd_item it = s->items[i];
        it.y += top;
        it.outline_text = it.outline_text ? xstrdup(it.outline_text) : NULL;
        page->items[page->n_items++] = it;
    }
}

static pd_page *S_new_page(pd_pages *out)
{
    out->pages = xrealloc(out->pages, (out->n_pages + 1) * sizeof *out->pages);
    pd_page *p = &out->pages[out->n_pages++];
    memset(p, 0, sizeof *p);
    return p;
}

/* Finds the end of the page starting at slice `start`: the index of the
 * first slice of the next page. */
static size_t S_page_end(const S_state *st, size_t start, double first_y)
{
    double y = first_y;
    size_t i = start;
    for (; i < st->n_slices; i++) {
        double h = (i == start ? 0 : st->slices[i].space_before) + st->slices[i].height;
        if (y + h > st->body_h + 0.01 && i > start)
            break;
        y += h;
    }
    if (i == st->n_slices)
        return i;
    size_t j = i;
    while (j > start + 1 && st->slices[j - 1].keep_with_next)
        j--;
    /* nothing could honour the keep rules (a group taller than a page):
       break where the page is full */
    return j > start ? (j == start + 1 && st->slices[start].keep_with_next ? i : j) : i;
}

static void S_paginate(S_state *st)
{
    pd_pages *out = st->out;
    size_t start = 0;
    while (start < st->n_slices) {
        pd_page *page = S_new_page(out);
        /* frames first: their backgrounds go under the text */
        double y = 0;
        const S_slice *repeat = NULL;
        const S_slice *first = &st->slices[start];
        if (first->table && !first->table_header) {
            for (size_t k = start; k-- > 0;)
                if (st->slices[k].table == first->table && st->slices[k].table_header) {
                    repeat = &st->slices[k];
                    break;
                }
        }
        double head = repeat ? repeat->height : 0;
        size_t end = S_page_end(st, start, head);
        /* positions */
        double *tops = xcalloc(end - start, sizeof *tops);
        y = MARGIN_TOP + head;
        for (size_t i = start; i < end; i++) {
            if (i > start)
                y += st->slices[i].space_before;
            tops[i - start] = y;
            y += st->slices[i].height;
        }
        for (size_t f = 1; f <= st->n_frames; f++) {
            double ftop = -1, fbottom = 0;
            for (size_t i = start; i < end; i++)
                if (st->slices[i].frame == (int)f) {
                    if (ftop < 0)
                        ftop = tops[i - start];
                    fbottom = tops[i - start] + st->slices[i].height;
                }
            if (ftop < 0)
                continue;
            const S_frame *fr = &st->frames[f - 1];
            static const double urgent_bg[3] = {0.99, 0.92, 0.90},
                                urgent_bar[3] = {0.72, 0.11, 0.11};
            static const double info_bg[3] = {0.91, 0.95, 0.98}, info_bar[3] = {0.16, 0.40, 0.62};
            S_slice tmp = {0};
            S_add_rect(&tmp, fr->left, ftop, fr->width, fbottom - ftop,
                       fr->urgent ? urgent_bg : info_bg);
            S_add_rect(&tmp, fr->left, ftop, CALLOUT_BAR, fbottom - ftop,
                       fr->urgent ? urgent_bar : info_bar);
            S_place(page, &tmp, 0);
            free(tmp.items);
        }
        if (repeat) {
            S_slice copy = *repeat;
            S_place(page, &copy, MARGIN_TOP);
            /* outline entries are not repeated */
            for (size_t i = page->n_items - repeat->n_items; i < page->n_items; i++) {
                free(page->items[i].outline_text);
                page->items[i].outline_text = NULL;
                page->items[i].outline_level = 0;
            }
        }
        for (size_t i = start; i < end; i++)
            S_place(page, &st->slices[i], tops[i - start]);
        free(tops);
        start = end;
    }
}

static bool S_footers(S_state *st, const pd_doc *doc, const pd_paper *paper)
{
    double width = paper->width - 2 * MARGIN_X;
    pd_pages *out = st->out;
    for (size_t p = 0; p < out->n_pages; p++) {
        char page[24], pages[24];
        snprintf(page, sizeof page, "%zu", p + 1);
        snprintf(pages, sizeof pages, "%zu", out->n_pages);
        strbuf sb = STRBUF_INIT;
        const char *names[] = {"page", "pages"};
        const char *values[] = {page, pages};
        strbuf_expand(&sb, doc->footer_fmt, names, values, 2);
        pd_text right = {0}, leftt = {0};
        pd_origin o = {NULL, 0, "page footer"};
        pd_text_add(&right, sb.data ? sb.data : "", sb.len, 0, o);
        strbuf_free(&sb);
        strbuf lt = STRBUF_INIT;
        strbuf_printf(&lt, "%s \xc2\xb7 %s", doc->title, doc->edition ? doc->edition : "");
        pd_text_add(&leftt, lt.data, lt.len, 0, o);
        strbuf_free(&lt);
        PangoLayout *rl = S_make_layout(st, &right, -1, &S_footer, PANGO_ALIGN_LEFT);
        double right_w = 0;
        PangoLayout *ll = NULL;
        if (rl) {
            /* the page number takes what it needs; the title the rest */
            PangoRectangle ink, logical;
            pango_layout_line_get_extents(pango_layout_get_line_readonly(rl, 0), &ink, &logical);
            right_w = (double)logical.width / PANGO_SCALE;
            double used = right_w + 18;
            ll = S_make_layout(st, &leftt, width - used, &S_footer, PANGO_ALIGN_LEFT);
            if (ll)
                pango_layout_set_ellipsize(ll, PANGO_ELLIPSIZE_END);
        }
        pd_text_clear(&right);
        pd_text_clear(&leftt);
        if (!ll)
            return false;
        S_slice tmp = {0};
        double base = paper->height - FOOTER_BASELINE;
        S_add_rect(&tmp, MARGIN_X, base - 12, width, 0.5, S_rule_rgb);
        size_t n;
        S_line *lines = S_lines(ll, &n);
        S_line_item(&tmp, &lines[0], MARGIN_X, base - lines[0].baseline, S_footer.rgb);
        free(lines);
        lines = S_lines(rl, &n);
        S_line_item(&tmp, &lines[0], MARGIN_X + width - right_w, base - lines[0].baseline,
                    S_footer.rgb);
        free(lines);
        S_place(&out->pages[p], &tmp, 0);
        free(tmp.items);
    }
    return true;
}

pd_pages *pd_layout(const pd_doc *doc, pd_fonts *fonts, const pd_paper *paper, pd_error *err)
{
    pd_pages *out = xcalloc(1, sizeof *out);
    out->paper = *paper;
    out->title = xstrdup(doc->title ? doc->title : "");
    out->subject = xstrdup(doc->subject ? doc->subject : "");
    out->author = xstrdup(doc->author ? doc->author : "");
    out->lang_tag = xstrdup(doc->lang_tag ? doc->lang_tag : "en");
    S_state st = {0};
    st.lang_tag = out->lang_tag;
    st.fonts = fonts;
    st.ctx = pd_fonts_context(fonts, st.lang_tag);
    st.families = pd_fonts_families(st.lang_tag);
    st.out = out;
    st.err = err;
    st.body_h = paper->height - MARGIN_TOP - MARGIN_BOTTOM;
    double left = MARGIN_X, width = paper->width - 2 * MARGIN_X;

    if (doc->logo) /* the clinic's logo above the title: 40 points high at most */
        S_image(&st, doc->logo, left, fmin(width / 3, 40.0 * doc->logo->width / doc->logo->height),
                0);
    bool ok = S_text_block(&st, &doc->title_text, &S_title, left, width,
                           doc->logo ? S_subtitle.space_before : 0, 0, 0, NULL);
    if (ok && doc->subtitle_text.n_spans)
        ok = S_text_block(&st, &doc->subtitle_text, &S_subtitle, left, width,
                          S_subtitle.space_before, 0, 0, NULL);
    if (ok && doc->edition) {
        pd_text ed = {0};
        pd_origin o = {NULL, 0, "edition line"};
        pd_text_add(&ed, doc->edition, strlen(doc->edition), 0, o);
        ok = S_text_block(&st, &ed, &S_edition, left, width, S_edition.space_before, 0, 0, NULL);
        pd_text_clear(&ed);
        if (ok) {
            S_slice *rule = S_new_slice(&st, 8, 2);
            S_add_rect(rule, left, 4, width, 1.2, S_title.rgb);
        }
    }
    if (ok)
        ok = S_blocks(&st, doc->blocks, doc->n_blocks, left, width, 0, true);
    if (ok) {
        S_paginate(&st);
        ok = S_footers(&st, doc, paper);
    }
    for (size_t i = 0; i < st.n_slices; i++) {
        for (size_t k = 0; k < st.slices[i].n_items; k++)
            free(st.slices[i].items[k].outline_text);
        free(st.slices[i].items);
    }
    free(st.slices);
    free(st.frames);
    if (!ok) {
        pd_pages_free(out);
        return NULL;
    }
    return out;
}

void pd_pages_free(pd_pages *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_pages; i++) {
        for (size_t k = 0; k < p->pages[i].n_items; k++)
            free(p->pages[i].items[k].outline_text);
        free(p->pages[i].items);
    }
    free(p->pages);
    for (size_t i = 0; i < p->n_layouts; i++)
        g_object_unref(p->layouts[i]);
    free(p->layouts);
    for (size_t i = 0; i < p->n_images; i++)
        pd_image_free(p->images[i]);
    free(p->images);
    free(p->title);
    free(p->subject);
    free(p->author);
    free(p->lang_tag);
    free(p);
}

char *pd_item_text(const pd_item *item)
{
    if (item->kind != PD_ITEM_LINE || !item->line || !item->line->layout)
        return xstrdup("");
    const char *text = pango_layout_get_text(item->line->layout);
    return xstrndup(text + item->line->start_index, (size_t)item->line->length);
}
