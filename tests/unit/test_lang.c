/* Unit tests (Check) of per-renderer languages: the .mo reader against
 * msgfmt's output and against libintl itself, Plural-Forms expressions,
 * broken catalogs, and renderers whose languages never leak into each
 * other. Run from the source tree (make unit). */
#include <check.h>
#include <gettext-po.h>
#include <libintl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bilingual.h"
#include "catalog.h"
#include "fonts.h"
#include "lang.h"
#include "mofile.h"
#include "plural.h"
#include "renderer.h"
#include "strbuf.h"
#include "template.h"
#include "vars.h"

static char S_tmp[256];

static void S_setup(void)
{
    snprintf(S_tmp, sizeof S_tmp, "/tmp/pildoc-lang.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(S_tmp));
}

static void S_teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", S_tmp);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes po text to S_tmp/NAME.po and compiles it with msgfmt (extra:
 * msgfmt options) into dir/NAME.mo; returns the .mo path (static). */
static const char *S_msgfmt(const char *name, const char *po, const char *extra)
{
    static char mo[512];
    char path[400], cmd[1400];
    snprintf(path, sizeof path, "%s/%s.po", S_tmp, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(po, f);
    fclose(f);
    snprintf(mo, sizeof mo, "%s/%s.mo", S_tmp, name);
    snprintf(cmd, sizeof cmd, "msgfmt %s -o '%s' '%s'", extra, mo, path);
    ck_assert_int_eq(system(cmd), 0);
    return mo;
}

static const char S_po[] =
    "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n"
    "\"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || "
    "n%100>=20) ? 1 : 2);\\n\"\n\n"
    "msgid \"May\"\nmsgstr \"maj (no context)\"\n\n"
    "msgctxt \"month\"\nmsgid \"May\"\nmsgstr \"maj\"\n\n"
    "msgctxt \"modal verb\"\nmsgid \"May\"\nmsgstr \"może\"\n\n"
    "msgid \"untranslated\"\nmsgstr \"\"\n\n"
    "#, fuzzy\nmsgid \"fuzzy one\"\nmsgstr \"rozmyte\"\n\n"
    "msgid \"{n} session\"\nmsgid_plural \"{n} sessions\"\n"
    "msgstr[0] \"{n} sesja\"\nmsgstr[1] \"{n} sesje\"\nmsgstr[2] \"{n} sesji\"\n\n"
    "msgctxt \"ctx\"\nmsgid \"{n} day\"\nmsgid_plural \"{n} days\"\n"
    "msgstr[0] \"{n} dzień\"\nmsgstr[1] \"{n} dni\"\nmsgstr[2] \"{n} dni\"\n";

static void S_check_small(const pd_mo *mo)
{
    ck_assert_str_eq(pd_mo_gettext(mo, NULL, "May"), "maj (no context)");
    ck_assert_str_eq(pd_mo_gettext(mo, "month", "May"), "maj");
    ck_assert_str_eq(pd_mo_gettext(mo, "modal verb", "May"), "może");
    ck_assert_ptr_null(pd_mo_gettext(mo, "other", "May"));
    ck_assert_ptr_null(pd_mo_gettext(mo, NULL, "Ma"));
    ck_assert_ptr_null(pd_mo_gettext(mo, NULL, "untranslated"));
    ck_assert_ptr_null(pd_mo_gettext(mo, NULL, "fuzzy one")); /* msgfmt leaves it out */
    ck_assert_uint_eq(pd_mo_nplurals(mo), 3);
    static const char *const want[] = {"{n} sesji", "{n} sesja", "{n} sesje",
                                       "{n} sesje", "{n} sesje", "{n} sesji"};
    for (unsigned long n = 0; n < 6; n++)
        ck_assert_str_eq(pd_mo_ngettext(mo, NULL, "{n} session", n), want[n]);
    ck_assert_str_eq(pd_mo_ngettext(mo, NULL, "{n} session", 22), "{n} sesje");
    ck_assert_str_eq(pd_mo_ngettext(mo, NULL, "{n} session", 112), "{n} sesji");
    ck_assert_str_eq(pd_mo_ngettext(mo, "ctx", "{n} day", 1), "{n} dzień");
    ck_assert_ptr_null(pd_mo_ngettext(mo, NULL, "{n} day", 1));
}

START_TEST(mo_reads_msgfmt_output_contexts_and_plurals)
{
    pd_error err = {0};
    pd_mo *mo = pd_mo_load(S_msgfmt("small", S_po, ""), &err);
    ck_assert_msg(mo != NULL, "%s", err.msg);
    S_check_small(mo);
    pd_mo_free(mo);
    /* the same catalog written big-endian reads the same */
    mo = pd_mo_load(S_msgfmt("small-be", S_po, "--endianness=big"), &err);
    ck_assert_msg(mo != NULL, "%s", err.msg);
    S_check_small(mo);
    pd_mo_free(mo);
    /* and without msgfmt's hash table (a binary search needs none) */
    mo = pd_mo_load(S_msgfmt("small-nohash", S_po, "--no-hash"), &err);
    ck_assert_msg(mo != NULL, "%s", err.msg);
    S_check_small(mo);
    pd_mo_free(mo);
}
END_TEST

START_TEST(mo_missing_or_corrupt_is_one_clear_line)
{
    pd_error err = {0};
    char path[400];
    snprintf(path, sizeof path, "%s/none.mo", S_tmp);
    ck_assert_ptr_null(pd_mo_load(path, &err));
    ck_assert_msg(strstr(err.msg, "none.mo: cannot read the compiled catalog: No such file") !=
                      NULL,
                  "%s", err.msg);
    /* a folder is not a catalog */
    pd_error e2 = {0};
    ck_assert_ptr_null(pd_mo_load(S_tmp, &e2));
    ck_assert_msg(strstr(e2.msg, "must be a regular file") != NULL, "%s", e2.msg);

    /* every truncation of a real catalog is refused with one line, or (cut
       after the last string) still reads; none crashes */
    const char *mo_path = S_msgfmt("cut", S_po, "");
    FILE *f = fopen(mo_path, "rb");
    ck_assert_ptr_nonnull(f);
    char buf[4096];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(size, 100);
    for (size_t len = 0; len < size; len++) {
        pd_error e = {0};
        pd_mo *mo = pd_mo_from_memory(buf, len, "cut.mo", &e);
        if (mo) {
            S_check_small(mo);
            pd_mo_free(mo);
            continue;
        }
        ck_assert(e.set);
        ck_assert_ptr_null(strchr(e.msg, '\n'));
        ck_assert_msg(strncmp(e.msg, "cut.mo: ", 8) == 0, "%s", e.msg);
    }
    pd_error e3 = {0};
    ck_assert_ptr_null(pd_mo_from_memory(buf, 20, "cut.mo", &e3));
    ck_assert_str_eq(e3.msg, "cut.mo: not a compiled catalog (20 bytes: too short)");
    /* a string offset pointing past the end */
    char bad[4096];
    memcpy(bad, buf, size);
    unsigned orig_tab = (unsigned char)bad[12] | (unsigned char)bad[13] << 8;
    bad[orig_tab + 4 + 8] = (char)0xff;
    bad[orig_tab + 4 + 8 + 1] = (char)0xff;
    pd_error e4 = {0};
    ck_assert_ptr_null(pd_mo_from_memory(bad, size, "bad.mo", &e4));
    ck_assert_str_eq(e4.msg, "bad.mo: truncated or corrupt compiled catalog (entry 2 lies outside "
                             "the file or is not terminated)");
    /* a wrong magic number */
    memcpy(bad, buf, size);
    bad[0] = 'X';
    pd_error e5 = {0};
    ck_assert_ptr_null(pd_mo_from_memory(bad, size, "bad.mo", &e5));
    ck_assert_str_eq(e5.msg, "bad.mo: not a compiled catalog (no .mo magic number)");
    /* random bytes over the whole file: refused or read, never a crash */
    srand(7);
    for (int round = 0; round < 2000; round++) {
        memcpy(bad, buf, size);
        for (int k = 0; k < 4; k++)
            bad[(size_t)rand() % size] = (char)rand();
        pd_error e = {0};
        pd_mo *mo = pd_mo_from_memory(bad, size, "bad.mo", &e);
        if (mo) {
            (void)pd_mo_gettext(mo, "month", "May");
            (void)pd_mo_ngettext(mo, NULL, "{n} session", (unsigned long)round);
            pd_mo_free(mo);
        } else {
            ck_assert(e.set && !strchr(e.msg, '\n'));
        }
    }
}
END_TEST

START_TEST(mo_refuses_bad_headers)
{
    pd_error err = {0};
    const char *mo =
        S_msgfmt("latin1",
                 "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=ISO-8859-1\\n\"\n\n"
                 "msgid \"a\"\nmsgstr \"b\"\n",
                 "");
    ck_assert_ptr_null(pd_mo_load(mo, &err));
    ck_assert_msg(strstr(err.msg, "latin1.mo: the catalog is not in UTF-8") != NULL, "%s", err.msg);
    /* no Plural-Forms: English's rule, as gettext */
    pd_error e2 = {0};
    pd_mo *m = pd_mo_load(S_msgfmt("noplural",
                                   "msgid \"\"\nmsgstr \"Content-Type: text/plain; "
                                   "charset=UTF-8\\n\"\n\nmsgid \"a\"\nmsgid_plural \"as\"\n"
                                   "msgstr[0] \"x\"\nmsgstr[1] \"xs\"\n",
                                   ""),
                          &e2);
    ck_assert_msg(m != NULL, "%s", e2.msg);
    ck_assert_str_eq(pd_mo_ngettext(m, NULL, "a", 1), "x");
    ck_assert_str_eq(pd_mo_ngettext(m, NULL, "a", 0), "xs");
    ck_assert_str_eq(pd_mo_ngettext(m, NULL, "a", 2), "xs");
    pd_mo_free(m);
}
END_TEST

/* gettext's own evaluation as the oracle: the same catalog through libintl
 * (process-wide, here in Check's forked child only) and through pd_mo. */
START_TEST(plural_forms_agree_with_libintl)
{
    static const char *const rules[][2] = {
        {"1", "0"},
        {"2", "(n > 1)"},
        {"2", "n != 1"},
        {"3", "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : "
              "2)"},
        {"3", "(n==1) ? 0 : (n>=2 && n<=4) ? 1 : 2"},
        {"6", "n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5"},
        {"4", "(n%100==1 ? 0 : n%100==2 ? 1 : n%100==3 || n%100==4 ? 2 : 3)"},
        {"2", "!(n <= 1) * 1 + 0 - 0 / 1"},
        {"3", "n%7 ? (n/7)%3 : 2"},
    };
    setenv("LANGUAGE", "xx", 1);
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        char name[32], dir[400], po[2000], mo_dir[600];
        snprintf(name, sizeof name, "rule%zu", r);
        snprintf(po, sizeof po,
                 "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n"
                 "\"Plural-Forms: nplurals=%s; plural=%s;\\n\"\n\n"
                 "msgid \"one\"\nmsgid_plural \"many\"\n"
                 "msgstr[0] \"f0\"\nmsgstr[1] \"f1\"\nmsgstr[2] \"f2\"\nmsgstr[3] \"f3\"\n"
                 "msgstr[4] \"f4\"\nmsgstr[5] \"f5\"\n",
                 rules[r][0], rules[r][1]);
        const char *mo = S_msgfmt(name, po, "");
        snprintf(dir, sizeof dir, "%s/locale/xx/LC_MESSAGES", S_tmp);
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/%s.mo'", dir, mo, dir, name);
        ck_assert_int_eq(system(cmd), 0);
        snprintf(mo_dir, sizeof mo_dir, "%s/locale", S_tmp);
        bindtextdomain(name, mo_dir);
        bind_textdomain_codeset(name, "UTF-8");
        pd_error err = {0};
        pd_mo *m = pd_mo_load(mo, &err);
        ck_assert_msg(m != NULL, "%s: %s", rules[r][1], err.msg);
        for (unsigned long n = 0; n < 1200; n++) {
            const char *want = dngettext(name, "one", "many", n);
            const char *got = pd_mo_ngettext(m, NULL, "one", n);
            ck_assert_msg(got && strcmp(want, got) == 0, "%s, n=%lu: libintl %s, pildoc %s",
                          rules[r][1], n, want, got ? got : "(none)");
        }
        pd_mo_free(m);
    }
    unsetenv("LANGUAGE");
}
END_TEST

