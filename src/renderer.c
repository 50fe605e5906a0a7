#include "renderer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bilingual.h"
#include "bind.h"
#include "clinic.h"
#include "doccache.h"
#include "fonts.h"
#include "lang.h"
#include "paths.h"
#include "pdfform.h"
#include "render.h"
#include "template.h"

#ifndef PILDOC_VERSION
#define PILDOC_VERSION "0.1.0"
#endif

void pd_env_init(pd_env *e)
{
    char *abs_locale = NULL;
    char *abs = paths_datadir(&abs_locale);
    e->datadir = paths_display(abs);
    e->localedir = paths_display(abs_locale);
    free(abs);
    free(abs_locale);
    if (!*e->datadir) {
        free(e->datadir);
        e->datadir = xstrdup(".");
    }
    e->templates_dir = paths_join(e->datadir, "templates");
    e->rng = paths_join(e->templates_dir, "pildoc.rng");
    e->variables = paths_join(e->templates_dir, "variables.xml");
    e->linguas = paths_join(e->datadir, "po/LINGUAS");
    e->fonts_dir = paths_join(e->datadir, "fonts");
    e->font_cache = paths_cache_dir(); /* NULL: no cache */
}

void pd_env_free(pd_env *e)
{
    free(e->datadir);
    free(e->templates_dir);
    free(e->rng);
    free(e->variables);
    free(e->localedir);
    free(e->linguas);
    free(e->fonts_dir);
    free(e->font_cache);
}

typedef struct S_cached {
    char *key; /* what the job named */
    pd_template *t;
    pd_bind_cache *messages; /* t's parsed messages, per language */
} S_cached;

/* A clinic profile loaded once per renderer (a batch may name several). */
typedef struct S_clinic {
    char *path;
    pd_values values;
    pd_image *logo; /* or NULL */
} S_clinic;

struct pd_renderer {
    const pd_env *env;
    S_clinic *clinics;
    size_t n_clinics;
    pd_schema *schema;
    pd_values computed; /* leaflet.version ... */
    pd_fonts *fonts;    /* loaded at the first layout */
    char **langs;
    pd_lang **loaded; /* languages with their catalogs, loaded once each */
    size_t n_loaded;
    S_cached *templates;
    size_t n_templates;
    char *create_date;   /* from SOURCE_DATE_EPOCH, or NULL */
    pd_pdf_cache *pdf;   /* font subsets kept across PDFs */
    pd_doccache *docs;   /* finished PDFs, by digest of their document and options */
    pd_glyphwarm *warm;  /* borrowed, or NULL */
    pd_layoutplan *plan; /* borrowed, or NULL */
};

static char *S_create_date(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde)
        return NULL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (errno || *end || v < 0 || v > 253402300799LL)
        return NULL;
    time_t t = (time_t)v;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(buf);
}

pd_renderer *pd_renderer_new(const pd_env *env, pd_error *err)
{
    pd_renderer *r = xcalloc(1, sizeof *r);
    r->env = env;
    pd_values_init(&r->computed);
    r->schema = pd_schema_load(env->variables, err);
    if (!r->schema || !pd_values_compute(&r->computed, r->schema, env->templates_dir, err)) {
        pd_renderer_free(r);
        return NULL;
    }
    r->langs = lang_available(env->linguas);
    r->create_date = S_create_date();
    return r;
}

void pd_renderer_free(pd_renderer *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_templates; i++) {
        free(r->templates[i].key);
        pd_bind_cache_free(r->templates[i].messages);
        pd_template_free(r->templates[i].t);
    }
    free(r->templates);
    for (size_t i = 0; i < r->n_clinics; i++) {
        free(r->clinics[i].path);
        pd_values_free(&r->clinics[i].values);
        pd_image_free(r->clinics[i].logo);
    }
    free(r->clinics);
    pd_fonts_free(r->fonts);
    pd_schema_free(r->schema);
    pd_values_free(&r->computed);
    lang_list_free(r->langs);
    for (size_t i = 0; i < r->n_loaded; i++)
        pd_lang_free(r->loaded[i]);
    free(r->loaded);
    free(r->create_date);
    pd_pdf_cache_free(r->pdf);
    pd_doccache_free(r->docs);
    free(r);
}

