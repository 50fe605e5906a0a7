#include "layoutplan.h"

#include <glib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diskcache.h"
#include "docmodel.h"
#include "strbuf.h"

/* The plan file's payload: a count (4 bytes), then each paragraph as
 * S_put_para writes it. Numbers are big-endian (diskcache.h). */
#define S_FORMAT "pildoc layout plan 1"
#define S_MAX_PLAN ((size_t)4 << 20)
#define S_MAX_PARAS 100000
#define S_NO_STRING 0xffffffffu

enum { FREE, MAIN, THREAD }; /* who took a paragraph */

typedef struct S_planned {
    pd_para para;
    pd_text text;
    char *lang_tag, *also_tag;
    char name[PD_PARA_NAME_SIZE];
} S_planned;

struct pd_layoutplan {
    pd_fonts *fonts; /* borrowed: the document's */
    pd_layout_helper helper;
    bool keyed;
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    char *dir, *file;
    unsigned char *read; /* the payload read, or NULL */
    size_t read_len;
    S_planned *paras;
    size_t n_paras;
    GHashTable *by_name; /* name -> its first S_planned in paras */
    strbuf shaped;       /* the paragraphs this render used, as the file keeps them */
    GHashTable *seen;    /* their names */
    uint32_t n_shaped;
    size_t taken;
    bool took_all; /* what the thread made was taken */
    /* shared with the thread, under mu */
    pthread_mutex_t mu;
    pthread_t thread;
    bool threaded, joined, stop;
    unsigned char *who; /* per paragraph: FREE, MAIN or THREAD */
    PangoLayout **made; /* per paragraph: the thread's layout, or NULL */
    pd_fonts *twin;     /* the thread's font map (made on it) */
    size_t next;        /* 1 + the next paragraph the thread looks at */
};

/* ---- the file's format ---- */

static void S_put32(strbuf *sb, uint32_t v)
{
    uint8_t b[4];
    pd_diskcache_put32(b, v);
    strbuf_append_len(sb, (const char *)b, 4);
}

static void S_put_num(strbuf *sb, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    uint8_t b[8];
    pd_diskcache_put64(b, u);
    strbuf_append_len(sb, (const char *)b, 8);
}

static void S_put_str(strbuf *sb, const char *s)
{
    if (!s) {
        S_put32(sb, S_NO_STRING);
        return;
    }
    size_t n = strlen(s);
    S_put32(sb, (uint32_t)n);
    strbuf_append_len(sb, s, n);
}

static void S_put_para(strbuf *sb, const pd_para *p)
{
    S_put_str(sb, p->lang_tag);
    S_put_str(sb, p->also_tag);
    S_put_num(sb, p->k);
    S_put_num(sb, p->width);
    S_put_num(sb, p->size);
    S_put32(sb, (uint32_t)p->bold);
    S_put32(sb, (uint32_t)p->flags);
    S_put32(sb, (uint32_t)p->text->n_spans);
    for (size_t i = 0; i < p->text->n_spans; i++) {
        const pd_span *sp = &p->text->spans[i];
        S_put32(sb, sp->style);
        S_put_num(sb, sp->blank_em);
        S_put32(sb, (uint32_t)sp->blank_kind);
        S_put_str(sb, sp->text);
    }
}

typedef struct S_reader {
    const unsigned char *at, *end;
    bool bad;
} S_reader;

