#include "glyphwarm.h"

#include <cairo-ft.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-font.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diskcache.h"
#include "strbuf.h"

/* The list, a diskcache payload (numbers big-endian):
 *   u32 number of fonts, then each font: u32 length, its description (the
 *   fontconfig pattern as text without charset and languages, a NUL, then
 *   the font matrix and the CTM as 12 IEEE doubles and the font options'
 *   antialias, subpixel order, hint style and hint metrics as 4 u32);
 *   u32 number of glyphs, then each: u32 font index << 16 | glyph id,
 *   in the order the layouts first showed them. */
#define S_FORMAT "pildoc glyphwarm 1"
#define S_MAX_LIST ((size_t)4 << 20)
#define S_MAX_FONTS 256
#define S_NUMBERS (12 * 8 + 4 * 4)

struct pd_glyphwarm {
    char *dir, *file; /* NULL file: no list can be kept */
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    unsigned char *list; /* the payload read, or NULL */
    size_t list_len;
    size_t list_fonts;                       /* how many fonts it names */
    const uint8_t *list_glyphs;              /* its glyph count and glyphs, in list */
    cairo_scaled_font_t *fonts[S_MAX_FONTS]; /* made from the list, one reference each */
    size_t n_fonts;
    size_t glyphs; /* measured */
    bool threaded, joined;
    pthread_t thread;
    atomic_bool stop;
};

static uint64_t S_double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double S_bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* The cairo font a description names (NULL when it cannot be made). */
static cairo_scaled_font_t *S_font_of(const unsigned char *desc, size_t len)
{
    const unsigned char *nul = memchr(desc, 0, len);
    if (!nul || (size_t)(desc + len - (nul + 1)) != S_NUMBERS)
        return NULL;
    FcPattern *pattern = FcNameParse(desc);
    if (!pattern)
        return NULL;
    const uint8_t *p = nul + 1;
    double m[12];
    for (size_t i = 0; i < 12; i++, p += 8)
        m[i] = S_bits_double(pd_diskcache_get64(p));
    uint32_t o[4];
    for (size_t i = 0; i < 4; i++, p += 4)
        o[i] = pd_diskcache_get32(p);
    cairo_font_face_t *face = cairo_ft_font_face_create_for_pattern(pattern);
    FcPatternDestroy(pattern);
    cairo_matrix_t fm, ctm;
    cairo_matrix_init(&fm, m[0], m[1], m[2], m[3], m[4], m[5]);
    cairo_matrix_init(&ctm, m[6], m[7], m[8], m[9], m[10], m[11]);
    cairo_font_options_t *opts = cairo_font_options_create();
    cairo_font_options_set_antialias(opts, (cairo_antialias_t)o[0]);
    cairo_font_options_set_subpixel_order(opts, (cairo_subpixel_order_t)o[1]);
    cairo_font_options_set_hint_style(opts, (cairo_hint_style_t)o[2]);
    cairo_font_options_set_hint_metrics(opts, (cairo_hint_metrics_t)o[3]);
    cairo_scaled_font_t *sf = cairo_scaled_font_create(face, &fm, &ctm, opts);
    cairo_font_options_destroy(opts);
    cairo_font_face_destroy(face); /* the scaled font holds it */
    if (cairo_scaled_font_status(sf) != CAIRO_STATUS_SUCCESS) {
        cairo_scaled_font_destroy(sf);
        return NULL;
    }
    return sf;
}