START_TEST(plural_expressions_parse_strictly)
{
    char why[160];
    static const char *const bad[] = {
        "",      "n +",   "(n",      "n ? 1",   "x",
        "n == ", "1 2",   "n > > 1", "-n",      "n & 1",
        "n | 1", "n = 1", "nn",      "n ? : 1", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        pd_plural *p = pd_plural_parse(bad[i], why, sizeof why);
        ck_assert_msg(p == NULL, "'%s' parsed", bad[i]);
        ck_assert_msg(why[0] != '\0', "'%s': no reason", bad[i]);
    }
    /* deep nesting is refused, not a stack overflow */
    strbuf deep = STRBUF_INIT;
    for (int i = 0; i < 10000; i++)
        strbuf_append_char(&deep, '(');
    strbuf_append(&deep, "n");
    ck_assert_ptr_null(pd_plural_parse(deep.data, why, sizeof why));
    strbuf_clear(&deep);
    for (int i = 0; i < 10000; i++)
        strbuf_append(&deep, "!");
    strbuf_append(&deep, "n");
    ck_assert_ptr_null(pd_plural_parse(deep.data, why, sizeof why));
    strbuf_free(&deep);
    pd_plural *p = pd_plural_parse("n / 0 + n % 0", why, sizeof why);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(pd_plural_eval(p, 5), 0);
    pd_plural_free(p);
    p = pd_plural_parse("n>=2 && n<=4 || !n", why, sizeof why);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(pd_plural_eval(p, 0), 1);
    ck_assert_uint_eq(pd_plural_eval(p, 1), 0);
    ck_assert_uint_eq(pd_plural_eval(p, 3), 1);
    ck_assert_uint_eq(pd_plural_eval(p, 5), 0);
    pd_plural_free(p);
    unsigned long np;
    ck_assert(
        !pd_plural_from_header("Plural-Forms: nplurals=0; plural=0;\n", &np, &p, why, sizeof why));
    ck_assert(!pd_plural_from_header("Plural-Forms: plural=0;\n", &np, &p, why, sizeof why));
    ck_assert(pd_plural_from_header("X: y\nPlural-Forms: nplurals=1; plural=0;\n", &np, &p, why,
                                    sizeof why));
    ck_assert_uint_eq(np, 1);
    pd_plural_free(p);
}
END_TEST