static uint32_t S_get32(S_reader *r)
{
    if (r->bad || r->end - r->at < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = pd_diskcache_get32(r->at);
    r->at += 4;
    return v;
}

static double S_get_num(S_reader *r)
{
    if (r->bad || r->end - r->at < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t u = pd_diskcache_get64(r->at);
    r->at += 8;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* A string, copied (NULL for none, or when the file is bad: see r->bad):
 * UTF-8 as Pango takes it, with no NUL. */
static char *S_get_str(S_reader *r)
{
    uint32_t n = S_get32(r);
    if (r->bad || n == S_NO_STRING)
        return NULL;
    if ((size_t)(r->end - r->at) < n || !g_utf8_validate((const char *)r->at, n, NULL)) {
        r->bad = true;
        return NULL;
    }
    char *s = xmalloc((size_t)n + 1);
    memcpy(s, r->at, n);
    s[n] = '\0';
    r->at += n;
    return s;
}

/* Points no page reaches: a bound for widths read from a file. */
#define S_MAX_POINTS 10000.0

static bool S_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi; /* false for NaN */
}

/* A language tag as pildoc makes them ("zh-CN"). */
static bool S_tag_ok(const char *tag)
{
    size_t n = tag ? strlen(tag) : 0;
    if (n == 0 || n > 35)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(tag[i]) && tag[i] != '-' && tag[i] != '_')
            return false;
    return true;
}

static void S_planned_clear(S_planned *p)
{
    pd_text_clear(&p->text);
    free(p->lang_tag);
    free(p->also_tag);
    *p = (S_planned){0};
}

/* One paragraph back from the file; false when the file is bad. */
static bool S_get_para(S_reader *r, S_planned *p)
{
    *p = (S_planned){0};
    p->lang_tag = S_get_str(r);
    p->also_tag = S_get_str(r);
    p->para.k = S_get_num(r);
    p->para.width = S_get_num(r);
    p->para.size = S_get_num(r);
    p->para.bold = (int)S_get32(r);
    p->para.flags = (int)S_get32(r);
    uint32_t n = S_get32(r);
    /* each span takes at least 20 bytes of the file; numbers as the layout
       makes them (a layout from a plan is used only when it matches the
       paragraph asked for, but the thread must not shape nonsense) */
    bool sane = S_tag_ok(p->lang_tag) && (!p->also_tag || S_tag_ok(p->also_tag)) &&
                S_in(p->para.k, 0.5, 4) &&
                (p->para.width == -1 || S_in(p->para.width, 1, S_MAX_POINTS)) &&
                S_in(p->para.size, 1, 200) && (p->para.bold == 0 || p->para.bold == 1) &&
                p->para.flags >= 0 && p->para.flags < 256;
    if (r->bad || !sane || (size_t)(r->end - r->at) / 20 < n) {
        S_planned_clear(p);
        return false;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        unsigned style = S_get32(r);
        double em = S_get_num(r);
        uint32_t kind = S_get32(r);
        char *text = S_get_str(r);
        if (!text || kind > PD_BLANK_ID || (style & PD_SPAN_VALUE) || !S_in(em, 0, S_MAX_POINTS)) {
            free(text);
            r->bad = true;
            break;
        }
        pd_origin none = {NULL, 0, NULL};
        pd_text_add(&p->text, text, strlen(text), style, none);
        pd_span *sp = &p->text.spans[p->text.n_spans - 1];
        sp->blank_em = em;
        sp->blank_kind = (pd_blank_kind)kind;
        free(text);
    }
    if (r->bad) {
        S_planned_clear(p);
        return false;
    }
    p->para.lang_tag = p->lang_tag;
    p->para.also_tag = p->also_tag;
    p->para.text = &p->text;
    pd_layout_para_name(&p->para, p->name);
    return true;
}

/* Drops the paragraphs read (and their names). */
static void S_forget_paras(pd_layoutplan *plan)
{
    for (size_t i = 0; i < plan->n_paras; i++)
        S_planned_clear(&plan->paras[i]);
    if (plan->by_name)
        g_hash_table_destroy(plan->by_name);
    free(plan->paras);
    plan->paras = NULL;
    plan->by_name = NULL;
    plan->n_paras = 0;
}

/* The paragraphs of the payload read; none when it is bad. */
static void S_parse(pd_layoutplan *plan)
{
    S_reader r = {plan->read, plan->read + plan->read_len, false};
    uint32_t n = S_get32(&r);
    if (r.bad || n > S_MAX_PARAS)
        return;
    plan->paras = xcalloc(n ? n : 1, sizeof *plan->paras);
    for (uint32_t i = 0; i < n; i++) {
        if (!S_get_para(&r, &plan->paras[i]))
            break;
        plan->n_paras++;
    }
    /* one document's paragraphs: all in its languages (and so at most two
       Pango contexts for the thread to make) */
    bool one_doc = plan->n_paras == n;
    for (size_t i = 1; i < plan->n_paras && one_doc; i++) {
        const S_planned *a = &plan->paras[0], *b = &plan->paras[i];
        one_doc = a->lang_tag && b->lang_tag && strcmp(a->lang_tag, b->lang_tag) == 0 &&
                  !a->also_tag == !b->also_tag &&
                  (!a->also_tag || strcmp(a->also_tag, b->also_tag) == 0);
    }
    if (!one_doc || r.at != r.end) {
        S_forget_paras(plan);
        return;
    }
    plan->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < plan->n_paras; i++)
        if (!g_hash_table_contains(plan->by_name, plan->paras[i].name))
            g_hash_table_insert(plan->by_name, plan->paras[i].name, &plan->paras[i]);
}

/* ---- the thread ---- */