/* Reads the list and measures its glyphs, until told to stop. */
static void S_warm(pd_glyphwarm *w)
{
    size_t len = 0;
    w->list = pd_diskcache_read(w->file, w->key, S_MAX_LIST, &len);
    w->list_len = w->list ? len : 0;
    if (!w->list || w->list_len < 4)
        return;
    const uint8_t *p = w->list, *end = w->list + w->list_len;
    uint32_t n_fonts = pd_diskcache_get32(p);
    p += 4;
    if (n_fonts > S_MAX_FONTS)
        return;
    cairo_scaled_font_t *made[S_MAX_FONTS] = {0};
    for (uint32_t i = 0; i < n_fonts; i++) {
        if (end - p < 4 || (size_t)(end - p - 4) < pd_diskcache_get32(p))
            return;
        size_t dlen = pd_diskcache_get32(p);
        made[i] = S_font_of(p + 4, dlen);
        if (made[i])
            w->fonts[w->n_fonts++] = made[i];
        p += 4 + dlen;
    }
    if (end - p < 4)
        return;
    w->list_fonts = n_fonts;
    w->list_glyphs = p;
    uint32_t n = pd_diskcache_get32(p);
    p += 4;
    for (uint32_t i = 0; i < n && end - p >= 4 && !atomic_load(&w->stop); i++, p += 4) {
        uint32_t v = pd_diskcache_get32(p);
        if ((v >> 16) >= n_fonts || !made[v >> 16])
            continue;
        cairo_glyph_t g = {v & 0xffff, 0, 0};
        cairo_text_extents_t ext;
        cairo_scaled_font_glyph_extents(made[v >> 16], &g, 1, &ext);
        w->glyphs++;
    }
}

static void *S_thread(void *arg)
{
    S_warm(arg);
    return NULL;
}

pd_glyphwarm *pd_glyphwarm_start(const char *cache_dir, const char *what, bool thread)
{
    if (!cache_dir)
        return NULL;
    pd_glyphwarm *w = xcalloc(1, sizeof *w);
    atomic_init(&w->stop, false);
    w->joined = true;
    pd_diskcache_key k;
    pd_diskcache_key_init(&k, S_FORMAT);
    pd_diskcache_key_add_str(&k, what);
    bool keyed = pd_diskcache_key_add_object(&k, NULL); /* pildoc's own build */
    pd_diskcache_key_end(&k, w->key);
    if (!keyed)
        return w;
    w->dir = xstrdup(cache_dir);
    w->file = pd_diskcache_path(cache_dir, "warm", w->key, ".glyphs");
    if (thread && pthread_create(&w->thread, NULL, S_thread, w) == 0) {
        w->threaded = true;
        w->joined = false;
    } else {
        S_warm(w);
    }
    return w;
}

static void S_join(pd_glyphwarm *w)
{
    if (!w->joined) {
        pthread_join(w->thread, NULL);
        w->joined = true;
    }
}

void pd_glyphwarm_wait(pd_glyphwarm *w)
{
    if (w)
        S_join(w);
}

size_t pd_glyphwarm_glyphs(const pd_glyphwarm *w)
{
    return w ? w->glyphs : 0;
}

bool pd_glyphwarm_threaded(const pd_glyphwarm *w)
{
    return w && w->threaded;
}

bool pd_glyphwarm_holds(const pd_glyphwarm *w, PangoFont *font)
{
    if (!w || !font || !PANGO_IS_CAIRO_FONT(font))
        return false;
    cairo_scaled_font_t *sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(font));
    for (size_t i = 0; i < w->n_fonts; i++)
        if (w->fonts[i] == sf)
            return true;
    return false;
}

/* The description of a Pango font's cairo font (see the format above), or
 * false when it is none that cairo-ft makes from a pattern. */
