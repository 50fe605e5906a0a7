/* The worker's cache of layouts (layout.c): a layout is found again by a
 * hash of everything that makes it what it is, checked against what it
 * was made for, and what is measured from it is kept with it. A renderer
 * that has laid out other documents gives every document byte for byte
 * what a fresh one gives, for values that differ only in a few letters,
 * in print size, paper, second language; and the cache is used: a
 * paragraph met again is the same layout. */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "fonts.h"
#include "lang.h"
#include "layout.h"
#include "renderer.h"
#include "strbuf.h"
#include "template.h"
#include "testrender.h"
#include "vars.h"

TCase *pd_test_layoutcache_tcase(void);

typedef struct S_job {
    const char *template_name, *lang, *also, *paper;
    int large_print;
    const char *sets[4];
} S_job;

/* Values of one length that differ in a letter or two, the same text in
 * two print sizes, on two papers, alone and beside a second language. */
static const S_job S_jobs[] = {
    {"consent", "fr", NULL, "a4", 0, {"patient.name=Zoë Martin", "patient.id=P0001", NULL}},
    {"consent", "fr", NULL, "a4", 0, {"patient.name=Zoë Mertin", "patient.id=P0002", NULL}},
    {"consent", "fr", NULL, "a4", 1, {"patient.name=Zoë Martin", "patient.id=P0001", NULL}},
    {"consent", "fr", NULL, "letter", 0, {"patient.name=Zoë Martin", "patient.id=P0001", NULL}},
    {"consent", "fr", "en", "a4", 0, {"patient.name=Zoë Martin", "patient.id=P0001", NULL}},
    {"consent", "zh_CN", NULL, "a4", 0, {"patient.name=陈 Li", "patient.id=P0003", NULL}},
    {"consent", "zh_CN", NULL, "a4", 0, {"patient.name=王 Li", "patient.id=P0004", NULL}},
    {"leaflet", "en", NULL, "a4", 0, {"treatment.condition=crps", NULL}},
    {"leaflet", "en", NULL, "a4", 1, {"treatment.condition=crps", NULL}},
    {"leaflet", "en", NULL, "a4", 0, {"treatment.condition=cancer", NULL}},
};
#define N_JOBS (sizeof S_jobs / sizeof S_jobs[0])

static void S_render_job(pd_renderer *r, const S_job *j, strbuf *out)
{
    pd_values v;
    pd_values_init(&v);
    pd_error err = {0};
    for (size_t i = 0; j->sets[i]; i++)
        ck_assert_msg(pd_values_set_assignment(&v, pd_renderer_schema(r), j->sets[i], &err), "%s",
                      err.msg);
    pd_job job = {.template_name = j->template_name,
                  .lang = j->lang,
                  .paper = pd_paper_find(j->paper),
                  .strict = -1,
                  .values = &v,
                  .format = PD_FORMAT_PDF,
                  .large_print = j->large_print};
    pd_test_render(r, &job, j->also, out);
    pd_values_free(&v);
}

