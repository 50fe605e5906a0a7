#include "render.h"

#include <cairo.h>
#include <glib.h>
#include <hb-ot.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-font.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pdffont.h"
#include "pdfform.h"
#include "pdfmeta.h"
#include "pdfobj.h"
#include "pdftags.h"

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

/* ---- PDF ------------------------------------------------------------------
 * Pages are painted from pd_pages straight into PDF operators: text as the
 * glyph runs Pango shaped (glyph ids, advances, offsets), fonts subset by
 * hb-subset (pdffont.h), objects written by pdfobj.h.
 *
 * Fonts per document: for each face, the glyphs it uses are split into the
 * "base" glyphs (those of the template's blank document for the same
 * language and paper, a deterministic set, see pd_pdf_cache_set_base) and
 * the rest (the values' own glyphs). Each part is one embedded subset, a
 * pure function of its glyph set, so a batch worker subsets and deflates
 * the base once and every output stays byte-identical to a fresh render.
 *
 * Structure for what comes next (tagged PDF, PDF/A, forms): every page item
 * is painted by one switch (S_paint_item) where marked content (BDC/EMC)
 * and structure elements will be opened; the catalog is written last
 * (S_write_catalog) so /StructTreeRoot, /Metadata (XMP), /OutputIntents and
 * /AcroForm can be added as objects reserved like the outline. */

typedef struct S_base {
    hb_face_t *face; /* a reference */
    uint32_t *gids;  /* ascending */
    size_t n;
} S_base;

typedef struct S_base_set {
    char *key;
    S_base *faces;
    size_t n_faces;
} S_base_set;

/* Deflated streams by their bytes: pages and ToUnicode maps repeat across
 * a batch (a leaflet's pages, a consent sheet's pages without values). */
#define STREAM_CACHE_MAX_BYTES (2u << 20)
#define STREAM_SEEN_MAX 65536 /* about 3 MB at most */

/* An image as written, by its pixels and how they are put on the page: a
 * batch prints the same logo and pictograms in every document. Looked up
 * by comparing the pixels (memcmp), never by hashing them per document. */
typedef struct S_image_entry {
    int width, height;
    unsigned char *rgba; /* the key: a copy of the image's pixels */
    bool opaque;         /* every pixel opaque: how it is put does not matter */
    bool flatten;        /* alpha composited onto `bg` or `bgpx` (else an /SMask) */
    unsigned char bg[3];
    unsigned char *bgpx;   /* PDF/A over several colours: the colour under each pixel */
    GBytes *color, *alpha; /* deflated DeviceRGB and DeviceGray data; alpha NULL without SMask */
    uint32_t sum;          /* of the pixels as written, for the file identifier */
} S_image_entry;

/* Images kept at most (their pixels and deflated data). */
#define IMAGE_CACHE_MAX_BYTES (8u << 20)

/* A line's underline (a blank to write on), relative to the line: drawn
 * after the text as Pango's renderer draws it, the run's logical width at
 * its font's underline position and thickness. */
typedef struct S_underline {
    double start, w;            /* from the line's start */
    double position, thickness; /* the font's, Pango's sign: above the baseline */
} S_underline;

#define LINE_MAX_UNDERLINES 32
#define LINE_MAX_FACES 4

/* A one-glyph cluster's text (the glyph's ToUnicode text when it is the
 * first to show the glyph), or the space glyph a tagged line ends in. */
typedef struct S_line_text {
    uint32_t gid;
    uint32_t at, len; /* in the entry's texts */
    uint8_t face;     /* index into the entry's faces */
    bool space;       /* the trailing space: its text is set, nothing decided */
    bool settable;    /* short enough to be a ToUnicode text */
    bool actual;      /* the cluster was given /ActualText */
} S_line_text;

/* Where a font's number goes in an entry's bytes ("/F<n> ... Tf"). */
typedef struct S_line_ref {
    size_t at;
    uint8_t len; /* while painted: the number's length (in the bytes, none) */
    uint8_t face;
} S_line_ref;

/* A laid-out line as painted once (S_paint_line), for painting it again
 * in a later document by copying its bytes (S_paint_cached). What the
 * bytes depend on beyond the line itself is part of the entry: the text
 * state before (font and size), tagged or not, and, per face, the base
 * glyph set whose subset numbers the glyphs (only lines whose every glyph
 * is a base glyph are kept). The fonts' numbers in the document are
 * written at each use; the texts the line's clusters give the document's
 * ToUnicode maps are set again, and the entry is used only when they
 * decide /ActualText as they did when it was made. */
typedef struct S_line_entry {
    struct S_line_entry *next; /* the same line in another context */
    PangoLayoutLine *line;     /* a reference: the key */
    bool tagged;
    hb_face_t *in_face; /* the font before the line: face (NULL: none), base or not, size */
    bool in_base;
    double in_size;
    double spacing; /* Tc, points */
    size_t n_faces;
    hb_face_t *faces[LINE_MAX_FACES];
    const struct S_base *bases[LINE_MAX_FACES];
    S_line_text *texts;
    size_t n_texts;
    char *text_bytes;
    char *bytes; /* from after Td to before ET, without the fonts' numbers */
    size_t n_bytes;
    S_line_ref *refs;
    size_t n_refs;
    int out_face; /* the font after the line: index into faces, -1: as before */
    double out_size, out_rise;
    S_underline *ul;
    size_t n_ul;
} S_line_entry;

/* Lines kept at most (their bytes and texts, not the lines themselves,
 * which the layout cache holds). */
#define LINE_CACHE_MAX_BYTES (4u << 20)

/* The glyphs a laid-out line draws, per face (S_collect): a document's
 * glyph sets are gathered from these instead of walking every glyph of
 * every line, most of them lines of the worker's layout cache met in
 * earlier documents. Faces in the order the line first draws from them,
 * each with the first of its fonts the line uses; glyph ids (16 bits in
 * OpenType) each once, ascending. A line's entry is made the second time
 * it is met (a patient's values are in lines met once), and kept with its
 * layout (S_layout_usage): freed when the layout cache lets the layout go. */
typedef struct S_line_usage_face {
    hb_face_t *face;
    PangoFont *font; /* the line's reference keeps it */
    uint32_t at, n;  /* in the entry's gids */
} S_line_usage_face;

typedef struct S_line_usage {
    PangoLayoutLine *line; /* a reference: no other line takes its address */
    size_t n_faces;
    S_line_usage_face *faces;
    uint16_t *gids;
} S_line_usage;

static void S_line_usage_free(S_line_usage *u)
{
    if (!u)
        return;
    if (u->line)
        pango_layout_line_unref(u->line);
    free(u->faces);
    free(u->gids);
    free(u);
}

/* The lines of one layout met so far (data of the layout object, freed
 * with it), each with its entry, or NULL when met once. */
typedef struct S_layout_line {
    PangoLayoutLine *line;
    S_line_usage *entry;
} S_layout_line;

typedef struct S_layout_usage {
    size_t n, last; /* last: where the last line looked up is (lines come in order) */
    S_layout_line *lines;
} S_layout_usage;

static void S_layout_usage_free(gpointer p)
{
    S_layout_usage *lu = p;
    for (size_t i = 0; i < lu->n; i++)
        S_line_usage_free(lu->lines[i].entry);
    free(lu->lines);
    free(lu);
}

static void S_line_entries_free(gpointer p)
{
    for (S_line_entry *e = p, *next; e; e = next) {
        next = e->next;
        if (e->line)
            pango_layout_line_unref(e->line);
        free(e->texts);
        free(e->text_bytes);
        free(e->bytes);
        free(e->refs);
        free(e->ul);
        free(e);
    }
}

struct pd_pdf_cache {
    pd_pdffont_cache *fonts;
    GHashTable *streams; /* S_stream_key * -> GBytes (deflated) */
    size_t stream_bytes;
    pd_pdf_deflater *content_z; /* at PD_PDF_LEVEL_CONTENT, made at the first stream */
    size_t stream_hits, stream_misses;
    GHashTable *seen; /* streams met once: crc32 << 32 | length (a set) */
    S_base_set *bases;
    size_t n_bases;
    S_image_entry *images;
    size_t n_images, image_bytes;
    pd_pdfmeta_icc *icc;     /* the OutputIntent's profile, read at the first PDF/A */
    pd_form_font *form_font; /* the last form's (pdfform.h), or NULL */
    GHashTable *lines;       /* PangoLayoutLine * -> S_line_entry * (a list), see S_paint_cached */
    size_t line_bytes;
    size_t line_hits, line_misses;
    GQuark usage; /* layouts' S_layout_usage (S_collect) */
    size_t usage_hits, usage_walks;
};

/* The identity of a stream's bytes: zlib's crc32 is several times faster
 * than g_bytes_hash's byte-at-a-time loop over a page of operators. */
static guint64 S_stream_id(const void *data, gsize n)
{
    return (guint64)crc32(0, data, (uInt)n) << 32 | (n & 0xffffffffu);
}

/* A kept stream's raw bytes and their identity, computed once per
 * stream (a lookup and the seen set share it). */
typedef struct S_stream_key {
    guint64 id;
    GBytes *raw;
} S_stream_key;

static guint S_stream_key_hash(gconstpointer key)
{
    return (guint)(((const S_stream_key *)key)->id >> 32);
}

static gboolean S_stream_key_equal(gconstpointer a, gconstpointer b)
{
    const S_stream_key *x = a, *y = b;
    return x->id == y->id && g_bytes_equal(x->raw, y->raw);
}

static void S_stream_key_free(gpointer key)
{
    g_bytes_unref(((S_stream_key *)key)->raw);
    g_free(key);
}

pd_pdf_cache *pd_pdf_cache_new(void)
{
    pd_pdf_cache *c = xcalloc(1, sizeof *c);
    c->fonts = pd_pdffont_cache_new();
    c->streams = g_hash_table_new_full(S_stream_key_hash, S_stream_key_equal, S_stream_key_free,
                                       (GDestroyNotify)g_bytes_unref);
    c->seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    c->lines = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, S_line_entries_free);
    c->usage = g_quark_from_static_string("pildoc-line-usage");
    return c;
}

static void S_images_clear(pd_pdf_cache *c)
{
    for (size_t i = 0; i < c->n_images; i++) {
        free(c->images[i].rgba);
        free(c->images[i].bgpx);
        g_bytes_unref(c->images[i].color);
        if (c->images[i].alpha)
            g_bytes_unref(c->images[i].alpha);
    }
    free(c->images);
    c->images = NULL;
    c->n_images = c->image_bytes = 0;
}

void pd_pdf_cache_free(pd_pdf_cache *c)
{
    if (!c)
        return;
    S_images_clear(c);
    for (size_t i = 0; i < c->n_bases; i++) {
        for (size_t f = 0; f < c->bases[i].n_faces; f++) {
            hb_face_destroy(c->bases[i].faces[f].face);
            free(c->bases[i].faces[f].gids);
        }
        free(c->bases[i].faces);
        free(c->bases[i].key);
    }
    free(c->bases);
    pd_pdfmeta_icc_free(c->icc);
    pd_pdffont_cache_free(c->fonts);
    pd_form_font_free(c->form_font);
    g_hash_table_destroy(c->streams);
    pd_pdf_deflater_free(c->content_z);
    g_hash_table_destroy(c->seen);
    g_hash_table_destroy(c->lines);
    free(c);
}