/* Freeing a renderer (Pango's font map, fonts and shaped paragraphs, the
 * templates, the PDF caches) took 2.3-2.9 ms of a 55 ms Chinese render,
 * 10-13 ms of a batch worker's end, for nothing when the process ends
 * next. It is kept reachable from here instead, unless the build is
 * sanitized (ASan checks the whole teardown) or PILDOC_FREE_AT_EXIT is
 * set: make memcheck sets it, since valgrind cannot follow fontconfig's
 * patterns (stored as offsets) and would call a live font map lost. */
#if defined(__SANITIZE_ADDRESS__)
#define S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ASAN 1
#endif
#endif
static pd_renderer *volatile S_kept_renderer; /* volatile: a store never read is not dropped */

bool pd_renderer_free_at_exit(void)
{
#ifdef S_ASAN
    return true;
#else
    const char *f = getenv("PILDOC_FREE_AT_EXIT");
    return f && *f && strcmp(f, "0") != 0;
#endif
}

void pd_renderer_end_of_process(pd_renderer *r)
{
    if (pd_renderer_free_at_exit())
        pd_renderer_free(r);
    else if (r)
        S_kept_renderer = r;
}

/* r's fonts, made at the first call; false with err set when they cannot be. */
static bool S_fonts(pd_renderer *r, pd_error *err)
{
    if (!r->fonts)
        r->fonts = pd_fonts_new(r->env->fonts_dir, r->env->font_cache, err);
    return r->fonts != NULL;
}

bool pd_renderer_load_fonts(pd_renderer *r)
{
    pd_error ignored = {0};
    return S_fonts(r, &ignored);
}

void pd_renderer_set_glyphwarm(pd_renderer *r, pd_glyphwarm *w)
{
    r->warm = w;
}

char *pd_job_describe(const pd_job *job, const char *also)
{
    strbuf what = STRBUF_INIT;
    strbuf_printf(&what, "%s|%s|%s|%s|%d|%s", job->template_name, job->lang, also ? also : "",
                  job->paper->name, job->large_print, job->clinic ? job->clinic : "");
    return strbuf_take(&what);
}

pd_fonts *pd_renderer_fonts(pd_renderer *r)
{
    return r->fonts;
}

void pd_renderer_set_layoutplan(pd_renderer *r, pd_layoutplan *plan)
{
    r->plan = plan;
}

const pd_schema *pd_renderer_schema(const pd_renderer *r)
{
    return r->schema;
}

char *const *pd_renderer_langs(const pd_renderer *r)
{
    return r->langs;
}

static S_cached *S_template(pd_renderer *r, const char *name, pd_error *err)
{
    for (size_t i = 0; i < r->n_templates; i++)
        if (strcmp(r->templates[i].key, name) == 0)
            return &r->templates[i];
    pd_template *t = pd_template_load(name, r->env->templates_dir, r->env->rng, r->schema, err);
    if (!t)
        return NULL;
    r->templates = xrealloc(r->templates, (r->n_templates + 1) * sizeof *r->templates);
    S_cached *c = &r->templates[r->n_templates++];
    c->key = xstrdup(name);
    c->t = t;
    c->messages = pd_bind_cache_new();
    return c;
}

const pd_lang *pd_renderer_lang(pd_renderer *r, const char *lang, pd_error *err)
{
    for (size_t i = 0; i < r->n_loaded; i++)
        if (strcmp(pd_lang_code(r->loaded[i]), lang) == 0)
            return r->loaded[i];
    if (strcmp(lang, "en") != 0) {
        strbuf mo = STRBUF_INIT;
        strbuf_printf(&mo, "%s/%s/LC_MESSAGES/pildoc.mo", r->env->localedir, lang);
        bool have = paths_exists(mo.data);
        strbuf_free(&mo);
        if (!have) {
            pd_error_set(err, NULL, 0,
                         "no compiled catalog for '%s': run make (po/%s.po -> build/locale)", lang,
                         lang);
            return NULL;
        }
    }
    pd_lang *l = pd_lang_load(r->env->localedir, lang, err);
    if (!l)
        return NULL;
    r->loaded = xrealloc(r->loaded, (r->n_loaded + 1) * sizeof(pd_lang *));
    r->loaded[r->n_loaded++] = l;
    return l;
}

