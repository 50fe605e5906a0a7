#include "fonts.h"

#include <cairo.h>
#include <dirent.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "strbuf.h"

/* The shaped-paragraph cache is bounded in bytes, not entries: a job file
 * of 10,000-character values makes every paragraph holding one unique, and
 * a count bound let a worker grow to gigabytes. Shaped text costs about 64
 * bytes per byte of text (glyphs, clusters, log attributes, lines), measured
 * on a batch of 10,000-character values (0.65 MB per 10,000 characters). */
#define LAYOUT_CACHE_BYTES (24L * 1024 * 1024)
#define LAYOUT_BYTES_PER_TEXT_BYTE 64
#define LAYOUT_BYTES_FIXED 1024
/* one layout larger than this is not kept: a long value is seldom met twice */
#define LAYOUT_CACHE_ITEM_MAX (LAYOUT_CACHE_BYTES / 64)
/* Paragraphs that hold a job's values (a patient's name in every page's
 * header) are met again within their document, seldom in another: kept
 * apart, in a table of their own emptied at 2 MB, they no longer fill the
 * template's table (which then grew by ~0.27 MB per 100 consent sheets
 * to its 24 MB bound: a 6,000-job worker reached 47 MB). */
#define VALUE_CACHE_BYTES (2L * 1024 * 1024)

struct pd_fonts {
    FcConfig *config;
    PangoFontMap *map;
    GHashTable *contexts;      /* BCP 47 tag -> PangoContext */
    GHashTable *layouts;       /* key -> PangoLayout */
    size_t layout_bytes;       /* estimated size of what layouts holds */
    GHashTable *value_layouts; /* the same, for layouts holding a job's values */
    size_t value_bytes;
};

static void S_append_xml_escaped(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            strbuf_append(sb, "&amp;");
        else if (*s == '<')
            strbuf_append(sb, "&lt;");
        else if (*s == '>')
            strbuf_append(sb, "&gt;");
        else
            strbuf_append_char(sb, *s);
    }
}

static int S_by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every font file of dir, added to config without fontconfig's cache, in
 * name order as fontconfig scans a <dir>. */
static bool S_add_font_files(FcConfig *config, const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, S_by_name);
    if (n < 0)
        return false;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.' && (paths_has_suffix(name, ".ttf") || paths_has_suffix(name, ".otf"))) {
            char *path = paths_join(dir, name);
            FcConfigAppFontAddFile(config, (const FcChar8 *)path);
            free(path);
        }
        free(names[i]);
    }
    free(names);
    return true;
}

/* Pango 1.50 matches and sorts the fonts for each new font pattern (each
 * family, size, weight, style and language a document uses: 47 in the
 * Chinese leaflet) in two threads of its own, started with g_thread_new and
 * waited for at once; on pildoc's dozen fonts the sort itself takes
 * microseconds, the 94 threads 4-7 ms of CPU and 30 ms of wall time in a
 * fresh `pildoc render`. This definition takes the place of GLib's for the
 * whole process: those two threads' work runs in the calling thread, as in
 * Pango before 1.50; every other thread is GLib's (g_thread_try_new, which
 * is g_thread_new without the abort). Not "[pango] FcInit": Pango holds a
 * lock that thread takes. Outputs are the same either way (the match and
 * sort do not depend on the thread). */
GThread *g_thread_new(const gchar *name, GThreadFunc func, gpointer data)
{
    if (name && (strcmp(name, "[pango] FcFontSetMatch") == 0 ||
                 strcmp(name, "[pango] FcFontSetSort") == 0)) {
        func(data);                           /* returns NULL, frees data */
        return g_thread_ref(g_thread_self()); /* Pango only unrefs it */
    }
    GError *error = NULL;
    GThread *t = g_thread_try_new(name, func, data, &error);
    if (!t)
        g_error("creating thread '%s': %s", name ? name : "", error->message);
    return t;
}

/* FcConfigBuildFonts, with SOURCE_DATE_EPOCH out of the environment while
 * it runs. Fontconfig 2.14 writes a folder's cache stamped with
 * min(SOURCE_DATE_EPOCH, the folder's time) but accepts a cache only when
 * its stamp is the folder's own time: a cache written with the variable set
 * was never used again, and every render with it set (every reproducible
 * run) scanned the fonts again and rewrote the cache (4-5 ms of a fresh
 * render). The cache holds no date and nothing of it reaches a document.
 * The environment changes for a moment: pildoc makes a renderer's fonts
 * before it starts threads (render, batch's warm-up, a serve worker's
 * start), or in a batch worker beside a writer thread that never reads it. */