static void S_po_quiet(int severity, po_message_t m, const char *f, size_t l, size_t c, int ml,
                       const char *t)
{
    (void)m, (void)f, (void)l, (void)c, (void)ml;
    ck_assert_msg(severity == PO_SEVERITY_WARNING, "%s", t);
}

static void S_po_quiet2(int severity, po_message_t m1, const char *f1, size_t l1, size_t c1,
                        int ml1, const char *t1, po_message_t m2, const char *f2, size_t l2,
                        size_t c2, int ml2, const char *t2)
{
    (void)m2, (void)f2, (void)l2, (void)c2, (void)ml2, (void)t2;
    S_po_quiet(severity, m1, f1, l1, c1, ml1, t1);
}

/* Every translation of the shipped catalogs, through libintl and through
 * pd_lang: the same text (contexts and plural forms included). */
static void S_compare_with_libintl(const char *code)
{
    pd_error err = {0};
    pd_lang *lang = pd_lang_load("build/locale", code, &err);
    ck_assert_msg(lang != NULL, "%s", err.msg);
    bindtextdomain("pildoc", "build/locale");
    bind_textdomain_codeset("pildoc", "UTF-8");
    setenv("LANGUAGE", code, 1);
    textdomain("pildoc");
    char po_path[64];
    snprintf(po_path, sizeof po_path, "po/%s.po", code);
    struct po_xerror_handler quiet = {S_po_quiet, S_po_quiet2};
    po_file_t file = po_file_read(po_path, &quiet);
    ck_assert_ptr_nonnull(file);
    po_message_iterator_t it = po_message_iterator(file, NULL);
    size_t compared = 0;
    for (po_message_t msg = po_next_message(it); msg; msg = po_next_message(it)) {
        const char *id = po_message_msgid(msg), *ctx = po_message_msgctxt(msg);
        const char *plural = po_message_msgid_plural(msg);
        if (po_message_is_obsolete(msg) || !*id)
            continue;
        if (plural) {
            for (unsigned long n = 0; n < 30; n++)
                ck_assert_str_eq(lang_ngettext(lang, id, plural, n),
                                 dngettext("pildoc", id, plural, n));
        } else {
            strbuf key = STRBUF_INIT;
            if (ctx)
                strbuf_printf(&key, "%s\004", ctx);
            strbuf_append(&key, id);
            const char *want = dgettext("pildoc", key.data);
            if (want == key.data)
                want = id;
            ck_assert_str_eq(lang_gettext(lang, ctx, id), want);
            strbuf_free(&key);
        }
        compared++;
    }
    po_message_iterator_free(it);
    po_file_free(file);
    ck_assert_uint_gt(compared, 100);
    pd_lang_free(lang);
    unsetenv("LANGUAGE");
}

