/* The glyph warm-up of a fresh render (glyphwarm.c): a render keeps the
 * list of the fonts and glyphs it showed; a later start makes the very
 * cairo fonts the layout measures with and measures those glyphs, on a
 * thread or (when none can be started) at once; a damaged, foreign or
 * missing list measures nothing and is written anew; an unchanged list is
 * not written again; documents are the same with or without it. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind.h"
#include "fonts.h"
#include "glyphwarm.h"
#include "lang.h"
#include "layout.h"
#include "renderer.h"
#include "strbuf.h"
#include "template.h"
#include "testdir.h"
#include "testrender.h"
#include "vars.h"

TCase *pd_test_glyphwarm_tcase(void);

#define S_WHAT "leaflet|zh_CN||a4|0|"

/* A cache folder of its own, emptied. */
static const char *S_cache(void)
{
    return pd_test_dir("glyphwarm");
}

/* The path of the one warm-*.glyphs file in dir ("" when there is none). */
static const char *S_list_file(const char *dir)
{
    static char path[512];
    path[0] = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "warm-", 5) == 0 && strstr(e->d_name, ".glyphs")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            n++;
        }
    closedir(d);
    ck_assert_int_le(n, 1);
    return path;
}

static void S_render(pd_renderer *r, const char *template_name, strbuf *out)
{
    pd_job job = {.template_name = template_name,
                  .lang = "zh_CN",
                  .paper = pd_paper_find("a4"),
                  .strict = -1,
                  .format = PD_FORMAT_PDF};
    pd_test_render(r, &job, NULL, out);
}