static FcBool S_build_fonts(FcConfig *config)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *saved = sde ? xstrdup(sde) : NULL;
    if (saved)
        unsetenv("SOURCE_DATE_EPOCH");
    FcBool ok = FcConfigBuildFonts(config);
    if (saved) {
        setenv("SOURCE_DATE_EPOCH", saved, 1);
        free(saved);
    }
    return ok;
}

static void S_take_metrics(pd_fonts *f);

/* A pd_fonts with a font map of its own on `config`, whose reference it
 * takes (destroyed when no font map can be made: then NULL). */
static pd_fonts *S_fonts_on(FcConfig *config)
{
    pd_fonts *f = xcalloc(1, sizeof *f);
    f->config = config;
    f->map = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
    if (!f->map) {
        pd_fonts_free(f);
        return NULL;
    }
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(f->map), config);
    f->contexts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    f->layouts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    f->value_layouts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(f->map), 72.0);
    return f;
}

pd_fonts *pd_fonts_new(const char *fonts_dir, const char *cache_dir, pd_error *err)
{
    char abs_fonts[4096];
    if (!realpath(fonts_dir, abs_fonts)) {
        pd_error_set(err, fonts_dir, 0, "font folder not found");
        return NULL;
    }
    strbuf conf = STRBUF_INIT;
    strbuf_append(&conf, "<?xml version=\"1.0\"?><fontconfig><dir>");
    S_append_xml_escaped(&conf, abs_fonts);
    strbuf_append(&conf, "</dir>");
    bool cached = false;
    if (cache_dir) {
        mkdir(cache_dir, 0755);
        char abs_cache[4096];
        if (realpath(cache_dir, abs_cache) && access(abs_cache, W_OK | X_OK) == 0) {
            strbuf_append(&conf, "<cachedir>");
            S_append_xml_escaped(&conf, abs_cache);
            strbuf_append(&conf, "</cachedir>");
            cached = true;
        }
    }
    strbuf_append(&conf, "</fontconfig>");
    FcConfig *config = FcConfigCreate();
    /* Without a writable cache folder, a <dir> would make fontconfig print
       "No writable cache directories": scan the files one by one instead. */
    const char *text = strbuf_str(&conf);
    if (!cached)
        text = "<?xml version=\"1.0\"?><fontconfig></fontconfig>";
    bool ok = FcConfigParseAndLoadFromMemory(config, (const FcChar8 *)text, FcTrue) &&
              (cached || S_add_font_files(config, abs_fonts)) && S_build_fonts(config);
    strbuf_free(&conf);
    FcFontSet *set = ok ? FcConfigGetFonts(config, cached ? FcSetSystem : FcSetApplication) : NULL;
    if (!set || set->nfont == 0) {
        FcConfigDestroy(config);
        pd_error_set(err, fonts_dir, 0, "no usable font in the font folder");
        return NULL;
    }
    /* Make it the process's current configuration too: Pango's font map
       calls FcInit() from a thread of its own, which would otherwise load
       the host's default configuration and scan every system font (time
       spent, and fonts pildoc must not use). */
    FcConfigSetCurrent(config);
    pd_fonts *f = S_fonts_on(config);
    if (!f) {
        pd_error_set(err, NULL, 0, "Pango has no FreeType font map");
        return NULL;
    }
    S_take_metrics(f);
    return f;
}

pd_fonts *pd_fonts_new_twin(const pd_fonts *fonts)
{
    return S_fonts_on(FcConfigReference(fonts->config));
}

/* Pango's metrics of a font (pd_fonts_new puts S_metrics in the place of
 * Pango's own for its cairo fonts). Pango computes a font's approximate
 * character width, the first time the font is asked for metrics in a
 * language, by laying out a sample text, and guards against its own
 * recursion with a flag of the whole process and no lock ("XXX this is
 * racy", pangocairo-font.c): a font first measured inside another's sample
 * text gets none. That width only tells Pango's line breaker how far from
 * the end of a line to start measuring break points exactly, so a layout
 * depended on which fonts happened to be measured first, and on another
 * thread's measuring. Here every font's approximate widths are 0 (Pango
 * measures each break point near the line's end exactly): every document
 * of make bench and of the tests is byte for byte the same as with Pango's
 * widths, and a layout no longer depends on the order of measuring nor on
 * the thread. The other metrics come from the face alone, so they are
 * measured once per face, size and language for the whole process, under
 * one lock (recursive: measuring lays out a sample text, which asks for
 * metrics again); each font keeps its own in a datum. Process-wide, like
 * the flag: a statically allocated GRecMutex needs no initialisation. */
typedef struct S_metrics_key {
    PangoFontDescription *desc;
    PangoLanguage *lang;
} S_metrics_key;

typedef struct S_font_metrics {
    size_t n;
    struct {
        PangoLanguage *lang;
        PangoFontMetrics *m;
    } of[8];
} S_font_metrics;