static bool S_describe(PangoFont *font, strbuf *out)
{
    if (!PANGO_IS_FC_FONT(font) || !PANGO_IS_CAIRO_FONT(font))
        return false;
    cairo_scaled_font_t *sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(font));
    FcPattern *pattern = pango_fc_font_get_pattern(PANGO_FC_FONT(font));
    if (!sf || !pattern || cairo_scaled_font_status(sf) != CAIRO_STATUS_SUCCESS)
        return false;
    FcPattern *small = FcPatternDuplicate(pattern);
    FcPatternDel(small, FC_CHARSET); /* kilobytes, and cairo does not read them */
    FcPatternDel(small, FC_LANG);
    FcChar8 *text = FcNameUnparse(small);
    FcPatternDestroy(small);
    if (!text)
        return false;
    strbuf_append(out, (const char *)text);
    strbuf_append_len(out, "", 1);
    free(text);
    cairo_matrix_t fm, ctm;
    cairo_scaled_font_get_font_matrix(sf, &fm);
    cairo_scaled_font_get_ctm(sf, &ctm);
    double m[12] = {fm.xx,  fm.yx,  fm.xy,  fm.yy,  fm.x0,  fm.y0,
                    ctm.xx, ctm.yx, ctm.xy, ctm.yy, ctm.x0, ctm.y0};
    uint8_t b[S_NUMBERS], *p = b;
    for (size_t i = 0; i < 12; i++, p += 8)
        pd_diskcache_put64(p, S_double_bits(m[i]));
    cairo_font_options_t *opts = cairo_font_options_create();
    cairo_scaled_font_get_font_options(sf, opts);
    uint32_t o[4] = {(uint32_t)cairo_font_options_get_antialias(opts),
                     (uint32_t)cairo_font_options_get_subpixel_order(opts),
                     (uint32_t)cairo_font_options_get_hint_style(opts),
                     (uint32_t)cairo_font_options_get_hint_metrics(opts)};
    cairo_font_options_destroy(opts);
    for (size_t i = 0; i < 4; i++, p += 4)
        pd_diskcache_put32(p, o[i]);
    strbuf_append_len(out, (const char *)b, sizeof b);
    return true;
}

/* Whether the layouts of pages show, in the same order, the glyphs of the
 * list read, in fonts the warm-up made from it (the same cairo fonts): then
 * the list is kept as it is, without describing the fonts again. */
static bool S_same_as_read(const pd_glyphwarm *w, const pd_pages *pages)
{
    if (!w->list_glyphs || w->n_fonts != w->list_fonts)
        return false;
    const uint8_t *p = w->list_glyphs, *end = w->list + w->list_len;
    uint32_t n = pd_diskcache_get32(p), seen_fonts = 0, matched = 0;
    p += 4;
    if ((size_t)(end - p) != (size_t)n * 4)
        return false;
    uint8_t *seen = xcalloc(w->n_fonts, 65536 / 8);
    bool same = true;
    for (size_t l = 0; same && l < pages->n_layouts; l++)
        for (GSList *line = pango_layout_get_lines_readonly(pages->layouts[l]); same && line;
             line = line->next)
            for (GSList *run = ((PangoLayoutLine *)line->data)->runs; same && run;
                 run = run->next) {
                PangoGlyphItem *gi = run->data;
                PangoFont *font = gi->item->analysis.font;
                if (!font || !PANGO_IS_FC_FONT(font) || !PANGO_IS_CAIRO_FONT(font)) {
                    same = false;
                    break;
                }
                cairo_scaled_font_t *sf = pango_cairo_font_get_scaled_font(PANGO_CAIRO_FONT(font));
                uint32_t f = 0;
                while (f < w->n_fonts && w->fonts[f] != sf)
                    f++;
                if (f >= seen_fonts) { /* a font not in the list, or new out of order */
                    same = f == seen_fonts && f < w->n_fonts;
                    seen_fonts += same;
                }
                uint8_t *bits = seen + (size_t)f * (65536 / 8);
                for (int i = 0; same && i < gi->glyphs->num_glyphs; i++) {
                    PangoGlyph g = gi->glyphs->glyphs[i].glyph;
                    if (g >= 65536 || (bits[g >> 3] & (1u << (g & 7))))
                        continue;
                    bits[g >> 3] |= (uint8_t)(1u << (g & 7));
                    same =
                        matched < n && pd_diskcache_get32(p + 4 * (size_t)matched) == (f << 16 | g);
                    matched++;
                }
            }
    free(seen);
    return same && matched == n && seen_fonts == w->n_fonts;
}

