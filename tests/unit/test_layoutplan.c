/* The layout plan of a fresh render (layoutplan.c): a render keeps the
 * paragraphs it shaped; a later start shapes them from the end on a
 * thread of its own with a twin font map, and the layout takes them;
 * documents are byte for byte the same with or without the plan, with a
 * plan made for another document, and with no thread. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fonts.h"
#include "layoutplan.h"
#include "renderer.h"
#include "strbuf.h"
#include "testdir.h"
#include "testrender.h"

TCase *pd_test_layoutplan_tcase(void);

#define S_WHAT "leaflet|zh_CN||a4|0|"

/* A cache folder of its own, emptied. */
static const char *S_cache(void)
{
    return pd_test_dir("layoutplan");
}

static size_t S_plan_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, "plan-", 5) == 0 && strstr(e->d_name, ".layouts") != NULL;
    closedir(d);
    return n;
}

typedef enum { NO_PLAN, PLAN_THREAD, PLAN_WAITED, PLAN_NO_THREAD } S_how;

/* One fresh render's worth of `template_name` in `lang`: a renderer, a
 * plan kept under `what` in dir (as `how` says), the PDF; *planned and
 * *taken: the plan's counts. */
static void S_render(const pd_env *env, const char *dir, const char *what,
                     const char *template_name, const char *lang, S_how how, strbuf *out,
                     size_t *planned, size_t *taken)
{
    pd_error err = {0};
    pd_renderer *r = pd_renderer_new(env, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert(pd_renderer_load_fonts(r));
    pd_layoutplan *plan = NULL;
    if (how != NO_PLAN) {
        plan = pd_layoutplan_start(dir, what, pd_renderer_fonts(r), how != PLAN_NO_THREAD);
        ck_assert_ptr_nonnull(plan);
        if (how == PLAN_WAITED)
            pd_layoutplan_wait(plan); /* every paragraph shaped on the thread */
    }
    pd_renderer_set_layoutplan(r, plan);
    pd_job job = {.template_name = template_name,
                  .lang = lang,
                  .paper = pd_paper_find("a4"),
                  .strict = -1,
                  .format = PD_FORMAT_PDF};
    pd_test_render(r, &job, NULL, out);
    *planned = pd_layoutplan_planned(plan);
    *taken = pd_layoutplan_taken(plan);
    pd_renderer_set_layoutplan(r, NULL);
    pd_layoutplan_free(plan);
    pd_renderer_free(r);
}

static void S_assert_same(const strbuf *a, const strbuf *b)
{
    ck_assert_uint_eq(a->len, b->len);
    ck_assert(memcmp(a->data, b->data, a->len) == 0);
}

START_TEST(layoutplan_shapes_ahead_with_the_same_bytes)
{
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    const char *dir = S_cache();
    pd_env env;
    pd_env_init(&env);
    ck_assert_ptr_null(pd_layoutplan_start(NULL, S_WHAT, NULL, true)); /* no folder: nothing */
    ck_assert_ptr_null(pd_layoutplan_helper(NULL));
    pd_layoutplan_record(NULL);
    pd_layoutplan_wait(NULL);
    pd_layoutplan_free(NULL);

    /* the document as it is without any plan */
    strbuf alone, first, waited, racing, unthreaded;
    size_t planned, taken;
    S_render(&env, dir, S_WHAT, "leaflet", "zh_CN", NO_PLAN, &alone, &planned, &taken);
    ck_assert_uint_eq(S_plan_files(dir), 0);

    /* no plan yet: nothing planned, no thread; the render keeps one */
    S_render(&env, dir, S_WHAT, "leaflet", "zh_CN", PLAN_THREAD, &first, &planned, &taken);
    ck_assert_uint_eq(planned, 0);
    ck_assert_uint_eq(taken, 0);
    ck_assert_uint_eq(S_plan_files(dir), 1);
    S_assert_same(&alone, &first);

    /* the next render: the thread shapes every paragraph first (waited
       for), the layout takes them all; the same bytes */
    S_render(&env, dir, S_WHAT, "leaflet", "zh_CN", PLAN_WAITED, &waited, &planned, &taken);
    ck_assert_uint_gt(planned, 100);
    ck_assert_uint_eq(taken, planned);
    S_assert_same(&alone, &waited);
    /* racing the layout, as `render` does; without a thread */
    S_render(&env, dir, S_WHAT, "leaflet", "zh_CN", PLAN_THREAD, &racing, &planned, &taken);
    ck_assert_uint_le(taken, planned);
    S_assert_same(&alone, &racing);
    S_render(&env, dir, S_WHAT, "leaflet", "zh_CN", PLAN_NO_THREAD, &unthreaded, &planned, &taken);
    ck_assert_uint_gt(planned, 100);
    ck_assert_uint_eq(taken, 0);
    S_assert_same(&alone, &unthreaded);

    /* a plan made for another document (the leaflet's, for a consent
       sheet): its layouts are not used; the same bytes as without */
    strbuf consent, consent_planned;
    S_render(&env, dir, S_WHAT, "consent", "zh_CN", NO_PLAN, &consent, &planned, &taken);
    S_render(&env, dir, S_WHAT, "consent", "zh_CN", PLAN_WAITED, &consent_planned, &planned,
             &taken);
    ck_assert_uint_gt(planned, 100);
    S_assert_same(&consent, &consent_planned);
    /* and in another language, another document: its own plan */
    strbuf en, en_planned;
    S_render(&env, dir, "leaflet|en||a4|0|", "leaflet", "en", NO_PLAN, &en, &planned, &taken);
    S_render(&env, dir, "leaflet|en||a4|0|", "leaflet", "en", PLAN_THREAD, &en_planned, &planned,
             &taken);
    ck_assert_uint_eq(planned, 0);
    ck_assert_uint_eq(S_plan_files(dir), 2);
    strbuf_free(&en_planned);
    S_render(&env, dir, "leaflet|en||a4|0|", "leaflet", "en", PLAN_WAITED, &en_planned, &planned,
             &taken);
    ck_assert_uint_gt(planned, 100);
    ck_assert_uint_eq(taken, planned);
    S_assert_same(&en, &en_planned);

    strbuf *all[] = {&alone,   &first,           &waited, &racing,    &unthreaded,
                     &consent, &consent_planned, &en,     &en_planned};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        strbuf_free(all[i]);
    S_cache();
    rmdir(dir);
    pd_env_free(&env);
}
END_TEST

/* The file's whole payload (after diskcache's 87-byte head), malloc'd. */
static unsigned char *S_payload(const char *dir, size_t *len)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char path[512] = "";
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "plan-", 5) == 0)
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    closedir(d);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(n, 87);
    *len = n - 87;
    unsigned char *p = malloc(*len);
    memcpy(p, buf + 87, *len);
    return p;
}

