#include "layout.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdint.h>
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

#define MM(x) ((x)*72.0 / 25.4)

/* Page geometry, in points. The text column is a measure of MEASURE_EM
 * body ems, centred: at 11 pt Noto Sans that is about 63 characters on
 * average and at most about 75 in English and French (the review's H3:
 * 45-75, 66 ideal), and 33 ideographs in Chinese (comfortable: 30-40).
 * Large print keeps 20 mm margins: at 16 pt the full width holds about 60
 * characters. */
#define MEASURE_EM 32.0
#define LARGE_MARGIN MM(20)
/* Several columns (a template's <meta columns="2">, the leaflet): 15 mm
 * margins and a 7 mm gutter; on A4 two columns of 86.5 mm hold about 43
 * characters on a full line at 11 pt (at most about 53), 22 ideographs. */
#define COLUMN_MARGIN MM(15)
#define COLUMN_GUTTER MM(7)
#define MARGIN_TOP 52.0
#define MARGIN_BOTTOM 64.0
#define FOOTER_BASELINE 34.0 /* above the paper's bottom edge */
#define HEADER_TOP MM(11)    /* the running header's top, from the paper's top edge */
#define BODY_PT 11.0
#define LARGE_BODY_PT 16.0

/* Handwriting (the review's M2, H4): rows of lines to write on at least
 * 8 mm apart, names 70 mm, phone numbers 50 mm, boxes 4 mm, initials
 * boxes 15 x 10 mm with clear gaps. */
#define WRITE_PITCH MM(8.5)
#define SIGN_PITCH MM(15)
#define MIN_NAME MM(72)
#define MIN_PHONE MM(55)
#define MIN_DATE MM(32)
#define MIN_ID MM(40)
#define MIN_TEXT MM(30)
#define DATE_PART MM(3.6) /* per '_' of a date pattern: "____" is a year */
#define CHECK_BOX MM(4.6)
#define INITIALS_W MM(17)
#define INITIALS_H MM(11)
#define INITIALS_GAP MM(4)
/* a signature beside the date, in a narrow column (beside a Chinese
   date, ____年__月__日, 34.9 mm are left) */
#define MIN_SIGN MM(34)
#define STACK_PITCH MM(8) /* label above its line: the label's baseline to the line */
#define STACK_SIGN MM(11)
#define GRID_GUTTER MM(8)
#define TALL_ROW MM(35) /* between the blocks of a <keep columns="2"> */
#define LABEL_W MM(72)
#define LABEL_H MM(38)

/* Glue between a slice and the next: pagination breaks where it is
 * weakest. Keep groups glue with 1 + their nesting depth, so that an
 * inner group still holds when its outer group is too tall for a page. */
enum {
    G_FREE = 0,
    G_GROUP_MAX = 5,
    G_PAIR = 6, /* a colon lead-in and what it introduces; two list items or table rows */
    G_LINE = 8, /* heading, orphan, widow, table header, a box's padding */
};

typedef struct S_style {
    double size;
    int bold;
    double rgb[3];
    double space_before;
} S_style;

typedef struct S_styles {
    S_style title, subtitle, edition, h1, h2, body, item, cell, footer, header, value;
} S_styles;

static const double S_text_rgb[3] = {0.08, 0.08, 0.08};
static const double S_teal[3] = {0.05, 0.30, 0.38};
static const double S_grey[3] = {0.35, 0.35, 0.35};
/* filled-in values: blue-black and bold, set apart from printed labels */
static const double S_value_rgb[3] = {0.02, 0.16, 0.48};
static const double S_rule_rgb[3] = {0.55, 0.62, 0.65};
static const double S_header_rgb[3] = {0.87, 0.93, 0.94};
static const double S_writeon_rgb[3] = {0.20, 0.20, 0.20};

static void S_styles_init(S_styles *s, double body)
{
    double k = body / BODY_PT;
    *s = (S_styles){
        .title = {22.0 * k, 1, {0}, 0},
        .subtitle = {13.5 * k, 0, {0.25, 0.25, 0.25}, 3 * k},
        .edition = {9.5 * k, 0, {0}, 4 * k},
        .h1 = {15.0 * k, 1, {0}, 16 * k},
        .h2 = {12.5 * k, 1, {0.10, 0.10, 0.10}, 10 * k},
        .body = {body, 0, {0}, 6 * k},
        .item = {body, 0, {0}, 3 * k},
        .cell = {10.0 * k, 0, {0}, 0},
        .footer = {8.5 * k, 0, {0}, 0},
        .header = {9.5 * k, 0, {0}, 0},
        .value = {body, 1, {0}, 0},
    };
    memcpy(s->title.rgb, S_teal, sizeof S_teal);
    memcpy(s->h1.rgb, S_teal, sizeof S_teal);
    memcpy(s->edition.rgb, S_grey, sizeof S_grey);
    memcpy(s->footer.rgb, S_grey, sizeof S_grey);
    memcpy(s->header.rgb, S_text_rgb, sizeof S_text_rgb);
    memcpy(s->body.rgb, S_text_rgb, sizeof S_text_rgb);
    memcpy(s->item.rgb, S_text_rgb, sizeof S_text_rgb);
    memcpy(s->cell.rgb, S_text_rgb, sizeof S_text_rgb);
    memcpy(s->value.rgb, S_value_rgb, sizeof S_value_rgb);
}

/* Layout flags (part of the cache key). */
enum {
    LF_JUSTIFY = 1,    /* Chinese body text: justified, last line ragged */
    LF_FILL_BLANK = 2, /* a lone line to write on takes the whole width */
    LF_LEADING = 4,    /* Chinese body text: 1.65 leading */
    LF_ELLIPSIZE = 8,  /* one line, cut with an ellipsis */
    LF_LATIN = 16,     /* the Latin face first (a list bullet in Chinese: the CJK one is tiny) */
};

typedef struct S_slice {
    double height;
    double space_before; /* dropped at the top of a page */
    int glue;            /* to the next slice, G_* */
    int table;           /* 1-based table id, or 0 */
    int table_header;    /* this slice is its table's header row */
    int frame;           /* 1-based callout id, or 0 */
    int rigid;           /* space_before never shrinks (gaps between boxes to write in) */
    int soft;            /* the glue to the next slice is a box's keep, which gives way
                            rather than leave a large gap (the review's M6); 2: an
                            urgent box's, only when more than half the page would be
                            left empty (large print) */
    int block_end;       /* the last slice of a block: breaking after it parts no pair */
    pd_item *items;      /* y relative to the slice's top */
    size_t n_items;
    size_t cap_items; /* room in items (S_items_reserve) */
} S_slice;

typedef struct S_frame {
    int urgent;
    double left, width;
    /* what opens its part on a new page when it breaks (S_callout_repeat):
       "(continued)", or with the lead again when the page starts in
       [lead_end, next_end); empty if there is none */
    S_slice repeat, repeat_lead;
    size_t lead_end, next_end;
} S_frame;

typedef struct S_state {
    pd_fonts *fonts;
    PangoContext *ctx;
    const char *families;
    const char *lang_tag;
    const char *also_tag; /* a bilingual document's second language, or NULL */
    unsigned also_style;  /* and the style of its spans (pd_doc.also_style) */
    bool cjk;
    bool fr;
    double k; /* scale: 1 normal, 16/11 large print */
    S_styles sty;
    pd_pages *out;
    S_slice *slices;
    size_t n_slices, cap_slices;
    size_t cap_layouts, cap_tags; /* room in out->layouts, out->tags */
    S_frame *frames;
    size_t n_frames;
    int n_tables;
    S_slice *repeats;      /* per table (id - 1): its header as repeated, or zeroed */
    const char *continued; /* "(continued)", localised, or NULL */
    int depth;             /* nesting of keep groups */
    double left, width;    /* the (first) column of body text */
    int ncols;             /* columns per page, 1 or more */
    bool form;             /* a form (running header): boxes stay whole, gaps are ruled off */
    double col_step;       /* from a column's left edge to the next one's */
    S_slice *mast;         /* several columns: the title block, across them all on page 1 */
    size_t n_mast;
    bool large;                   /* large print: one column, no side-by-side blocks */
    double pair_pitch;            /* > 0: a signature and a date side by side, lines level */
    double wide_left, wide_width; /* the page's full width (the running header's) */
    double top_first, top_other;  /* where the body starts on page 1, on the others */
    double bottom;                /* where the body ends */
    char *section;                /* the last heading's text, for form fields; owned */
    pd_error *err;
    const pd_layout_helper *helper; /* or NULL */
    /* structure elements (tagged PDF): the one new elements go in, a list
       item's or field's label, a table row's first cell (the others
       follow it); 0: none */
    int tag_parent, tag_label, cell_tag;
} S_state;

#define K(x) ((x)*st->k)

/* The languages a layout shapes in, and what follows from them. */
static void S_set_langs(S_state *st, const char *lang_tag, const char *also_tag)
{
    st->lang_tag = lang_tag;
    st->also_tag = also_tag;
    st->cjk = strncmp(lang_tag, "zh", 2) == 0;
    st->fr = strncmp(lang_tag, "fr", 2) == 0;
    st->families = pd_fonts_families(lang_tag);
}

/* The height of a column of body text; units count columns: with two
 * columns, units 0 and 1 are page 1's. */
static double S_body_h(const S_state *st, size_t unit)
{
    return st->bottom - (unit < (size_t)st->ncols ? st->top_first : st->top_other);
}

/* The tallest a group may be and still be kept whole. With several
 * columns, page 1's are shorter (the title block is above them): a group
 * that does not fit there moves to the next column. */
static double S_max_body_h(const S_state *st)
{
    if (st->ncols > 1)
        return st->bottom - st->top_other;
    return st->bottom - (st->top_first > st->top_other ? st->top_first : st->top_other);
}

/* Room for `more` entries after n in an array of cap (grown by doubling:
 * arrays grown one entry at a time were a tenth of a document's layout). */
static void *S_grow(void *array, size_t n, size_t more, size_t *cap, size_t size)
{
    if (n + more <= *cap)
        return array;
    size_t want = *cap ? *cap : 8;
    while (want < n + more)
        want *= 2;
    *cap = want;
    return xrealloc(array, want * size);
}

static S_slice *S_new_slice(S_state *st, double height, double space_before)
{
    st->slices = S_grow(st->slices, st->n_slices, 1, &st->cap_slices, sizeof *st->slices);
    S_slice *s = &st->slices[st->n_slices++];
    memset(s, 0, sizeof *s);
    s->height = height;
    s->space_before = space_before;
    return s;
}

static void S_glue(S_state *st, size_t i, int g)
{
    if (i < st->n_slices && st->slices[i].glue < g)
        st->slices[i].glue = g;
}

static void S_items_reserve(S_slice *s, size_t more)
{
    s->items = S_grow(s->items, s->n_items, more, &s->cap_items, sizeof *s->items);
}

static pd_item *S_add_item(S_slice *s)
{
    S_items_reserve(s, 1);
    pd_item *it = &s->items[s->n_items++];
    memset(it, 0, sizeof *it);
    return it;
}

static pd_item *S_add_rect(S_slice *s, double x, double y, double w, double h, const double rgb[3])
{
    pd_item *it = S_add_item(s);
    it->kind = PD_ITEM_RECT;
    it->x = x;
    it->y = y;
    it->w = w;
    it->h = h;
    memcpy(it->rgb, rgb, sizeof it->rgb);
    return it;
}

static void S_add_box(S_slice *s, double x, double y, double w, double h, int checked,
                      const double rgb[3])
{
    pd_item *it = S_add_item(s);
    it->kind = PD_ITEM_BOX;
    it->x = x;
    it->y = y;
    it->w = w;
    it->h = h;
    it->checked = checked;
    memcpy(it->rgb, rgb, sizeof it->rgb);
}

/* ---- structure (tagged PDF) ----
 * Elements are made in reading order as the blocks are laid out; the
 * lines and images of a block are then claimed by its element
 * (S_tag_slices), the parts of a list item, field or table row by theirs
 * where they are drawn. Whatever no element claims is an artifact. */

static int S_tag_new(S_state *st, pd_tag_type type)
{
    pd_pages *p = st->out;
    p->tags = S_grow(p->tags, p->n_tags, 1, &st->cap_tags, sizeof *p->tags);
    p->tags[p->n_tags] = (pd_tag){type, st->tag_parent, 0};
    return (int)++p->n_tags;
}

/* A line that shows nothing but a line to write on (an empty value). */
static bool S_blank_line(const pd_item *it)
{
    if (it->kind != PD_ITEM_LINE || !it->line || !it->line->layout)
        return true;
    const char *q = pango_layout_get_text(it->line->layout) + it->line->start_index;
    const char *end = q + it->line->length;
    bool blank = true;
    for (; q < end && *q && blank; q = g_utf8_next_char(q)) {
        gunichar c = g_utf8_get_char(q);
        blank = g_unichar_isspace(c) || c == 0x200b || c == 0x2028;
    }
    return blank;
}

/* The lines of text and images of slices from `first` on that no element
 * claimed yet belong to element `tag`. */
static void S_tag_slices(S_state *st, size_t first, int tag, bool other_script)
{
    for (size_t i = first; i < st->n_slices; i++)
        for (size_t k = 0; k < st->slices[i].n_items; k++) {
            pd_item *it = &st->slices[i].items[k];
            if (it->tag || it->kind == PD_ITEM_RECT || it->kind == PD_ITEM_BOX ||
                (it->kind == PD_ITEM_LINE && S_blank_line(it)))
                continue;
            it->tag = tag;
            it->other_script = it->kind == PD_ITEM_LINE && other_script;
        }
}

/* A filled value of t holds letters of another script than the
 * document's (a Chinese name in a French sheet, a Latin one in a Chinese
 * sheet): the painter gives that text its own language. */
static bool S_other_script(const S_state *st, const pd_text *t)
{
    GUnicodeScript own = st->cjk ? G_UNICODE_SCRIPT_HAN : G_UNICODE_SCRIPT_LATIN;
    /* a bilingual document: text in its second language (a block, or
       spans beside the first language's) gets that language's /Lang */
    if (st->also_tag && strcmp(st->lang_tag, st->out->lang_tag) != 0)
        return true;
    for (size_t i = 0; i < t->n_spans; i++)
        if (t->spans[i].style & PD_SPAN_SECOND)
            return true;
    for (size_t i = 0; i < t->n_spans; i++) {
        if (!(t->spans[i].style & PD_SPAN_VALUE))
            continue;
        for (const char *q = t->spans[i].text; *q; q = g_utf8_next_char(q)) {
            GUnicodeScript sc = g_unichar_get_script(g_utf8_get_char(q));
            if (sc != own && sc != G_UNICODE_SCRIPT_COMMON && sc != G_UNICODE_SCRIPT_INHERITED &&
                sc != G_UNICODE_SCRIPT_UNKNOWN)
                return true;
        }
    }
    return false;
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
    double half = S_max_body_h(st) / 2;
    if (h > half) { /* never more than half a page */
        w *= half / h;
        h = half;
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

/* A value that must not be broken across lines: a web or e-mail address
 * or an identifier (no white space, short), or a phone number (digits,
 * spaces, + - ( ) . only): "signalement-" / "sante.gouv.fr" on two lines
 * reads as another address, and a number split in two is misdialled. */
static bool S_value_unbreakable(const char *v)
{
    size_t n = strlen(v);
    bool space = false, phone = true;
    for (const char *p = v; *p; p++) {
        if (*p == ' ')
            space = true;
        if (!strchr("0123456789 +-().", *p))
            phone = false;
    }
    return (!space && n <= 64) || (phone && n <= 32);
}

static void S_keep_layout(S_state *st, PangoLayout *layout)
{
    pd_pages *p = st->out;
    p->layouts = S_grow(p->layouts, p->n_layouts, 1, &st->cap_layouts, sizeof(PangoLayout *));
    p->layouts[p->n_layouts++] = layout;
}

/* The template line a piece of text came from, for errors about blocks. */
static pd_origin S_text_origin(const pd_text *t)
{
    for (size_t i = 0; i < t->n_spans; i++)
        if (t->spans[i].origin.file)
            return t->spans[i].origin;
    return (pd_origin){NULL, 0, NULL};
}

static pd_origin S_block_origin(const pd_block *b)
{
    pd_origin o = S_text_origin(&b->text);
    for (size_t r = 0; !o.file && r < b->n_rows; r++)
        for (size_t c = 0; !o.file && c < b->rows[r].n_cells; c++)
            o = S_text_origin(&b->rows[r].cells[c]);
    for (size_t i = 0; !o.file && i < b->n_children; i++)
        o = S_block_origin(&b->children[i]);
    return o;
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

/* ---- the worker's cache of layouts ----
 * A layout is found again by what makes it what it is (S_key_walk: the
 * language, width, style, flags, print size and every span). That
 * identity is not built as a string for every lookup (a paragraph's whole
 * text, hashed and compared: a fifth of a document's layout time): it is
 * hashed as it is walked, the hash names the layout in the cache
 * (pd_fonts_cached_layout), and the identity the layout was made for,
 * kept with it, is compared with the text in place. Two identities with
 * one hash: the second is laid out afresh and not kept. */
enum { KEY_HASH, KEY_CMP, KEY_BUILD };

typedef struct S_key {
    int mode;
    uint64_t h; /* KEY_HASH */
    size_t len;
    const unsigned char *at, *end; /* KEY_CMP: what is left of the kept identity */
    bool differs;
    strbuf *out; /* KEY_BUILD */
} S_key;

/* What is kept with a layout made here (one GObject datum): the identity
 * it was made for (S_key_walk's bytes; none for a layout the cache does
 * not hold), and what is measured from it once (S_measure, S_longest_word). */
struct S_measures;
typedef struct S_kept {
    struct S_measures *measures; /* NULL until measured */
    double longest_word;         /* valid when has_longest */
    bool has_longest;
    size_t id_len;
    unsigned char id[];
} S_kept;

static GQuark S_kept_quark(void)
{
    static GQuark q; /* an interned name, the same in every process: no state of ours */
    if (!q)
        q = g_quark_from_static_string("pildoc-kept");
    return q;
}

static void S_kept_free(gpointer p)
{
    S_kept *k = p;
    free(k->measures);
    free(k);
}

/* The layout's kept data; made (with no identity) when it has none. */
static S_kept *S_kept_of(PangoLayout *layout)
{
    S_kept *k = g_object_get_qdata(G_OBJECT(layout), S_kept_quark());
    if (!k) {
        k = xcalloc(1, sizeof *k);
        g_object_set_qdata_full(G_OBJECT(layout), S_kept_quark(), k, S_kept_free);
    }
    return k;
}

static uint64_t S_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 29);
}

static inline __attribute__((always_inline)) void S_key_feed(S_key *k, const void *p, size_t n)
{
    const unsigned char *b = p;
    switch (k->mode) {
    case KEY_HASH:
        k->len += n;
        for (; n >= 8; n -= 8, b += 8) {
            uint64_t w;
            memcpy(&w, b, 8);
            k->h = S_mix(k->h, w);
        }
        if (n) {
            uint64_t w = 0;
            memcpy(&w, b, n);
            k->h = S_mix(k->h, w ^ ((uint64_t)n << 56));
        }
        break;
    case KEY_CMP:
        if (k->differs || (size_t)(k->end - k->at) < n || memcmp(k->at, b, n) != 0)
            k->differs = true;
        else
            k->at += n;
        break;
    default: strbuf_append_len(k->out, p, n); break;
    }
}

static inline __attribute__((always_inline)) void S_key_num(S_key *k, double v)
{
    S_key_feed(k, &v, sizeof v);
}

static inline __attribute__((always_inline)) void S_key_str(S_key *k, const char *s)
{
    size_t n = s ? strlen(s) : (size_t)-1; /* NULL and "" differ */
    S_key_feed(k, &n, sizeof n);
    if (s)
        S_key_feed(k, s, n);
}

/* Everything that makes a layout what it is, fed to k in one order
 * (inlined into each of its three callers, for its one mode). */
static inline __attribute__((always_inline)) void S_key_walk(const S_state *st, const pd_text *text,
                                                             double width, const S_style *style,
                                                             int flags, S_key *k)
{
    S_key_str(k, st->lang_tag);
    S_key_str(k, st->also_tag); /* how PD_SPAN_SECOND spans are shaped */
    S_key_num(k, width);
    S_key_num(k, style->size);
    S_key_num(k, style->bold);
    S_key_num(k, flags);
    S_key_num(k, st->k); /* the lengths of lines to write on */
    S_key_num(k, (double)text->n_spans);
    for (size_t i = 0; i < text->n_spans; i++) {
        const pd_span *sp = &text->spans[i];
        S_key_num(k, sp->style);
        S_key_num(k, sp->blank_em);
        S_key_num(k, (int)sp->blank_kind);
        S_key_str(k, sp->text);
    }
}

/* The name of a layout in the cache: its identity's hash and length. */
static void S_key_name(const S_key *k, char out[40])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "layout:", 7);
    for (int i = 0; i < 16; i++)
        out[7 + i] = hex[(k->h >> (60 - 4 * i)) & 15];
    out[23] = ':';
    size_t len = k->len;
    int n = 24;
    char digits[16];
    int d = 0;
    do {
        digits[d++] = hex[len & 15];
        len >>= 4;
    } while (len && d < 15);
    while (d)
        out[n++] = digits[--d];
    out[n] = '\0';
}