typedef struct S_font {
    PangoFont *font;
    bool usable;
    uint32_t index; /* among the usable fonts */
    uint8_t *seen;  /* one bit per glyph id below 65536 */
} S_font;

void pd_glyphwarm_record(pd_glyphwarm *w, const pd_pages *pages)
{
    if (!w || !w->file || !pages)
        return;
    atomic_store(&w->stop, true); /* the layout is done: no more use in warming */
    S_join(w);
    if (S_same_as_read(w, pages))
        return;
    S_font fonts[S_MAX_FONTS];
    size_t n_fonts = 0, n_usable = 0;
    strbuf descs = STRBUF_INIT, glyphs = STRBUF_INIT;
    uint32_t n_glyphs = 0;
    for (size_t l = 0; l < pages->n_layouts; l++) {
        for (GSList *line = pango_layout_get_lines_readonly(pages->layouts[l]); line;
             line = line->next) {
            for (GSList *run = ((PangoLayoutLine *)line->data)->runs; run; run = run->next) {
                PangoGlyphItem *gi = run->data;
                PangoFont *font = gi->item->analysis.font;
                size_t f = 0;
                while (f < n_fonts && fonts[f].font != font)
                    f++;
                if (f == n_fonts) {
                    if (n_fonts == S_MAX_FONTS)
                        continue;
                    strbuf d = STRBUF_INIT;
                    fonts[f] =
                        (S_font){font, font && S_describe(font, &d), (uint32_t)n_usable, NULL};
                    if (fonts[f].usable) {
                        uint8_t b[4];
                        pd_diskcache_put32(b, (uint32_t)d.len);
                        strbuf_append_len(&descs, (const char *)b, 4);
                        strbuf_append_len(&descs, d.data, d.len);
                        fonts[f].seen = xcalloc(65536 / 8, 1);
                        n_usable++;
                    }
                    strbuf_free(&d);
                    n_fonts++;
                }
                if (!fonts[f].usable)
                    continue;
                for (int i = 0; i < gi->glyphs->num_glyphs; i++) {
                    PangoGlyph g = gi->glyphs->glyphs[i].glyph;
                    if (g >= 65536 || (fonts[f].seen[g >> 3] & (1u << (g & 7))))
                        continue; /* PANGO_GLYPH_EMPTY, unknown glyphs too */
                    fonts[f].seen[g >> 3] |= (uint8_t)(1u << (g & 7));
                    uint8_t b[4];
                    pd_diskcache_put32(b, fonts[f].index << 16 | g);
                    strbuf_append_len(&glyphs, (const char *)b, 4);
                    n_glyphs++;
                }
            }
        }
    }
    for (size_t f = 0; f < n_fonts; f++)
        free(fonts[f].seen);
    strbuf list = STRBUF_INIT;
    uint8_t b[4];
    pd_diskcache_put32(b, (uint32_t)n_usable);
    strbuf_append_len(&list, (const char *)b, 4);
    strbuf_append_len(&list, descs.data ? descs.data : "", descs.len);
    pd_diskcache_put32(b, n_glyphs);
    strbuf_append_len(&list, (const char *)b, 4);
    strbuf_append_len(&list, glyphs.data ? glyphs.data : "", glyphs.len);
    if (!(w->list && w->list_len == list.len && memcmp(w->list, list.data, list.len) == 0)) {
        pd_diskcache_part part = {list.data, list.len};
        pd_diskcache_write(w->dir, w->file, w->key, &part, 1);
    }
    strbuf_free(&list);
    strbuf_free(&descs);
    strbuf_free(&glyphs);
}

void pd_glyphwarm_free(pd_glyphwarm *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, true);
    S_join(w);
    for (size_t i = 0; i < w->n_fonts; i++)
        cairo_scaled_font_destroy(w->fonts[i]);
    free(w->list);
    free(w->dir);
    free(w->file);
    free(w);
}