/* A plan file's payload is read whole or not at all: cut anywhere, a
 * number out of range or not a number, text that is not UTF-8: nothing. */
START_TEST(layoutplan_reads_a_whole_plan_or_nothing)
{
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    const char *dir = S_cache();
    pd_env env;
    pd_env_init(&env);
    strbuf pdf;
    size_t planned, taken;
    S_render(&env, dir, S_WHAT, "leaflet", "zh_CN", PLAN_THREAD, &pdf, &planned, &taken);
    strbuf_free(&pdf);
    size_t len;
    unsigned char *p = S_payload(dir, &len);
    size_t n = pd_layoutplan_parse(p, len, NULL, 0);
    ck_assert_uint_gt(n, 100);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 3)
        ck_assert_uint_eq(pd_layoutplan_parse(p, cut, NULL, 0), 0);
    /* the first paragraph: count (4), "zh-CN" (4 + 5), no second language
       (4), k (8), then its width (8) */
    size_t width_at = 4 + 9 + 4 + 8;
    unsigned char saved[8];
    memcpy(saved, p + width_at, 8);
    static const unsigned char nan[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
    static const unsigned char huge[8] = {0x47, 0xef, 0xff, 0xff, 0xe0, 0, 0, 0}; /* 3.4e38 */
    memcpy(p + width_at, nan, 8);
    ck_assert_uint_eq(pd_layoutplan_parse(p, len, NULL, 0), 0);
    memcpy(p + width_at, huge, 8);
    ck_assert_uint_eq(pd_layoutplan_parse(p, len, NULL, 0), 0);
    memcpy(p + width_at, saved, 8);
    ck_assert_uint_eq(pd_layoutplan_parse(p, len, NULL, 0), n);
    p[6] = 0xff; /* inside "zh-CN": not UTF-8 */
    ck_assert_uint_eq(pd_layoutplan_parse(p, len, NULL, 0), 0);
    free(p);
    S_cache();
    rmdir(dir);
    pd_env_free(&env);
}
END_TEST