static const S_base_set *S_find_base(const pd_pdf_cache *c, const char *key)
{
    for (size_t i = 0; c && key && i < c->n_bases; i++)
        if (strcmp(c->bases[i].key, key) == 0)
            return &c->bases[i];
    return NULL;
}

void pd_pdf_cache_line_stats(const pd_pdf_cache *c, size_t *hits, size_t *misses)
{
    *hits = c->line_hits;
    *misses = c->line_misses;
}

void pd_pdf_cache_usage_stats(const pd_pdf_cache *c, size_t *hits, size_t *walks)
{
    *hits = c->usage_hits;
    *walks = c->usage_walks;
}

void pd_pdf_cache_stream_stats(const pd_pdf_cache *c, size_t *hits, size_t *misses)
{
    *hits = c->stream_hits;
    *misses = c->stream_misses;
}

bool pd_pdf_cache_has_base(const pd_pdf_cache *c, const char *key)
{
    return S_find_base(c, key) != NULL;
}

static bool S_drawable(PangoGlyph g)
{
    return g != PANGO_GLYPH_EMPTY && !(g & PANGO_GLYPH_UNKNOWN_FLAG);
}

static hb_face_t *S_face_of(PangoFont *font)
{
    return hb_font_get_face(pango_font_get_hb_font(font));
}

/* Each face's glyph set in a document, faces in order of first use. */
typedef struct S_used {
    hb_face_t *face;
    PangoFont *font; /* the first that uses it */
    hb_set_t *glyphs;
    /* the same glyphs as bits, one per glyph of the face: a glyph is met
       again and again, and hb_set_add costs more than a test */
    uint64_t *bits;
    size_t n_bits;
} S_used;

typedef struct S_usage {
    S_used *faces;
    size_t n;
} S_usage;

static S_used *S_usage_face_of(S_usage *u, hb_face_t *face, PangoFont *font)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->faces[i].face == face)
            return &u->faces[i];
    u->faces = xrealloc(u->faces, (u->n + 1) * sizeof *u->faces);
    S_used *f = &u->faces[u->n++];
    f->face = face;
    f->font = font;
    f->glyphs = hb_set_create();
    f->n_bits = hb_face_get_glyph_count(face);
    f->bits = xcalloc(f->n_bits / 64 + 1, sizeof *f->bits);
    return f;
}

static S_used *S_usage_face(S_usage *u, PangoFont *font)
{
    return S_usage_face_of(u, S_face_of(font), font);
}

static void S_used_add(S_used *f, hb_codepoint_t g)
{
    if (g < f->n_bits) {
        uint64_t bit = (uint64_t)1 << (g % 64);
        if (f->bits[g / 64] & bit)
            return;
        f->bits[g / 64] |= bit;
    }
    hb_set_add(f->glyphs, g);
}

static void S_usage_free(S_usage *u)
{
    for (size_t i = 0; i < u->n; i++) {
        hb_set_destroy(u->faces[i].glyphs);
        free(u->faces[i].bits);
    }
    free(u->faces);
}

/* Where the white space a line ends in starts (a byte index in its
 * layout's text), or -1. Pango draws none of it, so that the words either
 * side of a line break would be read as one: a tagged PDF draws one space
 * there (S_show_cluster), which shows nothing. */
static int S_trailing_space(PangoLayoutLine *line)
{
    const char *text = pango_layout_get_text(line->layout);
    int end = line->start_index + line->length, ws = end;
    while (ws > line->start_index && (text[ws - 1] == ' ' || text[ws - 1] == '\n'))
        ws--;
    if (ws - 3 >= line->start_index && memcmp(text + ws - 3, "\xe2\x80\xa8", 3) == 0)
        ws -= 3; /* a forced line break */
    return ws < end && ws > line->start_index ? ws : -1;
}

static bool S_ends_in_space(PangoLayoutLine *line)
{
    return S_trailing_space(line) >= 0;
}

/* The glyphs line draws, in the order S_collect meets them, into u. */
static void S_collect_line(PangoLayoutLine *line, S_usage *u)
{
    for (GSList *r = line->runs; r; r = r->next) {
        PangoGlyphItem *run = r->data;
        S_used *f = NULL;
        hb_codepoint_t space;
        if (!r->next && S_ends_in_space(line) &&
            hb_font_get_nominal_glyph(pango_font_get_hb_font(run->item->analysis.font), ' ',
                                      &space))
            S_used_add((f = S_usage_face(u, run->item->analysis.font)), space);
        for (int g = 0; g < run->glyphs->num_glyphs; g++) {
            PangoGlyph gl = run->glyphs->glyphs[g].glyph;
            if (!S_drawable(gl))
                continue;
            if (!f)
                f = S_usage_face(u, run->item->analysis.font);
            S_used_add(f, gl);
        }
    }
}

/* Sorts keys ascending: insertion sort, a line holds some dozens. */
static void S_sort_keys(uint32_t *k, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = k[i];
        size_t j = i;
        for (; j > 0 && k[j - 1] > v; j--)
            k[j] = k[j - 1];
        k[j] = v;
    }
}

/* The usage entry of line, walked as S_collect_line walks it; NULL for a
 * glyph id above 16 bits. */
static S_line_usage *S_line_usage_new(PangoLayoutLine *line)
{
    size_t n = 0, cap = 0, n_faces = 0;
    uint32_t *all = NULL; /* face index << 16 | glyph id */
    S_line_usage_face *faces = NULL;
    bool ok = true;
    for (GSList *r = line->runs; r; r = r->next) {
        PangoGlyphItem *run = r->data;
        PangoFont *font = run->item->analysis.font;
        hb_codepoint_t space = 0;
        bool with_space = !r->next && S_ends_in_space(line) &&
                          hb_font_get_nominal_glyph(pango_font_get_hb_font(font), ' ', &space);
        size_t face = SIZE_MAX;
        for (int g = -1; g < run->glyphs->num_glyphs; g++) {
            PangoGlyph gl = g < 0 ? space : run->glyphs->glyphs[g].glyph;
            if (g < 0 ? !with_space : !S_drawable(gl))
                continue;
            if (face == SIZE_MAX) {
                hb_face_t *f = S_face_of(font);
                for (face = 0; face < n_faces && faces[face].face != f; face++)
                    ;
                if (face == n_faces) {
                    faces = xrealloc(faces, (n_faces + 1) * sizeof *faces);
                    faces[n_faces++] = (S_line_usage_face){f, font, 0, 0};
                }
            }
            ok &= gl <= UINT16_MAX && face <= UINT16_MAX;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                all = xrealloc(all, cap * sizeof *all);
            }
            all[n++] = (uint32_t)face << 16 | (gl & 0xffff);
        }
    }
    S_sort_keys(all, n);
    S_line_usage *e = xcalloc(1, sizeof *e);
    e->n_faces = n_faces;
    e->faces = faces;
    e->gids = xmalloc((n + 1) * sizeof *e->gids);
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && all[i] == all[i - 1])
            continue;
        uint32_t face = all[i] >> 16;
        if (!i || face != all[i - 1] >> 16)
            faces[face].at = k;
        faces[face].n++;
        e->gids[k++] = (uint16_t)(all[i] & 0xffff);
    }
    free(all);
    if (!ok) {
        S_line_usage_free(e);
        return NULL;
    }
    e->line = pango_layout_line_ref(line);
    return e;
}

/* The line's usage entry, kept with its layout from the second time the
 * line is met; NULL the first time, for a line without a layout, or for a
 * glyph id above 16 bits (then the caller walks the line). */
static const S_line_usage *S_line_usage_of(pd_pdf_cache *c, PangoLayoutLine *line)
{
    if (!line->layout)
        return NULL;
    S_layout_usage *lu = g_object_get_qdata(G_OBJECT(line->layout), c->usage);
    if (!lu) {
        lu = xcalloc(1, sizeof *lu);
        g_object_set_qdata_full(G_OBJECT(line->layout), c->usage, lu, S_layout_usage_free);
    }
    for (size_t k = 0; k < lu->n; k++) {
        size_t i = (lu->last + k) % lu->n;
        if (lu->lines[i].line == line) {
            lu->last = i + 1;
            if (!lu->lines[i].entry)
                lu->lines[i].entry = S_line_usage_new(line);
            return lu->lines[i].entry;
        }
    }
    lu->lines = xrealloc(lu->lines, (lu->n + 1) * sizeof *lu->lines);
    lu->lines[lu->n++] = (S_layout_line){line, NULL};
    return NULL;
}

/* Each face's glyphs in the pages, faces in order of first use. With a
 * cache, from its lines' usage entries. */
static void S_collect(const pd_pages *pages, S_usage *u, pd_pdf_cache *cache)
{
    for (size_t p = 0; p < pages->n_pages; p++)
        for (size_t i = 0; i < pages->pages[p].n_items; i++) {
            const pd_item *it = &pages->pages[p].items[i];
            if (it->kind != PD_ITEM_LINE || !it->line)
                continue;
            const S_line_usage *e = cache ? S_line_usage_of(cache, it->line) : NULL;
            if (cache)
                ++*(e ? &cache->usage_hits : &cache->usage_walks);
            if (!e) {
                S_collect_line(it->line, u);
                continue;
            }
            for (size_t k = 0; k < e->n_faces; k++) {
                const S_line_usage_face *lf = &e->faces[k];
                S_used *f = S_usage_face_of(u, lf->face, lf->font);
                for (uint32_t g = lf->at; g < lf->at + lf->n; g++)
                    S_used_add(f, e->gids[g]);
            }
        }
}

void pd_pdf_cache_set_base(pd_pdf_cache *c, const char *key, const pd_pages *blank)
{
    if (pd_pdf_cache_has_base(c, key))
        return;
    S_usage u = {0};
    if (blank)
        S_collect(blank, &u, NULL);
    c->bases = xrealloc(c->bases, (c->n_bases + 1) * sizeof *c->bases);
    S_base_set *b = &c->bases[c->n_bases++];
    b->key = xstrdup(key);
    b->n_faces = u.n;
    b->faces = xcalloc(u.n + 1, sizeof *b->faces);
    for (size_t i = 0; i < u.n; i++) {
        S_base *f = &b->faces[i];
        f->face = hb_face_reference(u.faces[i].face);
        f->n = hb_set_get_population(u.faces[i].glyphs);
        f->gids = xmalloc((f->n + 1) * sizeof *f->gids);
        hb_codepoint_t g = HB_SET_VALUE_INVALID;
        size_t k = 0;
        while (hb_set_next(u.faces[i].glyphs, &g))
            f->gids[k++] = g;
    }
    S_usage_free(&u);
}