START_TEST(layout_cache_gives_what_a_fresh_renderer_gives)
{
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    pd_env env;
    pd_env_init(&env);
    strbuf fresh[N_JOBS];
    for (size_t i = 0; i < N_JOBS; i++) {
        pd_error err = {0};
        pd_renderer *r = pd_renderer_new(&env, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        S_render_job(r, &S_jobs[i], &fresh[i]);
        pd_renderer_free(r);
    }
    /* one renderer: every job in order, then in the reverse order */
    pd_error err = {0};
    pd_renderer *r = pd_renderer_new(&env, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    for (size_t k = 0; k < 2 * N_JOBS; k++) {
        size_t i = k < N_JOBS ? k : 2 * N_JOBS - 1 - k;
        strbuf got;
        S_render_job(r, &S_jobs[i], &got);
        ck_assert_msg(got.len == fresh[i].len && memcmp(got.data, fresh[i].data, got.len) == 0,
                      "job %zu (%s %s%s%s, %s%s, %s) differs from a fresh renderer's", i + 1,
                      S_jobs[i].template_name, S_jobs[i].lang, S_jobs[i].also ? "+" : "",
                      S_jobs[i].also ? S_jobs[i].also : "", S_jobs[i].paper,
                      S_jobs[i].large_print ? " large print" : "", S_jobs[i].sets[0]);
        strbuf_free(&got);
    }
    pd_renderer_free(r);
    for (size_t i = 0; i < N_JOBS; i++)
        strbuf_free(&fresh[i]);
    pd_env_free(&env);
}
END_TEST

/* The consent sheet in French for a patient, laid out with `fonts`. */
static pd_pages *S_consent(pd_fonts *fonts, const char *name)
{
    pd_error err = {0};
    pd_schema *schema = pd_schema_load("templates/variables.xml", &err);
    ck_assert_msg(schema != NULL, "%s", err.msg);
    pd_template *t = pd_template_load("consent", "templates", "templates/pildoc.rng", schema, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    pd_lang *lang = pd_lang_load("build/locale", "fr", &err);
    ck_assert_msg(lang != NULL, "%s", err.msg);
    pd_values v;
    pd_values_init(&v);
    strbuf set = STRBUF_INIT;
    strbuf_printf(&set, "patient.name=%s", name);
    ck_assert_msg(pd_values_set_assignment(&v, schema, set.data, &err), "%s", err.msg);
    strbuf_free(&set);
    pd_doc *doc = pd_bind(t, schema, &v, lang, NULL, NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    pd_pages *pages = pd_layout(doc, fonts, pd_paper_find("a4"), &err);
    ck_assert_msg(pages != NULL, "%s", err.msg);
    pd_doc_free(doc);
    pd_values_free(&v);
    pd_lang_free(lang);
    pd_template_free(t);
    pd_schema_free(schema);
    return pages;
}

/* Lines whose text holds `needle`, on every page. */
static size_t S_count_lines(const pd_pages *p, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_pages; i++)
        for (size_t k = 0; k < p->pages[i].n_items; k++) {
            char *t = pd_item_text(&p->pages[i].items[k]);
            n += strstr(t, needle) != NULL;
            free(t);
        }
    return n;
}

START_TEST(layout_cache_shares_paragraphs_not_values)
{
    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    pd_pages *a = S_consent(fonts, "Zoë Martin"), *b = S_consent(fonts, "Zoë Mertin");
    /* each its own name, never the other's (one length, one style) */
    ck_assert_uint_gt(S_count_lines(a, "Zoë Martin"), 0);
    ck_assert_uint_eq(S_count_lines(a, "Zoë Mertin"), 0);
    ck_assert_uint_gt(S_count_lines(b, "Zoë Mertin"), 0);
    ck_assert_uint_eq(S_count_lines(b, "Zoë Martin"), 0);
    /* the same pages, item for item, but for the name's lines (and where
       what follows them on their row starts); every other line is the
       same line of the same layout (the cache's) */
    ck_assert_uint_eq(a->n_pages, b->n_pages);
    size_t shared = 0, own = 0;
    for (size_t i = 0; i < a->n_pages; i++) {
        ck_assert_uint_eq(a->pages[i].n_items, b->pages[i].n_items);
        for (size_t k = 0; k < a->pages[i].n_items; k++) {
            const pd_item *x = &a->pages[i].items[k], *y = &b->pages[i].items[k];
            ck_assert_int_eq(x->kind, y->kind);
            bool name_row = false;
            for (size_t m = 0; m < a->pages[i].n_items; m++) {
                char *t = pd_item_text(&a->pages[i].items[m]);
                name_row =
                    name_row || (strstr(t, "Zoë M") && fabs(a->pages[i].items[m].y - x->y) < 5);
                free(t);
            }
            if (!name_row)
                ck_assert_double_eq(x->x, y->x);
            ck_assert_double_eq(x->y, y->y);
            ck_assert_double_eq(x->w, y->w);
            ck_assert_double_eq(x->h, y->h);
            ck_assert_int_eq(x->writeon, y->writeon);
            ck_assert_int_eq(x->tag, y->tag);
            if (x->kind != PD_ITEM_LINE)
                continue;
            char *tx = pd_item_text(x);
            if (strstr(tx, "Zoë M")) {
                own++;
                ck_assert_ptr_ne(x->line, y->line);
            } else {
                shared += x->line == y->line;
            }
            free(tx);
        }
    }
    ck_assert_uint_gt(own, 0);
    ck_assert_uint_gt(shared, 100);
    pd_pages_free(a);
    pd_pages_free(b);
    pd_fonts_free(fonts);
}
END_TEST

TCase *pd_test_layoutcache_tcase(void)
{
    TCase *tc = tcase_create("layoutcache");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, layout_cache_gives_what_a_fresh_renderer_gives);
    tcase_add_test(tc, layout_cache_shares_paragraphs_not_values);
    return tc;
}