/* A font's metrics are the same whichever font map, thread or order
 * measured it first, with no approximate character width (fonts.c,
 * S_metrics): Pango's own gave a font first measured inside another's
 * sample text none, and the others one, which moved where line breaks
 * are measured exactly. */
START_TEST(font_metrics_do_not_depend_on_what_was_measured_first)
{
    pd_env env;
    pd_env_init(&env);
    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new(env.fonts_dir, env.font_cache, &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    pd_fonts *twin = pd_fonts_new_twin(fonts);
    ck_assert_ptr_nonnull(twin);
    const char *faces[] = {"Noto Sans CJK SC Core 10.5", "Noto Sans Bold 9", "Noto Sans 16"};
    PangoLanguage *langs[] = {pango_language_from_string("zh-CN"),
                              pango_language_from_string("fr")};
    for (size_t i = 0; i < 3; i++) {
        PangoFontDescription *d = pango_font_description_from_string(faces[i]);
        PangoFont *a =
            pango_font_map_load_font(pango_context_get_font_map(pd_fonts_context(fonts, "zh-CN")),
                                     pd_fonts_context(fonts, "zh-CN"), d);
        PangoFont *b =
            pango_font_map_load_font(pango_context_get_font_map(pd_fonts_context(twin, "fr")),
                                     pd_fonts_context(twin, "fr"), d);
        pango_font_description_free(d);
        ck_assert(a && b && a != b);
        PangoFont *same = pd_fonts_same_font(fonts, "zh-CN", b);
        ck_assert_ptr_eq(same, a); /* the twin's font put back on the document's */
        g_object_unref(same);
        for (size_t l = 0; l < 2; l++) {
            /* the first font measured in one order, the other in the other */
            PangoFontMetrics *ma = pango_font_get_metrics(l ? b : a, langs[l]);
            PangoFontMetrics *mb = pango_font_get_metrics(l ? a : b, langs[l]);
            ck_assert_int_eq(pango_font_metrics_get_approximate_char_width(ma), 0);
            ck_assert_int_eq(pango_font_metrics_get_approximate_digit_width(mb), 0);
            ck_assert_int_gt(pango_font_metrics_get_height(ma), 0);
            ck_assert_int_eq(pango_font_metrics_get_height(ma), pango_font_metrics_get_height(mb));
            ck_assert_int_eq(pango_font_metrics_get_ascent(ma), pango_font_metrics_get_ascent(mb));
            ck_assert_int_eq(pango_font_metrics_get_underline_position(ma),
                             pango_font_metrics_get_underline_position(mb));
            pango_font_metrics_unref(ma);
            pango_font_metrics_unref(mb);
        }
        g_object_unref(a);
        g_object_unref(b);
    }
    pd_fonts_free(twin);
    pd_fonts_free(fonts);
    pd_env_free(&env);
}
END_TEST

TCase *pd_test_layoutplan_tcase(void)
{
    TCase *tc = tcase_create("layoutplan");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, layoutplan_shapes_ahead_with_the_same_bytes);
    tcase_add_test(tc, font_metrics_do_not_depend_on_what_was_measured_first);
    tcase_add_test(tc, layoutplan_reads_a_whole_plan_or_nothing);
    return tc;
}