/* The hash of an identity (and its length). */
static void S_key_hash(const S_state *st, const pd_text *text, double width, const S_style *style,
                       int flags, S_key *k)
{
    *k = (S_key){.mode = KEY_HASH, .h = 0x243f6a8885a308d3u};
    S_key_walk(st, text, width, style, flags, k);
}

/* Whether `layout` was made for this identity (its kept one). */
static bool S_key_matches(const S_state *st, PangoLayout *layout, const pd_text *text, double width,
                          const S_style *style, int flags)
{
    const S_kept *kept = g_object_get_qdata(G_OBJECT(layout), S_kept_quark());
    if (!kept || !kept->id_len)
        return false;
    S_key k = {.mode = KEY_CMP, .at = kept->id, .end = kept->id + kept->id_len};
    S_key_walk(st, text, width, style, flags, &k);
    return !k.differs && k.at == k.end;
}

/* Keeps the identity a new layout was made for with it. */
static void S_key_keep(const S_state *st, PangoLayout *layout, const pd_text *text, double width,
                       const S_style *style, int flags)
{
    strbuf sb = STRBUF_INIT;
    S_key k = {.mode = KEY_BUILD, .out = &sb};
    S_key_walk(st, text, width, style, flags, &k);
    S_kept *kept = xcalloc(1, sizeof *kept + sb.len);
    kept->id_len = sb.len;
    if (sb.len)
        memcpy(kept->id, sb.data, sb.len);
    strbuf_free(&sb);
    g_object_set_qdata_full(G_OBJECT(layout), S_kept_quark(), kept, S_kept_free);
}

/* How long a line to write on is: its width in ems, but never less than
 * handwriting needs for its kind, nor more than the line. */
static double S_blank_width(const S_state *st, const pd_span *sp, const S_style *style,
                            double avail)
{
    double w = sp->blank_em * style->size, min = MIN_TEXT;
    switch (sp->blank_kind) {
    case PD_BLANK_NAME: min = MIN_NAME; break;
    case PD_BLANK_PHONE: min = MIN_PHONE; break;
    case PD_BLANK_DATE: w = min = MIN_DATE * st->k; break;
    case PD_BLANK_ID: min = MIN_ID; break;
    case PD_BLANK_PART: w = min = sp->blank_em * DATE_PART * st->k; break;
    case PD_BLANK_TEXT: break;
    }
    if (w < min)
        w = min;
    if (avail > 0 && w > avail - 1)
        w = avail - 1;
    return w;
}

/* ---- Chinese text (W3C clreq, GB/T 15834) ---------------------------------------- */

static unsigned S_utf8_next(const char **p)
{
    const unsigned char *s = (const unsigned char *)*p;
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n == 2)
        c &= 0x1F;
    else if (n == 3)
        c &= 0x0F;
    else if (n == 4)
        c &= 0x07;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p += i;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *p += n;
    return c;
}

static bool S_is_han(unsigned c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2FFFF);
}

static bool S_is_latin(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= 0xC0 && c <= 0x24F);
}

/* Full-width punctuation whose half is blank space (clreq 3.1.4). */
static bool S_is_fw_punct(unsigned c)
{
    static const unsigned marks[] = {0xFF0C, 0x3002, 0x3001, 0xFF1B, 0xFF1A, 0xFF08, 0xFF09,
                                     0x300C, 0x300D, 0x300E, 0x300F, 0x201C, 0x201D, 0x2018,
                                     0x2019, 0x300A, 0x300B, 0x3008, 0x3009, 0x3010, 0x3011};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (marks[i] == c)
            return true;
    return false;
}

#define WJ "\xe2\x81\xa0" /* U+2060 WORD JOINER: no break here */

#define QUARTER_EM "\xe2\x80\x85" /* U+2005 FOUR-PER-EM SPACE */

/* How many Han characters a short quoted term holds (“氯胺酮”: 3), text
 * starting after its opening quote; 0 when it is not 2 to 6 Han then a
 * closing quote. */
static int S_quoted_term(const char *text)
{
    int n = 0;
    for (const char *p = text; *p && n <= 6;) {
        unsigned c = S_utf8_next(&p);
        if (c == 0x201D)
            return n >= 2 ? n : 0;
        if (!S_is_han(c))
            return 0;
        n++;
    }
    return 0;
}

/* Appends Chinese text with no-break points where a break would split a
 * term: between Latin letters or digits and Han ("D级", "NMDA受体"), after
 * a hyphen that joins them ("5-羟色胺": up to three Han after it), inside
 * a short quoted term (“氯胺酮”: the name of what is defined). Han
 * and Latin letters or digits are a quarter em apart, with or without a
 * space between them in the text (the review's L10: "第 1.0 版" and
 * "NMDA受体" alike); a line may break before Latin, never after it. */
static void S_append_cjk(strbuf *s, const char *text, bool justified)
{
    unsigned prev = 0;
    int glue_han = 0; /* Han characters still to glue to what precedes */
    int quoted = 0;   /* Han characters of a quoted term still to come */
    for (const char *p = text; *p;) {
        const char *at = p;
        unsigned c = S_utf8_next(&p);
        bool han = S_is_han(c);
        if (c == 0x201C)
            quoted = S_quoted_term(p);
        if (han && quoted > 0 && quoted-- && S_is_han(prev)) /* “氯⁠胺⁠酮” */
            strbuf_append(s, WJ);
        if (c == ' ' && justified) {
            /* a space beside Han ("第 1.0 版") is a fixed quarter em: justified
               Chinese would otherwise pour a line's whole slack into it */
            const char *q = p;
            unsigned next = *q ? S_utf8_next(&q) : 0;
            if (S_is_han(prev) || S_is_han(next) || S_is_fw_punct(prev) || S_is_fw_punct(next)) {
                strbuf_append(s, QUARTER_EM);
                prev = c;
                glue_han = 0;
                continue;
            }
        }
        if (prev && S_is_latin(prev) && han) /* "60多", "NMDA受体", "D级": whole */
            strbuf_append(s, WJ QUARTER_EM WJ);
        else if (prev && S_is_han(prev) && S_is_latin(c)) /* a line may end before "60" */
            strbuf_append(s, QUARTER_EM);
        else if (prev && ((glue_han > 0 && han) || (prev == '-' && han)))
            strbuf_append(s, WJ);
        if (han && glue_han > 0)
            glue_han--;
        else if (!han)
            glue_han = 0;
        if (c == '-' && S_is_latin(prev))
            glue_han = 3;
        else if (S_is_latin(c))
            glue_han = 1;
        strbuf_append_len(s, at, (size_t)(p - at));
        prev = c;
    }
}

/* A filled-in value (appended at byte `start`): no break inside a word
 * holding a hyphen, so that a double-barrelled surname ("Nguyễn-Martin")
 * is never split (the review's L8); it may break at its spaces. */
static void S_value_words(const char *text, size_t start, PangoAttrList *attrs)
{
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, " ");
        if (len && memchr(p, '-', len)) {
            PangoAttribute *a = pango_attr_allow_breaks_new(FALSE);
            a->start_index = (guint)(start + (size_t)(p - text));
            a->end_index = (guint)(start + (size_t)(p - text) + len);
            pango_attr_list_insert(attrs, a);
        }
        p += len;
        p += strspn(p, " ");
    }
}

/* French: no break at a hyphen beside a word of one or two letters
 * ("c'est-à-dire" stays whole, the review's L6). */
static void S_append_fr(strbuf *s, const char *text)
{
    for (const char *p = text; *p; p++) {
        strbuf_append_char(s, *p);
        if (*p != '-' || p == text)
            continue;
        size_t before = 0, after = 0;
        for (const char *q = p; q > text && (unsigned char)q[-1] != ' ' && q[-1] != '-'; q--)
            if (((unsigned char)q[-1] & 0xC0) != 0x80)
                before++;
        for (const char *q = p + 1; *q && *q != ' ' && *q != '-'; q++)
            if (((unsigned char)*q & 0xC0) != 0x80)
                after++;
        if (before && after && (before <= 2 || after <= 2))
            strbuf_append(s, WJ);
    }
}

/* English (and any other language without rules of its own): a
 * typewriter apostrophe after a letter ("patient's", "patients'") is set
 * as the typographic one, U+2019, as French already is (the review's L4).
 * Values are never changed. */
static void S_append_apostrophes(strbuf *s, const char *text)
{
    for (const char *p = text; *p; p++) {
        bool letter = p > text && (((unsigned char)p[-1] | 0x20) >= 'a' &&
                                   ((unsigned char)p[-1] | 0x20) <= 'z');
        if (*p == '\'' && letter)
            strbuf_append(s, "\xe2\x80\x99");
        else
            strbuf_append_char(s, *p);
    }
}

/* Chinese text is justified, but not a Latin text in a Chinese document
 * (a reference, mostly Latin letters): its spaces would gape. */
static bool S_mostly_han(const char *text)
{
    size_t han = 0, latin = 0;
    for (const char *p = text; *p;) {
        unsigned c = S_utf8_next(&p);
        if (S_is_han(c))
            han++;
        else if (S_is_latin(c))
            latin++;
    }
    return 2 * han >= latin; /* a Latin letter is about half an ideograph wide */
}

/* No paragraph ends with one ideograph alone on its line (孤字): the last
 * two Han characters before the closing punctuation are joined. Returns
 * the byte offset where the joiner went, or (size_t)-1. */
static size_t S_cjk_no_runt(strbuf *s, bool need_punct)
{
    const char *str = strbuf_str(s);
    size_t han_at[2] = {0, 0}; /* byte offsets of the last two Han, in order */
    size_t n = 0;
    const char *last_content = NULL;
    for (const char *p = str; *p;) {
        const char *at = p;
        unsigned c = S_utf8_next(&p);
        if (S_is_han(c)) {
            han_at[0] = han_at[1];
            han_at[1] = (size_t)(at - str);
            n++;
            last_content = at;
        } else if (!S_is_fw_punct(c) && c != 0xFF1F && c != 0xFF01 && c != 0x2060 && c != ' ') {
            last_content = at; /* ？ and ！ close a sentence too: "…过夜吗？" */
        }
    }
    /* only when the text ends with Han then punctuation: "…治疗。" */
    if (n < 3 || !last_content || (size_t)(last_content - str) != han_at[1])
        return (size_t)-1;
    const char *after = str + han_at[1];
    S_utf8_next(&after);
    while (need_punct && *after == '\xe2' && strncmp(after, WJ, 3) == 0)
        after += 3;
    unsigned close = *after ? S_utf8_next(&after) : 0;
    if (need_punct && close != 0x3002 && close != 0xFF1F && close != 0xFF01 && close != 0xFF09 &&
        close != 0x201D)
        return (size_t)-1; /* a sentence, not a label ("签字时间：") or a heading */
    const char *between = str + han_at[0];
    S_utf8_next(&between);
    if ((size_t)(between - str) != han_at[1])
        return (size_t)-1; /* not adjacent */
    strbuf out = STRBUF_INIT;
    strbuf_append_len(&out, str, han_at[1]);
    strbuf_append(&out, WJ);
    strbuf_append(&out, str + han_at[1]);
    strbuf_free(s);
    *s = out;
    return han_at[1];
}

/* Adjacent full-width punctuation ("）。", "”），") is compressed: every
 * mark but the last of a run is set half width (OpenType 'halt'). */
static void S_cjk_compress(const char *text, PangoAttrList *attrs)
{
    const char *prev_at = NULL;
    unsigned prev = 0;
    for (const char *p = text; *p;) {
        const char *at = p;
        unsigned c = S_utf8_next(&p);
        if (c == 0x2060)
            continue;
        if (prev && S_is_fw_punct(prev) && S_is_fw_punct(c)) {
            PangoAttribute *a = pango_attr_font_features_new("halt 1");
            a->start_index = (guint)(prev_at - text);
            a->end_index = (guint)(at - text);
            pango_attr_list_insert(attrs, a);
        }
        prev = c;
        prev_at = at;
    }
}

/* Opening brackets and quotes whose ink is on the right half of their em
 * (clreq 3.1.4): （「『“‘《〈【〔. */
static bool S_is_opening(unsigned c)
{
    static const unsigned marks[] = {0xFF08, 0x300C, 0x300E, 0x201C, 0x2018,
                                     0x300A, 0x3008, 0x3010, 0x3014};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (marks[i] == c)
            return true;
    return false;
}

/* A line that starts with a full-width opening bracket ("（神经…") hangs
 * its blank half em into the left margin, so that its ink lines up with
 * the lines above and below (the review's M9). Returns that half, in Pango
 * units, or 0: 0 unless the mark is set full width (an English quote is
 * not). */
static int S_bracket_hang(const PangoLayoutLine *line)
{
    if (!line->runs || line->length <= 0)
        return 0;
    const char *text = pango_layout_get_text(line->layout) + line->start_index;
    const char *p = text;
    if (!S_is_opening(S_utf8_next(&p)))
        return 0;
    const PangoGlyphItem *run = line->runs->data;
    if (run->glyphs->num_glyphs < 1 || run->item->offset != line->start_index)
        return 0;
    PangoRectangle logical;
    pango_font_get_glyph_extents(run->item->analysis.font, run->glyphs->glyphs[0].glyph, NULL,
                                 &logical);
    PangoFontDescription *fd = pango_font_describe_with_absolute_size(run->item->analysis.font);
    int em = pango_font_description_get_size(fd);
    pango_font_description_free(fd);
    return 10 * logical.width >= 9 * em ? logical.width / 2 : 0;
}

static bool S_run_is_blank(const PangoGlyphItem *run)
{
    for (GSList *a = run->item->analysis.extra_attrs; a; a = a->next)
        if (((PangoAttribute *)a->data)->klass->type == PANGO_ATTR_SHAPE)
            return true;
    return false;
}

/* A justified line that hangs a bracket (S_bracket_hang) is half an em
 * wider: the half is shared among the gaps between its characters (none
 * after the bracket, none after the last one), so that its right edge
 * stays flush. Layouts are made once and shared, so this is done when the
 * layout is made; S_lines moves the line left. */
static void S_widen_hanging_lines(PangoLayout *layout)
{
    int width = pango_layout_get_width(layout);
    bool any = false;
    for (GSList *l = pango_layout_get_lines_readonly(layout); l && !any; l = l->next)
        any = S_bracket_hang(l->data) > 0;
    if (!any)
        return;
    /* lines the caller may change: Pango stops caching their extents */
    for (GSList *l = pango_layout_get_lines(layout); l; l = l->next) {
        PangoLayoutLine *line = l->data;
        int hang = S_bracket_hang(line);
        PangoRectangle logical;
        pango_layout_line_get_extents(line, NULL, &logical);
        if (hang == 0 || logical.width < width - PANGO_SCALE / 4) /* Pango leaves a few units */
            continue; /* a paragraph's last line stays ragged */
        size_t gaps = 0, seen = 0;
        for (int pass = 0; pass < 2; pass++) {
            size_t k = 0; /* glyphs with an advance, in order */
            for (GSList *r = line->runs; r; r = r->next) {
                PangoGlyphItem *run = r->data;
                if (S_run_is_blank(run))
                    continue;
                for (int g = 0; g < run->glyphs->num_glyphs; g++) {
                    PangoGlyphInfo *gi = &run->glyphs->glyphs[g];
                    if (gi->geometry.width <= 0)
                        continue;
                    k++;
                    if (pass == 1 && k > 1 && k < seen) { /* not the bracket, not the last */
                        int share =
                            (int)((size_t)hang * (k - 1) / gaps - (size_t)hang * (k - 2) / gaps);
                        gi->geometry.width += share;
                    }
                }
            }
            if (pass == 0) {
                seen = k;
                if (k < 3)
                    break;
                gaps = k - 2;
            }
        }
    }
}

static bool S_has_value(const pd_text *t);

/* ---- layouts ------------------------------------------------------------------- */

/* The data of a blank's shape attribute: 1 + its pd_blank_kind. */
static const int S_blank_tags[] = {1, 2, 3, 4, 5, 6};