static GRecMutex S_metrics_lock;
static PangoFontMetrics *(*S_metrics_pango)(PangoFont *, PangoLanguage *);
static GHashTable *S_metrics_measured; /* S_metrics_key -> PangoFontMetrics */

static guint S_metrics_key_hash(gconstpointer p)
{
    const S_metrics_key *k = p;
    return pango_font_description_hash(k->desc) ^ g_direct_hash(k->lang);
}

static gboolean S_metrics_key_equal(gconstpointer a, gconstpointer b)
{
    const S_metrics_key *x = a, *y = b;
    return x->lang == y->lang && pango_font_description_equal(x->desc, y->desc);
}

static GQuark S_font_metrics_quark(void)
{
    static GQuark q; /* an interned name, the same in every process: no state of ours */
    if (!q)
        q = g_quark_from_static_string("pildoc-metrics");
    return q;
}

static void S_font_metrics_free(gpointer p)
{
    S_font_metrics *fm = p;
    for (size_t i = 0; i < fm->n; i++)
        pango_font_metrics_unref(fm->of[i].m);
    free(fm);
}

static PangoFontMetrics *S_metrics(PangoFont *font, PangoLanguage *lang)
{
    g_rec_mutex_lock(&S_metrics_lock);
    S_font_metrics *fm = g_object_get_qdata(G_OBJECT(font), S_font_metrics_quark());
    for (size_t i = 0; fm && i < fm->n; i++)
        if (fm->of[i].lang == lang) {
            PangoFontMetrics *m = pango_font_metrics_ref(fm->of[i].m);
            g_rec_mutex_unlock(&S_metrics_lock);
            return m;
        }
    if (!S_metrics_measured)
        S_metrics_measured = g_hash_table_new(S_metrics_key_hash, S_metrics_key_equal);
    S_metrics_key key = {pango_font_describe_with_absolute_size(font), lang};
    PangoFontMetrics *m = g_hash_table_lookup(S_metrics_measured, &key);
    if (m) {
        m = pango_font_metrics_ref(m);
    } else {
        m = S_metrics_pango(font, lang);
        m->approximate_char_width = 0;
        m->approximate_digit_width = 0;
        /* measuring may have measured this very font and language already */
        PangoFontMetrics *kept = g_hash_table_lookup(S_metrics_measured, &key);
        if (kept) {
            pango_font_metrics_unref(m);
            m = pango_font_metrics_ref(kept);
        } else {
            S_metrics_key *k = xmalloc(sizeof *k);
            *k = (S_metrics_key){pango_font_description_copy(key.desc), lang};
            g_hash_table_insert(S_metrics_measured, k, pango_font_metrics_ref(m));
        }
    }
    pango_font_description_free(key.desc);
    fm =
        g_object_get_qdata(G_OBJECT(font), S_font_metrics_quark()); /* measuring may have made it */
    if (!fm) {
        fm = xcalloc(1, sizeof *fm);
        g_object_set_qdata_full(G_OBJECT(font), S_font_metrics_quark(), fm, S_font_metrics_free);
    }
    bool known = false;
    for (size_t i = 0; i < fm->n; i++)
        known |= fm->of[i].lang == lang;
    if (!known && fm->n < sizeof fm->of / sizeof *fm->of) {
        fm->of[fm->n].lang = lang;
        fm->of[fm->n++].m = pango_font_metrics_ref(m);
    }
    g_rec_mutex_unlock(&S_metrics_lock);
    return m;
}

/* Puts S_metrics in the place of Pango's metrics for the class of f's fonts
 * (once per process). */
static void S_take_metrics(pd_fonts *f)
{
    g_rec_mutex_lock(&S_metrics_lock);
    bool taken = S_metrics_pango != NULL;
    g_rec_mutex_unlock(&S_metrics_lock);
    if (taken)
        return;
    PangoFontDescription *desc = pango_font_description_from_string("Noto Sans 10");
    PangoFont *font = pango_font_map_load_font(f->map, pd_fonts_context(f, "en"), desc);
    pango_font_description_free(desc);
    if (!font)
        return;
    PangoFontClass *k = PANGO_FONT_GET_CLASS(font);
    g_rec_mutex_lock(&S_metrics_lock);
    if (k->get_metrics && k->get_metrics != S_metrics) {
        S_metrics_pango = k->get_metrics;
        k->get_metrics = S_metrics;
    }
    g_rec_mutex_unlock(&S_metrics_lock);
    g_object_unref(font);
}