START_TEST(lang_catalogs_agree_with_libintl)
{
    S_compare_with_libintl("fr");
    S_compare_with_libintl("zh_CN");
}
END_TEST

START_TEST(lang_handles_are_independent)
{
    pd_error err = {0};
    pd_lang *fr = pd_lang_load("build/locale", "fr", &err);
    pd_lang *zh = pd_lang_load("build/locale", "zh_CN", &err);
    pd_lang *en = pd_lang_load("build/locale", "en", &err);
    ck_assert_msg(fr && zh && en, "%s", err.msg);
    ck_assert_str_eq(pd_lang_tag(zh), "zh-CN");
    ck_assert_str_eq(pd_lang_tag(fr), "fr");
    ck_assert(pd_lang_is_source(en) && !pd_lang_is_source(fr));
    /* interleaved: each handle answers in its own language */
    for (int i = 0; i < 3; i++) {
        char *a = lang_format_date(fr, 2026, 11, 22), *b = lang_format_date(zh, 2026, 11, 22);
        char *c = lang_format_date(en, 2026, 11, 22);
        ck_assert_str_eq(a, "22\xc2\xa0novembre\xc2\xa0"
                            "2026");
        ck_assert_str_eq(b, "2026年11月22日");
        ck_assert_str_eq(c, "22 November 2026");
        free(a);
        free(b);
        free(c);
    }
    ck_assert_str_eq(lang_ngettext(fr, "{n} session", "{n} sessions", 0), "{n}\xc2\xa0séance");
    ck_assert_str_eq(lang_ngettext(fr, "{n} session", "{n} sessions", 2), "{n}\xc2\xa0séances");
    ck_assert_str_eq(lang_ngettext(en, "{n} session", "{n} sessions", 0), "{n} sessions");
    /* no process state was touched */
    ck_assert_ptr_null(getenv("LANGUAGE"));
    /* a missing catalog: one line naming it */
    pd_error e2 = {0};
    ck_assert_ptr_null(pd_lang_load("build/locale", "xx", &e2));
    ck_assert_msg(strstr(e2.msg, "build/locale/xx/LC_MESSAGES/pildoc.mo: cannot read") != NULL,
                  "%s", e2.msg);
    char *t1 = lang_bcp47("zh_CN"), *t2 = lang_bcp47("pt_BR");
    ck_assert_str_eq(t1, "zh-CN"); /* each its own string: no shared buffer */
    ck_assert_str_eq(t2, "pt-BR");
    free(t1);
    free(t2);
    pd_lang_free(fr);
    pd_lang_free(zh);
    pd_lang_free(en);
}
END_TEST