/* One fresh render's worth: a renderer with `w`, its PDF. */
static void S_render_template_with(const pd_env *env, const char *template_name, pd_glyphwarm *w,
                                   strbuf *out)
{
    pd_error err = {0};
    pd_renderer *r = pd_renderer_new(env, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert(pd_renderer_load_fonts(r));
    pd_renderer_set_glyphwarm(r, w);
    S_render(r, template_name, out);
    pd_renderer_free(r);
}

static void S_render_with(const pd_env *env, pd_glyphwarm *w, strbuf *out)
{
    S_render_template_with(env, "leaflet", w, out);
}

START_TEST(glyphwarm_measures_what_the_last_render_showed)
{
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    const char *dir = S_cache();
    pd_env env;
    pd_env_init(&env);
    ck_assert_ptr_null(pd_glyphwarm_start(NULL, S_WHAT, true)); /* no cache folder: nothing */
    pd_glyphwarm_record(NULL, NULL);
    pd_glyphwarm_free(NULL);

    /* no list yet: nothing measured; the render keeps one */
    pd_glyphwarm *w = pd_glyphwarm_start(dir, S_WHAT, false);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(pd_glyphwarm_glyphs(w), 0);
    ck_assert(!pd_glyphwarm_threaded(w));
    strbuf first;
    S_render_with(&env, w, &first);
    pd_glyphwarm_free(w);
    const char *list = S_list_file(dir);
    ck_assert_msg(*list, "no warm-*.glyphs written");
    char kept[512];
    snprintf(kept, sizeof kept, "%s", list);
    struct stat st0;
    ck_assert_int_eq(stat(kept, &st0), 0);

    /* the next start measures the glyphs (a Chinese leaflet: hundreds),
       on the calling thread and on a thread of its own alike */
    w = pd_glyphwarm_start(dir, S_WHAT, false);
    size_t measured = pd_glyphwarm_glyphs(w);
    ck_assert_uint_gt(measured, 500);
    pd_glyphwarm *t = pd_glyphwarm_start(dir, S_WHAT, true);
    ck_assert(pd_glyphwarm_threaded(t));
    pd_glyphwarm_wait(t);
    ck_assert_uint_eq(pd_glyphwarm_glyphs(t), measured);
    pd_glyphwarm_free(t);
    /* another document's list is another file */
    t = pd_glyphwarm_start(dir, "leaflet|fr||a4|0|", false);
    ck_assert_uint_eq(pd_glyphwarm_glyphs(t), 0);
    pd_glyphwarm_free(t);

    /* the same PDF with the warm-up; the unchanged list is not rewritten */
    strbuf second;
    S_render_with(&env, w, &second);
    ck_assert(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);
    pd_glyphwarm_free(w);
    struct stat st1;
    ck_assert_int_eq(stat(kept, &st1), 0);
    ck_assert_int_eq(st1.st_ino, st0.st_ino);
    ck_assert_int_eq(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
    ck_assert_int_eq(st1.st_mtim.tv_sec, st0.st_mtim.tv_sec);

    /* the same fonts showing other glyphs (the consent sheet, kept under
       the leaflet's name here): the list is written anew, with them */
    w = pd_glyphwarm_start(dir, S_WHAT, false);
    strbuf other;
    S_render_template_with(&env, "consent", w, &other);
    strbuf_free(&other);
    pd_glyphwarm_free(w);
    struct stat st2;
    ck_assert_int_eq(stat(kept, &st2), 0);
    ck_assert_int_ne(st2.st_ino, st1.st_ino);
    w = pd_glyphwarm_start(dir, S_WHAT, false);
    ck_assert_uint_gt(pd_glyphwarm_glyphs(w), 100);
    ck_assert_uint_ne(pd_glyphwarm_glyphs(w), measured);
    S_render_with(&env, w, &other); /* the leaflet again: its own list back */
    strbuf_free(&other);
    pd_glyphwarm_free(w);

    /* a damaged list measures nothing, the render is the same, and the
       list is written anew */
    FILE *f = fopen(kept, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, -10, SEEK_END);
    fputc('!', f);
    fclose(f);
    w = pd_glyphwarm_start(dir, S_WHAT, true);
    pd_glyphwarm_wait(w);
    ck_assert_uint_eq(pd_glyphwarm_glyphs(w), 0);
    strbuf third;
    S_render_with(&env, w, &third);
    pd_glyphwarm_free(w);
    ck_assert(first.len == third.len && memcmp(first.data, third.data, first.len) == 0);
    w = pd_glyphwarm_start(dir, S_WHAT, false);
    ck_assert_uint_eq(pd_glyphwarm_glyphs(w), measured);
    /* freed while nobody waited: stops at its next glyph */
    pd_glyphwarm_free(w);
    pd_glyphwarm_free(pd_glyphwarm_start(dir, S_WHAT, true));

    strbuf_free(&first);
    strbuf_free(&second);
    strbuf_free(&third);
    pd_env_free(&env);
    unlink(kept);
    rmdir(dir);
}
END_TEST

/* The fonts the warm-up makes are the layout's own cairo fonts (the same
 * objects, so the glyphs it measured are the layout's cache hits). */
START_TEST(glyphwarm_fonts_are_the_layouts_own)
{
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    const char *dir = S_cache();
    pd_env env;
    pd_env_init(&env);
    pd_glyphwarm *w = pd_glyphwarm_start(dir, S_WHAT, false);
    strbuf pdf;
    S_render_with(&env, w, &pdf); /* keeps the list */
    strbuf_free(&pdf);
    pd_glyphwarm_free(w);

    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new(env.fonts_dir, env.font_cache, &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    w = pd_glyphwarm_start(dir, S_WHAT, true);
    pd_glyphwarm_wait(w);
    pd_schema *schema = pd_schema_load(env.variables, &err);
    ck_assert_msg(schema != NULL, "%s", err.msg);
    pd_template *t = pd_template_load("leaflet", env.templates_dir, env.rng, schema, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    pd_lang *lang = pd_lang_load(env.localedir, "zh_CN", &err);
    ck_assert_msg(lang != NULL, "%s", err.msg);
    pd_values v;
    pd_values_init(&v);
    ck_assert(pd_values_compute(&v, schema, env.templates_dir, &err));
    pd_doc *doc = pd_bind(t, schema, &v, lang, NULL, NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    pd_pages *pages = pd_layout(doc, fonts, pd_paper_find("a4"), &err);
    ck_assert_msg(pages != NULL, "%s", err.msg);
    size_t runs = 0, held = 0;
    for (size_t l = 0; l < pages->n_layouts; l++)
        for (GSList *line = pango_layout_get_lines_readonly(pages->layouts[l]); line;
             line = line->next)
            for (GSList *run = ((PangoLayoutLine *)line->data)->runs; run; run = run->next) {
                runs++;
                held += pd_glyphwarm_holds(w, ((PangoGlyphItem *)run->data)->item->analysis.font);
            }
    ck_assert_uint_gt(runs, 100);
    ck_assert_uint_eq(held, runs);
    pd_glyphwarm_free(w);
    pd_pages_free(pages);
    pd_doc_free(doc);
    pd_values_free(&v);
    pd_lang_free(lang);
    pd_template_free(t);
    pd_schema_free(schema);
    pd_fonts_free(fonts);
    unlink(S_list_file(dir));
    rmdir(dir);
    pd_env_free(&env);
}
END_TEST

TCase *pd_test_glyphwarm_tcase(void)
{
    TCase *tc = tcase_create("glyphwarm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, glyphwarm_measures_what_the_last_render_showed);
    tcase_add_test(tc, glyphwarm_fonts_are_the_layouts_own);
    return tc;
}