static void *S_thread(void *arg)
{
    pd_layoutplan *plan = arg;
    pd_fonts *twin = pd_fonts_new_twin(plan->fonts);

    pthread_mutex_lock(&plan->mu);
    plan->twin = twin;
    pthread_mutex_unlock(&plan->mu);
    for (;;) {
        pthread_mutex_lock(&plan->mu);
        while (!plan->stop && twin && plan->next > 0 && plan->who[plan->next - 1] != FREE)
            plan->next--; /* the main thread shaped it already */
        if (plan->stop || !twin || plan->next == 0) {
            pthread_mutex_unlock(&plan->mu);
            break;
        }
        size_t i = --plan->next;
        plan->who[i] = THREAD;
        pthread_mutex_unlock(&plan->mu);
        const pd_para *para = &plan->paras[i].para;
        PangoLayout *layout = pd_layout_para(pd_fonts_context(twin, para->lang_tag), para);
        pthread_mutex_lock(&plan->mu);
        plan->made[i] = layout;
        pthread_mutex_unlock(&plan->mu);
    }
    return NULL;
}

static void S_join(pd_layoutplan *plan)
{
    if (plan->joined)
        return;
    pthread_mutex_lock(&plan->mu);
    plan->stop = true;
    pthread_mutex_unlock(&plan->mu);
    pthread_join(plan->thread, NULL);
    plan->joined = true;
}

/* A font of the thread's and the document's own that draws as it. */
typedef struct S_pair {
    PangoFont *theirs, *ours; /* a reference to each */
} S_pair;

/* Puts a layout the thread made on the document's fonts; false when a font
 * of it has no equal there (then the layout is not used). `pairs` holds
 * the fonts met so far (n_pairs). */
static bool S_adopt(pd_layoutplan *plan, PangoLayout *layout, const char *lang, S_pair **pairs,
                    size_t *n_pairs)
{
    for (GSList *l = pango_layout_get_lines_readonly(layout); l; l = l->next) {
        PangoLayoutLine *line = l->data;
        for (GSList *r = line->runs; r; r = r->next) {
            PangoGlyphItem *run = r->data;
            PangoFont *theirs = run->item->analysis.font, *ours = NULL;
            if (!theirs)
                continue;
            for (size_t i = 0; i < *n_pairs && !ours; i++)
                if ((*pairs)[i].theirs == theirs)
                    ours = (*pairs)[i].ours;
            if (!ours) {
                ours = pd_fonts_same_font(plan->fonts, lang, theirs);
                if (!ours)
                    return false;
                *pairs = xrealloc(*pairs, (*n_pairs + 1) * sizeof **pairs);
                (*pairs)[(*n_pairs)++] = (S_pair){g_object_ref(theirs), ours};
            }
            if (ours != theirs) {
                run->item->analysis.font = g_object_ref(ours);
                g_object_unref(theirs);
            }
        }
    }
    return true;
}

/* Stops the thread and gives the document's fonts every layout it made. */
static void S_take_all(pd_layoutplan *plan)
{
    S_join(plan);

    S_pair *pairs = NULL;
    size_t n_pairs = 0;
    for (size_t i = 0; i < plan->n_paras; i++) {
        PangoLayout *layout = plan->made[i];
        if (!layout)
            continue;
        plan->made[i] = NULL;
        if (!pd_fonts_cached_layout(plan->fonts, plan->paras[i].name) &&
            S_adopt(plan, layout, plan->paras[i].para.lang_tag, &pairs, &n_pairs)) {
            pd_fonts_cache_layout(plan->fonts, plan->paras[i].name, layout);
            plan->taken++;
        }
        g_object_unref(layout);
    }
    for (size_t i = 0; i < n_pairs; i++) {
        g_object_unref(pairs[i].theirs);
        g_object_unref(pairs[i].ours);
    }
    free(pairs);
}

/* ---- the layout's helper ---- */

static PangoLayout *S_find(void *ctx, const char *name)
{
    pd_layoutplan *plan = ctx;
    if (!plan->threaded || !plan->by_name)
        return NULL;
    const S_planned *found = g_hash_table_lookup(plan->by_name, name);
    if (!found)
        return NULL;
    size_t i = (size_t)(found - plan->paras);
    pthread_mutex_lock(&plan->mu);
    unsigned char who = plan->who[i];
    if (who == FREE)
        plan->who[i] = MAIN;
    pthread_mutex_unlock(&plan->mu);
    if (who != THREAD)
        return NULL; /* the layout shapes it itself */
    if (!plan->took_all) {
        S_take_all(plan);
        plan->took_all = true;
    }
    return pd_fonts_cached_layout(plan->fonts, name);
}