static bool S_has(const uint32_t *gids, size_t n, uint32_t gid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (gids[mid] < gid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && gids[lo] == gid;
}

/* One embedded font of the document: a subset, its object (the resource
 * name is /F<index + 1>). */
typedef struct S_font {
    const pd_pdffont *sub;
    uint32_t obj;
    hb_face_t *face;
    bool base; /* the face's base subset (else its extra one) */
} S_font;

/* What painting needs of each glyph the document uses: looked up once. */
typedef struct S_glyph {
    int font;        /* index into S_doc.fonts */
    uint32_t code;   /* in that font */
    double width;    /* 1/1000 em, as in its /W */
    char *text;      /* of a one-glyph cluster it shows, for ToUnicode; or NULL */
    size_t text_len; /* strlen(text) */
} S_glyph;

static void S_glyph_set_text(S_glyph *g, const char *text, size_t len)
{
    g->text = g_strndup(text, (gsize)len);
    g->text_len = strlen(g->text);
}

/* Whether g's text is not the len bytes at text (or g has none): the
 * cluster then carries its text as /ActualText. */
static bool S_glyph_text_differs(const S_glyph *g, const char *text, size_t len)
{
    return !g->text || g->text_len != len || memcmp(g->text, text, len) != 0;
}

/* A face's glyphs in a document, by glyph id: open addressing, looked up
 * for every glyph painted (GHashTable's calls were 5 % of a batch). */
typedef struct S_glyph_map {
    uint32_t *keys; /* gid + 1; 0 empty */
    S_glyph *values;
    size_t mask;
} S_glyph_map;

static void S_glyph_map_init(S_glyph_map *m, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    m->keys = xcalloc(cap, sizeof *m->keys);
    m->values = xcalloc(cap, sizeof *m->values);
    m->mask = cap - 1;
}

static void S_glyph_map_free(S_glyph_map *m)
{
    for (size_t i = 0; m->keys && i <= m->mask; i++)
        if (m->keys[i])
            g_free(m->values[i].text);
    free(m->keys);
    free(m->values);
}

/* The glyph's entry; with `add`, a new zeroed one if missing, else NULL. */
static S_glyph *S_glyph_at(const S_glyph_map *m, uint32_t gid, bool add)
{
    size_t i = ((size_t)gid * 2654435761u) & m->mask;
    while (m->keys[i]) {
        if (m->keys[i] == gid + 1)
            return &m->values[i];
        i = (i + 1) & m->mask;
    }
    if (!add)
        return NULL;
    m->keys[i] = gid + 1;
    return &m->values[i];
}

typedef struct S_face_fonts {
    hb_face_t *face;
    int base, extra;    /* index into S_doc.fonts, or -1 */
    const S_base *bset; /* the base glyph set of the base subset, or NULL */
    S_glyph_map glyphs;
} S_face_fonts;

/* Size and underline metrics of a Pango font, looked up once a document. */
typedef struct S_pfont {
    PangoFont *font;
    double size;                      /* points */
    double ul_position, ul_thickness; /* points, Pango's sign: above the baseline */
    S_face_fonts *ff;
} S_pfont;

/* An image XObject of the document (resource name /Im<index + 1>). */
typedef struct S_xobj {
    int width, height;
    GBytes *color, *alpha; /* references: the cache may drop the entry meanwhile */
    uint32_t obj, smask;   /* smask 0: none */
} S_xobj;

typedef struct S_doc {
    pd_pdf_cache *cache;
    pd_pdfobj *w;
    double height;
    S_xobj *xobjs;
    size_t n_xobjs;
    S_font *fonts;
    size_t n_fonts;
    S_face_fonts *faces;
    size_t n_faces;
    S_pfont *pfonts;
    size_t n_pfonts;
    GChecksum *id;    /* over the Info values and the pages' content */
    bool archival;    /* PDF/A-1b (not --plain): CIDSets, no transparency */
    pd_pdftags *tags; /* marked content and structure tree; NULL: untagged (--plain) */
    /* current graphics state of the content being written */
    double fill[3], stroke[3];
    int font; /* -1: none set yet in this page's text state */
    double size, rise;
    double tc; /* character spacing (Tc), points: text state, 0 at a page's start */
} S_doc;

static S_face_fonts *S_face_fonts_of(S_doc *d, hb_face_t *face)
{
    for (size_t i = 0; i < d->n_faces; i++)
        if (d->faces[i].face == face)
            return &d->faces[i];
    return NULL;
}

static S_pfont *S_pfont_of(S_doc *d, PangoFont *font)
{
    for (size_t i = 0; i < d->n_pfonts; i++)
        if (d->pfonts[i].font == font)
            return &d->pfonts[i];
    d->pfonts = xrealloc(d->pfonts, (d->n_pfonts + 1) * sizeof *d->pfonts);
    S_pfont *p = &d->pfonts[d->n_pfonts++];
    p->font = font;
    PangoFontDescription *desc = pango_font_describe_with_absolute_size(font);
    p->size = (double)pango_font_description_get_size(desc) / PANGO_SCALE;
    pango_font_description_free(desc);
    /* the underline as Pango's metrics give it (pangofc-font.c, in Pango
       units), read from the font: pango_font_get_metrics would also lay out
       a sample sentence and the digits in a context of its own (another
       dozen font patterns, 1.5 ms of a fresh Chinese render) for widths
       not used here */
    hb_font_t *hb = pango_font_get_hb_font(font);
    hb_position_t v = 0;
    int ul_position = hb_ot_metrics_get_position(hb, HB_OT_METRICS_TAG_UNDERLINE_OFFSET, &v) && v
                          ? (int)v
                          : -PANGO_SCALE;
    v = 0;
    int ul_thickness = hb_ot_metrics_get_position(hb, HB_OT_METRICS_TAG_UNDERLINE_SIZE, &v) && v
                           ? (int)v
                           : PANGO_SCALE;
    p->ul_position = (double)ul_position / PANGO_SCALE;
    p->ul_thickness = (double)ul_thickness / PANGO_SCALE;
    p->ff = S_face_fonts_of(d, S_face_of(font));
    return p;
}

/* Calls fn(cluster's first glyph index, glyph count, text, length) for
 * each cluster of a run, in glyph order. */
typedef void (*S_cluster_fn)(void *ctx, PangoGlyphItem *run, int first, int count, const char *text,
                             int len);

static void S_clusters(PangoLayoutLine *line, PangoGlyphItem *run, S_cluster_fn fn, void *ctx)
{
    const char *text = pango_layout_get_text(line->layout) + run->item->offset;
    const int *lc = run->glyphs->log_clusters;
    int n = run->glyphs->num_glyphs, len = run->item->length;
    bool rtl = run->item->analysis.level % 2;
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && lc[j] == lc[i])
            j++;
        int end = rtl ? (i > 0 ? lc[i - 1] : len) : (j < n ? lc[j] : len);
        if (end < lc[i])
            end = lc[i];
        fn(ctx, run, i, j - i, text + lc[i], end - lc[i]);
        i = j;
    }
}

/* The document's fonts: per face, a base subset and an extra one. */
static bool S_make_fonts(S_doc *d, const S_usage *u, const S_base_set *base, pd_error *err)
{
    d->faces = xcalloc(u->n + 1, sizeof *d->faces);
    d->fonts = xcalloc(2 * u->n + 1, sizeof *d->fonts);
    for (size_t i = 0; i < u->n; i++) {
        S_face_fonts *ff = &d->faces[d->n_faces++];
        ff->face = u->faces[i].face;
        if (PANGO_IS_FC_FONT(u->faces[i].font)) {
            FcPattern *pat = pango_fc_font_get_pattern(PANGO_FC_FONT(u->faces[i].font));
            FcChar8 *file = NULL;
            int index = 0;
            if (FcPatternGetString(pat, FC_FILE, 0, &file) == FcResultMatch) {
                FcPatternGetInteger(pat, FC_INDEX, 0, &index);
                pd_pdffont_set_file(d->cache->fonts, ff->face, (const char *)file, (unsigned)index);
            }
        }
        ff->base = ff->extra = -1;
        S_glyph_map_init(&ff->glyphs, hb_set_get_population(u->faces[i].glyphs));
        const S_base *b = NULL;
        for (size_t k = 0; base && k < base->n_faces; k++)
            if (base->faces[k].face == ff->face)
                b = &base->faces[k];
        size_t n = hb_set_get_population(u->faces[i].glyphs), n_extra = 0;
        uint32_t *extra = xmalloc((n + 1) * sizeof *extra);
        bool any_base = false;
        hb_codepoint_t g = HB_SET_VALUE_INVALID;
        while (hb_set_next(u->faces[i].glyphs, &g)) {
            if (b && S_has(b->gids, b->n, g))
                any_base = true;
            else
                extra[n_extra++] = g;
        }
        const uint32_t *sets[2] = {any_base ? b->gids : NULL, n_extra ? extra : NULL};
        size_t counts[2] = {any_base ? b->n : 0, n_extra};
        int *slots[2] = {&ff->base, &ff->extra};
        for (int k = 0; k < 2; k++) {
            if (!sets[k])
                continue;
            const pd_pdffont *sub =
                pd_pdffont_get(d->cache->fonts, ff->face, sets[k], counts[k], k == 0, err);
            if (!sub) {
                free(extra);
                return false;
            }
            *slots[k] = (int)d->n_fonts;
            S_font *f = &d->fonts[d->n_fonts++];
            f->sub = sub;
            f->face = ff->face;
            f->base = k == 0;
            if (k == 0)
                ff->bset = b;
        }
        free(extra);
        g = HB_SET_VALUE_INVALID;
        while (hb_set_next(u->faces[i].glyphs, &g)) {
            S_glyph *sg = S_glyph_at(&ff->glyphs, g, true);
            const pd_pdffont *base_sub = ff->base >= 0 ? d->fonts[ff->base].sub : NULL;
            sg->font = base_sub && S_has(base_sub->gids, base_sub->n, g) ? ff->base : ff->extra;
            sg->code = pd_pdffont_code(d->fonts[sg->font].sub, g);
            sg->width = pd_pdffont_face_width(d->cache->fonts, ff->face, g);
        }
    }
    return true;
}

static void S_color(strbuf *c, const double rgb[3], double cur[3], const char *op)
{
    if (cur[0] == rgb[0] && cur[1] == rgb[1] && cur[2] == rgb[2])
        return;
    for (int i = 0; i < 3; i++) {
        pd_pdf_real(c, rgb[i], 3);
        strbuf_append_char(c, ' ');
        cur[i] = rgb[i];
    }
    strbuf_append(c, op);
    strbuf_append_char(c, '\n');
}

static void S_rect(strbuf *c, double x, double y, double w, double h)
{
    pd_pdf_real(c, x, 3);
    strbuf_append_char(c, ' ');
    pd_pdf_real(c, y, 3);
    strbuf_append_char(c, ' ');
    pd_pdf_real(c, w, 3);
    strbuf_append_char(c, ' ');
    pd_pdf_real(c, h, 3);
    strbuf_append(c, " re");
}

static void S_point(strbuf *c, double x, double y, const char *op)
{
    pd_pdf_real(c, x, 3);
    strbuf_append_char(c, ' ');
    pd_pdf_real(c, y, 3);
    strbuf_append_char(c, ' ');
    strbuf_append(c, op);
}