/* catalog_count on a broken catalog returns an error instead of ending the
 * process, and leaves nothing behind for the next catalog. */
START_TEST(catalog_count_broken_po_returns)
{
    char path[400];
    snprintf(path, sizeof path, "%s/broken.po", S_tmp);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n"
          "msgid \"a\"\nmsgstr \"unterminated\n\nmsgid \"b\"\nmsgstr \"c\"\n",
          f);
    fclose(f);
    catalog_messages m = {0};
    char *ids[] = {"a", "b"}, *ctxs[] = {NULL, NULL};
    m.id = ids;
    m.ctx = ctxs;
    m.n = 2;
    catalog_counts c;
    pd_error err = {0};
    ck_assert(!catalog_count(path, &m, &c, &err));
    ck_assert_msg(strstr(err.msg, "broken.po:6: end-of-line within string") != NULL, "%s", err.msg);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
    pd_error e2 = {0};
    ck_assert_msg(catalog_count("po/fr.po", &m, &c, &e2), "%s", e2.msg);
    ck_assert_uint_eq(c.untranslated, 2); /* neither is a message of fr.po */
}
END_TEST

/* Two font sets at once: each its own shaped-paragraph cache. */
START_TEST(fonts_caches_belong_to_their_handle)
{
    pd_error err = {0};
    pd_fonts *a = pd_fonts_new("fonts", "build/fontcache", &err);
    pd_fonts *b = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_msg(a && b, "%s", err.msg);
    PangoLayout *l = pango_layout_new(pd_fonts_context(a, "fr"));
    pango_layout_set_text(l, "séance", -1);
    pd_fonts_cache_layout(a, "k", l);
    ck_assert_ptr_eq(pd_fonts_cached_layout(a, "k"), l);
    ck_assert_ptr_null(pd_fonts_cached_layout(b, "k"));
    ck_assert_uint_eq(pd_fonts_cache_bytes(b), 0);
    ck_assert_ptr_ne(pd_fonts_context(a, "fr"), pd_fonts_context(b, "fr"));
    g_object_unref(l);
    pd_fonts_free(a);
    /* the other still lays out after the first is gone */
    PangoLayout *m = pango_layout_new(pd_fonts_context(b, "zh-CN"));
    pango_layout_set_text(m, "知情同意书", -1);
    int w = 0;
    pango_layout_get_size(m, &w, NULL);
    ck_assert_int_gt(w, 0);
    ck_assert_int_eq(pango_layout_get_unknown_glyphs_count(m), 0);
    g_object_unref(m);
    pd_fonts_free(b);
}
END_TEST

/* ---- renderers ---------------------------------------------------------------------- */
typedef struct S_doc {
    const char *template_name, *lang;
    const char *sets[4];
} S_doc;