static void S_used(void *ctx, const pd_para *para, const char *name)
{
    pd_layoutplan *plan = ctx;
    if (!plan->seen)
        plan->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (g_hash_table_contains(plan->seen, name))
        return;
    g_hash_table_add(plan->seen, g_strdup(name));
    S_put_para(&plan->shaped, para);
    plan->n_shaped++;
}

/* ---- the plan ---- */

pd_layoutplan *pd_layoutplan_start(const char *cache_dir, const char *what, pd_fonts *fonts,
                                   bool thread)
{
    if (!cache_dir || !fonts)
        return NULL;
    pd_layoutplan *plan = xcalloc(1, sizeof *plan);
    plan->fonts = fonts;
    plan->helper = (pd_layout_helper){S_find, S_used, plan};
    plan->joined = true;
    pthread_mutex_init(&plan->mu, NULL);
    pd_diskcache_key k;
    pd_diskcache_key_init(&k, S_FORMAT);
    pd_diskcache_key_add_str(&k, what);
    plan->keyed = pd_diskcache_key_add_object(&k, NULL); /* pildoc's own build */
    pd_diskcache_key_end(&k, plan->key);
    if (!plan->keyed)
        return plan;
    plan->dir = xstrdup(cache_dir);
    plan->file = pd_diskcache_path(cache_dir, "plan", plan->key, ".layouts");
    plan->read = pd_diskcache_read(plan->file, plan->key, S_MAX_PLAN, &plan->read_len);
    if (plan->read)
        S_parse(plan);
    if (!thread || plan->n_paras == 0)
        return plan;
    plan->who = xcalloc(plan->n_paras, 1);
    plan->made = xcalloc(plan->n_paras, sizeof(PangoLayout *));
    plan->next = plan->n_paras;
    pd_layout_para_ready();
    if (pthread_create(&plan->thread, NULL, S_thread, plan) == 0) {
        plan->threaded = true;
        plan->joined = false;
    }
    return plan;
}

size_t pd_layoutplan_parse(const unsigned char *payload, size_t len, pd_fonts *fonts,
                           size_t max_shaped)
{
    pd_layoutplan plan = {0};
    plan.read = (unsigned char *)payload; /* only read */
    plan.read_len = len;
    S_parse(&plan);
    for (size_t i = 0; fonts && i < plan.n_paras && i < max_shaped; i++) {
        const pd_para *para = &plan.paras[i].para;
        PangoLayout *layout = pd_layout_para(pd_fonts_context(fonts, para->lang_tag), para);
        if (layout)
            g_object_unref(layout);
    }
    size_t n = plan.n_paras;
    S_forget_paras(&plan);
    return n;
}

const pd_layout_helper *pd_layoutplan_helper(pd_layoutplan *plan)
{
    return plan ? &plan->helper : NULL;
}

void pd_layoutplan_record(pd_layoutplan *plan)
{
    if (!plan || !plan->file || plan->n_shaped == 0)
        return;
    uint8_t count[4];
    pd_diskcache_put32(count, plan->n_shaped);
    if (plan->read && plan->read_len == 4 + plan->shaped.len && memcmp(plan->read, count, 4) == 0 &&
        memcmp(plan->read + 4, plan->shaped.data, plan->shaped.len) == 0)
        return;
    if (4 + plan->shaped.len > S_MAX_PLAN)
        return;
    pd_diskcache_part parts[2] = {{count, 4}, {plan->shaped.data, plan->shaped.len}};
    pd_diskcache_write(plan->dir, plan->file, plan->key, parts, 2);
}

size_t pd_layoutplan_planned(const pd_layoutplan *plan)
{
    return plan ? plan->n_paras : 0;
}

size_t pd_layoutplan_taken(const pd_layoutplan *plan)
{
    return plan ? plan->taken : 0;
}

bool pd_layoutplan_threaded(const pd_layoutplan *plan)
{
    return plan && plan->threaded;
}

void pd_layoutplan_wait(pd_layoutplan *plan)
{
    if (!plan || plan->joined)
        return;
    pthread_join(plan->thread, NULL);
    plan->joined = true; /* what it made is taken at the first request for it */
}

void pd_layoutplan_free(pd_layoutplan *plan)
{
    if (!plan)
        return;
    S_join(plan);
    for (size_t i = 0; plan->made && i < plan->n_paras; i++)
        if (plan->made[i])
            g_object_unref(plan->made[i]);
    S_forget_paras(plan);
    if (plan->seen)
        g_hash_table_destroy(plan->seen);
    free(plan->who);
    free(plan->made);
    pd_fonts_free(plan->twin);
    strbuf_free(&plan->shaped);
    free(plan->read);
    free(plan->dir);
    free(plan->file);
    pthread_mutex_destroy(&plan->mu);
    free(plan);
}