/* The clinic profile: the job's, or the default one when it ships; NULL
 * with err set when a profile is broken. An absent default profile gives
 * no values and no logo. */
static const S_clinic *S_clinic_profile(pd_renderer *r, const char *path, bool nofollow,
                                        pd_error *err)
{
    static const S_clinic none = {0};
    char *fallback = NULL;
    if (!path) {
        fallback = paths_join(r->env->templates_dir, "clinics/default.xml");
        if (!paths_exists(fallback)) {
            free(fallback);
            return &none;
        }
        path = fallback;
    }
    for (size_t i = 0; i < r->n_clinics; i++)
        if (strcmp(r->clinics[i].path, path) == 0) {
            free(fallback);
            return &r->clinics[i];
        }
    S_clinic c = {0};
    pd_values_init(&c.values);
    char *rng = paths_join(r->env->templates_dir, "clinic.rng");
    bool ok = nofollow ? pd_clinic_load_nofollow(path, rng, r->schema, &c.values, &c.logo, err)
                       : pd_clinic_load(path, rng, r->schema, &c.values, &c.logo, err);
    free(rng);
    if (!ok) {
        pd_values_free(&c.values);
        free(fallback);
        return NULL;
    }
    c.path = xstrdup(path);
    r->clinics = xrealloc(r->clinics, (r->n_clinics + 1) * sizeof *r->clinics);
    r->clinics[r->n_clinics] = c;
    free(fallback);
    return &r->clinics[r->n_clinics++];
}

/* The job's values with the computed ones added (a job cannot override
 * those: data and --set refuse them), then the clinic profile's, which the
 * job's own values override (the first value of a name wins). */
static void S_merge(pd_values *out, const pd_values *computed, const pd_values *given,
                    const pd_values *clinic)
{
    pd_values_init(out);
    const pd_values *parts[3] = {computed, given, clinic};
    for (size_t p = 0; p < 3; p++) {
        if (!parts[p])
            continue;
        for (size_t i = 0; i < parts[p]->n; i++) {
            out->names = xrealloc(out->names, (out->n + 1) * sizeof *out->names);
            out->values = xrealloc(out->values, (out->n + 1) * sizeof *out->values);
            out->names[out->n] = xstrdup(parts[p]->names[i]);
            out->values[out->n] = xstrdup(parts[p]->values[i]);
            out->n++;
        }
    }
}

static double S_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The base glyphs of a template, language, paper, print size and clinic
 * profile for the PDF writer (render.h): those of the document with the
 * clinic's values and no others. A job without values of its own is that
 * document; otherwise it is laid out once per worker. */
static void S_set_base(pd_renderer *r, S_cached *cached, const pd_lang *lang, const pd_lang *also,
                       const pd_job *job, const S_clinic *clinic, const pd_pages *pages,
                       const char *key)
{
    if (!job->values || job->values->n == 0) {
        pd_pdf_cache_set_base(r->pdf, key, pages);
        return;
    }
    pd_values values;
    S_merge(&values, &r->computed, NULL, &clinic->values);
    pd_bind_stats stats = {0}, stats2 = {0};
    pd_error ignored = {0};
    pd_doc *doc =
        also ? pd_bind_bilingual(cached->t, r->schema, &values, lang, also, cached->messages,
                                 &stats, &stats2, &ignored)
             : pd_bind(cached->t, r->schema, &values, lang, cached->messages, &stats, &ignored);
    pd_layout_opts lopts = {job->large_print, pd_layoutplan_helper(r->plan)};
    pd_pages *blank = doc ? pd_layout_with(doc, r->fonts, job->paper, &lopts, &ignored) : NULL;
    pd_pdf_cache_set_base(r->pdf, key, blank);
    pd_pages_free(blank);
    pd_doc_free(doc);
    pd_bind_stats_free(&stats);
    pd_bind_stats_free(&stats2);
    pd_values_free(&values);
}

/* The "N of M messages are not translated into LL, e.g. ..." part of a
 * warning or refusal. */