/* What painting a line records for its cache entry (S_line_entry). */
typedef struct S_rec {
    bool ok; /* every glyph a base glyph, at most LINE_MAX_FACES faces */
    S_line_entry *e;
    size_t texts_cap, refs_cap;
    strbuf text_bytes;
} S_rec;

static int S_rec_face(S_rec *r, const S_doc *d, int font)
{
    const S_font *f = &d->fonts[font];
    if (!f->base) {
        r->ok = false;
        return -1;
    }
    S_line_entry *e = r->e;
    for (size_t i = 0; i < e->n_faces; i++)
        if (e->faces[i] == f->face)
            return (int)i;
    if (e->n_faces == LINE_MAX_FACES) {
        r->ok = false;
        return -1;
    }
    S_face_fonts *ff = S_face_fonts_of((S_doc *)d, f->face);
    e->faces[e->n_faces] = f->face;
    e->bases[e->n_faces] = ff->bset;
    return (int)e->n_faces++;
}

static void S_rec_text(S_rec *r, const S_doc *d, int font, uint32_t gid, const char *text,
                       size_t len, bool space, bool settable, bool actual)
{
    int face = S_rec_face(r, d, font);
    if (face < 0)
        return;
    S_line_entry *e = r->e;
    /* the same text of the same glyph again decides the same */
    for (size_t i = 0; i < e->n_texts; i++) {
        const S_line_text *x = &e->texts[i];
        if (x->gid == gid && x->face == face && x->space == space && x->len == len &&
            memcmp(r->text_bytes.data + x->at, text, len) == 0)
            return;
    }
    if (e->n_texts == r->texts_cap) {
        r->texts_cap = r->texts_cap ? 2 * r->texts_cap : 32;
        e->texts = xrealloc(e->texts, r->texts_cap * sizeof *e->texts);
    }
    e->texts[e->n_texts++] = (S_line_text){
        gid, (uint32_t)r->text_bytes.len, (uint32_t)len, (uint8_t)face, space, settable, actual};
    strbuf_append_len(&r->text_bytes, text, len);
}

static void S_rec_ref(S_rec *r, const S_doc *d, int font, size_t at, size_t len)
{
    int face = S_rec_face(r, d, font);
    if (face < 0)
        return;
    S_line_entry *e = r->e;
    if (e->n_refs == r->refs_cap) {
        r->refs_cap = r->refs_cap ? 2 * r->refs_cap : 8;
        e->refs = xrealloc(e->refs, r->refs_cap * sizeof *e->refs);
    }
    e->refs[e->n_refs++] = (S_line_ref){at, (uint8_t)len, (uint8_t)face};
}

/* Writing one line's glyphs: a TJ array open or not, the pen position
 * the PDF viewer will have (from /W), relative to the line's start. */
typedef struct S_text {
    S_doc *d;
    S_rec *rec; /* recording for the line cache, or NULL */
    strbuf *c;
    const S_pfont *pf; /* of the run being written */
    const char *base;  /* the line's layout's text */
    /* tagged: where the white space the line ends in starts (not drawn, so
       the last cluster before it carries it as /ActualText: words on two
       lines are read apart); or NULL */
    const char *trail_at;
    const char *lang; /* tagged: the language of the run's text, NULL: the document's */
    PangoGlyph space; /* tagged: the space glyph drawn at trail_at, or 0 */
    bool whole;       /* tagged, marked as a whole (not in parts) */
    bool retry;       /* it must be marked in parts instead: painted again */
    bool in_tj, in_str;
    double pen; /* where the viewer's pen is, points from the line start */
    double x;   /* where Pango's pen is */
} S_text;

static void S_tj_close(S_text *t)
{
    if (t->in_str)
        strbuf_append_char(t->c, ')');
    if (t->in_tj)
        strbuf_append(t->c, "]TJ\n");
    t->in_tj = t->in_str = false;
}

static void S_show_cluster(void *ctx, PangoGlyphItem *run, int first, int count, const char *text,
                           int len)
{
    S_text *t = ctx;
    S_doc *d = t->d;
    strbuf *c = t->c;
    const S_pfont *pf = t->pf;
    const S_glyph_map *glyphs = &pf->ff->glyphs;
    /* a cluster whose glyph does not map back to its text by ToUnicode
       (ligature parts, marks, a hyphen for a soft hyphen, an ellipsis)
       carries its text as /ActualText, so that copying and searching give
       the real words */
    bool actual = false, drawn = false;
    for (int i = first; i < first + count; i++)
        drawn |= S_drawable(run->glyphs->glyphs[i].glyph);
    if (len > 0 && drawn) {
        S_glyph *g0 =
            count == 1 ? S_glyph_at(glyphs, run->glyphs->glyphs[first].glyph, false) : NULL;
        /* the first one-glyph cluster a glyph shows gives its ToUnicode
           text; a glyph standing for more text than a ligature (Pango's
           ellipsis for the text it elides) is left to /ActualText: readers
           drop long ToUnicode entries */
        bool settable = g_utf8_strlen(text, len) <= 4;
        if (g0 && !g0->text && settable)
            S_glyph_set_text(g0, text, (size_t)len);
        actual = !g0 || S_glyph_text_differs(g0, text, (size_t)len);
        if (g0 && t->rec)
            S_rec_text(t->rec, d, g0->font, run->glyphs->glyphs[first].glyph, text, (size_t)len,
                       false, settable, actual);
    }
    /* the white space a tagged line ends in: one space glyph */
    PangoGlyphInfo space = {0};
    if (!drawn && t->trail_at == text && t->space) {
        S_glyph *sg = S_glyph_at(glyphs, t->space, false);
        if (sg && !sg->text)
            S_glyph_set_text(sg, " ", 1);
        if (sg && t->rec)
            S_rec_text(t->rec, d, sg->font, t->space, " ", 1, true, true, false);
        space.glyph = sg ? t->space : 0;
        drawn = sg != NULL;
    }
    if (t->retry)
        return;
    if (t->whole && actual) {
        t->retry = true; /* marked content of its own: the line is marked in parts */
        return;
    }
    if (pd_pdftags_in_text(d->tags) && drawn) {
        /* tagged: the text's parts, this cluster's own with its text */
        int index = (int)(text - t->base);
        if (pd_pdftags_text_split(d->tags, index, t->lang, actual)) {
            S_tj_close(t);
            char *s = actual ? g_strndup(text, (gsize)len) : NULL;
            pd_pdftags_text_open(d->tags, c, index, t->lang, s);
            g_free(s);
        }
        actual = false;
    }
    if (actual) {
        S_tj_close(t);
        char *s = g_strndup(text, (gsize)len);
        strbuf_append(c, "/Span<</ActualText");
        pd_pdf_text_string(c, s);
        strbuf_append(c, ">>BDC\n");
        g_free(s);
    }
    for (int i = first; i < first + count + (space.glyph ? 1 : 0); i++) {
        PangoGlyphInfo *gi = i < first + count ? &run->glyphs->glyphs[i] : &space;
        double gx = t->x + (double)gi->geometry.x_offset / PANGO_SCALE;
        double rise = -(double)gi->geometry.y_offset / PANGO_SCALE;
        t->x += (double)gi->geometry.width / PANGO_SCALE;
        if (!S_drawable(gi->glyph))
            continue;
        const S_glyph *sg = S_glyph_at(glyphs, gi->glyph, false);
        if (t->rec && !d->fonts[sg->font].base)
            t->rec->ok = false;
        if (sg->font != d->font || pf->size != d->size) {
            S_tj_close(t);
            strbuf_append_len(c, "/F", 2);
            size_t at = c->len;
            pd_pdf_int(c, sg->font + 1);
            if (t->rec)
                S_rec_ref(t->rec, d, sg->font, at, c->len - at);
            strbuf_append_char(c, ' ');
            pd_pdf_real(c, pf->size, 3);
            strbuf_append_len(c, " Tf\n", 4);
            d->font = sg->font;
            d->size = pf->size;
        }
        if (rise != d->rise) {
            S_tj_close(t);
            pd_pdf_real(c, rise, 3);
            strbuf_append_len(c, " Ts\n", 4);
            d->rise = rise;
        }
        if (!t->in_tj)
            strbuf_append_char(c, '[');
        t->in_tj = true;
        /* TJ numbers move the pen left, in 1/1000 of the font size; a
           drift under one unit (0.01 pt at 10 pt) waits to be corrected */
        double adj = round(-(gx - t->pen) * 1000.0 / pf->size);
        if (adj != 0) {
            if (t->in_str)
                strbuf_append_char(c, ')');
            t->in_str = false;
            pd_pdf_int(c, (long)adj);
            t->pen -= adj * pf->size / 1000.0;
        }
        if (!t->in_str)
            strbuf_append_char(c, '(');
        t->in_str = true;
        /* the 2-byte code, inside a literal string */
        for (int shift = 8; shift >= 0; shift -= 8) {
            char byte = (char)((sg->code >> shift) & 0xff);
            if (byte == '(' || byte == ')' || byte == '\\')
                strbuf_append_char(c, '\\');
            else if (byte == '\r') {
                strbuf_append_char(c, '\\');
                byte = 'r';
            }
            strbuf_append_char(c, byte);
        }
        t->pen += sg->width * pf->size / 1000.0 + d->tc;
    }
    if (actual) {
        S_tj_close(t);
        strbuf_append_len(c, "EMC\n", 4);
    }
}

/* The spacing most of a line's glyphs carry beyond their advance, in
 * 1/1000 pt: a justified Chinese line spreads its extra space over every
 * glyph. Written once as Tc, it spares a TJ number between each pair of
 * glyphs (6-8% of a Chinese leaflet); the pen still follows Pango's
 * positions, so any other gap remains a TJ number. 0 when no spacing is
 * common to at least four glyphs. */
static long S_line_spacing(S_doc *d, PangoLayoutLine *line)
{
    long vals[8] = {0};
    int counts[8] = {0};
    size_t n_vals = 0;
    for (GSList *r = line->runs; r; r = r->next) {
        PangoGlyphItem *run = r->data;
        const S_pfont *pf = S_pfont_of(d, run->item->analysis.font);
        for (int i = 0; i < run->glyphs->num_glyphs; i++) {
            const PangoGlyphInfo *gi = &run->glyphs->glyphs[i];
            if (!S_drawable(gi->glyph))
                continue;
            const S_glyph *sg = S_glyph_at(&pf->ff->glyphs, gi->glyph, false);
            if (!sg)
                continue;
            double gap = (double)gi->geometry.width / PANGO_SCALE - sg->width * pf->size / 1000.0;
            long v = lround(gap * 1000.0);
            size_t k = 0;
            while (k < n_vals && vals[k] != v)
                k++;
            if (k == n_vals) {
                if (n_vals == 8)
                    continue;
                vals[n_vals++] = v;
            }
            counts[k]++;
        }
    }
    size_t best = 0;
    for (size_t k = 1; k < n_vals; k++)
        if (counts[k] > counts[best])
            best = k;
    return n_vals && counts[best] >= 4 ? vals[best] : 0;
}