static const S_doc S_docs[] = {
    {"consent", "fr", {"treatment.sessions=1", "patient.birth_date=1970-05-01", NULL}},
    {"leaflet", "zh_CN", {"treatment.condition=crps", NULL}},
    {"consent", "en", {"treatment.sessions=0", "treatment.start_date=2026-12-01", NULL}},
    {"consent", "fr", {"treatment.sessions=6", "treatment.start_date=2026-12-01", NULL}},
    {"leaflet", "fr", {NULL}},
    {"consent", "zh_CN", {"treatment.sessions=3", NULL}},
};
#define N_DOCS (sizeof S_docs / sizeof S_docs[0])

static void S_render(pd_renderer *r, const S_doc *d, strbuf *out)
{
    pd_values v;
    pd_values_init(&v);
    pd_error err = {0};
    for (size_t i = 0; d->sets[i]; i++)
        ck_assert_msg(pd_values_set_assignment(&v, pd_renderer_schema(r), d->sets[i], &err), "%s",
                      err.msg);
    pd_job job = {.template_name = d->template_name,
                  .lang = d->lang,
                  .paper = pd_paper_find("a4"),
                  .strict = -1,
                  .values = &v,
                  .format = PD_FORMAT_PDF};
    pd_job_result res;
    ck_assert_msg(pd_renderer_render(r, &job, &res, &err), "%s %s: %s", d->template_name, d->lang,
                  err.msg);
    ck_assert_str_eq(res.lang, d->lang);
    *out = res.bytes;
    res.bytes = (strbuf)STRBUF_INIT;
    pd_job_result_free(&res);
    pd_values_free(&v);
}

static strbuf S_fresh[N_DOCS];

static void S_render_fresh(const pd_env *env)
{
    for (size_t i = 0; i < N_DOCS; i++) {
        pd_error err = {0};
        pd_renderer *r = pd_renderer_new(env, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        S_render(r, &S_docs[i], &S_fresh[i]);
        pd_renderer_free(r);
    }
}

static void S_assert_same(const strbuf *got, size_t i)
{
    ck_assert_msg(got->len == S_fresh[i].len && memcmp(got->data, S_fresh[i].data, got->len) == 0,
                  "%s %s differs from a fresh renderer's (%zu vs %zu bytes)",
                  S_docs[i].template_name, S_docs[i].lang, got->len, S_fresh[i].len);
}

START_TEST(renderer_alternating_languages_as_fresh)
{
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    pd_env env;
    pd_env_init(&env);
    S_render_fresh(&env);
    /* one renderer, languages alternating fr, zh_CN, en, fr, fr, zh_CN, twice */
    pd_error err = {0};
    pd_renderer *r = pd_renderer_new(&env, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < N_DOCS; i++) {
            strbuf got;
            S_render(r, &S_docs[i], &got);
            S_assert_same(&got, i);
            strbuf_free(&got);
        }
    pd_renderer_free(r);
    /* two renderers alive at once, one French and one Chinese, interleaved */
    pd_renderer *a = pd_renderer_new(&env, &err), *b = pd_renderer_new(&env, &err);
    ck_assert_msg(a && b, "%s", err.msg);
    static const size_t a_docs[] = {0, 3, 4}, b_docs[] = {1, 5, 1};
    for (size_t k = 0; k < 3; k++) {
        strbuf x, y;
        S_render(a, &S_docs[a_docs[k]], &x);
        S_render(b, &S_docs[b_docs[k]], &y);
        S_assert_same(&x, a_docs[k]);
        S_assert_same(&y, b_docs[k]);
        strbuf_free(&x);
        strbuf_free(&y);
    }
    pd_renderer_free(a);
    pd_renderer_free(b);
    for (size_t i = 0; i < N_DOCS; i++)
        strbuf_free(&S_fresh[i]);
    pd_env_free(&env);
    ck_assert_ptr_null(getenv("LANGUAGE"));
}
END_TEST

/* ---- bilingual documents ------------------------------------------------------------ */

/* Every text of a block tree in document order, one per line (a field's
 * or a check box's whole text, a table's cells, a list's items). */
static void S_flatten(const pd_block *b, size_t n, strbuf *out)
{
    for (size_t i = 0; i < n; i++) {
        /* a field's label (its value is printed once, in the first language) */
        pd_text label = b[i].text;
        if (b[i].kind == PD_BLOCK_FIELD || b[i].kind == PD_BLOCK_SIGN)
            label.n_spans = b[i].label_spans;
        char *t = pd_text_plain(&label);
        if (*t)
            strbuf_printf(out, "%s\n", t);
        free(t);
        for (size_t r = 0; r < b[i].n_rows; r++)
            for (size_t c = 0; c < b[i].rows[r].n_cells; c++) {
                char *cell = pd_text_plain(&b[i].rows[r].cells[c]);
                strbuf_printf(out, "%s\n", cell);
                free(cell);
            }
        S_flatten(b[i].children, b[i].n_children, out);
    }
}

/* Each line of `part` (one language alone) is found in `all` (the
 * bilingual document), in order. */
static void S_assert_in_order(const char *all, const char *part, const char *what)
{
    const char *at = all;
    char *copy = xstrdup(part), *save = NULL;
    size_t lines = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *found = strstr(at, line);
        ck_assert_msg(found != NULL, "%s: \"%.80s\" missing or out of order", what, line);
        at = found + strlen(line);
        lines++;
    }
    ck_assert_uint_gt(lines, 20);
    free(copy);
}