PangoFont *pd_fonts_same_font(pd_fonts *f, const char *bcp47, PangoFont *other)
{
    if (!PANGO_IS_FC_FONT(other))
        return NULL;
    if (pango_font_get_font_map(other) == f->map)
        return g_object_ref(other);
    PangoFontDescription *desc = pango_font_describe_with_absolute_size(other);
    PangoFont *font = pango_font_map_load_font(f->map, pd_fonts_context(f, bcp47), desc);
    pango_font_description_free(desc);
    if (!font || !PANGO_IS_FC_FONT(font)) {
        if (font)
            g_object_unref(font);
        return NULL;
    }
    /* what decides the glyphs and how they are drawn */
    FcObjectSet *what = FcObjectSetBuild(FC_FILE, FC_INDEX, FC_PIXEL_SIZE, FC_MATRIX, FC_EMBOLDEN,
                                         FC_WEIGHT, FC_SLANT, FC_VARIABLE, (char *)NULL);
    bool same = what && FcPatternEqualSubset(pango_fc_font_get_pattern(PANGO_FC_FONT(font)),
                                             pango_fc_font_get_pattern(PANGO_FC_FONT(other)), what);
    if (what)
        FcObjectSetDestroy(what);
    if (!same) {
        g_object_unref(font);
        return NULL;
    }
    return font;
}

void pd_fonts_free(pd_fonts *f)
{
    if (!f)
        return;
    if (f->layouts)
        g_hash_table_destroy(f->layouts);
    if (f->value_layouts)
        g_hash_table_destroy(f->value_layouts);
    if (f->contexts)
        g_hash_table_destroy(f->contexts);
    if (f->map)
        g_object_unref(f->map);
    if (f->config)
        FcConfigDestroy(f->config);
    free(f);
}

PangoContext *pd_fonts_context(pd_fonts *f, const char *bcp47)
{
    PangoContext *cached = g_hash_table_lookup(f->contexts, bcp47);
    if (cached)
        return cached;
    PangoContext *ctx = pango_font_map_create_context(f->map);
    cairo_font_options_t *opts = cairo_font_options_create();
    /* no hinting: the same glyph positions on every device */
    cairo_font_options_set_hint_style(opts, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(opts, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_antialias(opts, CAIRO_ANTIALIAS_GRAY);
    pango_cairo_context_set_font_options(ctx, opts);
    cairo_font_options_destroy(opts);
    pango_context_set_round_glyph_positions(ctx, FALSE);
    pango_context_set_language(ctx, pango_language_from_string(bcp47));
    g_hash_table_insert(f->contexts, g_strdup(bcp47), ctx);
    return ctx;
}

PangoLayout *pd_fonts_cached_layout(pd_fonts *f, const char *key)
{
    PangoLayout *l = g_hash_table_lookup(f->layouts, key);
    return l ? l : g_hash_table_lookup(f->value_layouts, key);
}

size_t pd_fonts_layout_cost(const char *key, PangoLayout *layout)
{
    const char *text = pango_layout_get_text(layout);
    return strlen(key) + (text ? strlen(text) : 0) * LAYOUT_BYTES_PER_TEXT_BYTE +
           LAYOUT_BYTES_FIXED;
}

static void S_keep(GHashTable *table, size_t *bytes, size_t bound, const char *key,
                   PangoLayout *layout)
{
    size_t cost = pd_fonts_layout_cost(key, layout);
    if (cost > (size_t)LAYOUT_CACHE_ITEM_MAX || g_hash_table_contains(table, key))
        return;
    if (*bytes + cost > bound) {
        g_hash_table_remove_all(table); /* documents hold their own references */
        *bytes = 0;
    }
    g_hash_table_insert(table, g_strdup(key), g_object_ref(layout));
    *bytes += cost;
}

void pd_fonts_cache_layout(pd_fonts *f, const char *key, PangoLayout *layout)
{
    S_keep(f->layouts, &f->layout_bytes, LAYOUT_CACHE_BYTES, key, layout);
}

void pd_fonts_cache_value_layout(pd_fonts *f, const char *key, PangoLayout *layout)
{
    if (!g_hash_table_contains(f->layouts, key))
        S_keep(f->value_layouts, &f->value_bytes, VALUE_CACHE_BYTES, key, layout);
}

size_t pd_fonts_cache_bytes(const pd_fonts *f)
{
    return f->layout_bytes + f->value_bytes;
}

const char *pd_fonts_families(const char *bcp47)
{
    /* "Core" holds the common Chinese characters (GB2312, the whole CJK
       Unified Ideographs block, all our catalogs use) as TrueType, the
       glyphs the documents use first in the file (a worker maps 2 MB of
       it, not 12): hb-subset takes a tenth of the time it takes on the
       18 MB CFF face (fonts/README.md). The full face serves the rare
       rest (a patient's name in Extension A, say). */
    if (strncmp(bcp47, "zh", 2) == 0)
        return "Noto Sans CJK SC Core, Noto Sans CJK SC, Noto Sans";
    return "Noto Sans, Noto Sans CJK SC Core, Noto Sans CJK SC";
}