/* The underlines of a line at (x, y), y down like pd_item. */
static void S_underlines(S_doc *d, strbuf *c, const pd_item *it, const S_underline *ul, size_t n)
{
    if (n)
        pd_pdftags_after_line(d->tags, c);
    for (size_t i = 0; i < n; i++) {
        double top = it->y - ul[i].position;
        S_rect(c, it->x + ul[i].start, d->height - top - ul[i].thickness, ul[i].w, ul[i].thickness);
        strbuf_append(c, " f\n");
    }
}

/* The identity of the document's font `font` (-1: none) in a line
 * entry's terms. */
static void S_font_identity(const S_doc *d, int font, hb_face_t **face, bool *base)
{
    *face = font >= 0 ? d->fonts[font].face : NULL;
    *base = font >= 0 && d->fonts[font].base;
}

/* Paints line `it` from the cache when it was painted before in the same
 * context; false when it was not (nothing written then, though the
 * glyphs' texts may have been set as painting the line sets them). */
static bool S_paint_cached(S_doc *d, strbuf *c, const pd_item *it, bool tagged)
{
    S_line_entry *e = g_hash_table_lookup(d->cache->lines, it->line);
    hb_face_t *in_face;
    bool in_base;
    S_font_identity(d, d->font, &in_face, &in_base);
    S_face_fonts *ff[LINE_MAX_FACES];
    for (; e; e = e->next) {
        if (e->tagged != tagged || e->in_face != in_face || e->in_base != in_base ||
            e->in_size != d->size)
            continue;
        size_t k = 0;
        while (k < e->n_faces && (ff[k] = S_face_fonts_of(d, e->faces[k])) && ff[k]->base >= 0 &&
               ff[k]->bset == e->bases[k])
            k++;
        if (k == e->n_faces)
            break;
    }
    if (!e)
        return false;
    /* the texts the line gives its glyphs, and its /ActualText decisions */
    for (size_t i = 0; i < e->n_texts; i++) {
        const S_line_text *x = &e->texts[i];
        const char *text = e->text_bytes + x->at;
        S_glyph *g = S_glyph_at(&ff[x->face]->glyphs, x->gid, false);
        if (!g)
            return false;
        if (x->space) {
            if (!g->text)
                S_glyph_set_text(g, " ", 1);
            continue;
        }
        if (!g->text && x->settable)
            S_glyph_set_text(g, text, x->len);
        bool actual = S_glyph_text_differs(g, text, x->len);
        if (actual != x->actual)
            return false;
    }
    S_color(c, it->rgb, d->fill, "rg");
    if (e->spacing != d->tc) {
        pd_pdf_real(c, e->spacing, 3);
        strbuf_append(c, " Tc\n");
        d->tc = e->spacing;
    }
    strbuf_append(c, "BT\n");
    S_point(c, it->x, d->height - it->y, "Td\n");
    size_t from = 0;
    for (size_t i = 0; i < e->n_refs; i++) {
        strbuf_append_len(c, e->bytes + from, e->refs[i].at - from);
        pd_pdf_int(c, ff[e->refs[i].face]->base + 1);
        from = e->refs[i].at;
    }
    strbuf_append_len(c, e->bytes + from, e->n_bytes - from);
    if (e->out_face >= 0)
        d->font = ff[e->out_face]->base;
    d->size = e->out_size;
    d->rise = e->out_rise;
    strbuf_append(c, "ET\n");
    S_underlines(d, c, it, e->ul, e->n_ul);
    return true;
}

/* Keeps what painting line `it` recorded (bytes c[from, to)). */
static void S_line_keep(S_doc *d, const strbuf *c, const pd_item *it, S_rec *r, size_t from,
                        size_t to)
{
    S_line_entry *e = r->e;
    pd_pdf_cache *cache = d->cache;
    e->n_bytes = to - from;
    for (size_t i = 0; i < e->n_refs; i++)
        e->n_bytes -= e->refs[i].len;
    e->bytes = xmalloc(e->n_bytes + 1);
    size_t at = from, n = 0;
    for (size_t i = 0; i < e->n_refs; i++) {
        memcpy(e->bytes + n, c->data + at, e->refs[i].at - at);
        n += e->refs[i].at - at;
        at = e->refs[i].at + e->refs[i].len;
        e->refs[i].at = n;
        e->refs[i].len = 0;
    }
    memcpy(e->bytes + n, c->data + at, to - at);
    size_t cost = sizeof *e + e->n_bytes + e->n_texts * sizeof *e->texts +
                  e->n_refs * sizeof *e->refs + e->n_ul * sizeof *e->ul + r->text_bytes.len + 64;
    e->text_bytes = strbuf_take(&r->text_bytes);
    if (cache->line_bytes + cost > LINE_CACHE_MAX_BYTES) {
        g_hash_table_remove_all(cache->lines);
        cache->line_bytes = 0;
    }
    e->line = pango_layout_line_ref(it->line);
    e->next = g_hash_table_lookup(cache->lines, it->line);
    g_hash_table_steal(cache->lines, it->line);
    g_hash_table_insert(cache->lines, it->line, e);
    cache->line_bytes += cost;
    r->e = NULL;
}

static void S_paint_line(S_doc *d, strbuf *c, const pd_item *it)
{
    PangoLayoutLine *line = it->line;
    if (!line)
        return;
    bool tagged = d->tags && it->tag;
    /* a line marked in parts is not kept: its marked content is the
       document's (MCIDs) */
    bool cacheable = !pd_pdftags_in_text(d->tags);
    if (cacheable && S_paint_cached(d, c, it, tagged)) {
        d->cache->line_hits++;
        return;
    }
    /* what a repaint in parts (t.retry below) must start again from: the
       text state set so far on the page (font, size) is part of it */
    size_t mark = c->len;
    double fill[3];
    memcpy(fill, d->fill, sizeof fill);
    int font = d->font;
    double size = d->size, tc = d->tc;
    S_rec rec = {0};
    if (cacheable) {
        d->cache->line_misses++;
        rec.ok = true;
        rec.e = xcalloc(1, sizeof *rec.e);
        rec.e->tagged = tagged;
        S_font_identity(d, d->font, &rec.e->in_face, &rec.e->in_base);
        rec.e->in_size = d->size;
    }
    S_color(c, it->rgb, d->fill, "rg");
    double spacing = (double)S_line_spacing(d, line) / 1000.0;
    if (spacing != d->tc) {
        pd_pdf_real(c, spacing, 3);
        strbuf_append(c, " Tc\n"); /* text state, like the font: outlives BT/ET */
        d->tc = spacing;
    }
    /* Td from the identity text matrix BT sets; the font and size are
       text state, which outlives the text object: set once per page (see
       S_render_pdf) unless they change */
    strbuf_append(c, "BT\n");
    S_point(c, it->x, d->height - it->y, "Td\n");
    size_t from = c->len;
    d->rise = 0;
    S_text t = {0};
    t.d = d;
    t.c = c;
    t.rec = rec.e ? &rec : NULL;
    t.base = pango_layout_get_text(line->layout);
    t.whole = tagged && !pd_pdftags_in_text(d->tags);
    int trail = tagged ? S_trailing_space(line) : -1;
    if (trail >= 0)
        t.trail_at = t.base + trail;
    S_underline ul[LINE_MAX_UNDERLINES];
    size_t n_ul = 0;
    for (GSList *r = line->runs; r && !t.retry; r = r->next) {
        PangoGlyphItem *run = r->data;
        double start = t.x;
        t.pf = S_pfont_of(d, run->item->analysis.font);
        /* a value's text in another script than the document's (a Chinese
           name in a French sheet): its language */
        t.lang = pd_pdftags_run_language(
            d->tags, it, run->item->analysis.script,
            run->item->analysis.language ? pango_language_to_string(run->item->analysis.language)
                                         : NULL);
        hb_codepoint_t space = 0;
        if (!r->next && t.trail_at &&
            hb_font_get_nominal_glyph(pango_font_get_hb_font(run->item->analysis.font), ' ',
                                      &space))
            t.space = space;
        S_clusters(line, run, S_show_cluster, &t);
        for (GSList *a = run->item->analysis.extra_attrs; a; a = a->next) {
            PangoAttribute *attr = a->data;
            if (attr->klass->type != PANGO_ATTR_UNDERLINE ||
                ((PangoAttrInt *)attr)->value == PANGO_UNDERLINE_NONE ||
                n_ul == LINE_MAX_UNDERLINES)
                continue;
            const S_pfont *pf = S_pfont_of(d, run->item->analysis.font);
            ul[n_ul++] = (S_underline){start, t.x - start, pf->ul_position, pf->ul_thickness};
        }
    }
    if (t.retry) {
        /* a cluster needs marked content of its own: the line again, in
           parts (painting it twice gives the same glyphs and state) */
        S_line_entries_free(rec.e);
        strbuf_free(&rec.text_bytes);
        c->len = mark;
        c->data[mark] = '\0';
        memcpy(d->fill, fill, sizeof fill);
        d->font = font;
        d->size = size;
        d->tc = tc;
        pd_pdftags_in_parts(d->tags, c, it);
        S_paint_line(d, c, it);
        return;
    }
    S_tj_close(&t);
    if (d->rise != 0)
        strbuf_append(c, "0 Ts\n"); /* text state outlives the text object */
    if (rec.e && rec.ok) {
        S_line_entry *e = rec.e;
        e->spacing = spacing;
        e->out_face = e->n_refs ? e->refs[e->n_refs - 1].face : -1;
        e->out_size = d->size;
        e->out_rise = d->rise;
        if (n_ul) {
            e->ul = xmalloc(n_ul * sizeof *ul);
            memcpy(e->ul, ul, n_ul * sizeof *ul);
        }
        e->n_ul = n_ul;
        S_line_keep(d, c, it, &rec, from, c->len);
    }
    S_line_entries_free(rec.e);
    strbuf_free(&rec.text_bytes);
    pd_pdftags_line_close(d->tags, c);
    strbuf_append(c, "ET\n");
    S_underlines(d, c, it, ul, n_ul);
}

/* ---- images ----
 * An image is an XObject of 8-bit DeviceRGB samples. Where it is drawn on
 * one flat colour (the white page, or one box's background covering it),
 * its transparency is composited onto that colour when it is written: the
 * same pixels as drawing it with an alpha channel, and no transparency in
 * the file (PDF/A-1 forbids it). An image over several colours is
 * composited pixel by pixel onto the rectangles painted under it in a
 * PDF/A file (S_background_pixels), and keeps its alpha as an /SMask with
 * --plain. */

/* The flat colour under the item at index `at` of the page, from what was
 * painted before it (0-255 in bg); false when it is not one colour. */
static bool S_flat_background(const pd_page *page, size_t at, unsigned char bg[3])
{
    const pd_item *im = &page->items[at];
    double rgb[3] = {1, 1, 1};
    for (size_t i = 0; i < at; i++) {
        const pd_item *it = &page->items[i];
        if (it->kind == PD_ITEM_LINE)
            continue; /* text beside the image, not under it */
        bool overlaps = it->x < im->x + im->w && im->x < it->x + it->w && it->y < im->y + im->h &&
                        im->y < it->y + it->h;
        if (!overlaps)
            continue;
        bool covers = it->x <= im->x && it->y <= im->y && it->x + it->w >= im->x + im->w &&
                      it->y + it->h >= im->y + im->h;
        if (it->kind != PD_ITEM_RECT || !covers)
            return false;
        memcpy(rgb, it->rgb, sizeof rgb);
    }
    for (int k = 0; k < 3; k++)
        bg[k] = (unsigned char)lround(fmin(fmax(rgb[k], 0), 1) * 255);
    return true;
}