/* Fields, signatures, boxes and labels of a block tree. */
static size_t S_count_forms(const pd_block *b, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        pd_block_kind k = b[i].kind;
        count += k == PD_BLOCK_FIELD || k == PD_BLOCK_SIGN || k == PD_BLOCK_CHECK ||
                 k == PD_BLOCK_INITIALS || k == PD_BLOCK_LABEL || k == PD_BLOCK_IMAGE;
        count += S_count_forms(b[i].children, b[i].n_children);
    }
    return count;
}

/* A block in the second language is right after its original, in the same
 * keep (a pair never split) or box. */
static size_t S_assert_paired(const pd_block *b, size_t n, const char *tag2, bool top)
{
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i].lang_tag) {
            ck_assert_str_eq(b[i].lang_tag, tag2);
            ck_assert_uint_gt(i, 0);
            ck_assert_int_eq(b[i - 1].kind, b[i].kind);
            ck_assert_ptr_null(b[i - 1].lang_tag);
            pairs++;
        }
        if (top && (b[i].kind == PD_BLOCK_H1 || b[i].kind == PD_BLOCK_PARA))
            ck_abort_msg("a paragraph outside a pair");
        pairs += S_assert_paired(b[i].children, b[i].n_children, tag2, false);
    }
    return pairs;
}

START_TEST(bilingual_every_block_in_both_languages_paired)
{
    static const char *const pairs[][2] = {{"zh_CN", "fr"}, {"fr", "en"}, {"en", "zh_CN"}};
    static const char *const templates[] = {"consent", "leaflet"};
    pd_error err = {0};
    pd_schema *schema = pd_schema_load("templates/variables.xml", &err);
    ck_assert_msg(schema != NULL, "%s", err.msg);
    pd_values v;
    pd_values_init(&v);
    for (size_t k = 0; k < 2; k++) {
        pd_template *t =
            pd_template_load(templates[k], "templates", "templates/pildoc.rng", schema, &err);
        ck_assert_msg(t != NULL, "%s", err.msg);
        for (size_t p = 0; p < 3; p++) {
            pd_lang *l1 = pd_lang_load("build/locale", pairs[p][0], &err);
            pd_lang *l2 = pd_lang_load("build/locale", pairs[p][1], &err);
            ck_assert_msg(l1 && l2, "%s", err.msg);
            pd_bind_stats s1 = {0}, s2 = {0};
            /* each language alone as pildoc binds it in a bilingual one:
               with the two languages and the governing one (the second) */
            pd_values one;
            pd_values_init(&one);
            bool in_order = strcmp(pairs[p][0], pairs[p][1]) < 0;
            char both[32];
            snprintf(both, sizeof both, "%s+%s", pairs[p][in_order ? 0 : 1],
                     pairs[p][in_order ? 1 : 0]);
            ck_assert(pd_values_set(&one, schema, "document.languages", both, "test", 0, &err));
            ck_assert(pd_values_set(&one, schema, "document.governing_language", pairs[p][1],
                                    "test", 0, &err));
            pd_doc *a = pd_bind(t, schema, &one, l1, NULL, NULL, &err);
            pd_doc *b = pd_bind(t, schema, &one, l2, NULL, NULL, &err);
            pd_values_free(&one);
            pd_doc *bi = pd_bind_bilingual(t, schema, &v, l1, l2, NULL, &s1, &s2, &err);
            ck_assert_msg(a && b && bi, "%s", err.msg);
            ck_assert_uint_eq(s1.untranslated + s2.untranslated, 0);
            strbuf ta = STRBUF_INIT, tb = STRBUF_INIT, tbi = STRBUF_INIT;
            S_flatten(a->blocks, a->n_blocks, &ta);
            S_flatten(b->blocks, b->n_blocks, &tb);
            S_flatten(bi->blocks, bi->n_blocks, &tbi);
            char what[64];
            snprintf(what, sizeof what, "%s %s+%s, %s", templates[k], pairs[p][0], pairs[p][1],
                     pairs[p][0]);
            S_assert_in_order(tbi.data, ta.data, what);
            snprintf(what, sizeof what, "%s %s+%s, %s", templates[k], pairs[p][0], pairs[p][1],
                     pairs[p][1]);
            S_assert_in_order(tbi.data, tb.data, what);
            ck_assert_uint_gt(S_assert_paired(bi->blocks, bi->n_blocks, pd_lang_tag(l2), true), 20);
            /* one line to sign on, one box, one label, one picture: never two */
            ck_assert_uint_eq(S_count_forms(bi->blocks, bi->n_blocks),
                              S_count_forms(a->blocks, a->n_blocks));
            /* title and metadata in both languages, the first first */
            ck_assert_ptr_nonnull(strstr(bi->title, a->title));
            ck_assert_ptr_nonnull(strstr(bi->title, b->title));
            ck_assert_ptr_eq(strstr(bi->title, a->title), bi->title);
            ck_assert_str_eq(bi->lang, pairs[p][0]);
            strbuf_free(&ta);
            strbuf_free(&tb);
            strbuf_free(&tbi);
            pd_doc_free(a);
            pd_doc_free(b);
            pd_doc_free(bi);
            pd_bind_stats_free(&s1);
            pd_bind_stats_free(&s2);
            pd_lang_free(l1);
            pd_lang_free(l2);
        }
        pd_template_free(t);
    }
    pd_values_free(&v);
    pd_schema_free(schema);
}
END_TEST