static void S_untranslated(strbuf *w, const pd_bind_stats *stats, const char *lang)
{
    strbuf_printf(w, "%zu of %zu messages are not translated into %s", stats->untranslated,
                  stats->messages, lang);
    for (size_t i = 0; i < 3 && stats->first_untranslated[i]; i++)
        strbuf_printf(w, "%s \"%.50s%s\"", i ? "," : ", e.g.", stats->first_untranslated[i],
                      strlen(stats->first_untranslated[i]) > 50 ? "..." : "");
}

static bool S_render(pd_renderer *r, const pd_job *job, const char *also_arg, pd_job_result *res,
                     pd_error *err)
{
    /* PILDOC_TIMING=1 prints where the time goes, per document */
    double t0 = S_ms(), t_load = 0, t_bind = 0, t_fonts = 0, t_layout = 0;
    memset(res, 0, sizeof *res);
    pd_doc *doc = NULL;
    pd_pages *pages = NULL;
    strbuf key = STRBUF_INIT; /* PDF: the writer's base-glyph key */
    pd_bind_stats stats = {0}, stats2 = {0};
    pd_values values;
    pd_values_init(&values);
    bool ok = false;
    const S_clinic *clinic = S_clinic_profile(r, job->clinic, job->clinic_nofollow, err);
    if (!clinic)
        goto done;
    pd_values_free(&values);
    S_merge(&values, &r->computed, job->values, &clinic->values);
    res->lang = lang_resolve(job->lang, r->langs, err);
    const pd_lang *lang = res->lang ? pd_renderer_lang(r, res->lang, err) : NULL;
    if (!lang)
        goto done;
    const pd_lang *also = NULL;
    if (also_arg) {
        res->also = lang_resolve(also_arg, r->langs, err);
        if (res->also && strcmp(res->also, res->lang) == 0) {
            pd_error_set(err, NULL, 0,
                         "--also %s is the document's language already: a bilingual document "
                         "needs two different languages",
                         res->also);
            goto done;
        }
        also = res->also ? pd_renderer_lang(r, res->also, err) : NULL;
        if (!also)
            goto done;
    }
    S_cached *cached = S_template(r, job->template_name, err);
    if (!cached)
        goto done;
    pd_template *t = cached->t;
    res->template_name = xstrdup(t->name);
    t_load = S_ms();
    doc = also ? pd_bind_bilingual(t, r->schema, &values, lang, also, cached->messages, &stats,
                                   &stats2, err)
               : pd_bind(t, r->schema, &values, lang, cached->messages, &stats, err);
    if (!doc)
        goto done;
    if (also && (stats.untranslated || stats2.untranslated)) {
        /* each side must say all that the other says: no English fallback */
        strbuf w = STRBUF_INIT;
        S_untranslated(&w, stats.untranslated ? &stats : &stats2,
                       stats.untranslated ? res->lang : res->also);
        pd_error_set(err, t->path, 0,
                     "%s; a bilingual %s needs both languages complete (--allow-incomplete does "
                     "not apply)",
                     strbuf_str(&w), t->name);
        strbuf_free(&w);
        goto done;
    }
    if (clinic->logo)
        doc->logo = pd_image_copy(clinic->logo);
    if (stats.untranslated) {
        xmlChar *tstrict = xmlGetProp(xmlDocGetRootElement(t->doc), BAD_CAST "strict");
        bool refuse = job->strict == 1 ||
                      (job->strict == -1 && tstrict && xmlStrEqual(tstrict, BAD_CAST "yes"));
        xmlFree(tstrict);
        strbuf w = STRBUF_INIT;
        S_untranslated(&w, &stats, res->lang);
        if (refuse) {
            pd_error_set(err, t->path, 0,
                         "%s; refusing a half-translated %s (--allow-incomplete prints them in "
                         "English)",
                         strbuf_str(&w), t->name);
            strbuf_free(&w);
            goto done;
        }
        strbuf msg = STRBUF_INIT;
        strbuf_printf(&msg, "%s: %s; they print in English", t->path, strbuf_str(&w));
        res->warning = strbuf_take(&msg);
        strbuf_free(&w);
    }
    t_bind = S_ms();
    /* PDF: the same document with the same options was made before (a
     * leaflet names no patient): its bytes, without layout or writing */
    pd_pdf_info info = {"pildoc " PILDOC_VERSION, r->create_date, job->plain != 0, false};
    pd_layout_opts lopts = {job->large_print, pd_layoutplan_helper(r->plan)};
    pd_doccache_key digest;
    if (job->format == PD_FORMAT_PDF) {
        strbuf_printf(&key, "%s|%s%s%s|%s|%d|%s", job->template_name, res->lang, also ? "+" : "",
                      also ? res->also : "", job->paper->name, job->large_print,
                      clinic->path ? clinic->path : "");
        pd_doccache_opts dopts = {job->paper, &lopts, &info, job->form, key.data};
        pd_doccache_digest(doc, &dopts, &digest);
        if (!r->docs)
            r->docs = pd_doccache_new(PD_DOCCACHE_CAP, PD_DOCCACHE_PROBATION);
        if (pd_doccache_get_sha256(r->docs, &digest, &res->bytes, &res->pages, res->sha256)) {
            res->has_sha256 = 1;
            ok = true;
            if (getenv("PILDOC_TIMING"))
                fprintf(stderr, "pildoc: timing: templates %.1f ms, bind %.1f, cached %.1f\n",
                        t_load - t0, t_bind - t_load, S_ms() - t_bind);
            goto done;
        }
    }
    if (!S_fonts(r, err))
        goto done;
    t_fonts = S_ms();
    pages = pd_layout_with(doc, r->fonts, job->paper, &lopts, err);
    t_layout = S_ms();
    if (!pages)
        goto done;
    res->pages = pages->n_pages;
    if (job->form && !pd_form_has_signature(pages)) {
        pd_error_set(err, t->path, 0,
                     "%s has no line to sign on: --form makes fillable forms of consent sheets "
                     "only",
                     t->name);
        goto done;
    }
    if (job->format == PD_FORMAT_PDF) {
        if (!r->pdf)
            r->pdf = pd_pdf_cache_new();
        if (!pd_pdf_cache_has_base(r->pdf, key.data))
            S_set_base(r, cached, lang, also, job, clinic, pages, key.data);
        ok = (job->form ? pd_render_pdf_form : pd_render_pdf)(pages, &info, r->pdf, key.data,
                                                              &res->bytes, err);
        if (ok)
            pd_doccache_put(r->docs, &digest, res->bytes.data, res->bytes.len, res->pages);
    } else if (job->format == PD_FORMAT_PNG) {
        ok = pd_render_png(pages, job->page, job->dpi, &res->bytes, err);
    } else {
        pd_render_text(pages, &res->bytes);
        ok = true;
    }
    if (ok) {
        pd_glyphwarm_record(r->warm, pages);
        pd_layoutplan_record(r->plan);
    }
    if (getenv("PILDOC_TIMING"))
        fprintf(stderr,
                "pildoc: timing: templates %.1f ms, bind %.1f, fonts %.1f, layout %.1f, "
                "paint %.1f; document cache %zu KB, %zu KB of them on probation; layout "
                "cache %zu KB; %zu of %zu planned paragraphs shaped on a second thread\n",
                t_load - t0, t_bind - t_load, t_fonts - t_bind, t_layout - t_fonts,
                S_ms() - t_layout, r->docs ? pd_doccache_bytes(r->docs) >> 10 : 0,
                r->docs ? pd_doccache_probation_bytes(r->docs) >> 10 : 0,
                r->fonts ? pd_fonts_cache_bytes(r->fonts) >> 10 : 0, pd_layoutplan_taken(r->plan),
                pd_layoutplan_planned(r->plan));
done:
    strbuf_free(&key);
    pd_pages_free(pages);
    pd_doc_free(doc);
    pd_bind_stats_free(&stats);
    pd_bind_stats_free(&stats2);
    pd_values_free(&values);
    return ok;
}

bool pd_renderer_render(pd_renderer *r, const pd_job *job, pd_job_result *res, pd_error *err)
{
    return S_render(r, job, NULL, res, err);
}

bool pd_renderer_render_also(pd_renderer *r, const pd_job *job, const char *also,
                             pd_job_result *res, pd_error *err)
{
    return S_render(r, job, also, res, err);
}

void pd_job_result_free(pd_job_result *res)
{
    strbuf_free(&res->bytes);
    free(res->template_name);
    free(res->lang);
    free(res->also);
    free(res->warning);
    memset(res, 0, sizeof *res);
}