/* The colour under each pixel's centre of the image item at `at` (width x
 * height RGB, rows top to bottom), from the white page and the rectangles
 * painted before it (boxes, tints). Tick boxes' strokes and text are thin
 * and not taken into account. Freed by the caller. */
static unsigned char *S_background_pixels(const pd_page *page, size_t at)
{
    const pd_item *im = &page->items[at];
    int W = im->image->width, H = im->image->height;
    unsigned char *px = xmalloc((size_t)W * (size_t)H * 3 + 1);
    memset(px, 255, (size_t)W * (size_t)H * 3);
    for (size_t i = 0; i < at; i++) {
        const pd_item *it = &page->items[i];
        if (it->kind != PD_ITEM_RECT)
            continue;
        /* the pixels whose centre lies in the rectangle */
        double x0 = ceil((it->x - im->x) * W / im->w - 0.5),
               x1 = ceil((it->x + it->w - im->x) * W / im->w - 0.5),
               y0 = ceil((it->y - im->y) * H / im->h - 0.5),
               y1 = ceil((it->y + it->h - im->y) * H / im->h - 0.5);
        x0 = fmax(x0, 0);
        y0 = fmax(y0, 0);
        x1 = fmin(x1, W);
        y1 = fmin(y1, H);
        unsigned char rgb[3];
        for (int k = 0; k < 3; k++)
            rgb[k] = (unsigned char)lround(fmin(fmax(it->rgb[k], 0), 1) * 255);
        for (int y = (int)y0; y < (int)y1; y++)
            for (int x = (int)x0; x < (int)x1; x++)
                memcpy(px + ((size_t)y * (size_t)W + (size_t)x) * 3, rgb, 3);
    }
    return px;
}

static GBytes *S_deflated(const unsigned char *data, size_t len)
{
    strbuf z = STRBUF_INIT;
    pd_pdf_deflate(&z, data, len, PD_PDF_LEVEL_SHARED);
    size_t n = z.len;
    return g_bytes_new_take(strbuf_take(&z), n);
}

/* The cached form of image `im` put on `bg`, or on the colours `under`
 * its pixels (S_background_pixels); both NULL: with an /SMask. */
static const S_image_entry *S_image_entry_of(pd_pdf_cache *c, const pd_image *im,
                                             const unsigned char *bg, const unsigned char *under)
{
    size_t n_px = (size_t)im->width * (size_t)im->height;
    for (size_t i = 0; i < c->n_images; i++) {
        const S_image_entry *e = &c->images[i];
        if (e->width != im->width || e->height != im->height ||
            memcmp(e->rgba, im->rgba, n_px * 4) != 0)
            continue;
        if (e->opaque || (bg      ? e->flatten && !e->bgpx && memcmp(e->bg, bg, 3) == 0
                          : under ? e->bgpx && memcmp(e->bgpx, under, n_px * 3) == 0
                                  : !e->flatten))
            return e;
    }
    if (c->image_bytes + n_px * 8 > IMAGE_CACHE_MAX_BYTES)
        S_images_clear(c);
    S_image_entry e = {im->width, im->height, xmalloc(n_px * 4 + 1), true, false, {0}, NULL, 0,
                       0,         0};
    memcpy(e.rgba, im->rgba, n_px * 4);
    for (size_t p = 0; p < n_px && e.opaque; p++)
        e.opaque = im->rgba[p * 4 + 3] == 255;
    e.flatten = !e.opaque && (bg || under);
    if (e.flatten && bg)
        memcpy(e.bg, bg, 3);
    if (e.flatten && !bg) {
        e.bgpx = xmalloc(n_px * 3 + 1);
        memcpy(e.bgpx, under, n_px * 3);
    }
    unsigned char *rgb = xmalloc(n_px * 3 + 1);
    unsigned char *alpha = !e.opaque && !e.flatten ? xmalloc(n_px + 1) : NULL;
    for (size_t p = 0; p < n_px; p++) {
        const unsigned char *px = im->rgba + p * 4;
        unsigned a = px[3];
        const unsigned char *b = e.bgpx ? e.bgpx + p * 3 : e.bg;
        for (int k = 0; k < 3; k++)
            rgb[p * 3 + k] =
                e.flatten ? (unsigned char)((px[k] * a + b[k] * (255 - a) + 127) / 255) : px[k];
        if (alpha)
            alpha[p] = (unsigned char)a;
    }
    e.sum = (uint32_t)crc32(0, rgb, (uInt)(n_px * 3));
    e.color = S_deflated(rgb, n_px * 3);
    if (alpha) {
        e.sum = (uint32_t)crc32(e.sum, alpha, (uInt)n_px);
        e.alpha = S_deflated(alpha, n_px);
    }
    free(rgb);
    free(alpha);
    c->images = xrealloc(c->images, (c->n_images + 1) * sizeof *c->images);
    c->images[c->n_images] = e;
    c->image_bytes += n_px * 4 + (e.bgpx ? n_px * 3 : 0) + g_bytes_get_size(e.color) +
                      (e.alpha ? g_bytes_get_size(e.alpha) : 0);
    return &c->images[c->n_images++];
}

static void S_paint_image_item(S_doc *d, strbuf *c, const pd_page *page, size_t at)
{
    const pd_item *it = &page->items[at];
    const pd_image *im = it->image;
    if (!im || im->width <= 0 || im->height <= 0 || it->w <= 0 || it->h <= 0)
        return;
    unsigned char bg[3];
    bool flat = S_flat_background(page, at, bg);
    /* PDF/A-1 has no transparency: composited onto what is under it */
    unsigned char *under = !flat && d->archival ? S_background_pixels(page, at) : NULL;
    const S_image_entry *e = S_image_entry_of(d->cache, im, flat ? bg : NULL, under);
    free(under);
    size_t k = 0;
    while (k < d->n_xobjs && d->xobjs[k].color != e->color)
        k++;
    if (k == d->n_xobjs) {
        d->xobjs = xrealloc(d->xobjs, (d->n_xobjs + 1) * sizeof *d->xobjs);
        d->xobjs[k] = (S_xobj){e->width,
                               e->height,
                               g_bytes_ref(e->color),
                               e->alpha ? g_bytes_ref(e->alpha) : NULL,
                               pd_pdfobj_reserve(d->w),
                               e->alpha ? pd_pdfobj_reserve(d->w) : 0};
        d->n_xobjs++;
        g_checksum_update(d->id, (const guchar *)&e->sum, sizeof e->sum);
    }
    strbuf_append(c, "q ");
    pd_pdf_real(c, it->w, 3);
    strbuf_append(c, " 0 0 ");
    pd_pdf_real(c, it->h, 3);
    strbuf_append_char(c, ' ');
    S_point(c, it->x, d->height - it->y - it->h, "cm /Im");
    pd_pdf_int(c, (long)k + 1);
    strbuf_append(c, " Do Q\n");
}

static void S_write_image(pd_pdfobj *w, const S_xobj *x)
{
    char dict[128];
    gsize n = 0;
    const void *data;
    if (x->smask) {
        snprintf(dict, sizeof dict,
                 "/Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceGray"
                 "/BitsPerComponent 8",
                 x->width, x->height);
        data = g_bytes_get_data(x->alpha, &n);
        pd_pdfobj_stream_deflated(w, x->smask, dict, data, n);
    }
    int len = snprintf(dict, sizeof dict,
                       "/Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceRGB"
                       "/BitsPerComponent 8",
                       x->width, x->height);
    if (x->smask)
        snprintf(dict + len, sizeof dict - (size_t)len, "/SMask %u 0 R", x->smask);
    data = g_bytes_get_data(x->color, &n);
    pd_pdfobj_stream_deflated(w, x->obj, dict, data, n);
}

/* Every kind of page item is painted here: a new kind is one more case
 * (the compiler warns about a kind without one). */
static void S_paint_item(S_doc *d, strbuf *c, const pd_page *page, size_t at)
{
    const pd_item *it = &page->items[at];
    switch (it->kind) {
    case PD_ITEM_LINE: S_paint_line(d, c, it); break;
    case PD_ITEM_RECT:
        S_color(c, it->rgb, d->fill, "rg");
        S_rect(c, it->x, d->height - it->y - it->h, it->w, it->h);
        strbuf_append(c, " f\n");
        break;
    case PD_ITEM_BOX:
        S_color(c, it->rgb, d->stroke, "RG");
        strbuf_append(c, "0.8 w ");
        S_rect(c, it->x, d->height - it->y - it->h, it->w, it->h);
        strbuf_append(c, " S\n");
        if (it->checked) {
            strbuf_append(c, "1.4 w ");
            S_point(c, it->x + it->w * 0.18, d->height - (it->y + it->h * 0.55), "m ");
            S_point(c, it->x + it->w * 0.42, d->height - (it->y + it->h * 0.80), "l ");
            S_point(c, it->x + it->w * 0.85, d->height - (it->y + it->h * 0.18), "l S\n");
        }
        break;
    case PD_ITEM_IMAGE: S_paint_image_item(d, c, page, at); break;
    }
}

/* UTF-8 text as UTF-16BE hex digits (no brackets, no byte order mark). */
static void S_utf16_hex(strbuf *out, const char *text)
{
    static const char digits[] = "0123456789abcdef";
    for (const char *p = text; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        unsigned units[2] = {c, 0};
        int n = 1;
        if (c >= 0x10000) {
            units[0] = 0xd800 + ((c - 0x10000) >> 10);
            units[1] = 0xdc00 + ((c - 0x10000) & 0x3ff);
            n = 2;
        }
        for (int i = 0; i < n; i++) {
            char hex[4] = {digits[(units[i] >> 12) & 15], digits[(units[i] >> 8) & 15],
                           digits[(units[i] >> 4) & 15], digits[units[i] & 15]};
            strbuf_append_len(out, hex, 4);
        }
    }
}

typedef struct S_mapping {
    uint32_t code;
    const char *text;
} S_mapping;

static int S_by_code(const void *a, const void *b)
{
    uint32_t x = ((const S_mapping *)a)->code, y = ((const S_mapping *)b)->code;
    return x < y ? -1 : x > y;
}

/* The character of a text that is one BMP character (not a surrogate),
 * else 0. */
static uint32_t S_bmp_char(const char *text)
{
    gunichar c = g_utf8_get_char(text);
    if (!*text || *g_utf8_next_char(text) || c >= 0x10000 || (c >= 0xD800 && c < 0xE000))
        return 0;
    return c;
}

/* "<hhhh>": a 16-bit value as four lowercase hex digits. */
static void S_hex4(strbuf *out, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char hex[6] = {
        '<', digits[(v >> 12) & 15], digits[(v >> 8) & 15], digits[(v >> 4) & 15], digits[v & 15],
        '>'};
    strbuf_append_len(out, hex, 6);
}