/* Signature and fields once, labelled in both languages. */
START_TEST(bilingual_fields_once_with_both_labels)
{
    pd_error err = {0};
    pd_env env;
    pd_env_init(&env);
    pd_renderer *r = pd_renderer_new(&env, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    pd_job job = {.template_name = "consent",
                  .lang = "fr",
                  .paper = pd_paper_find("a4"),
                  .strict = -1,
                  .format = PD_FORMAT_TEXT};
    pd_job_result one, two;
    ck_assert_msg(pd_renderer_render(r, &job, &one, &err), "%s", err.msg);
    ck_assert_msg(pd_renderer_render_also(r, &job, "zh-Hans", &two, &err), "%s", err.msg);
    ck_assert_str_eq(two.also, "zh_CN");
    ck_assert_ptr_nonnull(strstr(two.bytes.data, " / 患者姓名："));
    pd_job_result_free(&one);
    pd_job_result_free(&two);
    /* the same language twice, however written, is refused */
    pd_job_result res;
    pd_error e2 = {0};
    ck_assert(!pd_renderer_render_also(r, &job, "fr-FR", &res, &e2));
    ck_assert_msg(strstr(e2.msg, "--also fr is the document's language already") != NULL, "%s",
                  e2.msg);
    pd_job_result_free(&res);
    pd_error e3 = {0};
    ck_assert(!pd_renderer_render_also(r, &job, "de", &res, &e3));
    ck_assert_msg(strstr(e3.msg, "unknown language 'de'") != NULL, "%s", e3.msg);
    pd_job_result_free(&res);
    pd_renderer_free(r);
    pd_env_free(&env);
}
END_TEST

Suite *lang_suite(void);
Suite *lang_suite(void)
{
    Suite *s = suite_create("lang");
    TCase *tc = tcase_create("catalogs");
    tcase_set_timeout(tc, 240);
    tcase_add_checked_fixture(tc, S_setup, S_teardown);
    tcase_add_test(tc, mo_reads_msgfmt_output_contexts_and_plurals);
    tcase_add_test(tc, mo_missing_or_corrupt_is_one_clear_line);
    tcase_add_test(tc, mo_refuses_bad_headers);
    tcase_add_test(tc, plural_forms_agree_with_libintl);
    tcase_add_test(tc, plural_expressions_parse_strictly);
    tcase_add_test(tc, lang_catalogs_agree_with_libintl);
    tcase_add_test(tc, lang_handles_are_independent);
    tcase_add_test(tc, catalog_count_broken_po_returns);
    tcase_add_test(tc, fonts_caches_belong_to_their_handle);
    tcase_add_test(tc, renderer_alternating_languages_as_fresh);
    tcase_add_test(tc, bilingual_every_block_in_both_languages_paired);
    tcase_add_test(tc, bilingual_fields_once_with_both_labels);
    suite_add_tcase(s, tc);
    return s;
}