static PangoLayout *S_new_layout(S_state *st, const pd_text *text, double width,
                                 const S_style *style, int flags)
{
    strbuf s = STRBUF_INIT;
    PangoAttrList *attrs = pango_attr_list_new();
    S_spanmap map = {text, xcalloc(text->n_spans + 1, sizeof(size_t))};
    size_t n_blanks = 0, n_other = 0;
    for (size_t i = 0; i < text->n_spans; i++) {
        if (text->spans[i].style & PD_SPAN_BLANK)
            n_blanks++;
        else if (strspn(text->spans[i].text, " ") != strlen(text->spans[i].text))
            n_other++;
    }
    bool fill = (flags & LF_FILL_BLANK) && n_blanks == 1 && n_other == 0;
    for (size_t i = 0; i < text->n_spans; i++) {
        const pd_span *sp = &text->spans[i];
        size_t start = s.len;
        map.starts[i] = start;
        if (sp->style & PD_SPAN_BREAK) {
            strbuf_append(&s, "\xe2\x80\xa8"); /* U+2028 LINE SEPARATOR */
        } else if (sp->style & PD_SPAN_BLANK) {
            /* a line to write on: one no-break space as wide as the line
               (the line itself is drawn by S_line_at); one character
               whatever its length, so that many blanks cost no more than
               as many words */
            double w = fill ? width - 1 : S_blank_width(st, sp, style, width);
            strbuf_append(&s, "\xc2\xa0");
            PangoRectangle r = {0, (int)(-style->size * 0.8 * PANGO_SCALE), (int)(w * PANGO_SCALE),
                                (int)(style->size * PANGO_SCALE)};
            /* the shape's data is the line's kind, for the text dump */
            PangoAttribute *a = pango_attr_shape_new_with_data(
                &r, &r, (gpointer)&S_blank_tags[sp->blank_kind], NULL, NULL);
            a->start_index = (guint)start;
            a->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, a);
            if (i + 1 < text->n_spans && (text->spans[i + 1].style & PD_SPAN_BLANK))
                strbuf_append(&s, "\xe2\x80\x8b"); /* ZERO WIDTH SPACE: two lines may part */
        } else if (sp->style & PD_SPAN_VALUE) {
            strbuf_append(&s, sp->text);
            S_value_words(sp->text, start, attrs);
        } else if ((sp->style & PD_SPAN_SECOND) && st->also_tag &&
                   strcmp(st->also_tag, st->lang_tag) != 0) {
            /* the second language's text beside the first's (a title, a
               list item, a label): its typography, fonts and language */
            if (strncmp(st->also_tag, "fr", 2) == 0)
                S_append_fr(&s, sp->text);
            else if (strncmp(st->also_tag, "zh", 2) == 0)
                S_append_cjk(&s, sp->text, false);
            else
                S_append_apostrophes(&s, sp->text);
            PangoAttribute *a = pango_attr_language_new(pango_language_from_string(st->also_tag));
            a->start_index = (guint)start;
            a->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, a);
            a = pango_attr_family_new(pd_fonts_families(st->also_tag));
            a->start_index = (guint)start;
            a->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, a);
        } else if (st->fr) {
            S_append_fr(&s, sp->text);
        } else if (st->cjk) {
            S_append_cjk(&s, sp->text, flags & LF_JUSTIFY);
        } else {
            S_append_apostrophes(&s, sp->text);
        }
        if (sp->style & (PD_SPAN_BOLD | PD_SPAN_VALUE)) {
            PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
            a->start_index = (guint)start;
            a->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, a);
        }
        if ((sp->style & PD_SPAN_VALUE) && S_value_unbreakable(sp->text)) {
            PangoAttribute *a = pango_attr_allow_breaks_new(FALSE);
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
        if (sp->style & PD_SPAN_HINT) {
            PangoAttribute *a = pango_attr_scale_new(0.8);
            a->start_index = (guint)start;
            a->end_index = (guint)s.len;
            pango_attr_list_insert(attrs, a);
        }
    }
    /* body text; any other sentence, a table cell's "…不一⁠致。" (not a
       field's label or value: values print as given) */
    if (st->cjk && width > 0 && ((flags & LF_JUSTIFY) || (n_blanks == 0 && !S_has_value(text)))) {
        size_t at = S_cjk_no_runt(&s, !(flags & LF_JUSTIFY));
        if (at != (size_t)-1) { /* what follows the joiner moves on by its 3 bytes */
            pango_attr_list_update(attrs, (int)at, 0, 3);
            for (size_t i = 0; i < text->n_spans; i++)
                if (map.starts[i] > at)
                    map.starts[i] += 3;
        }
    }
    if (st->cjk)
        S_cjk_compress(strbuf_str(&s), attrs);
    PangoAttribute *lang = pango_attr_language_new(pango_language_from_string(st->lang_tag));
    pango_attr_list_insert_before(attrs, lang);

    PangoLayout *layout = pango_layout_new(st->ctx);
    PangoFontDescription *fd =
        pango_font_description_from_string(flags & LF_LATIN ? "Noto Sans" : st->families);
    pango_font_description_set_absolute_size(fd, style->size * PANGO_SCALE);
    pango_font_description_set_weight(fd, style->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, fd);
    pango_font_description_free(fd);
    if (width > 0) /* else: one line of natural width */
        pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout, PANGO_ALIGN_LEFT);
    if (st->cjk && (flags & LF_JUSTIFY) && S_mostly_han(strbuf_str(&s)))
        pango_layout_set_justify(layout, TRUE);
    if (flags & LF_ELLIPSIZE)
        pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    if (st->cjk && (flags & LF_LEADING))
        pango_layout_set_line_spacing(layout, 1.14f);
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
    if (st->cjk && pango_layout_get_justify(layout))
        S_widen_hanging_lines(layout);
    return layout;
}

/* Makes (or finds already made) a layout of `text` `width` points wide
 * (-1: one line of natural width); NULL on a missing glyph or no room.
 * The layout lives as long as the pages. */
static PangoLayout *S_make_layout(S_state *st, const pd_text *text, double width,
                                  const S_style *style, int flags)
{
    if (width != -1 && width < style->size) {
        pd_origin o = S_text_origin(text);
        pd_error_set(st->err, o.file, o.line,
                     "no room left for text here (%.0f pt wide): too many columns or boxes "
                     "nested too deeply",
                     width);
        return NULL;
    }
    S_key k;
    S_key_hash(st, text, width, style, flags, &k);
    char name[40];
    S_key_name(&k, name);
    PangoLayout *layout = pd_fonts_cached_layout(st->fonts, name);
    if (!layout && st->helper && st->helper->find)
        layout = st->helper->find(st->helper->ctx, name);
    if (layout && S_key_matches(st, layout, text, width, style, flags)) {
        g_object_ref(layout);
    } else {
        bool taken = layout != NULL; /* another identity with this hash: not kept */
        layout = S_new_layout(st, text, width, style, flags);
        if (layout && !taken) {
            S_key_keep(st, layout, text, width, style, flags);
            if (S_has_value(text))
                pd_fonts_cache_value_layout(st->fonts, name, layout);
            else
                pd_fonts_cache_layout(st->fonts, name, layout);
        }
    }
    if (layout && st->helper && st->helper->used && !S_has_value(text)) {
        pd_para para = {st->lang_tag, st->also_tag, st->k,       text,
                        width,        style->size,  style->bold, flags};
        st->helper->used(st->helper->ctx, &para, name);
    }
    if (layout)
        S_keep_layout(st, layout);
    return layout;
}

/* The state a paragraph is shaped in, alone (pd_layout_para). */
static void S_para_state(S_state *st, S_style *style, const pd_para *para, PangoContext *ctx,
                         pd_error *err)
{
    *st = (S_state){0};
    st->ctx = ctx;
    S_set_langs(st, para->lang_tag, para->also_tag);
    st->k = para->k;
    st->err = err;
    *style = (S_style){.size = para->size, .bold = para->bold};
}

void pd_layout_para_name(const pd_para *para, char name[PD_PARA_NAME_SIZE])
{
    S_state st;
    S_style style;
    S_para_state(&st, &style, para, NULL, NULL);
    S_key k;
    S_key_hash(&st, para->text, para->width, &style, para->flags, &k);
    S_key_name(&k, name);
}

void pd_layout_para_ready(void)
{
    (void)S_kept_quark(); /* made once, before another thread may ask */
}

PangoLayout *pd_layout_para(PangoContext *ctx, const pd_para *para)
{
    pd_error err = {0};
    S_state st;
    S_style style;
    S_para_state(&st, &style, para, ctx, &err);
    PangoLayout *layout = S_new_layout(&st, para->text, para->width, &style, para->flags);
    if (layout)
        S_key_keep(&st, layout, para->text, para->width, &style, para->flags);
    return layout;
}

static PangoLayout *S_make_plain(S_state *st, const char *text, double width, const S_style *style)
{
    pd_text t = {0};
    pd_origin o = {NULL, 0, NULL};
    pd_text_add(&t, text, strlen(text), 0, o);
    PangoLayout *l = S_make_layout(st, &t, width, style, 0);
    pd_text_clear(&t);
    return l;
}

/* A text joined by bilingual.c, "first / second", into out: the second
 * part in its language's spans (shaped as that language), joined by
 * " / " or, when `sep` is NULL, a line break; in one language, as is. */
static void S_add_joined(const S_state *st, pd_text *out, const char *joined, const char *second,
                         const char *sep, pd_origin o)
{
    size_t n = strlen(joined), m = second ? strlen(second) : 0;
    if (st->also_tag && second && *second && n >= m + 3 && strcmp(joined + n - m, second) == 0 &&
        memcmp(joined + n - m - 3, " / ", 3) == 0) {
        pd_text_add(out, joined, n - m - 3, 0, o);
        pd_text_add(out, sep ? sep : "\n", sep ? strlen(sep) : 1, sep ? 0 : (unsigned)PD_SPAN_BREAK,
                    o);
        pd_text_add(out, second, m, st->also_style, o);
        return;
    }
    pd_text_add(out, joined, n, 0, o);
}

/* S_make_plain of a joined text (S_add_joined, " / "). */
static PangoLayout *S_make_joined(S_state *st, const char *joined, const char *second, double width,
                                  const S_style *style, int flags)
{
    pd_text t = {0};
    pd_origin o = {NULL, 0, NULL};
    S_add_joined(st, &t, joined ? joined : "", second, " / ", o);
    PangoLayout *l = S_make_layout(st, &t, width, style, flags);
    pd_text_clear(&t);
    return l;
}

/* A line to write on drawn under a line of text: where its run starts
 * (from the line's start) and how wide it is, in points; its kind. */
typedef struct S_rule {
    double x, w;
    int writeon; /* 1 + its pd_blank_kind */
} S_rule;

typedef struct S_line {
    PangoLayoutLine *line;
    double top, height, baseline; /* baseline relative to the line's top; height to the next */
    double x, width;
    const S_rule *rules; /* the lines to write on it holds */
    size_t n_rules;
} S_line;

/* What layout derives from a layout, measured once and kept with it:
 * layouts are shared between documents (the worker's cache), and walking
 * their lines again for every document was a quarter of its layout time.
 * One allocation: the lines, then their rules. */
typedef struct S_measures {
    size_t n_lines;
    S_line *lines;
    double natural_width; /* valid when has_natural */
    bool has_natural;
} S_measures;

static S_measures *S_measure(PangoLayout *layout)
{
    S_kept *kept = S_kept_of(layout);
    S_measures *m = kept->measures;
    if (m)
        return m;
    size_t count = (size_t)pango_layout_get_line_count(layout), n_rules = 0;
    for (GSList *l = pango_layout_get_lines_readonly(layout); l; l = l->next)
        for (GSList *r = ((PangoLayoutLine *)l->data)->runs; r; r = r->next)
            for (GSList *a = ((PangoGlyphItem *)r->data)->item->analysis.extra_attrs; a;
                 a = a->next)
                if (((PangoAttribute *)a->data)->klass->type == PANGO_ATTR_SHAPE) {
                    n_rules++;
                    break;
                }
    size_t lines_bytes = (count ? count : 1) * sizeof(S_line);
    m = xcalloc(1, sizeof *m + lines_bytes + n_rules * sizeof(S_rule));
    m->lines = (S_line *)(m + 1);
    S_rule *rules = (S_rule *)((char *)m->lines + lines_bytes);
    S_line *lines = m->lines;
    size_t i = 0;
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
            int hang = S_bracket_hang(lines[i].line); /* "（…" starts half an em earlier */
            lines[i].x = (double)(logical.x - hang) / PANGO_SCALE;
            lines[i].width = (double)logical.width / PANGO_SCALE;
            /* the runs shaped by a blank's attribute: lines to write on */
            lines[i].rules = rules;
            double run_x = 0;
            for (GSList *r = lines[i].line->runs; r; r = r->next) {
                PangoGlyphItem *run = r->data;
                double w = (double)pango_glyph_string_get_width(run->glyphs) / PANGO_SCALE;
                for (GSList *a = run->item->analysis.extra_attrs; a; a = a->next)
                    if (((PangoAttribute *)a->data)->klass->type == PANGO_ATTR_SHAPE) {
                        const PangoAttrShape *shape = a->data;
                        rules[lines[i].n_rules++] =
                            (S_rule){run_x, w, shape->data ? *(const int *)shape->data : 1};
                        break;
                    }
                run_x += w;
            }
            rules += lines[i].n_rules;
            i++;
        }
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    /* with extra leading, a line's share is the distance to the next one */
    for (size_t k = 0; k + 1 < i; k++)
        if (lines[k + 1].top - lines[k].top > lines[k].height)
            lines[k].height = lines[k + 1].top - lines[k].top;
    m->n_lines = i;
    kept->measures = m;
    return m;
}

/* The lines of a layout (kept with it: the caller does not free them). */
static const S_line *S_lines(PangoLayout *layout, size_t *n)
{
    S_measures *m = S_measure(layout);
    *n = m->n_lines;
    return m->lines;
}

static double S_natural_width(PangoLayout *layout)
{
    S_measures *m = S_measure(layout);
    if (!m->has_natural) {
        PangoRectangle logical;
        pango_layout_get_extents(layout, NULL, &logical);
        m->natural_width = (double)logical.width / PANGO_SCALE;
        m->has_natural = true;
    }
    return m->natural_width;
}

/* Places a line with its baseline at y, and draws the lines to write on
 * that it holds (runs shaped by a blank's attribute). */
static void S_line_at(S_slice *s, const S_line *l, double x, double baseline, const double rgb[3])
{
    S_items_reserve(s, 1 + l->n_rules);
    pd_item *it = S_add_item(s);
    it->kind = PD_ITEM_LINE;
    it->x = x;
    it->y = baseline;
    it->line = l->line;
    memcpy(it->rgb, rgb, sizeof it->rgb);
    for (size_t r = 0; r < l->n_rules; r++) {
        pd_item *rule =
            S_add_rect(s, x + l->rules[r].x, baseline + 2.5, l->rules[r].w, 0.6, S_writeon_rgb);
        rule->writeon = l->rules[r].writeon;
    }
}

static void S_line_item(S_slice *s, const S_line *l, double x, double y_top, const double rgb[3])
{
    S_line_at(s, l, x + l->x, y_top + l->baseline, rgb);
}

/* ---- fields of a fillable form --------------------------------------------------
 * After a block is laid out, its lines to write on and its boxes are tied
 * to what they are for (pd_field): the k-th line to write on the block
 * drew is its text's k-th blank, the k-th box its k-th check or initials
 * block. Layouts are shared between documents, so nothing of a document
 * goes into them: the tie is made here, by order. */

static bool S_is_field(const pd_block *b);

static pd_field *S_new_field(S_state *st, pd_field_kind kind)
{
    pd_pages *p = st->out;
    p->fields = xrealloc(p->fields, (p->n_fields + 1) * sizeof(pd_field *));
    pd_field *f = xcalloc(1, sizeof *f);
    f->kind = kind;
    f->section = st->section ? xstrdup(st->section) : NULL;
    p->fields[p->n_fields++] = f;
    return f;
}

static bool S_is_blank_or_value(const pd_span *sp)
{
    return sp->style & (PD_SPAN_BLANK | PD_SPAN_VALUE);
}

/* The printed text of spans [from, to) (no blank, no hint), trimmed. */
static char *S_spans_text(const pd_text *t, size_t from, size_t to)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = from; i < to && i < t->n_spans; i++) {
        const pd_span *sp = &t->spans[i];
        if (sp->style & PD_SPAN_BREAK)
            strbuf_append_char(&sb, ' ');
        else if (!(sp->style & (PD_SPAN_BLANK | PD_SPAN_HINT)))
            strbuf_append(&sb, sp->text);
    }
    char *s = strbuf_take(&sb);
    if (!s)
        return xstrdup("");
    /* spaces, no-break spaces and zero-width joiners at both ends */
    size_t n = strlen(s), a = 0;
    for (;;) {
        if (a < n && s[a] == ' ')
            a++;
        else if (a + 1 < n && (unsigned char)s[a] == 0xC2 && (unsigned char)s[a + 1] == 0xA0)
            a += 2;
        else
            break;
    }
    for (;;) {
        if (n > a && s[n - 1] == ' ')
            n--;
        else if (n >= a + 2 && (unsigned char)s[n - 2] == 0xC2 && (unsigned char)s[n - 1] == 0xA0)
            n -= 2;
        else
            break;
    }
    memmove(s, s + a, n - a);
    s[n - a] = '\0';
    return s;
}

/* The field of blank span k of t. label_spans > 0: the label is the
 * first label_spans spans (a <field> or <sign>); else the text printed
 * before the blank since the last value or blank (the running header's
 * "Patient:"; in a sentence, its part before the blank). */
static pd_field *S_blank_field(S_state *st, const pd_text *t, size_t k, size_t label_spans,
                               bool sign)
{
    const pd_span *sp = &t->spans[k];
    pd_field *f = S_new_field(st, sign ? PD_FIELD_SIGN : PD_FIELD_TEXT);
    f->blank = sp->blank_kind;
    f->var = sp->var ? xstrdup(sp->var) : NULL;
    /* a date written in parts: its first part, and which part this is */
    size_t first = k;
    if (sp->blank_kind == PD_BLANK_PART) {
        f->part = 1;
        for (size_t j = k; j-- > 0;) {
            const pd_span *q = &t->spans[j];
            if ((q->style & PD_SPAN_BLANK) && q->blank_kind == PD_BLANK_PART) {
                first = j;
                f->part++;
            } else if (S_is_blank_or_value(q)) {
                break;
            }
        }
    }
    if (label_spans) {
        f->label = S_spans_text(t, 0, label_spans);
    } else {
        size_t from = first;
        while (from > 0 && !S_is_blank_or_value(&t->spans[from - 1]))
            from--;
        char *text = S_spans_text(t, from, first);
        /* in a sentence: its last clause only */
        const char *cut = text;
        for (const char *p = text; *p; p++)
            if ((p[0] == '.' || p[0] == ';') && p[1] == ' ')
                cut = p + 2;
            else if (strncmp(p, "\xe3\x80\x82", 3) == 0 || strncmp(p, "\xef\xbc\x9b", 3) == 0)
                cut = p + 3; /* 。； */
        f->label = xstrdup(cut);
        free(text);
    }
    /* what follows: a date's form ("DD/MM/YYYY"), a part's unit ("年") */
    for (size_t j = k + 1; j < t->n_spans && !S_is_blank_or_value(&t->spans[j]); j++) {
        const pd_span *q = &t->spans[j];
        if (q->style & PD_SPAN_HINT) {
            f->hint = xstrdup(q->text);
            break;
        }
        if (sp->blank_kind == PD_BLANK_PART) {
            char *u = S_spans_text(t, j, j + 1);
            u[strcspn(u, " ")] = '\0'; /* the unit only: "日", not what follows it */
            if (*u) {
                f->hint = u;
                break;
            }
            free(u);
        }
    }
    return f;
}

/* Ties the unclaimed lines to write on among `items` to the blanks of
 * texts[0..n) in order; nothing when their numbers differ. */