/* The ToUnicode CMap of font `font`: the text of each of its glyphs the
 * document shows (from one-glyph clusters), in code order. */
static void S_tounicode(strbuf *out, const S_doc *d, int font)
{
    strbuf_append(out, "/CIDInit/ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                       "/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n"
                       "/CMapName/Adobe-Identity-UCS def\n/CMapType 2 def\n"
                       "1 begincodespacerange\n<0000><ffff>\nendcodespacerange\n");
    /* the font's glyphs are its face's, each in the subset: taken in the
       subset's order, their codes ascend (sorted otherwise) */
    const S_font *sf = &d->fonts[font];
    const S_face_fonts *ff = S_face_fonts_of((S_doc *)d, sf->face);
    S_mapping *map = xmalloc((sf->sub->n + 1) * sizeof *map);
    size_t n = 0;
    bool ascending = true;
    for (size_t i = 0; ff && i < sf->sub->n; i++) {
        const S_glyph *g = S_glyph_at(&ff->glyphs, sf->sub->gids[i], false);
        if (!g || g->font != font || !g->text)
            continue;
        ascending &= n == 0 || g->code > map[n - 1].code;
        map[n++] = (S_mapping){g->code, g->text};
    }
    if (n && !ascending)
        qsort(map, n, sizeof *map, S_by_code);
    /* runs of consecutive codes showing consecutive characters (one BMP
       character each, within one last byte) are written as ranges: 0.4 KB
       less per leaflet, deflated */
    size_t *run = xmalloc((n + 1) * sizeof *run); /* the run's length at its start */
    size_t n_single = 0, n_ranges = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        uint32_t c = S_bmp_char(map[i].text);
        while (c && j < n && map[j].code == map[j - 1].code + 1 &&
               (map[j].code >> 8) == (map[i].code >> 8) && S_bmp_char(map[j].text) == c + (j - i))
            j++;
        run[i] = j - i;
        if (j - i > 1)
            n_ranges++;
        else
            n_single++;
        i = j;
    }
    for (size_t i = 0, done = 0; i < n; i += run[i]) {
        if (run[i] > 1)
            continue;
        if (done % 100 == 0) {
            size_t m = n_single - done < 100 ? n_single - done : 100;
            pd_pdf_int(out, (long)m);
            strbuf_append(out, " beginbfchar\n");
        }
        /* "<%04x><" without snprintf: codes are two bytes */
        static const char digits[] = "0123456789abcdef";
        uint32_t c = map[i].code;
        char hex[7] = {'<',
                       digits[(c >> 12) & 15],
                       digits[(c >> 8) & 15],
                       digits[(c >> 4) & 15],
                       digits[c & 15],
                       '>',
                       '<'};
        strbuf_append_len(out, hex, 7);
        S_utf16_hex(out, map[i].text);
        strbuf_append_len(out, ">\n", 2);
        if (++done % 100 == 0 || done == n_single)
            strbuf_append(out, "endbfchar\n");
    }
    for (size_t i = 0, done = 0; i < n; i += run[i]) {
        if (run[i] == 1)
            continue;
        if (done % 100 == 0) {
            size_t m = n_ranges - done < 100 ? n_ranges - done : 100;
            pd_pdf_int(out, (long)m);
            strbuf_append(out, " beginbfrange\n");
        }
        uint32_t v[3] = {map[i].code, map[i].code + (uint32_t)run[i] - 1, S_bmp_char(map[i].text)};
        for (int k = 0; k < 3; k++)
            S_hex4(out, v[k]);
        strbuf_append_char(out, '\n');
        if (++done % 100 == 0 || done == n_ranges)
            strbuf_append(out, "endbfrange\n");
    }
    free(run);
    free(map);
    strbuf_append(out, "endcmap\nCMapName currentdict/CMap defineresource pop\nend\nend\n");
}

/* Object num as a stream of raw's bytes, deflated once per worker: a
 * stream is kept the second time it is met, so that the pages of one
 * patient (a running header with the name makes every page of a filled
 * consent unique) do not push out those that repeat (a leaflet's pages). */
static void S_stream(pd_pdfobj *w, pd_pdf_cache *cache, uint32_t num, const char *dict,
                     const strbuf *raw)
{
    const char *bytes = raw->data ? raw->data : "";
    S_stream_key key = {S_stream_id(bytes, raw->len), g_bytes_new_static(bytes, raw->len)};
    GBytes *z = g_hash_table_lookup(cache->streams, &key);
    g_bytes_unref(key.raw);
    bool own = false;
    if (z) {
        cache->stream_hits++;
    } else {
        cache->stream_misses++;
        if (!cache->content_z)
            cache->content_z = pd_pdf_deflater_new(PD_PDF_LEVEL_CONTENT);
        strbuf out = STRBUF_INIT;
        pd_pdf_deflate_with(cache->content_z, &out, bytes, raw->len);
        size_t n = out.len;
        z = g_bytes_new_take(strbuf_take(&out), n);
        if (g_hash_table_contains(cache->seen, &key.id)) {
            S_stream_key *kept = g_new(S_stream_key, 1);
            kept->id = key.id;
            kept->raw = g_bytes_new(bytes, raw->len);
            g_hash_table_insert(cache->streams, kept, z);
            cache->stream_bytes += raw->len + n;
        } else {
            if (g_hash_table_size(cache->seen) >= STREAM_SEEN_MAX)
                g_hash_table_remove_all(cache->seen);
            guint64 *key_id = g_new(guint64, 1);
            *key_id = key.id;
            g_hash_table_add(cache->seen, key_id);
            own = true;
        }
    }
    gsize n = 0;
    const void *data = g_bytes_get_data(z, &n);
    pd_pdfobj_stream_deflated(w, num, dict, data, n);
    if (own)
        g_bytes_unref(z);
}

static void S_write_font(pd_pdfobj *w, const S_doc *d, int index)
{
    const S_font *f = &d->fonts[index];
    const pd_pdffont *sub = f->sub;
    pd_pdffont_objects o = {.font = f->obj};
    o.cid = pd_pdfobj_reserve(w);
    o.descriptor = pd_pdfobj_reserve(w);
    o.file = pd_pdfobj_reserve(w);
    o.tounicode = pd_pdfobj_reserve(w);
    /* PDF/A-1 asks every CID font subset for the set of its CIDs */
    o.cidset = d->archival ? pd_pdfobj_reserve(w) : 0;
    pd_pdffont_write_dicts(w, &o, sub->base_font, sub->cff, &sub->widths, &sub->descriptor);
    if (o.cidset)
        pd_pdfobj_stream_deflated(w, o.cidset, "", sub->cidset.data, sub->cidset.len);
    pd_pdffont_write_program(w, o.file, sub->cff, &sub->program, sub->program_len);
    strbuf cmap = STRBUF_INIT;
    S_tounicode(&cmap, d, index);
    S_stream(w, d->cache, o.tounicode, "", &cmap);
    strbuf_free(&cmap);
}

/* The outline: level-1 headings at the top, level-2 ones under the
 * previous level-1 heading; every entry open. */
typedef struct S_entry {
    const pd_item *it;
    size_t page;
    uint32_t obj;
    int parent; /* index, or -1 for the root */
    int first, last, prev, next, count;
} S_entry;

static uint32_t S_write_outline(pd_pdfobj *w, const pd_pages *pages, const uint32_t *page_objs)
{
    S_entry *e = NULL;
    int n = 0, top = -1;
    for (size_t p = 0; p < pages->n_pages; p++)
        for (size_t i = 0; i < pages->pages[p].n_items; i++) {
            const pd_item *it = &pages->pages[p].items[i];
            if (!it->outline_level || !it->outline_text)
                continue;
            e = xrealloc(e, (size_t)(n + 1) * sizeof *e);
            e[n] = (S_entry){it, p, 0, it->outline_level == 1 ? -1 : top, -1, -1, -1, -1, 0};
            if (it->outline_level == 1)
                top = n;
            n++;
        }
    if (!n)
        return 0;
    uint32_t root = pd_pdfobj_reserve(w);
    int root_first = -1, root_last = -1, root_count = 0;
    for (int i = 0; i < n; i++) {
        e[i].obj = pd_pdfobj_reserve(w);
        int par = e[i].parent;
        int *first = par < 0 ? &root_first : &e[par].first,
            *last = par < 0 ? &root_last : &e[par].last;
        if (*last >= 0) {
            e[*last].next = i;
            e[i].prev = *last;
        } else {
            *first = i;
        }
        *last = i;
        /* every entry is open: each counts in all its ancestors */
        root_count++;
        for (int a = par; a >= 0; a = e[a].parent)
            e[a].count++;
    }
    strbuf *o = w->out;
    pd_pdfobj_begin(w, root);
    strbuf_printf(o, "<</Type/Outlines/First %u 0 R/Last %u 0 R/Count %d>>", e[root_first].obj,
                  e[root_last].obj, root_count);
    pd_pdfobj_end(w);
    for (int i = 0; i < n; i++) {
        pd_pdfobj_begin(w, e[i].obj);
        strbuf_append(o, "<</Title");
        pd_pdf_text_string(o, e[i].it->outline_text);
        strbuf_printf(o, "/Parent %u 0 R", e[i].parent < 0 ? root : e[e[i].parent].obj);
        if (e[i].prev >= 0)
            strbuf_printf(o, "/Prev %u 0 R", e[e[i].prev].obj);
        if (e[i].next >= 0)
            strbuf_printf(o, "/Next %u 0 R", e[e[i].next].obj);
        if (e[i].first >= 0)
            strbuf_printf(o, "/First %u 0 R/Last %u 0 R/Count %d", e[e[i].first].obj,
                          e[e[i].last].obj, e[i].count);
        strbuf_printf(o, "/Dest[%u 0 R/XYZ ", page_objs[e[i].page]);
        double top_y = e[i].it->y - 16 > 0 ? e[i].it->y - 16 : 0;
        S_point(o, e[i].it->x, pages->paper.height - top_y, "0]>>");
        pd_pdfobj_end(w);
    }
    free(e);
    return root;
}

static void S_doc_free(S_doc *d)
{
    for (size_t i = 0; i < d->n_faces; i++)
        S_glyph_map_free(&d->faces[i].glyphs);
    free(d->fonts);
    free(d->faces);
    free(d->pfonts);
    for (size_t i = 0; i < d->n_xobjs; i++) {
        g_bytes_unref(d->xobjs[i].color);
        if (d->xobjs[i].alpha)
            g_bytes_unref(d->xobjs[i].alpha);
    }
    free(d->xobjs);
    if (d->id)
        g_checksum_free(d->id);
}

/* The font a form's typed values are written in: made from the
 * document's body face (regular, from the context its lines were laid
 * out with), kept in the cache for the next form. NULL with err set. */