static void S_tie_blanks(S_state *st, pd_item **items, size_t n_items, const pd_text *const *texts,
                         const size_t *label_spans, const bool *sign, size_t n)
{
    size_t n_blanks = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < texts[i]->n_spans; k++)
            n_blanks += (texts[i]->spans[k].style & PD_SPAN_BLANK) != 0;
    if (n_blanks != n_items)
        return;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < texts[i]->n_spans; k++)
            if (texts[i]->spans[k].style & PD_SPAN_BLANK)
                items[at++]->field = S_blank_field(st, texts[i], k, label_spans[i], sign[i]);
}

/* The unclaimed lines to write on (writeon) or boxes among slices
 * [from, st->n_slices), in the order they were laid out. */
static pd_item **S_unclaimed(S_state *st, size_t from, bool boxes, size_t *n)
{
    pd_item **out = NULL;
    *n = 0;
    for (size_t i = from; i < st->n_slices; i++)
        for (size_t k = 0; k < st->slices[i].n_items; k++) {
            pd_item *it = &st->slices[i].items[k];
            bool want = boxes ? it->kind == PD_ITEM_BOX : it->kind == PD_ITEM_RECT && it->writeon;
            if (!want || it->field)
                continue;
            out = xrealloc(out, (*n + 1) * sizeof(pd_item *));
            out[(*n)++] = it;
        }
    return out;
}

/* The fields of blocks[0..n), laid out from slice `from` on. */
static bool S_text_has_blank(const pd_text *t);

/* Whether blocks[0..n) hold a line to write on (in their own texts or
 * table cells) or a box: else S_tie_fields has nothing to tie. */
static bool S_any_field(const pd_block *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const pd_block *b = &blocks[i];
        if (b->kind == PD_BLOCK_CHECK || b->kind == PD_BLOCK_INITIALS)
            return true;
        if (b->kind == PD_BLOCK_TABLE) {
            for (size_t r = 0; r < b->n_rows; r++)
                for (size_t c = 0; c < b->rows[r].n_cells; c++)
                    if (S_text_has_blank(&b->rows[r].cells[c]))
                        return true;
        } else if (b->kind != PD_BLOCK_LIST && b->kind != PD_BLOCK_CALLOUT &&
                   b->kind != PD_BLOCK_KEEP && b->kind != PD_BLOCK_IMAGE &&
                   S_text_has_blank(&b->text)) {
            return true;
        }
    }
    return false;
}

static void S_tie_fields(S_state *st, const pd_block *blocks, size_t n, size_t from)
{
    if (!S_any_field(blocks, n))
        return;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += 1 + blocks[i].n_rows * (blocks[i].n_rows ? blocks[i].rows[0].n_cells : 0);
    const pd_text **texts = xcalloc(cap + 1, sizeof(const pd_text *));
    size_t *labels = xcalloc(cap + 1, sizeof *labels);
    bool *sign = xcalloc(cap + 1, sizeof *sign);
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        const pd_block *b = &blocks[i];
        if (b->kind == PD_BLOCK_TABLE) {
            for (size_t r = 0; r < b->n_rows; r++)
                for (size_t c = 0; c < b->rows[r].n_cells && nt < cap; c++)
                    texts[nt++] = &b->rows[r].cells[c];
        } else if (b->kind != PD_BLOCK_LIST && b->kind != PD_BLOCK_CALLOUT &&
                   b->kind != PD_BLOCK_KEEP && b->kind != PD_BLOCK_IMAGE) {
            labels[nt] = S_is_field(b) ? b->label_spans : 0;
            sign[nt] = b->kind == PD_BLOCK_SIGN;
            texts[nt++] = &b->text;
        }
    }
    size_t n_items;
    pd_item **items = S_unclaimed(st, from, false, &n_items);
    S_tie_blanks(st, items, n_items, texts, labels, sign, nt);
    free(items);
    free(texts);
    free(labels);
    free(sign);
    /* boxes: one per check or initials block, in order */
    size_t n_boxes = 0;
    for (size_t i = 0; i < n; i++)
        n_boxes += blocks[i].kind == PD_BLOCK_CHECK || blocks[i].kind == PD_BLOCK_INITIALS;
    if (!n_boxes)
        return;
    items = S_unclaimed(st, from, true, &n_items);
    for (size_t i = 0, at = 0; n_items == n_boxes && i < n; i++) {
        const pd_block *b = &blocks[i];
        if (b->kind != PD_BLOCK_CHECK && b->kind != PD_BLOCK_INITIALS)
            continue;
        pd_item *it = items[at++];
        if (b->kind == PD_BLOCK_CHECK && b->answered)
            continue; /* printed ticked or not: no field */
        pd_field *f = S_new_field(st, b->kind == PD_BLOCK_INITIALS
                                          ? (b->tick ? PD_FIELD_CHECK : PD_FIELD_INITIALS)
                                      : b->var ? PD_FIELD_CHOICE
                                               : PD_FIELD_CHECK);
        f->var = b->var ? xstrdup(b->var) : NULL;
        f->value = b->value ? xstrdup(b->value) : NULL;
        f->label = S_spans_text(&b->text, 0, b->text.n_spans);
        it->field = f;
    }
    free(items);
}

/* box kinds beside a text block */
enum { BOX_NONE, BOX_CHECK, BOX_TICKED, BOX_INITIALS };

/* A block of text as one slice per line, with widow/orphan and heading
 * glue. marker: a list marker drawn left of line one. */
static bool S_text_block_box(S_state *st, const pd_text *text, const S_style *style, double left,
                             double width, double space_before, int frame, int heading_level,
                             const char *marker, int box, int flags)
{
    PangoLayout *layout = S_make_layout(st, text, width, style, flags);
    if (!layout)
        return false;
    size_t n;
    const S_line *lines = S_lines(layout, &n);
    const S_line *mlines = NULL;
    if (marker) {
        pd_text mt = {0};
        pd_origin o = {NULL, 0, NULL};
        pd_text_add(&mt, marker, strlen(marker), 0, o);
        PangoLayout *ml = S_make_layout(st, &mt, -1, style, LF_LATIN);
        pd_text_clear(&mt);
        if (!ml) {
            return false;
        }
        size_t mn;
        mlines = S_lines(ml, &mn);
    }
    if (box == BOX_INITIALS) {
        /* an initialled statement is one unit, never split, its box beside
           its first lines and a clear gap to the next */
        double h = lines[n - 1].top + lines[n - 1].height;
        double boxh = K(INITIALS_H);
        S_slice *s = S_new_slice(st, h > boxh ? h : boxh, space_before);
        s->frame = frame;
        s->rigid = 1;
        for (size_t i = 0; i < n; i++)
            S_line_item(s, &lines[i], left, lines[i].top, style->rgb);
        S_add_box(s, left - K(INITIALS_W) - K(INITIALS_GAP), 0, K(INITIALS_W), boxh, 0, style->rgb);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        S_slice *s = S_new_slice(st, lines[i].height, i == 0 ? space_before : 0);
        s->frame = frame;
        /* a heading never ends a page; no orphan (a first line alone at
           the foot of a page); no widow (a last line alone at the top) */
        bool orphan = i == 0 && n >= 2, widow = n >= 2 && i == n - 2;
        if (heading_level || orphan || widow)
            s->glue = G_LINE;
        S_line_item(s, &lines[i], left, 0, style->rgb);
        if (i == 0 && heading_level) {
            s->items[s->n_items - 1].outline_level = heading_level;
            /* the outline reads as the page does (L4's apostrophes) */
            char *plain = pd_text_plain(text);
            if (!st->fr && !st->cjk) {
                strbuf typo = STRBUF_INIT;
                S_append_apostrophes(&typo, plain);
                free(plain);
                plain = strbuf_take(&typo);
            }
            s->items[s->n_items - 1].outline_text = plain;
        }
        if (i == 0 && (box == BOX_CHECK || box == BOX_TICKED)) {
            double b = K(CHECK_BOX);
            S_add_box(s, left - b - K(MM(3)), lines[0].baseline - b * 0.85, b, b, box == BOX_TICKED,
                      style->rgb);
            s->items[s->n_items - 1].tag = st->tag_label; /* the statement's, read with it */
        }
        if (i == 0 && mlines) {
            pd_item *it = S_add_item(s);
            it->kind = PD_ITEM_LINE;
            it->x = left - K(16.0) + K(2);
            it->y = lines[0].baseline;
            it->line = mlines[0].line;
            memcpy(it->rgb, style->rgb, sizeof it->rgb);
            it->tag = st->tag_label;
        }
    }
    return true;
}

static bool S_text_block(S_state *st, const pd_text *text, const S_style *style, double left,
                         double width, double space_before, int frame, int heading_level,
                         const char *marker, int flags)
{
    return S_text_block_box(st, text, style, left, width, space_before, frame, heading_level,
                            marker, BOX_NONE, flags);
}

/* Body text flags: Chinese is justified, with more leading. */
static int S_body_flags(const S_state *st)
{
    return st->cjk ? LF_JUSTIFY | LF_LEADING : 0;
}

/* The widest unbreakable piece of a cell's text (its longest word), in
 * points: the text laid out on one line, measured between the places
 * where a line may break. */
/* A line of a layout and its left edge (pango_layout_iter_get_line_extents). */
typedef struct S_line_x {
    PangoLayoutLine *line;
    int x;
} S_line_x;

/* pango_layout_index_to_pos(...).x from the layout's lines, measured once:
 * that function walks the whole layout again at every call (quadratic in
 * a long cell). Same clamping: an index between lines (paragraph
 * separator) or past the end is the end of the line before. */
static int S_index_x(const S_line_x *lines, size_t n, int index)
{
    if (n == 0)
        return 0;
    const S_line_x *at = &lines[0];
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && lines[i].line->start_index > index) {
            index = at->line->start_index + at->line->length;
            break;
        }
        at = &lines[i];
        if (at->line->start_index + at->line->length > index)
            break;
        if (i + 1 == n)
            index = at->line->start_index + at->line->length;
    }
    int x = 0;
    pango_layout_line_index_to_x(at->line, index, 0, &x);
    return at->x + x;
}