static const pd_form_font *S_form_font(const pd_pages *pages, pd_pdf_cache *cache, pd_error *err)
{
    PangoContext *ctx = NULL;
    for (size_t p = 0; p < pages->n_pages && !ctx; p++)
        for (size_t i = 0; i < pages->pages[p].n_items && !ctx; i++) {
            const pd_item *it = &pages->pages[p].items[i];
            if (it->kind == PD_ITEM_LINE && it->line && it->line->layout)
                ctx = pango_layout_get_context(it->line->layout);
        }
    const char *lang = pages->lang_tag ? pages->lang_tag : "en";
    PangoFont *font = NULL;
    if (ctx) {
        PangoFontDescription *fd = pango_font_description_from_string(pd_fonts_families(lang));
        pango_font_description_set_absolute_size(fd, 10 * PANGO_SCALE);
        font = pango_context_load_font(ctx, fd);
        pango_font_description_free(fd);
    }
    FcChar8 *file = NULL;
    int index = 0;
    if (font && PANGO_IS_FC_FONT(font)) {
        FcPattern *pat = pango_fc_font_get_pattern(PANGO_FC_FONT(font));
        if (FcPatternGetString(pat, FC_FILE, 0, &file) == FcResultMatch)
            FcPatternGetInteger(pat, FC_INDEX, 0, &index);
    }
    if (!file) {
        if (font)
            g_object_unref(font);
        pd_error_set(err, NULL, 0, "PDF output failed: no font for the form's fields");
        return NULL;
    }
    if (!pd_form_font_is(cache->form_font, (const char *)file, (unsigned)index, lang)) {
        pd_form_font_free(cache->form_font);
        cache->form_font = pd_form_font_new((const char *)file, (unsigned)index, lang, err);
    }
    g_object_unref(font);
    return cache->form_font;
}

static bool S_render_pdf(const pd_pages *pages, const pd_pdf_info *info, bool with_form,
                         pd_pdf_cache *cache, const char *base_key, strbuf *out, pd_error *err)
{
    pd_pdffont_cache_trim(cache->fonts);
    if (cache->stream_bytes > STREAM_CACHE_MAX_BYTES) {
        g_hash_table_remove_all(cache->streams);
        cache->stream_bytes = 0;
    }
    S_doc d = {0};
    d.cache = cache;
    d.height = pages->paper.height;
    d.id = g_checksum_new(G_CHECKSUM_MD5);
    d.archival = !info->plain;
    if (d.archival && !cache->icc) {
        cache->icc = pd_pdfmeta_icc_load(PILDOC_ICC_PROFILE, err);
        if (!cache->icc) {
            S_doc_free(&d);
            return false;
        }
    }
    S_usage u = {0};
    S_collect(pages, &u, cache);
    bool ok = S_make_fonts(&d, &u, S_find_base(cache, base_key), err);
    S_usage_free(&u);
    if (!ok) {
        S_doc_free(&d);
        return false;
    }
    pd_pdfobj w;
    pd_pdfobj_init(&w, out);
    d.w = &w;
    d.tags = info->plain ? NULL : pd_pdftags_new(pages, &w);
    uint32_t catalog = pd_pdfobj_reserve(&w), page_tree = pd_pdfobj_reserve(&w),
             resources = pd_pdfobj_reserve(&w), info_obj = pd_pdfobj_reserve(&w);
    uint32_t *page_objs = xcalloc(pages->n_pages + 1, sizeof *page_objs);
    for (size_t p = 0; p < pages->n_pages; p++)
        page_objs[p] = pd_pdfobj_reserve(&w);
    for (size_t i = 0; i < d.n_fonts; i++)
        d.fonts[i].obj = pd_pdfobj_reserve(&w);
    pd_form *form = with_form ? pd_form_new(pages, &w) : NULL;
    if (form)
        g_checksum_update(d.id, (const guchar *)"form", 4);

    strbuf *o = out;
    strbuf content = STRBUF_INIT;
    for (size_t p = 0; p < pages->n_pages; p++) {
        const pd_page *page = &pages->pages[p];
        uint32_t contents = pd_pdfobj_reserve(&w);
        strbuf_clear(&content);
        for (int k = 0; k < 3; k++)
            d.fill[k] = d.stroke[k] = 0; /* the PDF default: black */
        d.font = -1;                     /* no font yet in this page's text state */
        d.tc = 0;
        d.size = 0;
        for (size_t i = 0; i < page->n_items; i++) {
            pd_pdftags_item(d.tags, &content, p, &page->items[i]);
            S_paint_item(&d, &content, page, i);
        }
        pd_pdftags_page_end(d.tags, &content);
        /* the page's form widgets in the structure tree, in tab order */
        size_t n_widgets = 0;
        const pd_form_widget *widgets = pd_form_page_widgets(form, p, &n_widgets);
        for (size_t k = 0; k < n_widgets; k++)
            pd_pdftags_widget(d.tags, p, &page->items[widgets[k].item], widgets[k].obj);
        /* the file identifier: from each page's checksum, not its bytes */
        uint32_t sum[2] = {(uint32_t)crc32(0, (const Bytef *)content.data, (uInt)content.len),
                           (uint32_t)content.len};
        g_checksum_update(d.id, (const guchar *)sum, sizeof sum);
        pd_pdfobj_begin(&w, page_objs[p]);
        strbuf_printf(o, "<</Type/Page/Parent %u 0 R/MediaBox[0 0 ", page_tree);
        S_point(o, pages->paper.width, pages->paper.height, "]");
        strbuf_printf(o, "/Resources %u 0 R/Contents %u 0 R", resources, contents);
        pd_pdftags_page_entries(d.tags, o, p);
        /* links (tags) and form fields share the page's annotations */
        strbuf annots = STRBUF_INIT;
        pd_pdftags_page_annots(d.tags, p, &annots);
        pd_form_page_annots(form, p, &annots);
        if (annots.len)
            strbuf_printf(o, "/Annots[%s]", annots.data + 1);
        if (annots.len || d.tags)
            strbuf_append(o, "/Tabs/S");
        strbuf_free(&annots);
        strbuf_append(o, ">>");
        pd_pdfobj_end(&w);
        S_stream(&w, cache, contents, "", &content);
    }
    strbuf_free(&content);

    pd_pdfobj_begin(&w, page_tree);
    strbuf_append(o, "<</Type/Pages/Kids[");
    for (size_t p = 0; p < pages->n_pages; p++)
        strbuf_printf(o, "%s%u 0 R", p ? " " : "", page_objs[p]);
    strbuf_printf(o, "]/Count %zu>>", pages->n_pages);
    pd_pdfobj_end(&w);

    pd_pdfobj_begin(&w, resources);
    strbuf_append(o, "<</Font<<");
    for (size_t i = 0; i < d.n_fonts; i++)
        strbuf_printf(o, "/F%zu %u 0 R", i + 1, d.fonts[i].obj);
    strbuf_append(o, ">>");
    if (d.n_xobjs) {
        strbuf_append(o, "/XObject<<");
        for (size_t i = 0; i < d.n_xobjs; i++)
            strbuf_printf(o, "/Im%zu %u 0 R", i + 1, d.xobjs[i].obj);
        strbuf_append(o, ">>");
    }
    strbuf_append(o, ">>");
    pd_pdfobj_end(&w);
    for (size_t i = 0; i < d.n_fonts; i++)
        S_write_font(&w, &d, (int)i);
    for (size_t i = 0; i < d.n_xobjs; i++)
        S_write_image(&w, &d.xobjs[i]);

    uint32_t outline = S_write_outline(&w, pages, page_objs);
    pd_pdftags_write(d.tags, page_objs);
    size_t n_widgets = 0;
    const pd_form_widget *widgets = pd_form_widgets(form, &n_widgets);
    for (size_t k = 0; k < n_widgets; k++)
        pd_form_set_struct_parent(form, widgets[k].obj,
                                  pd_pdftags_widget_key(d.tags, widgets[k].obj));

    /* the date resolved once: the Info dictionary and the XMP agree */
    char date[32];
    pd_pdfmeta_info meta = {pages->title,          pages->subject,
                            pages->author,         pages->lang_tag,
                            info->creator,         pd_pdfmeta_resolve_date(info->create_date, date),
                            info->pdfua || d.tags, pages->also_tag,
                            pages->title2,         pages->subject2};
    pd_pdfobj_begin(&w, info_obj);
    strbuf_append(o, "<<");
    size_t info_at = o->len;
    pd_pdfmeta_info_entries(o, &meta);
    /* the file identifier covers the document information (values,
       dates) and whether the file is PDF/A */
    g_checksum_update(d.id, (const guchar *)o->data + info_at, (gssize)(o->len - info_at));
    g_checksum_update(d.id, (const guchar *)(d.archival ? "A" : "P"), 1);
    strbuf_append(o, ">>");
    pd_pdfobj_end(&w);

    uint32_t acroform = 0;
    if (form) {
        const pd_form_font *ff = S_form_font(pages, cache, err);
        acroform = ff ? pd_form_write(form, &w, page_objs, ff) : 0;
        pd_form_free(form);
        if (!acroform) {
            free(page_objs);
            S_doc_free(&d);
            pd_pdfobj_free(&w);
            return false;
        }
    }

    /* Entries of the catalog beyond pages, outline and language: the
       structure tree (/StructTreeRoot, /MarkInfo) and forms (/AcroForm)
       append theirs here. */
    strbuf catalog_extra = STRBUF_INIT;
    if (acroform)
        strbuf_printf(&catalog_extra, "/AcroForm %u 0 R", acroform);
    pd_pdftags_catalog_entries(d.tags, &catalog_extra);
    if (d.archival)
        pd_pdfmeta_write_archival(&w, &meta, cache->icc, &catalog_extra);
    /* the catalog comes last, so that everything above can add to it */
    pd_pdfmeta_catalog cat = {page_tree, outline, pages->lang_tag, &catalog_extra};
    pd_pdfmeta_write_catalog(&w, catalog, &cat);
    strbuf_free(&catalog_extra);

    unsigned char id[16];
    gsize id_len = sizeof id;
    g_checksum_get_digest(d.id, id, &id_len);
    free(page_objs);
    pd_pdftags_free(d.tags);
    S_doc_free(&d);
    if (!pd_pdfobj_finish(&w, catalog, info_obj, id))
        return pd_error_set(err, NULL, 0, "PDF output failed: an object was not written");
    return true;
}

static bool S_render_pdf_any(const pd_pages *pages, const pd_pdf_info *info, bool with_form,
                             pd_pdf_cache *cache, const char *base_key, strbuf *out, pd_error *err)
{
    if (cache)
        return S_render_pdf(pages, info, with_form, cache, base_key, out, err);
    pd_pdf_cache *tmp = pd_pdf_cache_new();
    bool ok = S_render_pdf(pages, info, with_form, tmp, NULL, out, err);
    pd_pdf_cache_free(tmp);
    return ok;
}

bool pd_render_pdf(const pd_pages *pages, const pd_pdf_info *info, pd_pdf_cache *cache,
                   const char *base_key, strbuf *out, pd_error *err)
{
    return S_render_pdf_any(pages, info, false, cache, base_key, out, err);
}

bool pd_render_pdf_form(const pd_pages *pages, const pd_pdf_info *info, pd_pdf_cache *cache,
                        const char *base_key, strbuf *out, pd_error *err)
{
    return S_render_pdf_any(pages, info, true, cache, base_key, out, err);
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