static double S_longest_word(S_state *st, const pd_text *cell, const S_style *style)
{
    PangoLayout *l = S_make_layout(st, cell, -1, style, 0);
    if (!l)
        return 0;
    /* kept on the layout, which the worker's cache shares between
       documents: measuring the pieces was 6 % of a batch */
    S_kept *kept = S_kept_of(l);
    if (kept->has_longest)
        return kept->longest_word;
    int n_attrs = 0;
    const PangoLogAttr *attrs = pango_layout_get_log_attrs_readonly(l, &n_attrs);
    const char *text = pango_layout_get_text(l);
    size_t n_lines = (size_t)pango_layout_get_line_count(l), k = 0;
    S_line_x *lines = xcalloc(n_lines, sizeof *lines);
    PangoLayoutIter *it = pango_layout_get_iter(l);
    do {
        PangoRectangle logical;
        pango_layout_iter_get_line_extents(it, NULL, &logical);
        if (k < n_lines)
            lines[k++] = (S_line_x){pango_layout_iter_get_line_readonly(it), logical.x};
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    double longest = 0, from = 0;
    const char *p = text;
    for (int i = 0; i < n_attrs; i++) {
        bool end = *p == '\0';
        if (end || (i > 0 && attrs[i].is_line_break)) {
            /* the piece ends before the white space at its end */
            const char *q = p;
            while (q > text && q[-1] == ' ')
                q--;
            double x = (double)S_index_x(lines, k, (int)(q - text)) / PANGO_SCALE;
            if (end && q == p)
                x = S_natural_width(l);
            if (x - from > longest)
                longest = x - from;
            from = (double)S_index_x(lines, k, (int)(p - text)) / PANGO_SCALE;
        }
        if (end)
            break;
        p = g_utf8_next_char(p);
    }
    free(lines);
    kept->longest_word = longest;
    kept->has_longest = true;
    return longest;
}

/* How a table's columns read at these widths: 1000 for each cell whose
 * last line holds one or two characters, plus the rows' height. */
static double S_table_cost(S_state *st, const pd_block *b, const double *colw, double pad)
{
    double cost = 0;
    for (size_t r = 0; r < b->n_rows; r++) {
        S_style style = st->sty.cell;
        style.bold = b->rows[r].header;
        double h = 0;
        for (size_t c = 0; c < b->rows[r].n_cells && c < b->n_cols; c++) {
            PangoLayout *l = S_make_layout(st, &b->rows[r].cells[c], colw[c] - 2 * pad, &style, 0);
            if (!l)
                continue;
            int n = pango_layout_get_line_count(l);
            PangoLayoutLine *last = pango_layout_get_line_readonly(l, n - 1);
            const char *text = pango_layout_get_text(l) + last->start_index;
            long chars = 0;
            for (const char *p = text; p < text + last->length;) {
                unsigned ch = S_utf8_next(&p);
                chars += ch != 0x2060 && ch != ' ' && ch != 0x2005;
            }
            if (n >= 2 && chars <= 2)
                cost += 1000;
            PangoRectangle logical;
            pango_layout_get_extents(l, NULL, &logical);
            h = fmax(h, (double)logical.height / PANGO_SCALE);
        }
        cost += h;
    }
    return cost;
}

/* Chinese tables: the template's relative widths suit English; Chinese
 * cells, which may break anywhere, then end with one or two characters
 * alone on a line (the review's L13). Moves each boundary between two
 * columns by up to four characters either way, keeping every column at
 * least its minimum, to the widths with the fewest such lines, then the
 * shortest table. */
static void S_fit_cjk_columns(S_state *st, const pd_block *b, double *colw, const double *mins,
                              double pad)
{
    double step = st->sty.cell.size, best = S_table_cost(st, b, colw, pad);
    for (int pass = 0; pass < 2; pass++)
        for (size_t c = 0; c + 1 < b->n_cols; c++) {
            double a = colw[c], z = colw[c + 1], best_d = 0;
            for (int d = -4; d <= 4; d++) {
                if (d == 0 || a + d * step < mins[c] || z - d * step < mins[c + 1])
                    continue;
                colw[c] = a + d * step;
                colw[c + 1] = z - d * step;
                double cost = S_table_cost(st, b, colw, pad);
                if (cost < best - 0.5) {
                    best = cost;
                    best_d = d * step;
                }
            }
            colw[c] = a + best_d;
            colw[c + 1] = z - best_d;
        }
}

/* Column widths of a table: relative widths, but never so narrow that a
 * cell holds less than about three characters (a table whose columns
 * cannot all have that is refused, issue 10, item 18), nor, when the
 * table's width allows it, narrower than the longest word of a column, so
 * that no word is broken (a table in a narrow column of a two-column
 * page; Chinese cells may break between any two characters). */
static double *S_column_widths(S_state *st, const pd_block *b, double width, double pad)
{
    double min = 3.0 * st->sty.cell.size + 2 * pad;
    if ((double)b->n_cols * min > width) {
        pd_origin o = S_block_origin(b);
        pd_error_set(st->err, o.file, o.line,
                     "a table of %zu columns does not fit the page (at most %d)", b->n_cols,
                     (int)(width / min));
        return NULL;
    }
    double *mins = xcalloc(b->n_cols, sizeof *mins), sum_mins = 0;
    for (size_t c = 0; c < b->n_cols; c++)
        mins[c] = min;
    for (size_t r = 0; r < b->n_rows; r++) {
        S_style style = st->sty.cell;
        style.bold = b->rows[r].header;
        for (size_t c = 0; c < b->rows[r].n_cells && c < b->n_cols; c++) {
            double w = S_longest_word(st, &b->rows[r].cells[c], &style) + 2 * pad + 1;
            if (w > mins[c])
                mins[c] = w;
        }
    }
    for (size_t c = 0; c < b->n_cols; c++)
        sum_mins += mins[c];
    if (sum_mins > width) /* words must break: only the three characters hold */
        for (size_t c = 0; c < b->n_cols; c++)
            mins[c] = min;
    double *weights = xcalloc(b->n_cols, sizeof *weights);
    for (size_t c = 0; c < b->n_cols; c++)
        weights[c] = b->widths[c] > 0 ? b->widths[c] : 1;
    double *colw = xcalloc(b->n_cols, sizeof *colw);
    bool *fixed = xcalloc(b->n_cols, sizeof *fixed);
    for (int round = 0; round < 64; round++) {
        double total = 0, room = width;
        for (size_t c = 0; c < b->n_cols; c++) {
            if (fixed[c])
                room -= mins[c];
            else
                total += weights[c];
        }
        bool changed = false;
        for (size_t c = 0; c < b->n_cols; c++) {
            colw[c] = fixed[c] ? mins[c] : room * weights[c] / total;
            if (!fixed[c] && colw[c] < mins[c]) {
                fixed[c] = true;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
    free(fixed);
    free(weights);
    if (st->cjk)
        S_fit_cjk_columns(st, b, colw, mins, pad);
    free(mins);
    return colw;
}

/* One table row as a slice (not yet in the document's list): its height
 * and items. first_extra: text added to the first cell ("(continued)" on a
 * repeated header), or NULL. */
static bool S_row(S_state *st, const pd_block *b, size_t r, const double *colw, double pad,
                  double left, double width, const char *first_extra, S_slice *s)
{
    const pd_row *row = &b->rows[r];
    S_style style = st->sty.cell;
    style.bold = row->header;
    PangoLayout **cells = xcalloc(row->n_cells, sizeof(PangoLayout *));
    double h = 0;
    bool ok = true;
    for (size_t c = 0; c < row->n_cells && ok; c++) {
        pd_text t = row->cells[c];
        pd_text more = {0};
        if (c == 0 && first_extra) {
            for (size_t k = 0; k < t.n_spans; k++) {
                const pd_span *sp = &t.spans[k];
                pd_text_add(&more, sp->text, strlen(sp->text), sp->style, sp->origin);
                more.spans[more.n_spans - 1].blank_em = sp->blank_em;
                more.spans[more.n_spans - 1].blank_kind = sp->blank_kind;
            }
            pd_origin o = {NULL, 0, NULL};
            pd_text_add(&more, " ", 1, 0, o);
            pd_text_add(&more, first_extra, strlen(first_extra), PD_SPAN_ITALIC, o);
            t = more;
        }
        cells[c] = S_make_layout(st, &t, colw[c] - 2 * pad, &style, 0);
        pd_text_clear(&more);
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
    double rowh = h + 2 * pad;
    if (ok && rowh > S_max_body_h(st)) {
        pd_origin o = S_text_origin(&row->cells[0]);
        ok = pd_error_set(st->err, o.file, o.line, "a table row is taller than a page");
    }
    if (ok) {
        s->height = rowh;
        if (row->header)
            S_add_rect(s, left, 0, width, rowh, S_header_rgb);
        if (r == 0)
            S_add_rect(s, left, 0, width, 0.8, S_rule_rgb);
        double x = left;
        for (size_t c = 0; c < row->n_cells; c++) {
            size_t n;
            const S_line *lines = S_lines(cells[c], &n);
            for (size_t i = 0; i < n; i++) {
                size_t at = s->n_items;
                S_line_item(s, &lines[i], x + pad, pad + lines[i].top, style.rgb);
                if (st->cell_tag && !S_blank_line(&s->items[at])) {
                    s->items[at].tag = st->cell_tag + (int)c;
                    s->items[at].other_script = S_other_script(st, &row->cells[c]);
                }
            }
            x += colw[c];
        }
        double rule = r + 1 == b->n_rows ? 0.8 : 0.4;
        S_add_rect(s, left, rowh - rule, width, rule, S_rule_rgb);
    }
    free(cells);
    return ok;
}

static bool S_table(S_state *st, const pd_block *b, double left, double width, int frame)
{
    int table = ++st->n_tables;
    st->repeats = xrealloc(st->repeats, (size_t)table * sizeof *st->repeats);
    memset(&st->repeats[table - 1], 0, sizeof *st->repeats);
    double pad = K(4.0);
    double *colw = S_column_widths(st, b, width, pad);
    if (!colw)
        return false;
    bool ok = true;
    size_t first = st->n_slices;
    int table_tag = st->tag_parent;
    for (size_t r = 0; r < b->n_rows && ok; r++) {
        S_slice tmp = {0};
        st->tag_parent = table_tag;
        st->tag_parent = S_tag_new(st, PD_TAG_TR);
        st->cell_tag = 0;
        for (size_t c = 0; c < b->rows[r].n_cells; c++) {
            int cell = S_tag_new(st, b->rows[r].header ? PD_TAG_TH : PD_TAG_TD);
            if (!st->cell_tag)
                st->cell_tag = cell;
        }
        ok = S_row(st, b, r, colw, pad, left, width, NULL, &tmp);
        st->cell_tag = 0;
        if (!ok) {
            free(tmp.items);
            break;
        }
        S_slice *s = S_new_slice(st, tmp.height, r == 0 ? K(7.0) : 0);
        s->items = tmp.items;
        s->n_items = tmp.n_items;
        s->cap_items = tmp.cap_items;
        s->frame = frame;
        s->table = table;
        s->table_header = b->rows[r].header;
        if (b->rows[r].header) {
            s->glue = G_LINE;
            /* the header as repeated on the next page, marked "(continued)" */
            S_slice *rep = &st->repeats[table - 1];
            free(rep->items);
            memset(rep, 0, sizeof *rep);
            ok = S_row(st, b, r, colw, pad, left, width, st->continued, rep);
            for (size_t k = 0; k < rep->n_items; k++) /* read once, where it belongs */
                rep->items[k].artifact = PD_ARTIFACT_PAGINATION;
            rep->table = table;
            rep->table_header = 1;
            rep->frame = frame;
        }
    }
    free(colw);
    st->tag_parent = table_tag;
    if (!ok)
        return false;
    /* never a single row on either side of a break (the review's M5):
       the first two body rows together, the last two together */
    size_t body = first;
    while (body < st->n_slices && st->slices[body].table_header)
        body++;
    /* (a row taller than TALL_ROW is a table's worth on its own: it may
       stand alone rather than leave the column above it half empty) */
    if (st->n_slices - body >= 2) {
        if (st->slices[body].height < K(TALL_ROW))
            S_glue(st, body, G_PAIR);
        if (st->slices[st->n_slices - 1].height < K(TALL_ROW))
            S_glue(st, st->n_slices - 2, G_PAIR);
    }
    return true;
}

static bool S_blocks(S_state *st, const pd_block *blocks, size_t n, double left, double width,
                     int frame, bool first_in_frame, size_t *ends);

/* The height of slices from..to-1 on one page. */
static double S_run_h(const S_state *st, size_t from, size_t to)
{
    double h = 0;
    for (size_t i = from; i < to && i < st->n_slices; i++)
        h += st->slices[i].height + (i == from ? 0 : st->slices[i].space_before);
    return h;
}

/* Glues slices first..last-1 when the group fits on one page, so that
 * pagination moves it whole; the strength says how deep the group is.
 * A group too tall for a page still never leaves its first or last part
 * alone on a page (a lone witness block, a lone initialled statement):
 * given its parts and where each ends (parts may be NULL), its leading
 * headings and paragraphs stay with the first part, the first two parts
 * stay together, and so do the last two. */
static void S_keep_together(S_state *st, size_t first, int depth, const pd_block *parts,
                            const size_t *ends, size_t n_parts)
{
    double total = 0;
    for (size_t i = first; i < st->n_slices; i++)
        total += st->slices[i].height + (i == first ? 0 : st->slices[i].space_before);
    int g = 1 + depth < G_GROUP_MAX ? 1 + depth : G_GROUP_MAX;
    if (total <= S_max_body_h(st)) {
        for (size_t i = first; i + 1 < st->n_slices; i++)
            S_glue(st, i, g);
        return;
    }
    if (!parts || n_parts < 3)
        return;
    size_t lead = 0;
    while (lead + 1 < n_parts &&
           (parts[lead].kind == PD_BLOCK_H1 || parts[lead].kind == PD_BLOCK_H2 ||
            parts[lead].kind == PD_BLOCK_PARA)) {
        if (ends[lead] > first)
            S_glue(st, ends[lead] - 1, g);
        lead++;
    }
    /* (only when the two fit on a page together: else the glue would
       leave the first of them alone on a page) */
    if (lead + 2 < n_parts && ends[lead] > first &&
        S_run_h(st, first, ends[lead + 1]) <= S_max_body_h(st))
        S_glue(st, ends[lead] - 1, g);
    if (n_parts - 2 > lead && ends[n_parts - 2] > first &&
        S_run_h(st, ends[n_parts - 3], ends[n_parts - 1]) <= S_max_body_h(st))
        S_glue(st, ends[n_parts - 2] - 1, g);
    else if (n_parts - 3 > lead && ends[n_parts - 3] > first &&
             S_run_h(st, ends[n_parts - 4], ends[n_parts - 2]) <= S_max_body_h(st))
        S_glue(st, ends[n_parts - 3] - 1, g); /* the last part has a page of its own: the
                                                  two before it go together */
}

/* A block holds a box (callout) somewhere inside: its background is
 * drawn per slice, so it cannot go into a side-by-side cell. */
static bool S_has_callout(const pd_block *b)
{
    if (b->kind == PD_BLOCK_CALLOUT)
        return true;
    for (size_t i = 0; i < b->n_children; i++)
        if (S_has_callout(&b->children[i]))
            return true;
    return false;
}

/* Slices from `from` on, made into one cell: their items, y from the
 * cell's top; the slices are removed. */
typedef struct S_cell {
    pd_item *items;
    size_t n_items;
    double height;
} S_cell;

static S_cell S_collapse(S_state *st, size_t from)
{
    S_cell c = {0};
    for (size_t i = from; i < st->n_slices; i++) {
        S_slice *s = &st->slices[i];
        if (i > from)
            c.height += s->space_before;
        c.items = xrealloc(c.items, (c.n_items + s->n_items + 1) * sizeof *c.items);
        for (size_t k = 0; k < s->n_items; k++) {
            c.items[c.n_items] = s->items[k];
            c.items[c.n_items++].y += c.height;
        }
        c.height += s->height;
        free(s->items);
    }
    st->n_slices = from;
    return c;
}

static void S_items_free(pd_item *items, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(items[k].outline_text);
    free(items);
}

/* The least height of columns that hold the cells, in order, at most
 * `cols` of them, `gap` apart; *splits gets the first cell of each column
 * after the first. */
static double S_flow(const S_cell *cells, size_t n, size_t cols, double gap, size_t *splits)
{
    double lo = 0, hi = 0;
    for (size_t c = 0; c < n; c++) {
        hi += cells[c].height + gap;
        if (cells[c].height > lo)
            lo = cells[c].height;
    }
    for (int step = 0; step < 40 && hi - lo > 0.5; step++) {
        double cap = (lo + hi) / 2, h = 0;
        size_t col = 0;
        for (size_t c = 0; c < n; c++) {
            if (h > 0 && h + gap + cells[c].height > cap) {
                col++;
                h = 0;
            }
            h += (h > 0 ? gap : 0) + cells[c].height;
        }
        if (col < cols)
            hi = cap;
        else
            lo = cap;
    }
    double h = 0, tallest = 0;
    size_t col = 0;
    for (size_t c = 0; c < n; c++) {
        if (h > 0 && h + gap + cells[c].height > hi) {
            splits[col++] = c;
            h = 0;
        }
        h += (h > 0 ? gap : 0) + cells[c].height;
        tallest = h > tallest ? h : tallest;
    }
    for (; col + 1 < cols; col++)
        splits[col] = n;
    return tallest;
}

/* Moves a cell's items into a slice, dx to the right and dy down. */
static void S_cell_into(S_slice *s, S_cell *cell, double dx, double dy)
{
    S_items_reserve(s, cell->n_items + 1);
    for (size_t k = 0; k < cell->n_items; k++) {
        pd_item it = cell->items[k];
        it.x += dx;
        it.y += dy;
        s->items[s->n_items++] = it;
    }
    free(cell->items);
    *cell = (S_cell){0};
}

/* A <keep columns="N">: its leading headings and paragraphs across the
 * page's full width (the running header's), then its other blocks
 * (cells) side by side, then its trailing paragraphs across the page, each block's labels above
 * lines as long as its column: the four signers' blocks of the consent on one page (the review's
 * H1). The cells flow down N balanced columns, in order, as one slice when that fits on a page;
 * else in rows of N, a slice each, that pagination may part. Returns 1 when laid out so, 0 when the
 * page cannot have it (large print, columns of text, a box inside, a block taller than a page: the
 * caller lays the blocks one after another), -1 on an error. */
static int S_grid(S_state *st, const pd_block *b, bool first)
{
    size_t cols = (size_t)b->columns, start = st->n_slices, lead = 0;
    double gutter = K(GRID_GUTTER), gap = K(14);
    double cw = (st->wide_width - (double)(cols - 1) * gutter) / (double)cols;
    if (st->large || st->ncols > 1 || cw < MIN_NAME + K(MM(4)) || S_has_callout(b))
        return 0;
    while (lead < b->n_children &&
           (b->children[lead].kind == PD_BLOCK_H1 || b->children[lead].kind == PD_BLOCK_H2 ||
            b->children[lead].kind == PD_BLOCK_PARA))
        lead++;
    if (lead && !S_blocks(st, b->children, lead, st->wide_left, st->wide_width, 0, first, NULL))
        return -1;
    double lead_h = S_run_h(st, start, st->n_slices);
    size_t tail = b->n_children; /* trailing paragraphs: across the page, after the cells */
    while (tail > lead && b->children[tail - 1].kind == PD_BLOCK_PARA)
        tail--;
    size_t n = tail - lead;
    S_cell *cells = xcalloc(n + 1, sizeof *cells);
    size_t *splits = xcalloc(cols, sizeof *splits);
    int done = 1;
    for (size_t c = 0; c < n && done == 1; c++) {
        size_t from = st->n_slices;
        if (S_blocks(st, &b->children[lead + c], 1, st->wide_left, cw, 0, true, NULL))
            cells[c] = S_collapse(st, from);
        else
            done = -1;
    }
    double sb0 = lead ? K(6) : first ? 0 : gap;
    double flow = done == 1 && n ? S_flow(cells, n, cols, gap, splits) : 0;
    bool flowed = done == 1 && n && lead_h + sb0 + flow <= S_max_body_h(st);
    if (flowed) {
        S_slice *s = S_new_slice(st, flow, sb0);
        size_t col = 0;
        double y = 0;
        for (size_t c = 0; c < n; c++) {
            while (col + 1 < cols && c == splits[col]) {
                col++;
                y = 0;
            }
            double h = cells[c].height;
            S_cell_into(s, &cells[c], (double)col * (cw + gutter), y);
            y += h + gap;
        }
    }
    for (size_t r = 0; done == 1 && !flowed && r < n; r += cols) {
        double h = 0;
        for (size_t c = r; c < r + cols && c < n; c++)
            h = cells[c].height > h ? cells[c].height : h;
        if (h > S_max_body_h(st)) {
            done = 0;
            break;
        }
        S_slice *s = S_new_slice(st, h, r ? gap : sb0);
        for (size_t c = r; c < r + cols && c < n; c++)
            S_cell_into(s, &cells[c], (double)(c - r) * (cw + gutter), 0);
    }
    for (size_t c = 0; c < n; c++)
        S_items_free(cells[c].items, cells[c].n_items);
    free(cells);
    free(splits);
    if (done == 1 && tail < b->n_children) {
        size_t from = st->n_slices;
        if (!S_blocks(st, b->children + tail, b->n_children - tail, st->wide_left, st->wide_width,
                      0, false, NULL))
            done = -1;
        else if (st->n_slices > from)
            st->slices[from].space_before = gap;
    }
    if (done == 0) { /* undone: the caller lays the blocks out one after another */
        for (size_t i = start; i < st->n_slices; i++)
            S_items_free(st->slices[i].items, st->slices[i].n_items);
        st->n_slices = start;
    }
    return done;
}

/* Items of slices [from, to) into one slice, from y on; returns the y
 * after them. Read once, where they belong: the copies are artifacts. */
static double S_copy_slices(const S_state *st, size_t from, size_t to, S_slice *into, double y)
{
    for (size_t i = from; i < to; i++) {
        const S_slice *s = &st->slices[i];
        y += i > from ? s->space_before : 0;
        S_items_reserve(into, s->n_items);
        for (size_t k = 0; k < s->n_items; k++) {
            pd_item it = s->items[k];
            it.y += y;
            it.outline_text = NULL;
            it.outline_level = 0;
            it.field = NULL;
            it.tag = 0;
            it.artifact = PD_ARTIFACT_PAGINATION;
            into->items[into->n_items++] = it;
        }
        y += s->height;
    }
    return y;
}

/* A box that breaks across pages (a large-print urgent box, or one in a
 * group taller than a page) opens its part on the next page with
 * "(continued)"; when that part starts in the list that the box's lead
 * paragraph introduces ("Contact the clinic at once if you have any of
 * these:", with its translation), with the lead again, so that the
 * warning signs on that page are never read without it. `first`: the box's top
 * padding slice; `lead_end`, `next_end`: where the lead (first + 1: none)
 * and the block after it end. */
static bool S_callout_repeat(S_state *st, int frame, size_t first, size_t lead_end, size_t next_end,
                             double x, double width, double pad)
{
    S_frame *fr = &st->frames[frame - 1];
    if (!st->continued)
        return true;
    pd_text t = {0};
    pd_origin o = {NULL, 0, NULL};
    pd_text_add(&t, st->continued, strlen(st->continued), PD_SPAN_ITALIC, o);
    PangoLayout *l = S_make_layout(st, &t, width, &st->sty.body, 0);
    pd_text_clear(&t);
    if (!l)
        return false;
    S_slice *mark = &fr->repeat;
    size_t n;
    const S_line *lines = S_lines(l, &n);
    for (size_t i = 0; i < n; i++)
        S_line_item(mark, &lines[i], x, pad + lines[i].top, st->sty.body.rgb);
    for (size_t k = 0; k < mark->n_items; k++)
        mark->items[k].artifact = PD_ARTIFACT_PAGINATION;
    PangoRectangle logical;
    pango_layout_get_extents(l, NULL, &logical);
    double y = pad + (double)logical.height / PANGO_SCALE;
    mark->height = y + st->sty.item.space_before;
    mark->frame = frame;
    if (lead_end > first + 1 && next_end > lead_end && next_end < st->n_slices) {
        S_slice *open = &fr->repeat_lead;
        S_items_reserve(open, mark->n_items);
        memcpy(open->items, mark->items, mark->n_items * sizeof *mark->items);
        open->n_items = mark->n_items;
        y = S_copy_slices(st, first + 1, lead_end, open, y + st->slices[first + 1].space_before);
        open->height = y + st->slices[lead_end].space_before;
        open->frame = frame;
        fr->lead_end = lead_end;
        fr->next_end = next_end;
    }
    return true;
}

static bool S_callout(S_state *st, const pd_block *b, double left, double width)
{
    double pad = K(9.0), bar = K(3.0);
    double inner_w = width - bar - 2 * pad;
    if (inner_w < 8 * st->sty.body.size) {
        pd_origin o = S_block_origin(b);
        return pd_error_set(st->err, o.file, o.line,
                            "boxes nested too deeply: no room left for text");
    }
    st->frames = xrealloc(st->frames, (st->n_frames + 1) * sizeof *st->frames);
    st->frames[st->n_frames] = (S_frame){.urgent = b->urgent, .left = left, .width = width};
    int frame = (int)++st->n_frames;
    size_t first = st->n_slices;
    S_slice *top = S_new_slice(st, pad, K(12));
    top->frame = frame;
    top->glue = G_LINE;
    st->depth++;
    size_t *ends = xcalloc(b->n_children + 1, sizeof *ends);
    bool ok =
        S_blocks(st, b->children, b->n_children, left + bar + pad, inner_w, frame, true, ends);
    st->depth--;
    /* its lead: a paragraph before other blocks, with its translation
       (in a bilingual box, the next block: bilingual.c) */
    size_t n_lead = 0;
    if (b->n_children > 1 && b->children[0].kind == PD_BLOCK_PARA)
        n_lead = b->children[1].kind == PD_BLOCK_PARA && !b->children[0].lang_tag &&
                         b->children[1].lang_tag && b->n_children > 2
                     ? 2
                     : 1;
    /* a lead introduces a list (the warning signs): another first
       paragraph is only the box's first, not repeated */
    if (n_lead && b->children[n_lead].kind != PD_BLOCK_LIST)
        n_lead = 0;
    size_t lead_end = n_lead ? ends[n_lead - 1] : first + 1; /* first + 1: no lead */
    size_t next_end = n_lead ? ends[n_lead] : lead_end;
    free(ends);
    if (!ok)
        return false;
    S_glue(st, st->n_slices - 1, G_LINE);
    S_slice *bottom = S_new_slice(st, pad, 0);
    bottom->frame = frame;
    S_keep_together(st, first, st->depth, NULL, NULL, 0); /* whole on one page when it fits */
    /* a box outside any <keep> may still break, where only its own keep
       holds it, when moving it whole would leave a large gap (not on a
       form, whose gaps are ruled off instead; never an urgent box: its
       warning signs and the number to call are read as one) */
    for (size_t i = first; !st->form && !b->urgent && st->depth == 0 && i + 1 < st->n_slices; i++)
        st->slices[i].soft = st->slices[i].glue <= G_GROUP_MAX;
    /* but in large print a bilingual urgent box fills most of a page:
       moved whole it would leave a near-empty page (the title page) before
       it, which is worse; it may then break between its blocks (never
       inside one: a text and its translation stay together) */
    for (size_t i = first;
         st->large && !st->form && b->urgent && st->depth == 0 && i + 1 < st->n_slices; i++)
        st->slices[i].soft = st->slices[i].block_end && st->slices[i].glue <= G_GROUP_MAX ? 2 : 0;
    /* any box may still break: one taller than the page, or in a group
       that is */
    return S_callout_repeat(st, frame, first, lead_end, next_end, left + bar + pad, inner_w, pad);
}

static bool S_is_field(const pd_block *b)
{
    return b->kind == PD_BLOCK_FIELD || b->kind == PD_BLOCK_SIGN;
}

static pd_text S_label_of(const pd_block *b)
{
    return (pd_text){b->text.spans, b->label_spans};
}

static pd_text S_value_of(const pd_block *b)
{
    return (pd_text){b->text.spans + b->label_spans, b->text.n_spans - b->label_spans};
}

/* A bilingual label that does not fit on one line ("Patient's name: / 患者
 * 姓名：" in a narrow label column): each language on a line of its own
 * rather than a line broken inside one of them. The spans to lay out
 * instead (a shallow copy, the caller frees it), or NULL. */
static pd_span *S_label_per_line(const pd_text *label)
{
    for (size_t i = 1; i + 1 < label->n_spans; i++) {
        const pd_span *sp = &label->spans[i];
        if (!(sp->style & PD_SPAN_SECOND) && strcmp(sp->text, "/ ") == 0 &&
            (label->spans[i + 1].style & PD_SPAN_SECOND)) {
            pd_span *copy = xmalloc(label->n_spans * sizeof *copy);
            memcpy(copy, label->spans, label->n_spans * sizeof *copy);
            copy[i].style = PD_SPAN_BREAK; /* its text is not printed */
            return copy;
        }
    }
    return NULL;
}

static bool S_has_value(const pd_text *t)
{
    for (size_t i = 0; i < t->n_spans; i++)
        if (t->spans[i].style & PD_SPAN_VALUE)
            return true;
    return false;
}

/* A field whose label goes above its line: how to fill it in ("Date:
 * DD/MM/YYYY") goes with the label, so that the line takes no more room
 * than the writing. Returns the spans (borrowed texts; the caller frees
 * the array) of *label then *value. */
static pd_span *S_stack_hint(const pd_block *b, pd_text *label, pd_text *value)
{
    pd_span *own = xcalloc(b->text.n_spans + 1, sizeof *own);
    size_t n = 0;
    for (size_t i = 0; i < b->text.n_spans; i++)
        if (i < b->label_spans || (b->text.spans[i].style & PD_SPAN_HINT))
            own[n++] = b->text.spans[i];
    *label = (pd_text){own, n};
    for (size_t i = b->label_spans; i < b->text.n_spans; i++) {
        const pd_span *sp = &b->text.spans[i];
        bool space = !(sp->style & (PD_SPAN_BLANK | PD_SPAN_VALUE)) &&
                     strspn(sp->text, " ") == strlen(sp->text);
        if (!(sp->style & PD_SPAN_HINT) && !space)
            own[n++] = *sp;
    }
    *value = (pd_text){own + label->n_spans, n - label->n_spans};
    return own;
}

/* How wide a field's value is on one line, its label above it. */
static double S_value_width(S_state *st, const pd_block *b)
{
    pd_text label, value;
    pd_span *own = S_stack_hint(b, &label, &value);
    PangoLayout *l =
        S_make_layout(st, &value, -1, S_has_value(&value) ? &st->sty.value : &st->sty.body, 0);
    free(own);
    return l ? S_natural_width(l) + 2 : 0;
}

/* Where the values of a run of form fields start: after the widest
 * label, so that the block's lines align in one column, but leaving at
 * least a name's line for them. */
static double S_field_column(S_state *st, const pd_block *blocks, size_t n, double width)
{
    double col = 0, blank = MIN_NAME; /* the widest line to write on, with its hint */
    for (size_t i = 0; i < n && S_is_field(&blocks[i]); i++) {
        pd_text label = S_label_of(&blocks[i]), value = S_value_of(&blocks[i]);
        PangoLayout *l = S_make_layout(st, &label, -1, &st->sty.body, 0);
        if (l) {
            double w = S_natural_width(l) + K(MM(3));
            if (w > col)
                col = w;
        }
        /* (large print: a date's line and its "DD/MM/YYYY" must not wrap) */
        bool hint = false;
        for (size_t k = 0; k < value.n_spans; k++)
            hint = hint || (value.spans[k].style & PD_SPAN_HINT);
        l = hint ? S_make_layout(st, &value, -1, &st->sty.body, 0) : NULL;
        if (l && S_natural_width(l) + 2 > blank)
            blank = S_natural_width(l) + 2;
    }
    /* a narrow column (a box in one of two columns) cannot have the labels
       beside lines long enough to write on: each label goes above its line
       (-1) */
    if (width * 0.65 < MIN_NAME + K(MM(2)) && width - col < MIN_NAME + K(MM(2)))
        return -1;
    double max = width - blank - K(MM(2));
    if (max < width * 0.35)
        max = width * 0.35;
    return col > max ? max : col;
}

/* A form field: its label in the label column, then its value (bold,
 * blue-black, on a line that stays visible) or a line to write on, on a
 * row tall enough for handwriting. col < 0: the label above its value,
 * which takes the whole width (a narrow column). */
static bool S_field(S_state *st, const pd_block *b, double left, double width, double col,
                    double space_before, int frame)
{
    const S_style *style = &st->sty.body;
    pd_text label = S_label_of(b), value = S_value_of(b);
    double pitch = b->kind == PD_BLOCK_SIGN ? K(SIGN_PITCH) : K(WRITE_PITCH);
    double lh0 = style->size * 1.4;
    if (pitch < lh0 * 1.5)
        pitch = lh0 * 1.5;
    bool stacked = col < 0;
    pd_span *own = NULL;
    if (stacked) {
        col = 0;
        own = S_stack_hint(b, &label, &value);
    }
    bool filled = S_has_value(&value);
    double label_w = stacked ? width : col - K(MM(3));
    PangoLayout *ll = S_make_layout(st, &label, label_w, style, 0);
    pd_span *per_line = ll && pango_layout_get_line_count(ll) > 1 ? S_label_per_line(&label) : NULL;
    if (per_line) {
        pd_text two = {per_line, label.n_spans};
        ll = S_make_layout(st, &two, label_w, style, 0);
        free(per_line);
    }
    if (!ll) {
        free(own);
        return false;
    }
    double vw = width - col;
    /* in an urgent box a filled value (the number to call) stands out */
    S_style vstyle = st->sty.value;
    if (frame > 0 && st->frames[frame - 1].urgent)
        vstyle.size *= 1.25;
    PangoLayout *vl = S_make_layout(st, &value, vw, filled ? &vstyle : style, LF_FILL_BLANK);
    free(own);
    if (!vl)
        return false;
    size_t nl, nv;
    const S_line *lines = S_lines(ll, &nl), *vlines = S_lines(vl, &nv);
    double first_base = stacked ? lines[0].baseline : pitch - K(MM(2.5));
    double lab_last = first_base + lines[nl - 1].top + lines[nl - 1].baseline - lines[0].baseline;
    if (stacked) /* the value's line a handwriting row below the label */
        lab_last += st->pair_pitch > 0         ? st->pair_pitch
                    : b->kind == PD_BLOCK_SIGN ? K(STACK_SIGN)
                                               : K(STACK_PITCH);
    double h = lab_last + K(MM(stacked ? 1.5 : 2.5));
    /* the label and the value's first line; a long value's further lines
       follow as lines of text, so that it may run onto the next page */
    S_slice *s = S_new_slice(st, h, space_before);
    s->frame = frame;
    for (size_t i = 0; i < nl; i++)
        S_line_at(s, &lines[i], left + lines[i].x,
                  first_base + lines[i].top + lines[i].baseline - lines[0].baseline, style->rgb);
    bool other = S_other_script(st, &b->text);
    for (size_t i = 0; i < s->n_items; i++)
        if (s->items[i].kind == PD_ITEM_LINE && !S_blank_line(&s->items[i])) {
            s->items[i].tag = st->tag_label;
            s->items[i].other_script = other;
        }
    for (size_t i = 0; i < nv; i++) {
        double base = i == 0 ? lab_last : vlines[i].baseline;
        if (i > 0) {
            s = S_new_slice(st, vlines[i].height + (filled ? 3.0 : 0), 0);
            s->frame = frame;
            S_glue(st, st->n_slices - 2, nv >= 2 && (i == 1 || i == nv - 1) ? G_LINE : G_FREE);
        }
        S_line_at(s, &vlines[i], left + col + vlines[i].x, base, filled ? S_value_rgb : style->rgb);
        if (filled) /* the line stays, under the value */
            S_add_rect(s, left + col, base + 3.0, vw, 0.5, S_rule_rgb);
    }
    return true;
}

/* A box for the hospital's patient label (sticker), with its caption. */
static bool S_label_box(S_state *st, const pd_block *b, double left, double width,
                        double space_before, int frame)
{
    double w = LABEL_W, h = LABEL_H;
    if (w > width)
        w = width;
    S_style cap = st->sty.header;
    memcpy(cap.rgb, S_grey, sizeof S_grey);
    PangoLayout *l = S_make_layout(st, &b->text, w - K(8), &cap, 0);
    if (!l)
        return false;
    S_slice *s = S_new_slice(st, h, space_before);
    s->frame = frame;
    double x = left + width - w;
    S_add_box(s, x, 0, w, h, 0, S_grey);
    size_t n;
    const S_line *lines = S_lines(l, &n);
    for (size_t i = 0; i < n; i++)
        S_line_item(s, &lines[i], x + K(4), K(4) + lines[i].top, cap.rgb);
    return true;
}

/* A run of short choices (check boxes) on one line when they all fit on
 * one: "[ ] in person   [ ] by telephone   [ ] by video". *used: how many
 * blocks went in the row, 0 when they do not fit (laid out one a line). */
static bool S_check_row(S_state *st, const pd_block *blocks, size_t n, double left, double width,
                        double space_before, int frame, size_t *used)
{
    *used = 0;
    size_t count = 0;
    while (count < n && blocks[count].kind == PD_BLOCK_CHECK)
        count++;
    if (count < 2)
        return true;
    double box = K(CHECK_BOX), gap = K(MM(3)), sep = K(MM(8)), total = 0;
    PangoLayout **ls = xcalloc(count, sizeof(PangoLayout *));
    for (size_t c = 0; c < count; c++) {
        ls[c] = S_make_layout(st, &blocks[c].text, -1, &st->sty.body, 0);
        if (!ls[c]) {
            free(ls);
            return false;
        }
        total += (c ? sep : 0) + box + gap + S_natural_width(ls[c]);
    }
    /* else, in a narrow column, short choices two to a row, on two tabs */
    size_t per_row = total <= width ? count : 2;
    double tab = (width + sep) / 2;
    for (size_t c = 0; per_row == 2 && c < count; c++)
        if (box + gap + S_natural_width(ls[c]) > tab - sep)
            per_row = 0;
    S_slice *s = NULL;
    double x = left, base = 0;
    for (size_t c = 0; per_row && c < count; c++) {
        size_t nl;
        const S_line *line = S_lines(ls[c], &nl);
        if (c % per_row == 0) {
            s = S_new_slice(st, line[0].height, c ? K(5) : space_before);
            s->frame = frame;
            x = left;
            base = line[0].baseline;
        } else if (per_row == 2) {
            x = left + tab;
        }
        int tag = S_tag_new(st, PD_TAG_P);
        S_add_box(s, x, base - box * 0.85, box, box, blocks[c].checked, st->sty.body.rgb);
        s->items[s->n_items - 1].tag = tag;
        x += box + gap;
        S_line_at(s, &line[0], x + line[0].x, base, st->sty.body.rgb);
        for (size_t k = s->n_items - 1; s->items[k].kind != PD_ITEM_BOX; k--)
            if (s->items[k].kind == PD_ITEM_LINE) {
                s->items[k].tag = tag;
                s->items[k].other_script = S_other_script(st, &blocks[c].text);
            }
        x += S_natural_width(ls[c]) + sep;
        *used = count;
    }
    free(ls);
    return true;
}

static bool S_ends_with_colon(const pd_text *t)
{
    char *plain = pd_text_plain(t);
    size_t n = strlen(plain);
    while (n && (plain[n - 1] == ' ' || plain[n - 1] == '\n'))
        n--;
    bool colon = (n >= 1 && plain[n - 1] == ':') ||
                 (n >= 3 && memcmp(plain + n - 3, "\xef\xbc\x9a", 3) == 0); /* ： */
    free(plain);
    return colon;
}

/* A block in another language than the document's (a bilingual document's
 * second one, pd_block.lang_tag) is shaped as that language: its fonts
 * first, its line breaking and justification. */
typedef struct S_lang_state {
    PangoContext *ctx;
    const char *families, *lang_tag;
    bool cjk, fr;
} S_lang_state;

static S_lang_state S_lang_enter(S_state *st, const char *tag)
{
    S_lang_state saved = {st->ctx, st->families, st->lang_tag, st->cjk, st->fr};
    if (tag) {
        st->lang_tag = tag;
        st->cjk = strncmp(tag, "zh", 2) == 0;
        st->fr = strncmp(tag, "fr", 2) == 0;
        st->ctx = pd_fonts_context(st->fonts, tag);
        st->families = pd_fonts_families(tag);
    }
    return saved;
}

static void S_lang_leave(S_state *st, const S_lang_state *saved)
{
    st->ctx = saved->ctx;
    st->families = saved->families;
    st->lang_tag = saved->lang_tag;
    st->cjk = saved->cjk;
    st->fr = saved->fr;
}

/* ends: NULL, or where each block's slices end (n entries) */
static bool S_blocks(S_state *st, const pd_block *blocks, size_t n, double left, double width,
                     int frame, bool first_in_frame, size_t *ends)
{
    const S_styles *y = &st->sty;
    double field_col = 0;
    for (size_t i = 0; i < n; i++) {
        const pd_block *b = &blocks[i];
        size_t at = i;
        bool first = first_in_frame && i == 0;
        bool ok = true;
        size_t before = st->n_slices;
        int parent = st->tag_parent, leaf = 0; /* leaf: the element of the block's own text */
        st->tag_label = 0;
        S_lang_state lang = S_lang_enter(st, b->lang_tag);
        switch (b->kind) {
        case PD_BLOCK_H1:
        case PD_BLOCK_H2: {
            leaf = S_tag_new(st, b->kind == PD_BLOCK_H1 ? PD_TAG_H1 : PD_TAG_H2);
            const S_style *style = b->kind == PD_BLOCK_H1 ? &y->h1 : &y->h2;
            ok = S_text_block(st, &b->text, style, left, width, first ? 0 : style->space_before,
                              frame, b->kind == PD_BLOCK_H1 ? 1 : 2, NULL, 0);
            free(st->section);
            st->section = pd_text_plain(&b->text);
            break;
        }
        case PD_BLOCK_PARA:
            leaf = S_tag_new(st, PD_TAG_P);
            ok = S_text_block(st, &b->text, &y->body, left, width, first ? 0 : y->body.space_before,
                              frame, 0, NULL, S_body_flags(st));
            break;
        case PD_BLOCK_ITEM:
            st->tag_parent = S_tag_new(st, PD_TAG_LI);
            if (b->marker)
                st->tag_label = S_tag_new(st, PD_TAG_LBL);
            leaf = S_tag_new(st, PD_TAG_LBODY);
            size_t item_start = st->n_slices;
            ok = S_text_block(st, &b->text, &y->item, left + K(16), width - K(16),
                              y->item.space_before, frame, 0, b->marker, S_body_flags(st));
            /* an item in two parts (a bilingual item: its text, a line
               break, its translation) stays on one page */
            for (size_t k = 0; ok && k < b->text.n_spans; k++)
                if (b->text.spans[k].style & PD_SPAN_BREAK) {
                    for (size_t s = item_start; s + 1 < st->n_slices; s++)
                        S_glue(st, s, G_LINE);
                    break;
                }
            break;
        case PD_BLOCK_LIST: {
            st->tag_parent = S_tag_new(st, PD_TAG_L);
            st->out->tags[st->tag_parent - 1].ordered =
                b->n_children && b->children[0].marker && g_ascii_isdigit(b->children[0].marker[0]);
            size_t *item_ends = xcalloc(b->n_children + 1, sizeof *item_ends);
            for (size_t c = 0; c < b->n_children && ok; c++) {
                ok = S_blocks(st, &b->children[c], 1, left, width, frame, false, NULL);
                item_ends[c] = st->n_slices;
            }
            if (ok && st->n_slices > before) {
                st->slices[before].space_before = first ? 0 : y->body.space_before;
                /* the first two items together, the last two together */
                if (b->n_children >= 2) {
                    S_glue(st, item_ends[0] - 1, G_PAIR);
                    S_glue(st, item_ends[b->n_children - 2] - 1, G_PAIR);
                }
            }
            free(item_ends);
            break;
        }
        case PD_BLOCK_TABLE:
            st->tag_parent = S_tag_new(st, PD_TAG_TABLE);
            ok = S_table(st, b, left, width, frame);
            break;
        case PD_BLOCK_CALLOUT:
            st->tag_parent = S_tag_new(st, b->urgent ? PD_TAG_WARNING : PD_TAG_CALLOUT);
            ok = S_callout(st, b, left, width);
            break;
        case PD_BLOCK_FIELD:
        case PD_BLOCK_SIGN: {
            st->tag_parent = S_tag_new(st, PD_TAG_FIELD);
            st->tag_label = S_tag_new(st, PD_TAG_P);
            leaf = S_tag_new(st, PD_TAG_P);
            bool run_start = i == 0 || !S_is_field(&blocks[i - 1]);
            if (run_start)
                field_col = S_field_column(st, b, n - i, width);
            double sb = run_start ? (first ? 0 : K(4)) : 0;
            /* labels above their lines (a narrow column): a signature and
               the date after it share a row when the signature keeps 40 mm */
            double pair_w = field_col < 0 && b->kind == PD_BLOCK_SIGN && i + 1 < n &&
                                    blocks[i + 1].kind == PD_BLOCK_FIELD
                                ? S_value_width(st, &blocks[i + 1])
                                : 0;
            double gap = K(MM(5));
            if (pair_w > 0 && width - pair_w - gap >= K(MIN_SIGN)) {
                size_t from = st->n_slices;
                st->pair_pitch = K(STACK_SIGN);
                ok = S_field(st, b, left, width - pair_w - gap, -1, sb, frame) &&
                     S_field(st, &blocks[i + 1], left + width - pair_w, pair_w, -1, 0, frame);
                st->pair_pitch = 0;
                i++;
                if (ok && st->n_slices == from + 2) { /* one row */
                    S_slice *a = &st->slices[from], *d = &st->slices[from + 1];
                    S_items_reserve(a, d->n_items);
                    memcpy(a->items + a->n_items, d->items, d->n_items * sizeof *a->items);
                    a->n_items += d->n_items;
                    if (d->height > a->height)
                        a->height = d->height;
                    free(d->items);
                    st->n_slices--;
                }
                break;
            }
            ok = S_field(st, b, left, width, field_col, sb, frame);
            break;
        }
        case PD_BLOCK_CHECK: {
            size_t used = 0;
            if (i == 0 || blocks[i - 1].kind != PD_BLOCK_CHECK) {
                ok =
                    S_check_row(st, blocks + i, n - i, left, width, first ? 0 : K(5), frame, &used);
                if (ok && used) {
                    i += used - 1;
                    break;
                }
            }
            if (!ok)
                break;
            leaf = st->tag_label = S_tag_new(st, PD_TAG_P);
            double indent = K(CHECK_BOX) + K(MM(3));
            ok = S_text_block_box(st, &b->text, &y->body, left + indent, width - indent,
                                  first ? 0 : K(5), frame, 0, NULL,
                                  b->checked ? BOX_TICKED : BOX_CHECK, S_body_flags(st));
            break;
        }
        case PD_BLOCK_INITIALS: {
            leaf = S_tag_new(st, PD_TAG_P);
            double indent = K(INITIALS_W) + K(INITIALS_GAP);
            ok = S_text_block_box(st, &b->text, &y->body, left + indent, width - indent,
                                  first ? 0 : K(INITIALS_GAP), frame, 0, NULL, BOX_INITIALS,
                                  S_body_flags(st));
            break;
        }
        case PD_BLOCK_LABEL:
            leaf = S_tag_new(st, PD_TAG_P);
            ok = S_label_box(st, b, left, width, first ? 0 : K(6), frame);
            break;
        case PD_BLOCK_IMAGE: {
            leaf = S_tag_new(st, PD_TAG_FIGURE);
            /* width in em of the body text; by default a quarter of the column */
            double w = b->width_em > 0 ? b->width_em * y->body.size : width / 4;
            S_image(st, b->image, left, w < width ? w : width, y->body.space_before);
            /* a pictogram illustrates what follows: never alone at a foot */
            S_glue(st, st->n_slices - 1, G_LINE);
            break;
        }
        case PD_BLOCK_KEEP: {
            st->depth++;
            size_t *part_ends = xcalloc(b->n_children + 1, sizeof *part_ends);
            int grid = b->columns > 1 && frame == 0 ? S_grid(st, b, first) : 0;
            ok = grid >= 0;
            if (grid == 0)
                ok = S_blocks(st, b->children, b->n_children, left, width, frame, first, part_ends);
            st->depth--;
            if (ok && st->n_slices > before)
                S_keep_together(st, before, st->depth, grid ? NULL : b->children, part_ends,
                                b->n_children);
            free(part_ends);
            break;
        }
        }
        S_lang_leave(st, &lang);
        if (!ok)
            return false;
        S_tie_fields(st, blocks + at, i - at + 1, before);
        if (leaf)
            S_tag_slices(st, before, leaf, S_other_script(st, &b->text));
        st->tag_parent = parent;
        st->tag_label = 0;
        if (st->n_slices > before)
            st->slices[st->n_slices - 1].block_end = 1;
        for (size_t k = at; ends && k <= i; k++)
            ends[k] = st->n_slices;
        /* a sentence ending in a colon stays with what it introduces */
        if (b->kind == PD_BLOCK_PARA && i + 1 < n && st->n_slices > before &&
            S_ends_with_colon(&b->text))
            S_glue(st, st->n_slices - 1, G_PAIR);
    }
    return true;
}

/* Copies a slice's items onto a page, dx to the right of where they were
 * laid out (the column) and top down. */
/* Room for a page's items: only S_place_at adds to them, so their room
 * is the power of two (at least 64) at or above their number. */
static size_t S_page_room(size_t n)
{
    size_t room = 64;
    while (room < n)
        room *= 2;
    return n ? room : 0;
}

static void S_place_at(pd_page *page, const S_slice *s, double dx, double top)
{
    size_t room = S_page_room(page->n_items);
    if (page->n_items + s->n_items > room)
        page->items =
            xrealloc(page->items, S_page_room(page->n_items + s->n_items) * sizeof *page->items);
    for (size_t i = 0; i < s->n_items; i++) {
        pd_item it = s->items[i];
        it.x += dx;
        it.y += top;
        it.outline_text = it.outline_text ? xstrdup(it.outline_text) : NULL;
        page->items[page->n_items++] = it;
    }
}

static void S_place(pd_page *page, const S_slice *s, double top)
{
    S_place_at(page, s, 0, top);
}

static pd_page *S_new_page(pd_pages *out)
{
    out->pages = xrealloc(out->pages, (out->n_pages + 1) * sizeof *out->pages);
    pd_page *p = &out->pages[out->n_pages++];
    memset(p, 0, sizeof *p);
    return p;
}

/* What opens column `unit` starting at slice `start`: the repeated header
 * row of a table continued there, or, at the top of a page, the opening of
 * a box continued there (in the next column of the same page it reads on
 * without one). */
static const S_slice *S_repeat_of(const S_state *st, size_t start, size_t unit)
{
    const S_slice *first = &st->slices[start];
    if (first->table && !first->table_header && st->repeats &&
        st->repeats[first->table - 1].table_header)
        return &st->repeats[first->table - 1];
    if (first->frame && unit % (size_t)st->ncols == 0 && start > 0 &&
        st->slices[start - 1].frame == first->frame &&
        st->frames[first->frame - 1].repeat.n_items) {
        const S_frame *fr = &st->frames[first->frame - 1];
        return start >= fr->lead_end && start < fr->next_end ? &fr->repeat_lead : &fr->repeat;
    }
    return NULL;
}

/* Breaking before slice j (the weakest glue) would leave more than
 * GAP_MAX empty at the foot: breaks instead at the last soft keep (inside
 * a box) before slice `full`, the first that does not fit, if any. */
#define GAP_MAX MM(40)
static size_t S_soft_break(const S_state *st, size_t start, size_t j, size_t full, double first_y,
                           double body_h, double shrink)
{
    double y = first_y, at_j = first_y;
    size_t best = j, best_urgent = j;
    for (size_t i = start; i < full; i++) {
        y += (i == start ? 0 : st->slices[i].space_before * (st->slices[i].rigid ? 1.0 : shrink)) +
             st->slices[i].height;
        if (i + 1 == j)
            at_j = y;
        if (i + 1 > j && st->slices[i].soft && st->slices[i].glue <= G_GROUP_MAX) {
            best_urgent = i + 1;
            if (st->slices[i].soft == 1)
                best = i + 1;
        }
    }
    if (body_h - at_j > body_h / 2)
        return best_urgent;
    return body_h - at_j > GAP_MAX ? best : j;
}

/* Finds the end of the page starting at slice `start` (the index of the
 * first slice of the next page): the last place before the page is full
 * where the glue is weakest. */
static size_t S_page_end(const S_state *st, size_t start, double first_y, double body_h,
                         double shrink, double *used)
{
    double y = first_y;
    size_t i = start;
    for (; i < st->n_slices; i++) {
        double h =
            (i == start ? 0 : st->slices[i].space_before * (st->slices[i].rigid ? 1.0 : shrink)) +
            st->slices[i].height;
        if (y + h > body_h + 0.01 && i > start)
            break;
        y += h;
    }
    *used = y;
    if (i == st->n_slices)
        return i;
    for (int t = G_FREE; t <= G_LINE; t++)
        for (size_t j = i; j > start; j--)
            if (st->slices[j - 1].glue <= t)
                return t < G_PAIR ? S_soft_break(st, start, j, i, first_y, body_h, shrink) : j;
    return i; /* nothing could honour the rules (a group taller than a page) */
}

/* Column starts (a unit is a column; one column: a page) from slice
 * `from`, the first of unit `unit0`, for a given shrink of the space
 * between blocks; cap > 0 makes every column at most that tall (to
 * balance the last page's columns). Appends to *starts (n entries); returns
 * how full the last column is, in points. */
static double S_breaks_from(const S_state *st, size_t from, size_t unit0, double shrink, double cap,
                            size_t **starts, size_t *n)
{
    size_t start = from, unit = unit0;
    double used = 0;
    while (start < st->n_slices) {
        *starts = xrealloc(*starts, (*n + 1) * sizeof **starts);
        (*starts)[(*n)++] = start;
        const S_slice *repeat = S_repeat_of(st, start, unit);
        double head = repeat ? repeat->height : 0;
        double body_h = S_body_h(st, unit);
        if (cap > 0 && cap < body_h)
            body_h = cap;
        size_t end = S_page_end(st, start, head, body_h, shrink, &used);
        if (end <= start)
            end = start + 1;
        /* what was used up to the break */
        used = head;
        for (size_t i = start; i < end; i++)
            used +=
                (i == start ? 0
                            : st->slices[i].space_before * (st->slices[i].rigid ? 1.0 : shrink)) +
                st->slices[i].height;
        unit++;
        start = end;
    }
    return used;
}

/* Column starts for the whole document; returns the number of pages and
 * how full the last page is (0..1, over all its columns). */
static size_t S_breaks(const S_state *st, double shrink, size_t **starts_out, size_t *n_units,
                       double *last_fill)
{
    size_t *starts = NULL, n = 0;
    double used = S_breaks_from(st, 0, 0, shrink, 0, &starts, &n);
    size_t ncols = (size_t)st->ncols, pages = (n + ncols - 1) / ncols;
    double body_h = pages ? S_body_h(st, (pages - 1) * ncols) : 1;
    *last_fill = n ? ((double)((n - 1) % ncols) * body_h + used) / (body_h * (double)ncols) : 0;
    *starts_out = starts;
    *n_units = n;
    return pages;
}

/* Balances the columns of the last page: the shortest column height at
 * which its content still fits in its columns (the keep rules may leave
 * them uneven). Rewrites the last page's column starts. */
static void S_balance_last(const S_state *st, double shrink, size_t **starts, size_t *n)
{
    size_t ncols = (size_t)st->ncols;
    if (ncols < 2 || *n == 0)
        return;
    size_t unit0 = (*n - 1) / ncols * ncols, from = (*starts)[unit0];
    double hi = S_body_h(st, unit0), lo = hi / (double)ncols * 0.5;
    size_t *best = NULL, n_best = 0;
    for (int step = 0; step < 24 && hi - lo > 1.0; step++) {
        double mid = (lo + hi) / 2;
        size_t *try = NULL, m = 0;
        S_breaks_from(st, from, unit0, shrink, mid, &try, &m);
        if (m <= ncols) {
            free(best);
            best = try;
            n_best = m;
            hi = mid;
        } else {
            free(try);
            lo = mid;
        }
    }
    if (!best)
        return;
    *starts = xrealloc(*starts, (unit0 + n_best) * sizeof **starts);
    memcpy(*starts + unit0, best, n_best * sizeof *best);
    *n = unit0 + n_best;
    free(best);
}

/* How full the emptiest column before the last page is (0..1): a page
 * left nearly empty by the keep rules before a group that fills the next
 * (a statement before the signature page) is worth tighter spacing too. */
static double S_emptiest(const S_state *st, const size_t *starts, size_t n_units, double shrink)
{
    size_t ncols = (size_t)st->ncols, last_page = n_units ? (n_units - 1) / ncols : 0;
    double least = 1;
    for (size_t u = 0; u < n_units && u / ncols < last_page; u++) {
        size_t end = u + 1 < n_units ? starts[u + 1] : st->n_slices;
        const S_slice *repeat = S_repeat_of(st, starts[u], u);
        double used = repeat ? repeat->height : 0;
        for (size_t i = starts[u]; i < end; i++)
            used += (i == starts[u]
                         ? 0
                         : st->slices[i].space_before * (st->slices[i].rigid ? 1.0 : shrink)) +
                    st->slices[i].height;
        double fill = used / S_body_h(st, u);
        least = fill < least ? fill : least;
    }
    return least;
}

/* How well a pagination with the same number of pages is set: a last
 * page at least 60 % full first, then the emptiest page before it at least
 * 70 % full (fuller than that is no better: looser spacing is). */
static double S_copyfit_score(double last_fill, double emptiest)
{
    return 10 * fmin(last_fill, 0.6) + fmin(emptiest, 0.7);
}

static void S_paginate(S_state *st)
{
    pd_pages *out = st->out;
    size_t *starts = NULL, n_units = 0;
    double fill, shrink = 1.0;
    size_t n = S_breaks(st, 1.0, &starts, &n_units, &fill);
    /* a last page less than 60 % full: copy-fit, with the loosest of a
       few tighter spacings between blocks that saves the sheet, and again
       while the last page is still that empty (the review's M7; spaces
       between boxes to write in never shrink) */
    static const double shrinks[] = {0.85, 0.7, 0.55};
    double emptiest = S_emptiest(st, starts, n_units, 1.0);
    for (size_t k = 0; !st->large && n > 1 && (fill < 0.6 || emptiest < 0.4) &&
                       k < sizeof shrinks / sizeof shrinks[0];
         k++) {
        size_t *alt = NULL, alt_units = 0;
        double alt_fill;
        size_t m = S_breaks(st, shrinks[k], &alt, &alt_units, &alt_fill);
        if (m < n) {
            free(starts);
            starts = alt;
            n = m;
            n_units = alt_units;
            fill = alt_fill;
            shrink = shrinks[k];
            emptiest = S_emptiest(st, starts, n_units, shrink);
        } else {
            free(alt);
        }
    }
    /* large print: 16 pt on 20-odd pages leaves the last page nearly
       empty, or a gap where a table or box moved whole, more often than
       not (the review's M6, M7). A finer search of the same range (1.0
       down to 0.55, in hundredths): the fewest pages, then a last page
       60 % full, then no page before it less than 70 % full, then the
       loosest spacing. */
    if (st->large && n > 1) {
        double score = S_copyfit_score(fill, emptiest);
        for (int c = 99; c >= 55; c--) {
            size_t *alt = NULL, alt_units = 0;
            double alt_fill, s = c / 100.0;
            size_t m = S_breaks(st, s, &alt, &alt_units, &alt_fill);
            double alt_score = S_copyfit_score(alt_fill, S_emptiest(st, alt, alt_units, s));
            if (m < n || (m == n && alt_score > score + 0.005)) {
                free(starts);
                starts = alt;
                n = m;
                n_units = alt_units;
                fill = alt_fill;
                score = alt_score;
                shrink = s;
            } else {
                free(alt);
            }
        }
    }
    S_balance_last(st, shrink, &starts, &n_units);
    pd_page *page = NULL;
    if (n_units == 0 && st->n_mast) { /* a title and nothing else */
        page = S_new_page(out);
        for (size_t i = 0; i < st->n_mast; i++)
            S_place(page, &st->mast[i], 0);
    }
    for (size_t u = 0; u < n_units; u++) {
        size_t start = starts[u], end = u + 1 < n_units ? starts[u + 1] : st->n_slices;
        size_t p = u / (size_t)st->ncols;
        double dx = (double)(u % (size_t)st->ncols) * st->col_step;
        if (u % (size_t)st->ncols == 0)
            page = S_new_page(out);
        double top = p == 0 ? st->top_first : st->top_other;
        if (p == 0 && u == 0)
            for (size_t i = 0; i < st->n_mast; i++)
                S_place(page, &st->mast[i], 0);
        const S_slice *repeat = S_repeat_of(st, start, u);
        double head = repeat ? repeat->height : 0;
        double *tops = xcalloc(end - start, sizeof *tops);
        double y = top + head;
        for (size_t i = start; i < end; i++) {
            if (i > start)
                y += st->slices[i].space_before * (st->slices[i].rigid ? 1.0 : shrink);
            tops[i - start] = y;
            y += st->slices[i].height;
        }
        /* frames first: their backgrounds go under the text */
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
            if (repeat && repeat->frame == (int)f)
                ftop = top; /* the box's repeated opening is inside it */
            const S_frame *fr = &st->frames[f - 1];
            static const double urgent_bg[3] = {0.99, 0.92, 0.90},
                                urgent_bar[3] = {0.72, 0.11, 0.11};
            static const double info_bg[3] = {0.91, 0.95, 0.98}, info_bar[3] = {0.16, 0.40, 0.62};
            S_slice tmp = {0};
            S_add_rect(&tmp, fr->left, ftop, fr->width, fbottom - ftop,
                       fr->urgent ? urgent_bg : info_bg);
            S_add_rect(&tmp, fr->left, ftop, K(3.0), fbottom - ftop,
                       fr->urgent ? urgent_bar : info_bar);
            S_place_at(page, &tmp, dx, 0);
            free(tmp.items);
        }
        if (repeat) {
            S_slice copy = *repeat;
            S_place_at(page, &copy, dx, top);
            /* outline entries are not repeated */
            for (size_t i = page->n_items - repeat->n_items; i < page->n_items; i++) {
                free(page->items[i].outline_text);
                page->items[i].outline_text = NULL;
                page->items[i].outline_level = 0;
            }
        }
        for (size_t i = start; i < end; i++)
            S_place_at(page, &st->slices[i], dx, tops[i - start]);
        free(tops);
    }
    free(starts);
}

/* On a form (a document with a running header), a large empty area at
 * the foot of a page is marked as left blank on purpose, so that nothing
 * is added there after signing (the review's M6). */
static bool S_mark_gaps(S_state *st, const char *note, const char *note2)
{
    S_style style = st->sty.footer;
    PangoLayout *l = S_make_joined(st, note, note2, -1, &style, 0);
    if (!l)
        return false;
    double w = S_natural_width(l);
    for (size_t p = 0; p < st->out->n_pages; p++) {
        pd_page *page = &st->out->pages[p];
        double bottom = 0;
        for (size_t i = 0; i < page->n_items; i++)
            if (page->items[i].y > bottom && page->items[i].y < st->bottom + 1)
                bottom =
                    page->items[i].y + (page->items[i].kind == PD_ITEM_LINE ? 0 : page->items[i].h);
        if (st->bottom - bottom < MM(60))
            continue;
        size_t n;
        const S_line *lines = S_lines(l, &n);
        S_slice tmp = {0};
        double mid = (bottom + st->bottom) / 2;
        S_add_rect(&tmp, st->left, mid - K(10), st->width, 0.4, S_rule_rgb);
        S_line_at(&tmp, &lines[0], st->left + (st->width - w) / 2, mid + K(3), style.rgb);
        S_add_rect(&tmp, st->left, mid + K(10), st->width, 0.4, S_rule_rgb);
        S_place(page, &tmp, 0);
        free(tmp.items);
    }
    return true;
}

/* A width for a title that keeps its number of lines but evens them out
 * (no single word alone on the last line, the review's L7). */
static double S_balanced_width(S_state *st, const pd_text *text, const S_style *style, double width)
{
    PangoLayout *l = S_make_layout(st, text, width, style, 0);
    if (!l)
        return width;
    int lines = pango_layout_get_line_count(l);
    if (lines < 2)
        return width;
    double best = width, best_short = 0;
    for (int step = 0; step <= 10; step++) {
        double w = width * (1.0 - 0.04 * step);
        l = S_make_layout(st, text, w, style, 0);
        if (!l || pango_layout_get_line_count(l) != lines)
            break;
        size_t n;
        const S_line *ls = S_lines(l, &n);
        double shortest = ls[0].width;
        for (size_t i = 1; i < n; i++)
            if (ls[i].width < shortest)
                shortest = ls[i].width;
        if (shortest > best_short + 0.5) {
            best_short = shortest;
            best = w;
        }
    }
    return best;
}

static bool S_text_has_blank(const pd_text *t)
{
    for (size_t i = 0; i < t->n_spans; i++)
        if (t->spans[i].style & PD_SPAN_BLANK)
            return true;
    return false;
}

static bool S_is_date_part(const pd_span *sp)
{
    return (sp->style & PD_SPAN_BLANK) && sp->blank_kind == PD_BLANK_PART;
}

/* The running header: who the document is for, on every page; a filled
 * one is left off page 1, which names the patient in full. Its text is cut
 * into units (a label and its value or line, with the line's hint) that
 * never break, packed into rows across the header's width (wider than the
 * text column), rows 8 mm or more apart when there are lines to write on.
 * Made once, placed on each page; height: below HEADER_TOP, 0 if none. */
static bool S_header(S_state *st, const pd_doc *doc, S_slice *out, double hleft, double hwidth,
                     double *height)
{
    *height = 0;
    const pd_text *t = &doc->running_text;
    if (!t->n_spans)
        return true;
    S_style style = st->sty.header;
    bool blank = S_text_has_blank(t);
    double gap = (MM(6)) * st->k;
    double pitch = blank ? (WRITE_PITCH)*st->k : style.size * 2;
    double x = 0, base = pitch - (MM(2.5)) * st->k;
    size_t i = 0, i_skip = 0; /* i_skip: bytes of span i that ended the last unit */
    while (i < t->n_spans) {
        /* one unit: text up to and including a value or a line, and a hint after it */
        size_t j = i, j_take = 0; /* j_take: bytes of span j that end this unit */
        while (j < t->n_spans && !(t->spans[j].style & (PD_SPAN_BLANK | PD_SPAN_VALUE)))
            j++;
        for (;;) {
            while (j < t->n_spans && (t->spans[j].style & (PD_SPAN_BLANK | PD_SPAN_VALUE)))
                j++;
            /* a date written in parts ("____年__月__日") is one unit: it
               never wraps across the header's rows, its last word with it */
            if (j == i || j >= t->n_spans || !S_is_date_part(&t->spans[j - 1]) ||
                (t->spans[j].style & PD_SPAN_HINT))
                break;
            if (j + 1 < t->n_spans && S_is_date_part(&t->spans[j + 1])) {
                j++;
                continue;
            }
            j_take = strcspn(t->spans[j].text, " ");
            if (j_take == strlen(t->spans[j].text)) { /* "日" alone: all of it */
                j++;
                j_take = 0;
            }
            break;
        }
        while (!j_take && j < t->n_spans &&
               (t->spans[j].style & PD_SPAN_HINT ||
                (j + 1 < t->n_spans && (t->spans[j + 1].style & PD_SPAN_HINT))))
            j++;
        /* the unit's text without the spaces that separated it from the last */
        pd_text unit = {0};
        for (size_t k = i; k < j + (j_take > 0); k++) {
            const pd_span *sp = &t->spans[k];
            const char *text = sp->text + (k == i ? i_skip : 0);
            if (k == i)
                text += strspn(text, " ");
            size_t len = k == j ? j_take : strlen(text);
            while (k + 1 == j && !j_take && len && text[len - 1] == ' ')
                len--;
            pd_text_add(&unit, text, len, sp->style, sp->origin);
            unit.spans[unit.n_spans - 1].blank_em = sp->blank_em;
            unit.spans[unit.n_spans - 1].blank_kind = sp->blank_kind;
        }
        i = j;
        i_skip = j_take;
        PangoLayout *l = S_make_layout(st, &unit, -1, &style, 0);
        double w = l ? S_natural_width(l) : 0;
        if (l && w > hwidth) /* a very long value: cut, it is in full on page 1 */
            l = S_make_layout(st, &unit, hwidth, &style, LF_ELLIPSIZE);
        pd_text_clear(&unit);
        if (!l)
            return false;
        if (w > hwidth)
            w = hwidth;
        if (x > 0 && x + w > hwidth) {
            x = 0;
            base += pitch;
        }
        size_t n;
        const S_line *lines = S_lines(l, &n);
        S_line_at(out, &lines[0], hleft + x + lines[0].x, base, blank ? style.rgb : S_value_rgb);
        x += w + gap;
    }
    /* its lines to write on, tied to what they are for */
    size_t n_items = 0;
    pd_item **items = NULL;
    for (size_t k = 0; k < out->n_items; k++)
        if (out->items[k].kind == PD_ITEM_RECT && out->items[k].writeon) {
            items = xrealloc(items, (n_items + 1) * sizeof(pd_item *));
            items[n_items++] = &out->items[k];
        }
    size_t no_label = 0;
    bool no_sign = false;
    S_tie_blanks(st, items, n_items, &t, &no_label, &no_sign, 1);
    free(items);
    double bottom = base + (MM(2.5)) * st->k;
    S_add_rect(out, hleft, bottom, hwidth, 0.6, S_rule_rgb);
    for (size_t k = 0; k < out->n_items; k++)
        out->items[k].artifact = PD_ARTIFACT_HEADER;
    *height = bottom + 0.6;
    return true;
}

/* A bilingual document's footer on page p: the short title in both
 * languages on the first line (cut only when longer than the whole line),
 * the version and date in both and the page number on the second; when
 * both do not fit on one line (large print), the page number goes up,
 * beside the title. rl: the page number's layout, right_w its width. */
static bool S_footer_two_lines(S_state *st, const pd_doc *doc, const pd_paper *paper, double left,
                               double width, size_t p, PangoLayout *rl, double right_w)
{
    const S_style *style = &st->sty.footer;
    PangoLayout *el = S_make_joined(st, doc->edition, doc->edition2, -1, style, 0);
    if (!el)
        return false;
    double ed_w = S_natural_width(el);
    bool page_below = ed_w + K(14) + right_w <= width;
    PangoLayout *tl =
        S_make_joined(st, doc->short_title ? doc->short_title : doc->title, doc->short_title2,
                      page_below ? width : width - right_w - K(14), style, LF_ELLIPSIZE);
    if (!tl)
        return false;
    S_slice tmp = {0};
    double base = paper->height - FOOTER_BASELINE, below = base + style->size * 1.3;
    S_add_rect(&tmp, left, base - K(12), width, 0.5, S_rule_rgb);
    size_t n;
    const S_line *lines = S_lines(tl, &n);
    S_line_at(&tmp, &lines[0], left, base, style->rgb);
    lines = S_lines(el, &n);
    S_line_at(&tmp, &lines[0], left, below, style->rgb);
    lines = S_lines(rl, &n);
    S_line_at(&tmp, &lines[0], left + width - right_w, page_below ? below : base, style->rgb);
    for (size_t k = 0; k < tmp.n_items; k++)
        tmp.items[k].artifact = PD_ARTIFACT_FOOTER;
    S_place(&st->out->pages[p], &tmp, 0);
    free(tmp.items);
    return true;
}

/* The footer spans the same width as the running header: wider than the
 * text column, so that a short title, the version and date and the page
 * number fit on one line. */
/* Whether text[0..end) ends with a word that cannot end a cut title. */
static bool S_ends_with_small_word(const char *text, size_t end)
{
    static const char *const small[] = {"and",  "or",  "for", "of", "the", "a",    "an",  "in",
                                        "with", "to",  "et",  "ou", "de",  "des",  "du",  "la",
                                        "le",   "les", "à",   "en", "par", "pour", "aux", "au"};
    size_t start = end;
    while (start > 0 && text[start - 1] != ' ')
        start--;
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        if (strlen(small[i]) == end - start && strncmp(text + start, small[i], end - start) == 0)
            return true;
    return false;
}

/* A running title too long for the footer (large print): cut after the
 * last whole word that fits with an ellipsis ("Ketamine and esketamine
 * for…", never "Ketamine and esketami…"); NULL when no word fits (then
 * Pango cuts it, as it does Chinese, between characters). */
static PangoLayout *S_cut_title(S_state *st, const char *title, double w, const S_style *style)
{
    size_t len = strlen(title);
    for (size_t end = len; end > 0; end--) {
        if (title[end - 1] != ' ')
            continue;
        size_t keep = end - 1;
        while (keep > 0 && strchr(" :,;\xc2\xa0", title[keep - 1]))
            keep--; /* no ellipsis after a colon or a space */
        if (keep == 0)
            break;
        if (S_ends_with_small_word(title, keep))
            continue; /* nor after "and", "de": "Ketamine…", not "Ketamine and…" */
        strbuf sb = STRBUF_INIT;
        strbuf_append_len(&sb, title, keep);
        strbuf_append(&sb, "\xe2\x80\xa6");
        PangoLayout *l = S_make_plain(st, strbuf_str(&sb), -1, style);
        strbuf_free(&sb);
        if (!l)
            return NULL;
        if (S_natural_width(l) <= w)
            return l;
    }
    return NULL;
}

static bool S_footers(S_state *st, const pd_doc *doc, const pd_paper *paper, double left,
                      double width)
{
    pd_pages *out = st->out;
    const S_style *style = &st->sty.footer;
    /* version and date are never cut; the (short) title gives way */
    strbuf ed = STRBUF_INIT;
    strbuf_printf(&ed, " \xc2\xb7 %s", doc->edition ? doc->edition : "");
    PangoLayout *el = S_make_plain(st, strbuf_str(&ed), -1, style);
    strbuf_free(&ed);
    if (!el)
        return false;
    double ed_w = S_natural_width(el);
    for (size_t p = 0; p < out->n_pages; p++) {
        char page[24], pages[24];
        snprintf(page, sizeof page, "%zu", p + 1);
        snprintf(pages, sizeof pages, "%zu", out->n_pages);
        strbuf sb = STRBUF_INIT;
        const char *names[] = {"page", "pages"};
        const char *values[] = {page, pages};
        strbuf_expand(&sb, doc->footer_fmt, names, values, 2);
        strbuf sb2 = STRBUF_INIT;
        if (doc->footer_fmt2)
            strbuf_expand(&sb2, doc->footer_fmt2, names, values, 2);
        PangoLayout *rl = S_make_joined(st, strbuf_str(&sb),
                                        doc->footer_fmt2 ? strbuf_str(&sb2) : NULL, -1, style, 0);
        strbuf_free(&sb);
        strbuf_free(&sb2);
        if (!rl)
            return false;
        double right_w = S_natural_width(rl);
        if (st->also_tag) { /* bilingual: two lines, nothing dropped */
            bool ok = S_footer_two_lines(st, doc, paper, left, width, p, rl, right_w);
            if (!ok)
                return false;
            continue;
        }
        double title_w = width - right_w - K(14) - ed_w;
        const char *title = doc->short_title ? doc->short_title : doc->title;
        PangoLayout *tl = NULL;
        if (title_w >= style->size * 3) {
            pd_text tt = {0};
            pd_origin o = {NULL, 0, NULL};
            pd_text_add(&tt, title ? title : "", title ? strlen(title) : 0, 0, o);
            tl = S_make_layout(st, &tt, title_w, style, LF_ELLIPSIZE);
            pd_text_clear(&tt);
            if (!tl)
                return false;
            if (pango_layout_is_ellipsized(tl)) {
                PangoLayout *cut = S_cut_title(st, title ? title : "", title_w, style);
                if (cut)
                    tl = cut; /* both live as long as the pages */
            }
        }
        S_slice tmp = {0};
        double base = paper->height - FOOTER_BASELINE;
        S_add_rect(&tmp, left, base - K(12), width, 0.5, S_rule_rgb);
        double x = left;
        size_t n;
        const S_line *lines;
        if (tl) {
            lines = S_lines(tl, &n);
            S_line_at(&tmp, &lines[0], x, base, style->rgb);
            x += lines[0].width;
        }
        lines = S_lines(el, &n);
        S_line_at(&tmp, &lines[0], tl ? x : left - 0, base, style->rgb);
        lines = S_lines(rl, &n);
        S_line_at(&tmp, &lines[0], left + width - right_w, base, style->rgb);
        for (size_t k = 0; k < tmp.n_items; k++)
            tmp.items[k].artifact = PD_ARTIFACT_FOOTER;
        S_place(&out->pages[p], &tmp, 0);
        free(tmp.items);
    }
    return true;
}

pd_pages *pd_layout(const pd_doc *doc, pd_fonts *fonts, const pd_paper *paper, pd_error *err)
{
    return pd_layout_with(doc, fonts, paper, NULL, err);
}

pd_pages *pd_layout_with(const pd_doc *doc, pd_fonts *fonts, const pd_paper *paper,
                         const pd_layout_opts *opts, pd_error *err)
{
    pd_pages *out = xcalloc(1, sizeof *out);
    out->paper = *paper;
    out->title = xstrdup(doc->title ? doc->title : "");
    out->subject = xstrdup(doc->subject ? doc->subject : "");
    out->author = xstrdup(doc->author ? doc->author : "");
    out->lang_tag = xstrdup(doc->lang_tag ? doc->lang_tag : "en");
    out->also_tag = doc->also_tag ? xstrdup(doc->also_tag) : NULL;
    out->title2 = doc->title2 ? xstrdup(doc->title2) : NULL;
    out->subject2 = doc->subject2 ? xstrdup(doc->subject2) : NULL;
    S_state st = {0};
    S_set_langs(&st, out->lang_tag, out->also_tag);
    st.also_style = doc->also_style;
    st.fonts = fonts;
    st.ctx = pd_fonts_context(fonts, st.lang_tag);
    st.out = out;
    st.err = err;
    st.helper = opts ? opts->helper : NULL;
    st.continued = doc->continued;
    bool large = opts && opts->large_print;
    double body = large ? LARGE_BODY_PT : BODY_PT;
    st.k = body / BODY_PT;
    S_styles_init(&st.sty, body);
    st.width = large ? paper->width - 2 * LARGE_MARGIN : MEASURE_EM * body;
    if (st.width > paper->width - 2 * LARGE_MARGIN)
        st.width = paper->width - 2 * LARGE_MARGIN;
    st.left = (paper->width - st.width) / 2;
    /* large print is one column: 16 pt in half a page would give about 30
       characters a line and break most words of a medical text */
    st.ncols = !large && doc->columns > 1 ? doc->columns : 1;
    st.form = doc->running_text.n_spans > 0;
    if (st.ncols > 1) {
        double full = paper->width - 2 * COLUMN_MARGIN;
        st.left = COLUMN_MARGIN;
        st.width = (full - (st.ncols - 1) * COLUMN_GUTTER) / st.ncols;
        st.col_step = st.width + COLUMN_GUTTER;
    }
    st.bottom = paper->height - MARGIN_BOTTOM;
    st.large = large;
    st.wide_left = LARGE_MARGIN < st.left ? LARGE_MARGIN : st.left;
    st.wide_width = paper->width - 2 * st.wide_left;
    /* the title block: across every column */
    double left = st.left, width = st.ncols > 1 ? paper->width - 2 * COLUMN_MARGIN : st.width;

    S_slice header = {0};
    double header_h = 0;
    double hleft = LARGE_MARGIN < st.left ? LARGE_MARGIN : st.left;
    bool ok = S_header(&st, doc, &header, hleft, paper->width - 2 * hleft, &header_h);
    double below_header = header_h ? HEADER_TOP + header_h + (10) * st.k : MARGIN_TOP;
    if (below_header < MARGIN_TOP)
        below_header = MARGIN_TOP;
    bool header_on_first = header_h > 0 && S_text_has_blank(&doc->running_text);
    st.top_other = below_header;
    st.top_first = header_on_first ? below_header : MARGIN_TOP;

    if (ok && doc->logo) { /* the clinic's logo above the title: 40 points high at most */
        S_image(&st, doc->logo, left,
                fmin(width / 3, 40.0 * st.k * doc->logo->width / doc->logo->height), 0);
        S_tag_slices(&st, 0, S_tag_new(&st, PD_TAG_FIGURE), false);
    }
    if (ok) {
        size_t before = st.n_slices;
        ok = S_text_block(&st, &doc->title_text, &st.sty.title, left,
                          S_balanced_width(&st, &doc->title_text, &st.sty.title, width),
                          doc->logo ? st.sty.subtitle.space_before : 0, 0, 0, NULL, 0);
        S_tag_slices(&st, before, S_tag_new(&st, PD_TAG_H1), S_other_script(&st, &doc->title_text));
    }
    if (ok && doc->subtitle_text.n_spans) {
        size_t before = st.n_slices;
        ok = S_text_block(&st, &doc->subtitle_text, &st.sty.subtitle, left, width,
                          st.sty.subtitle.space_before, 0, 0, NULL, 0);
        S_tag_slices(&st, before, S_tag_new(&st, PD_TAG_P),
                     S_other_script(&st, &doc->subtitle_text));
    }
    if (ok && doc->edition) {
        size_t before = st.n_slices;
        pd_text ed = {0};
        pd_origin o = {NULL, 0, "edition line"};
        S_add_joined(&st, &ed, doc->edition, doc->edition2, NULL, o);
        ok = S_text_block(&st, &ed, &st.sty.edition, left, width, st.sty.edition.space_before, 0, 0,
                          NULL, 0);
        bool other = S_other_script(&st, &ed);
        pd_text_clear(&ed);
        S_tag_slices(&st, before, S_tag_new(&st, PD_TAG_P), other);
        if (ok) {
            S_slice *rule = S_new_slice(&st, (8) * st.k, (2) * st.k);
            S_add_rect(rule, left, (4) * st.k, width, 1.2, st.sty.title.rgb);
        }
    }
    if (ok && st.ncols > 1) {
        /* the title block goes on page 1 above the columns, out of the flow */
        double y = st.top_first;
        for (size_t i = 0; i < st.n_slices; i++) {
            y += i ? st.slices[i].space_before : 0;
            for (size_t k = 0; k < st.slices[i].n_items; k++)
                st.slices[i].items[k].y += y;
            y += st.slices[i].height;
        }
        st.mast = st.slices;
        st.n_mast = st.n_slices;
        st.slices = NULL;
        st.n_slices = st.cap_slices = 0;
        st.top_first = y + st.sty.h1.space_before;
    }
    if (ok)
        ok = S_blocks(&st, doc->blocks, doc->n_blocks, st.left, st.width, 0, true, NULL);
    if (ok) {
        S_paginate(&st);
        for (size_t p = 0; p < out->n_pages && header_h > 0; p++)
            if (p > 0 || header_on_first)
                S_place(&out->pages[p], &header, HEADER_TOP);
        if (header_h > 0 && doc->blank_note)
            ok = S_mark_gaps(&st, doc->blank_note, doc->blank_note2);
        if (ok)
            ok = S_footers(&st, doc, paper, hleft, paper->width - 2 * hleft);
    }
    free(header.items);
    for (size_t i = 0; i < st.n_slices; i++) {
        for (size_t k = 0; k < st.slices[i].n_items; k++)
            free(st.slices[i].items[k].outline_text);
        free(st.slices[i].items);
    }
    free(st.slices);
    for (size_t i = 0; i < st.n_mast; i++) {
        for (size_t k = 0; k < st.mast[i].n_items; k++)
            free(st.mast[i].items[k].outline_text);
        free(st.mast[i].items);
    }
    free(st.mast);
    for (size_t f = 0; f < st.n_frames; f++) {
        free(st.frames[f].repeat.items);
        free(st.frames[f].repeat_lead.items);
    }
    free(st.frames);
    free(st.section);
    for (int t = 0; t < st.n_tables && st.repeats; t++)
        free(st.repeats[t].items);
    free(st.repeats);
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
    for (size_t i = 0; i < p->n_fields; i++) {
        pd_field *f = p->fields[i];
        free(f->var);
        free(f->value);
        free(f->label);
        free(f->hint);
        free(f->section);
        free(f);
    }
    free(p->fields);
    free(p->tags);
    free(p->title);
    free(p->subject);
    free(p->author);
    free(p->lang_tag);
    free(p->also_tag);
    free(p->title2);
    free(p->subject2);
    free(p);
}

char *pd_item_text(const pd_item *item)
{
    if (item->kind != PD_ITEM_LINE || !item->line || !item->line->layout)
        return xstrdup("");
    const char *text = pango_layout_get_text(item->line->layout);
    return xstrndup(text + item->line->start_index, (size_t)item->line->length);
}
