/* Unit tests (Check) for pildoc's modules. Run from the source tree with
 * PILDOC_DATADIR set to it (make unit does). */
#include <check.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bind.h"
#include "data.h"
#include "docmodel.h"
#include "fonts.h"
#include "lang.h"
#include "layout.h"
#include "message.h"
#include "output.h"
#include "paths.h"
#include "pdfobj.h"
#include "render.h"
#include "strbuf.h"
#include "template.h"
#include "vars.h"
#include "xmlsafe.h"

/* test_lang.c */
Suite *lang_suite(void);

static char S_dir[256];

/* The languages of the source tree's catalogs, loaded once for the tests. */
static pd_lang *S_langs[8];
static const pd_lang *S_lang(const char *code)
{
    for (size_t i = 0; i < 8; i++) {
        if (!S_langs[i]) {
            pd_error err = {0};
            S_langs[i] = pd_lang_load("build/locale", code, &err);
            ck_assert_msg(S_langs[i] != NULL, "%s", err.msg);
        }
        if (strcmp(pd_lang_code(S_langs[i]), code) == 0)
            return S_langs[i];
    }
    ck_abort_msg("more than 8 languages");
    return NULL;
}

static const char *S_write_tmp(const char *name, const char *content)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", S_dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
    return path;
}

/* ---- strbuf ---------------------------------------------------------------- */
START_TEST(strbuf_grows_and_expands)
{
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 1000; i++)
        strbuf_append(&sb, "ab");
    ck_assert_uint_eq(sb.len, 2000);
    strbuf_clear(&sb);
    const char *names[] = {"page", "pages"};
    const char *values[] = {"2", "3"};
    strbuf_expand(&sb, "Page {page} of {pages} {unknown} {", names, values, 2);
    ck_assert_str_eq(strbuf_str(&sb), "Page 2 of 3 {unknown} {");
    strbuf_free(&sb);
}
END_TEST

/* ---- lang ------------------------------------------------------------------ */
static char **S_avail(void)
{
    char **l = xcalloc(4, sizeof *l);
    l[0] = xstrdup("en");
    l[1] = xstrdup("fr");
    l[2] = xstrdup("zh_CN");
    return l;
}

START_TEST(lang_resolves_usual_spellings)
{
    char **av = S_avail();
    const char *cases[][2] = {
        {"en", "en"},
        {"fr", "fr"},
        {"fr-FR", "fr"},
        {"fr_FR.UTF-8", "fr"},
        {"FR_ca", "fr"},
        {"zh", "zh_CN"},
        {"zh-CN", "zh_CN"},
        {"zh-Hans", "zh_CN"},
        {"zh_CN.UTF-8", "zh_CN"},
        {"zh-Hans-CN", "zh_CN"},
        {"en-GB", "en"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pd_error err = {0};
        char *got = lang_resolve(cases[i][0], av, &err);
        ck_assert_msg(got != NULL, "%s: %s", cases[i][0], err.msg);
        ck_assert_str_eq(got, cases[i][1]);
        free(got);
    }
    const char *bad[] = {"de", "zh-TW", "zh-Hant", "", "x", "fr-FR-FR-xx", "../../etc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pd_error err = {0};
        ck_assert_ptr_null(lang_resolve(bad[i], av, &err));
        ck_assert_msg(strstr(err.msg, "available: en, fr, zh_CN") != NULL, "%s", err.msg);
    }
    lang_list_free(av);
}
END_TEST

START_TEST(lang_parses_iso_dates_strictly)
{
    int y, m, d;
    ck_assert(lang_parse_iso_date("2026-11-22", &y, &m, &d));
    ck_assert_int_eq(y * 10000 + m * 100 + d, 20261122);
    ck_assert(lang_parse_iso_date("2024-02-29", &y, &m, &d));
    ck_assert(!lang_parse_iso_date("2026-02-29", &y, &m, &d));
    ck_assert(!lang_parse_iso_date("2026-13-01", &y, &m, &d));
    ck_assert(!lang_parse_iso_date("2026-1-01", &y, &m, &d));
    ck_assert(!lang_parse_iso_date("22/11/2026", &y, &m, &d));
    ck_assert(!lang_parse_iso_date("2026-11-22T00", &y, &m, &d));
}
END_TEST

START_TEST(lang_formats_per_language)
{
    const pd_lang *L = S_lang("en");
    char *s = lang_format_date(L, 2026, 11, 22);
    ck_assert_str_eq(s, "22 November 2026");
    free(s);
    s = lang_format_decimal(L, "12345.5", false);
    ck_assert_str_eq(s, "12,345.5");
    free(s);
    s = lang_format_decimal(L, "69", true);
    ck_assert_str_eq(s, "69%");
    free(s);
    L = S_lang("fr");
    s = lang_format_date(L, 2026, 11, 22);
    /* no-break spaces: a French date is never split across lines */
    ck_assert_str_eq(s, "22\xc2\xa0novembre\xc2\xa0"
                        "2026");
    free(s);
    s = lang_format_decimal(L, "2.5", false);
    ck_assert_str_eq(s, "2,5");
    free(s);
    s = lang_format_decimal(L, "69", true);
    ck_assert_str_eq(s, "69\xe2\x80\xaf%");
    free(s);
    L = S_lang("zh_CN");
    s = lang_format_date(L, 2026, 11, 22);
    ck_assert_str_eq(s, "2026年11月22日");
    free(s);
}
END_TEST

/* issue 10 items 10, 29, 6: nothing lost, rounded or looked up by accident */
START_TEST(lang_numbers_exact_and_empty_text_untranslated)
{
    const pd_lang *L = S_lang("en");
    static const char *const cases[][2] = {
        {"1000000000000000", "1,000,000,000,000,000"},
        {"-0.0000001", "-0.0000001"},
        {"3.14159265358979", "3.14159265358979"},
        {" +.5 ", "0.5"},
        {"007", "7"},
        {"5.", "5"},
        {"1234", "1234"},
        {"-12345.678", "-12,345.678"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = lang_format_decimal(L, cases[i][0], false);
        ck_assert_str_eq(s, cases[i][1]);
        free(s);
    }
    ck_assert_ptr_null(lang_format_decimal(L, "1e20", false));
    ck_assert_ptr_null(lang_format_decimal(L, "nan", false));
    ck_assert_ptr_null(lang_format_decimal(L, "", false));
    L = S_lang("fr");
    ck_assert_str_eq(lang_gettext(L, NULL, ""), "");
    ck_assert_str_eq(lang_gettext(L, "ctx", ""), "");
    ck_assert_uint_eq(xmlsafe_bidi_control("abc \xe2\x80\xae def"), 0x202E);
    ck_assert_uint_eq(xmlsafe_bidi_control("\xe2\x81\xa6"), 0x2066);
    ck_assert_uint_eq(xmlsafe_bidi_control("\xd8\x9c"), 0x061C);
    ck_assert_uint_eq(xmlsafe_bidi_control("Zo\xc3\xab \xe2\x80\x94 \xe2\x80\xaf"), 0);
}
END_TEST

/* ---- vars ------------------------------------------------------------------ */
static pd_schema *S_schema(void)
{
    pd_error err = {0};
    pd_schema *s = pd_schema_load("templates/variables.xml", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

START_TEST(vars_check_names_and_choices)
{
    pd_schema *schema = S_schema();
    pd_values v;
    pd_values_init(&v);
    pd_error err = {0};
    ck_assert(pd_values_set_assignment(&v, schema, "treatment.condition=crps", &err));
    ck_assert_str_eq(pd_values_get(&v, "treatment.condition"), "crps");
    ck_assert(pd_values_set_assignment(&v, schema, "treatment.condition=cancer", &err));
    ck_assert_str_eq(pd_values_get(&v, "treatment.condition"), "cancer");
    ck_assert(!pd_values_set_assignment(&v, schema, "treatment.condition=flu", &err));
    ck_assert_msg(strstr(err.msg, "must be one of: crps, fibromyalgia") != NULL, "%s", err.msg);
    pd_error e2 = {0};
    ck_assert(!pd_values_set_assignment(&v, schema, "patient.nmae=Zoë", &e2));
    ck_assert_msg(strstr(e2.msg, "unknown variable 'patient.nmae'") != NULL, "%s", e2.msg);
    pd_error e3 = {0};
    ck_assert(!pd_values_set_assignment(&v, schema, "clinic.name=a\tb", &e3));
    ck_assert_msg(strstr(e3.msg, "control character") != NULL, "%s", e3.msg);
    ck_assert_msg(strstr(e3.msg, "a\tb") == NULL, "the value must not be echoed");
    pd_error e4 = {0};
    ck_assert(!pd_values_set_assignment(&v, schema, "noequals", &e4));
    pd_error e5 = {0};
    ck_assert(!pd_values_set_assignment(&v, schema, "clinic.name=\xff\xfe", &e5));
    ck_assert_msg(strstr(e5.msg, "UTF-8") != NULL, "%s", e5.msg);
    ck_assert(pd_values_set_assignment(&v, schema, "clinic.name=<b>&amp;%s", &err));
    ck_assert_str_eq(pd_values_get(&v, "clinic.name"), "<b>&amp;%s");
    pd_values_free(&v);
    pd_schema_free(schema);
}
END_TEST

START_TEST(data_files_give_dotted_names)
{
    pd_schema *schema = S_schema();
    pd_values v;
    pd_values_init(&v);
    pd_error err = {0};
    const char *ok =
        S_write_tmp("d.xml", "<data>\n  <patient>\n    <name> Zoë &amp; &lt;b&gt; %s </name>\n"
                             "    <birth_date>1978-03-14</birth_date>\n  </patient>\n"
                             "  <treatment><sessions>4</sessions></treatment>\n</data>\n");
    ck_assert_msg(pd_data_load(ok, schema, &v, &err), "%s", err.msg);
    ck_assert_str_eq(pd_values_get(&v, "patient.name"), "Zoë & <b> %s");
    ck_assert_str_eq(pd_values_get(&v, "patient.birth_date"), "1978-03-14");
    ck_assert_str_eq(pd_values_get(&v, "treatment.sessions"), "4");
    /* --set after --data overrides */
    ck_assert(pd_values_set_assignment(&v, schema, "patient.name=Li", &err));
    ck_assert_str_eq(pd_values_get(&v, "patient.name"), "Li");
    const char *cases[][2] = {
        {"<data>\n<patient><birth_date>2026-02-30</birth_date></patient></data>",
         "d.xml:2: 'patient.birth_date' is not a valid date"},
        {"<data>\n\n<treatment><condition>flu</condition></treatment></data>",
         "d.xml:3: 'treatment.condition' must be one of: crps, fibromyalgia, neuropathic, cancer, "
         "other"},
        {"<data><patient><nmae>x</nmae></patient></data>",
         "d.xml:1: unknown variable 'patient.nmae'"},
        {"<data><patient><name>x</name></data>", "d.xml:1: malformed XML"},
        {"<data><patient><name>a</name><name>b</name></patient></data>",
         "'patient.name' is given twice"},
        {"<data><treatment><sessions>four</sessions></treatment></data>",
         "'treatment.sessions' is not a whole number"},
        {"<data><leaflet><version>9</version></leaflet></data>", "comes from the leaflet template"},
        {"<data><patient><name>a\x01b</name></patient></data>", "d.xml:1: malformed XML"},
        {"<data><patient><name>a&#x85;b</name></patient></data>", "control character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pd_values w;
        pd_values_init(&w);
        pd_error e = {0};
        const char *path = S_write_tmp("d.xml", cases[i][0]);
        ck_assert_msg(!pd_data_load(path, schema, &w, &e), "case %zu accepted", i);
        ck_assert_msg(strstr(e.msg, cases[i][1]) != NULL, "case %zu: %s", i, e.msg);
        pd_values_free(&w);
    }
    pd_values_free(&v);
    pd_schema_free(schema);
}
END_TEST

/* ---- xmlsafe ----------------------------------------------------------------- */
START_TEST(xmlsafe_refuses_dtds_and_depth)
{
    pd_error err = {0};
    const char *bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b "
                       "\"&a;&a;&a;\">]>\n<d>&b;</d>";
    ck_assert_ptr_null(xmlsafe_read_memory(bomb, strlen(bomb), "bomb.xml", 0, &err));
    ck_assert_msg(strstr(err.msg, "bomb.xml:") == err.msg, "%s", err.msg);
    strbuf deep = STRBUF_INIT;
    for (int i = 0; i < 100; i++)
        strbuf_append(&deep, "<a>");
    for (int i = 0; i < 100; i++)
        strbuf_append(&deep, "</a>");
    pd_error e2 = {0};
    ck_assert_ptr_null(xmlsafe_read_memory(deep.data, deep.len, "deep.xml", 0, &e2));
    ck_assert_msg(strstr(e2.msg, "nested deeper") != NULL, "%s", e2.msg);
    strbuf_free(&deep);
    pd_error e3 = {0};
    const char *bad_utf8 = "<a>\n\xff</a>";
    ck_assert_ptr_null(xmlsafe_read_memory(bad_utf8, strlen(bad_utf8), "u.xml", 0, &e3));
    ck_assert_msg(strstr(e3.msg, "u.xml:2:") == e3.msg, "%s", e3.msg);
    ck_assert(xmlsafe_valid_utf8("Zoë 王"));
    ck_assert(!xmlsafe_valid_utf8("\xc0\x80"));
    ck_assert(!xmlsafe_valid_utf8("\xed\xa0\x80"));
}
END_TEST

/* ---- message ----------------------------------------------------------------- */
START_TEST(message_matches_xgettext)
{
    const char *xml = "<p>Hello\n   <b> bold   &amp; stuff </b>x<i>y <b>z</b></i> &lt;q&gt; \"d\" "
                      "<var   name='clinic.phone' /> <num value=\"69\" style=\"percent\"/></p>";
    pd_error err = {0};
    xmlDocPtr doc = xmlsafe_read_memory(xml, strlen(xml), "m.xml", 0, &err);
    ck_assert_ptr_nonnull(doc);
    char *id = message_from_element(xmlDocGetRootElement(doc));
    ck_assert_str_eq(id, "Hello <b>bold &amp; stuff</b>x<i>y <b>z</b></i> &lt;q&gt; \"d\" "
                         "<var name=\"clinic.phone\"/> <num value=\"69\" style=\"percent\"/>");
    free(id);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(message_placeholders_are_checked)
{
    pd_error err = {0};
    xmlDocPtr src =
        message_parse("Call <var name=\"clinic.phone\"/> <b>now</b>", "t.xml", 3, "src", &err);
    xmlDocPtr moved = message_parse("<b>Vite</b>, appelez le <var name=\"clinic.phone\"/>", "t.xml",
                                    3, "fr", &err);
    xmlDocPtr renamed =
        message_parse("Appelez <var name=\"clinic.fone\"/> <b>vite</b>", "t.xml", 3, "fr", &err);
    xmlDocPtr dropped = message_parse("Appelez vite", "t.xml", 3, "fr", &err);
    ck_assert_ptr_nonnull(src);
    ck_assert_ptr_nonnull(moved);
    char why[200];
    ck_assert(message_same_placeholders(src, moved, why, sizeof why));
    ck_assert(!message_same_placeholders(src, renamed, why, sizeof why));
    ck_assert(!message_same_placeholders(src, dropped, why, sizeof why));
    pd_error e2 = {0};
    ck_assert_ptr_null(message_parse("Appelez <b>vite", "t.xml", 3, "fr translation", &e2));
    ck_assert_msg(strstr(e2.msg, "t.xml:3: fr translation: broken inline markup") == e2.msg, "%s",
                  e2.msg);
    pd_error e3 = {0};
    ck_assert_ptr_null(message_parse("x <script/>", "t.xml", 4, "fr translation", &e3));
    ck_assert_msg(strstr(e3.msg, "unknown inline element <script>") != NULL, "%s", e3.msg);
    xmlFreeDoc(src);
    xmlFreeDoc(moved);
    xmlFreeDoc(renamed);
    xmlFreeDoc(dropped);
}
END_TEST

/* ---- template + bind ---------------------------------------------------------- */
static const char *S_doc_head =
    "<?xml version=\"1.0\"?>\n<document name=\"t\" version=\"2.1\" revised=\"2026-11-22\">\n"
    "<meta><title>T</title><subject>S</subject><author>A</author></meta>\n<body>\n";

static pd_template *S_load(const char *body, pd_schema *schema, pd_error *err)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, S_doc_head);
    strbuf_append(&sb, body);
    strbuf_append(&sb, "\n</body></document>\n");
    const char *path = S_write_tmp("t.xml", sb.data);
    strbuf_free(&sb);
    return pd_template_load(path, "templates", "templates/pildoc.rng", schema, err);
}

START_TEST(template_reports_unknown_variable_with_line)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_template *t = S_load("<p>one</p>\n<p>Call <var name=\"clinic.fone\"/></p>", schema, &err);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err.msg, "t.xml:6: unknown variable 'clinic.fone'") != NULL, "%s",
                  err.msg);
    pd_error e2 = {0};
    t = S_load("<if name=\"treatment.condition\" is=\"flu\"><p>x</p></if>", schema, &e2);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(e2.msg, "has no value 'flu'") != NULL, "%s", e2.msg);
    pd_error e3 = {0};
    t = S_load("<include href=\"../../etc/passwd.xml\"/>", schema, &e3);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(e3.msg, "inside the templates folder") != NULL, "%s", e3.msg);
    pd_error e4 = {0};
    t = S_load("<para>x</para>", schema, &e4);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(e4.msg, "t.xml:5: ") != NULL, "%s", e4.msg);
    pd_schema_free(schema);
}
END_TEST

static char *S_all_text(const pd_doc *doc)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < doc->n_blocks; i++) {
        const pd_block *b = &doc->blocks[i];
        char *t = pd_text_plain(&b->text);
        strbuf_printf(&sb, "[%s]", t);
        free(t);
        for (size_t c = 0; c < b->n_children; c++) {
            t = pd_text_plain(&b->children[c].text);
            strbuf_printf(&sb, "{%s %s}", b->children[c].marker ? b->children[c].marker : "", t);
            free(t);
        }
    }
    return strbuf_take(&sb);
}

START_TEST(bind_conditions_and_literal_values)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_template *t =
        S_load("<if name=\"treatment.condition\" is=\"crps unset\"><p>crps</p></if>\n"
               "<if name=\"treatment.condition\" not=\"crps\"><p>not crps</p></if>\n"
               "<p>Name: <var name=\"clinic.name\"/>.</p>\n"
               "<p>Fig <num value=\"69\" style=\"percent\"/> and <num value=\"2.5\"/></p>\n"
               "<ol><li>a</li><if name=\"treatment.medicine\" "
               "is=\"esketamine\"><li>b</li></if><li>c</li></ol>",
               schema, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    pd_values v;
    pd_values_init(&v);
    pd_doc *doc = pd_bind(t, schema, &v, S_lang("en"), NULL, NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    char *all = S_all_text(doc);
    ck_assert_str_eq(all, "[crps][not crps][Name: .][Fig 69% and 2.5][]{1. a}{2. c}");
    free(all);
    /* the unset variable is a blank line to write on */
    ck_assert(doc->blocks[2].text.spans[1].style & PD_SPAN_BLANK);
    ck_assert_str_eq(doc->edition, "Version 2.1, revised 22 November 2026");
    pd_doc_free(doc);

    ck_assert(pd_values_set_assignment(&v, schema, "treatment.condition=fibromyalgia", &err));
    ck_assert(pd_values_set_assignment(&v, schema, "treatment.medicine=esketamine", &err));
    ck_assert(pd_values_set_assignment(&v, schema, "clinic.name=<b>&amp; \"%s\" {page}", &err));
    doc = pd_bind(t, schema, &v, S_lang("fr"), NULL, NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    all = S_all_text(doc);
    ck_assert_str_eq(all, "[not crps][Name: <b>&amp; \"%s\" {page}.][Fig 69\xe2\x80\xaf% and "
                          "2,5][]{1. a}{2. b}{3. c}");
    free(all);
    /* the value is one literal span, marked as a value, not bold */
    ck_assert_uint_eq(doc->blocks[1].text.spans[1].style, PD_SPAN_VALUE);
    pd_doc_free(doc);
    pd_values_free(&v);
    pd_template_free(t);
    pd_schema_free(schema);
}
END_TEST

/* A message is walked once per language into the steps that make its
 * spans (bind.c, S_compile) and replayed for each document: nested bold
 * and italic, a line break, a variable (each document's own value) and a
 * number printed in the language, the same spans with the worker's cache
 * as without it. */
START_TEST(bind_cached_messages_give_the_same_spans)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_template *t = S_load("<p>A <b>bold <i>both</i></b><br/>line <var name=\"clinic.name\"/> "
                            "<num value=\"69\" style=\"percent\"/> end</p>",
                            schema, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    pd_bind_cache *cache = pd_bind_cache_new();
    static const char *const names[3] = {NULL, "Clinique A", "Clinique B"};
    for (int i = 0; i < 3; i++) {
        pd_values v;
        pd_values_init(&v);
        if (names[i])
            ck_assert(pd_values_set(&v, schema, "clinic.name", names[i], "test", 0, &err));
        pd_doc *fresh = pd_bind(t, schema, &v, S_lang("fr"), NULL, NULL, &err);
        ck_assert_msg(fresh != NULL, "%s", err.msg);
        pd_doc *cached = pd_bind(t, schema, &v, S_lang("fr"), cache, NULL, &err);
        ck_assert_msg(cached != NULL, "%s", err.msg);
        const pd_text *a = &fresh->blocks[0].text, *b = &cached->blocks[0].text;
        ck_assert_uint_eq(a->n_spans, 7);
        ck_assert_uint_eq(b->n_spans, a->n_spans);
        for (size_t k = 0; k < a->n_spans; k++) {
            ck_assert_str_eq(a->spans[k].text, b->spans[k].text);
            ck_assert_uint_eq(a->spans[k].style, b->spans[k].style);
            ck_assert_int_eq(a->spans[k].origin.line, b->spans[k].origin.line);
        }
        ck_assert_str_eq(b->spans[0].text, "A ");
        ck_assert_uint_eq(b->spans[1].style, PD_SPAN_BOLD);
        ck_assert_str_eq(b->spans[1].text, "bold ");
        ck_assert_uint_eq(b->spans[2].style, PD_SPAN_BOLD | PD_SPAN_ITALIC);
        ck_assert_str_eq(b->spans[2].text, "both");
        ck_assert_uint_eq(b->spans[3].style, PD_SPAN_BREAK);
        ck_assert_str_eq(b->spans[4].text, "line ");
        if (names[i]) {
            ck_assert_str_eq(b->spans[5].text, names[i]);
            ck_assert_uint_eq(b->spans[5].style, PD_SPAN_VALUE);
        } else {
            ck_assert(b->spans[5].style & PD_SPAN_BLANK);
        }
        ck_assert_str_eq(b->spans[6].text, " 69\xe2\x80\xaf% end");
        pd_doc_free(fresh);
        pd_doc_free(cached);
        pd_values_free(&v);
    }
    pd_bind_cache_free(cache);
    pd_template_free(t);
    pd_schema_free(schema);
}
END_TEST

/* ---- layout ------------------------------------------------------------------------ */
/* A body laid out with the caller's fonts (whose layout cache shares
 * lines between documents, as in a batch worker). */
static pd_pages *S_layout_with_fonts(const char *body, const char *lang, pd_fonts *fonts)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_template *t = S_load(body, schema, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    pd_values v;
    pd_values_init(&v);
    pd_doc *doc = pd_bind(t, schema, &v, S_lang(lang), NULL, NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    pd_pages *pages = pd_layout(doc, fonts, pd_paper_find("a4"), &err);
    ck_assert_msg(pages != NULL, "%s", err.msg);
    pd_doc_free(doc);
    pd_template_free(t);
    pd_schema_free(schema);
    pd_values_free(&v);
    return pages;
}

static pd_pages *S_layout_body(const char *body, const char *lang, pd_fonts **fonts_out)
{
    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    *fonts_out = fonts;
    return S_layout_with_fonts(body, lang, fonts);
}

START_TEST(layout_keeps_headings_with_text_and_avoids_widows)
{
    /* many headings and paragraphs of varying length: for every page, the
       last line is not a heading, and no paragraph leaves a single line on
       either side of a break */
    strbuf body = STRBUF_INIT;
    for (int i = 0; i < 60; i++) {
        strbuf_printf(&body, "<h2>Heading %d</h2>\n<p>", i);
        for (int w = 0; w < (i * 7) % 55 + 3; w++)
            strbuf_printf(&body, "word%d ", w);
        strbuf_append(&body, "end.</p>\n");
    }
    pd_fonts *fonts;
    pd_pages *pages = S_layout_body(body.data, "en", &fonts);
    strbuf_free(&body);
    ck_assert_uint_gt(pages->n_pages, 2);
    for (size_t p = 0; p < pages->n_pages; p++) {
        const pd_page *page = &pages->pages[p];
        const pd_item *last = NULL, *first = NULL;
        for (size_t i = 0; i < page->n_items; i++) {
            const pd_item *it = &page->items[i];
            if (it->kind != PD_ITEM_LINE || it->y > pages->paper.height - 60)
                continue; /* footer */
            if (!first || it->y < first->y)
                first = it;
            if (!last || it->y > last->y)
                last = it;
            ck_assert_double_ge(it->y, 52.0);
            ck_assert_double_le(it->y, pages->paper.height - 64.0);
            ck_assert_double_ge(it->x, 55.0);
        }
        ck_assert_ptr_nonnull(last);
        char *text = pd_item_text(last);
        ck_assert_msg(strncmp(text, "Heading", 7) != 0, "page %zu ends with a heading", p + 1);
        /* the last line of a page is not the first line of a paragraph */
        const pd_item *prev = NULL;
        for (size_t i = 0; i < page->n_items; i++) {
            const pd_item *it = &page->items[i];
            if (it->kind == PD_ITEM_LINE && it != last && it->y < last->y &&
                (!prev || it->y > prev->y))
                prev = it;
        }
        if (prev) {
            char *pt = pd_item_text(prev);
            ck_assert_msg(strncmp(pt, "Heading", 7) != 0, "orphan line on page %zu: %s", p + 1,
                          text);
            free(pt);
        }
        free(text);
        if (p > 0) {
            char *ft = pd_item_text(first);
            ck_assert_msg(strstr(ft, "end.") == NULL || strncmp(ft, "word0", 5) == 0,
                          "widow line at the top of page %zu: %s", p + 1, ft);
            free(ft);
        }
    }
    pd_pages_free(pages);
    pd_fonts_free(fonts);
}
END_TEST

START_TEST(layout_repeats_table_header)
{
    strbuf body = STRBUF_INIT;
    strbuf_append(&body, "<table><tr><th>Test</th><th>When</th></tr>\n");
    for (int i = 0; i < 120; i++)
        strbuf_printf(&body, "<tr><td>row %d</td><td>x</td></tr>\n", i);
    strbuf_append(&body, "</table>");
    pd_fonts *fonts;
    pd_pages *pages = S_layout_body(body.data, "en", &fonts);
    strbuf_free(&body);
    ck_assert_uint_gt(pages->n_pages, 1);
    for (size_t p = 0; p < pages->n_pages; p++) {
        int header = 0;
        for (size_t i = 0; i < pages->pages[p].n_items; i++) {
            char *t = pd_item_text(&pages->pages[p].items[i]);
            header += strcmp(t, "Test") == 0 || strcmp(t, "Test (continued)") == 0;
            free(t);
        }
        ck_assert_msg(header == 1, "page %zu has %d header rows", p + 1, header);
    }
    pd_pages_free(pages);
    pd_fonts_free(fonts);
}
END_TEST

START_TEST(layout_refuses_missing_glyph)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_template *t = S_load("<p>ok</p>\n<p>Thai \xe0\xb8\x81</p>", schema, &err);
    ck_assert_ptr_nonnull(t);
    pd_values v;
    pd_values_init(&v);
    pd_doc *doc = pd_bind(t, schema, &v, S_lang("en"), NULL, NULL, &err);
    pd_fonts *fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_ptr_null(pd_layout(doc, fonts, pd_paper_find("a4"), &err));
    ck_assert_msg(strstr(err.msg, "t.xml:6: no shipped font has a glyph for U+0E01") != NULL, "%s",
                  err.msg);
    pd_doc_free(doc);
    pd_fonts_free(fonts);
    pd_template_free(t);
    pd_schema_free(schema);
}
END_TEST

/* ---- fonts + render ------------------------------------------------------------------- */
START_TEST(fonts_are_private_and_render_devices_work)
{
    ck_assert_str_eq(pd_fonts_families("zh-CN"),
                     "Noto Sans CJK SC Core, Noto Sans CJK SC, Noto Sans");
    ck_assert_str_eq(pd_fonts_families("fr"), "Noto Sans, Noto Sans CJK SC Core, Noto Sans CJK SC");
    pd_error err = {0};
    ck_assert_ptr_null(pd_fonts_new("/nonexistent-fonts", NULL, &err));
    ck_assert_msg(strstr(err.msg, "font folder not found") != NULL, "%s", err.msg);
    pd_fonts *fonts;
    pd_pages *pages = S_layout_body("<p>Zoë 如 <b>bold</b></p>", "zh_CN", &fonts);
    strbuf pdf = STRBUF_INIT, png = STRBUF_INIT, text = STRBUF_INIT;
    pd_pdf_info info = {"pildoc test", "2026-11-22T00:00:00Z", false, false};
    ck_assert(pd_render_pdf(pages, &info, NULL, NULL, &pdf, &err));
    ck_assert_mem_eq(pdf.data, "%PDF-1.7", 8);
    ck_assert(pd_render_png(pages, 1, 30, &png, &err));
    ck_assert_mem_eq(png.data + 1, "PNG", 3);
    pd_error e2 = {0};
    ck_assert(!pd_render_png(pages, 9, 30, &png, &e2));
    pd_render_text(pages, &text);
    /* in justified Chinese a space beside Han is a fixed quarter em (U+2005) */
    ck_assert_msg(strstr(text.data, "Zoë\xe2\x80\x85"
                                    "如\xe2\x80\x85"
                                    "bold") != NULL,
                  "%s", text.data);
    strbuf_free(&pdf);
    strbuf_free(&png);
    strbuf_free(&text);
    pd_pages_free(pages);
    pd_fonts_free(fonts);
}
END_TEST

/* pages rendered with a cache of its own (no line met before) and the
 * base glyphs of `base` */
static void S_render_fresh(const pd_pages *pages, const pd_pages *base, bool plain, strbuf *out)
{
    pd_pdf_cache *cache = pd_pdf_cache_new();
    pd_pdf_cache_set_base(cache, "k", base);
    pd_pdf_info info = {"pildoc test", "2026-11-22T00:00:00Z", plain, false};
    pd_error err = {0};
    ck_assert_msg(pd_render_pdf(pages, &info, cache, "k", out, &err), "%s", err.msg);
    size_t hits = 0, misses = 0;
    pd_pdf_cache_line_stats(cache, &hits, &misses);
    ck_assert_uint_eq(hits, 0);
    pd_pdf_cache_free(cache);
}

/* The line cache: lines a worker painted before are painted again from
 * their bytes, and every file is the same as with a fresh cache: in
 * another order, with the fonts numbered otherwise (a Chinese line first
 * puts the Chinese face's subset first), untagged after tagged. */
START_TEST(pdf_line_cache_gives_fresh_bytes)
{
    /* a paragraph over several lines (tagged, they end in a space), in
       the regular face first: after a line in the same face in one
       document, at the top of the page in the other */
    static const char shared[] =
        "<p>Ketamine can cause dizziness, nausea and vivid dreams; tell the nurse at once if "
        "you feel unwell during the infusion. Most effects pass within an hour after the "
        "infusion ends, and you should not drive, cycle or sign important papers until the "
        "next day.</p>\n<h2>Risks and <b>benefits</b></h2>\n"
        "<p>Most effects pass within an hour.</p>\n";
    strbuf a_body = STRBUF_INIT, b_body = STRBUF_INIT;
    strbuf_printf(&a_body, "%s<p>Zebra quiz.</p>\n", shared);
    strbuf_printf(&b_body, "<p>\xe5\xa6\x82 Zo\xc3\xab at once</p>\n%s", shared);
    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    pd_pages *a = S_layout_with_fonts(a_body.data, "en", fonts);
    pd_pages *b = S_layout_with_fonts(b_body.data, "en", fonts);
    strbuf ref_a = STRBUF_INIT, ref_b = STRBUF_INIT, ref_plain = STRBUF_INIT;
    S_render_fresh(a, a, false, &ref_a);
    S_render_fresh(b, a, false, &ref_b);
    S_render_fresh(a, a, true, &ref_plain);

    pd_pdf_cache *cache = pd_pdf_cache_new();
    pd_pdf_cache_set_base(cache, "k", a);
    pd_pdf_info info = {"pildoc test", "2026-11-22T00:00:00Z", false, false};
    const pd_pages *order[] = {a, b, a, b};
    const strbuf *want[] = {&ref_a, &ref_b, &ref_a, &ref_b};
    size_t hits = 0, misses = 0, hits_before = 0;
    for (int i = 0; i < 4; i++) {
        strbuf pdf = STRBUF_INIT;
        ck_assert_msg(pd_render_pdf(order[i], &info, cache, "k", &pdf, &err), "%s", err.msg);
        ck_assert_msg(pdf.len == want[i]->len && memcmp(pdf.data, want[i]->data, pdf.len) == 0,
                      "document %d differs from a fresh render", i);
        pd_pdf_cache_line_stats(cache, &hits, &misses);
        /* from the second document on, shared lines come from the cache */
        if (i > 0)
            ck_assert_uint_gt(hits, hits_before);
        hits_before = hits;
        strbuf_free(&pdf);
    }
    strbuf plain = STRBUF_INIT;
    pd_pdf_info plain_info = info;
    plain_info.plain = true;
    ck_assert(pd_render_pdf(a, &plain_info, cache, "k", &plain, &err));
    ck_assert_msg(plain.len == ref_plain.len && memcmp(plain.data, ref_plain.data, plain.len) == 0,
                  "untagged after tagged differs from a fresh render");
    /* in another order the fonts are numbered otherwise: a cached line
       names the document's own */
    ck_assert_ptr_nonnull(memmem(ref_b.data, ref_b.len, "/F4 ", 4));
    strbuf_free(&plain);
    pd_pdf_cache_free(cache);
    strbuf_free(&ref_a);
    strbuf_free(&ref_b);
    strbuf_free(&ref_plain);
    strbuf_free(&a_body);
    strbuf_free(&b_body);
    pd_pages_free(a);
    pd_pages_free(b);
    pd_fonts_free(fonts);
}
END_TEST

/* The fonts of a PDF are made from the glyphs its lines draw, taken from
 * the record kept with each line's layout once the line was met before
 * (render.c, S_collect): the same files as from layouts met for the first
 * time, in either order of two documents sharing lines (the Chinese face
 * first in one), and after the layouts are made again (the records go
 * with their layouts: new lines, perhaps at the old lines' addresses, are
 * walked). */
START_TEST(pdf_line_usage_gives_fresh_bytes)
{
    static const char a_body[] =
        "<p>Ketamine can cause dizziness, nausea and vivid dreams; tell the nurse at once if "
        "you feel unwell during the infusion.</p>\n<h2>Risks and <b>benefits</b></h2>\n";
    /* two faces first met in one line: the Chinese one, then the italic */
    static const char b_body[] =
        "<p>\xe5\xa6\x82 <i>Zo\xc3\xab</i> at once</p>\n<h2>Risks and <b>benefits</b></h2>\n"
        "<p>Ketamine can cause dizziness, nausea and vivid dreams; tell the nurse at once if "
        "you feel unwell during the infusion.</p>\n";
    pd_error err = {0};
    pd_pdf_info info = {"pildoc test", "2026-11-22T00:00:00Z", false, false};
    /* the references: layouts of their own (fonts of their own: no layout
       shared), each line met once */
    strbuf ref_a = STRBUF_INIT, ref_b = STRBUF_INIT;
    pd_fonts *fonts = NULL;
    const char *bodies[2] = {a_body, b_body};
    strbuf *refs[2] = {&ref_a, &ref_b};
    size_t hits = 0, walks = 0;
    for (int i = 0; i < 2; i++) {
        fonts = pd_fonts_new("fonts", "build/fontcache", &err);
        ck_assert_msg(fonts != NULL, "%s", err.msg);
        pd_pages *p = S_layout_with_fonts(bodies[i], "en", fonts);
        pd_pdf_cache *fresh = pd_pdf_cache_new();
        ck_assert_msg(pd_render_pdf(p, &info, fresh, NULL, refs[i], &err), "%s", err.msg);
        pd_pdf_cache_usage_stats(fresh, &hits, &walks);
        ck_assert_uint_eq(hits, 0);
        ck_assert_uint_gt(walks, 0);
        pd_pdf_cache_free(fresh);
        pd_pages_free(p);
        pd_fonts_free(fonts);
    }

    pd_pdf_cache *cache = pd_pdf_cache_new();
    size_t hits_before = 0, walks_before = 0;
    for (int round = 0; round < 2; round++) {
        fonts = pd_fonts_new("fonts", "build/fontcache", &err);
        ck_assert_msg(fonts != NULL, "%s", err.msg);
        pd_pages *a = S_layout_with_fonts(a_body, "en", fonts);
        pd_pages *b = S_layout_with_fonts(b_body, "en", fonts);
        const pd_pages *order[] = {a, b, a, b, b};
        const strbuf *want[] = {&ref_a, &ref_b, &ref_a, &ref_b, &ref_b};
        for (int i = 0; i < 5; i++) {
            strbuf pdf = STRBUF_INIT;
            ck_assert_msg(pd_render_pdf(order[i], &info, cache, NULL, &pdf, &err), "%s", err.msg);
            ck_assert_msg(pdf.len == want[i]->len && memcmp(pdf.data, want[i]->data, pdf.len) == 0,
                          "round %d, document %d differs from a fresh render", round, i);
            strbuf_free(&pdf);
            pd_pdf_cache_usage_stats(cache, &hits, &walks);
            if (i == 0) /* new layouts: every line walked */
                ck_assert_uint_eq(hits, hits_before);
        }
        /* the lines met again came from their records */
        ck_assert_uint_gt(hits, hits_before);
        ck_assert_uint_gt(walks, walks_before);
        hits_before = hits;
        walks_before = walks;
        pd_pages_free(a);
        pd_pages_free(b);
        pd_fonts_free(fonts);
    }
    pd_pdf_cache_free(cache);
    strbuf_free(&ref_a);
    strbuf_free(&ref_b);
}
END_TEST

/* The ToUnicode maps of a PDF, inflated, one after the other. */
static void S_tounicode_maps(const strbuf *pdf, strbuf *maps)
{
    const char *end = pdf->data + pdf->len;
    for (const char *p = pdf->data; (p = memmem(p, (size_t)(end - p), "/ToUnicode ", 11)); p++) {
        char head[32];
        snprintf(head, sizeof head, "\n%lu 0 obj\n<<", strtoul(p + 11, NULL, 10));
        const char *obj = memmem(pdf->data, pdf->len, head, strlen(head));
        ck_assert_ptr_nonnull(obj);
        const char *len = strstr(obj, "/Length ");
        const char *body = strstr(obj, ">>\nstream\n");
        ck_assert(len && body);
        uLongf n = 1 << 20;
        unsigned char *raw = xmalloc(n);
        ck_assert_int_eq(uncompress(raw, &n, (const Bytef *)body + 10, strtoul(len + 8, NULL, 10)),
                         Z_OK);
        strbuf_append_len(maps, (const char *)raw, n);
        strbuf_append(maps, "%%\n");
        free(raw);
    }
}

/* Each font's ToUnicode map lists its codes in ascending order, in single
 * codes and in ranges of consecutive codes showing consecutive
 * characters, and maps what the text shows: Latin letters in a run
 * (abcdefgh: a range), Chinese, a bold face. */
START_TEST(pdf_tounicode_maps_ascend)
{
    pd_fonts *fonts;
    pd_pages *pages = S_layout_body(
        "<p>abcdefgh xyz <b>bold</b> \xe5\xa6\x82\xe6\x9e\x9c\xe6\x82\xa8 qrst</p>", "en", &fonts);
    pd_pdf_info info = {"pildoc test", "2026-11-22T00:00:00Z", false, false};
    strbuf pdf = STRBUF_INIT, maps = STRBUF_INIT;
    pd_error err = {0};
    ck_assert_msg(pd_render_pdf(pages, &info, NULL, NULL, &pdf, &err), "%s", err.msg);
    S_tounicode_maps(&pdf, &maps);
    size_t n_maps = 0, n_ranges = 0, n_codes = 0;
    bool seen_ru = false, seen_a = false;
    long last = -1;
    for (char *line = maps.data, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        unsigned a = 0, b = 0, c = 0;
        if (strcmp(line, "%%") == 0) {
            n_maps++;
            last = -1;
        } else if (strstr(line, "beginbfchar") || strstr(line, "beginbfrange")) {
            last = -1; /* each section ascends */
        } else if (sscanf(line, "<%4x><%4x><%4x>", &a, &b, &c) == 3) {
            ck_assert_int_gt((long)a, last);
            ck_assert_uint_gt(b, a);
            last = (long)b;
            n_ranges++;
            seen_a |= c <= 'a' && 'a' <= c + (b - a);
        } else if (sscanf(line, "<%4x><%4x>", &a, &c) == 2) {
            ck_assert_int_gt((long)a, last);
            last = (long)a;
            n_codes++;
            seen_ru |= c == 0x5982; /* 如 */
        }
    }
    ck_assert_uint_ge(n_maps, 3); /* regular, bold, Chinese */
    ck_assert_uint_gt(n_ranges, 0);
    ck_assert_uint_gt(n_codes, 0);
    ck_assert(seen_a);
    ck_assert(seen_ru);
    strbuf_free(&pdf);
    strbuf_free(&maps);
    pd_pages_free(pages);
    pd_fonts_free(fonts);
}
END_TEST

/* A page's content stream is deflated the first two times it is met and
 * kept the second time; from the third document on it comes from the
 * cache, in the bytes a fresh render writes. */
START_TEST(pdf_stream_cache_gives_fresh_bytes)
{
    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    pd_pages *a =
        S_layout_with_fonts("<h2>Risks</h2><p>Most effects pass within an hour.</p>", "en", fonts);
    strbuf ref = STRBUF_INIT;
    S_render_fresh(a, a, false, &ref);
    pd_pdf_cache *cache = pd_pdf_cache_new();
    pd_pdf_cache_set_base(cache, "k", a);
    pd_pdf_info info = {"pildoc test", "2026-11-22T00:00:00Z", false, false};
    size_t hits = 0, misses = 0, misses_at_2 = 0;
    for (int i = 0; i < 4; i++) {
        strbuf pdf = STRBUF_INIT;
        ck_assert_msg(pd_render_pdf(a, &info, cache, "k", &pdf, &err), "%s", err.msg);
        ck_assert_msg(pdf.len == ref.len && memcmp(pdf.data, ref.data, pdf.len) == 0,
                      "document %d differs from a fresh render", i);
        strbuf_free(&pdf);
        pd_pdf_cache_stream_stats(cache, &hits, &misses);
        if (i < 2)
            ck_assert_uint_eq(hits, 0);
        if (i == 1)
            misses_at_2 = misses;
    }
    /* the last two documents' streams all came from the cache */
    ck_assert_uint_gt(hits, 0);
    ck_assert_uint_eq(misses, misses_at_2);
    pd_pdf_cache_free(cache);
    strbuf_free(&ref);
    pd_pages_free(a);
    pd_fonts_free(fonts);
}
END_TEST

/* The dictionary and decoded samples of each image XObject in a PDF of
 * ours (small images only), in file order. */
typedef struct S_pdf_image {
    char dict[256];
    unsigned char data[64];
    unsigned long len;
} S_pdf_image;

static size_t S_pdf_images(const strbuf *pdf, S_pdf_image *out, size_t max)
{
    size_t n = 0;
    const char *end = pdf->data + pdf->len;
    for (const char *p = pdf->data;
         n < max && (p = memmem(p, (size_t)(end - p), "<</Type/XObject", 15)); p++) {
        const char *close = memmem(p, (size_t)(end - p), ">>\nstream\n", 10);
        ck_assert_ptr_nonnull(close);
        size_t dl = (size_t)(close - p);
        ck_assert_uint_lt(dl, sizeof out[n].dict);
        memcpy(out[n].dict, p, dl);
        out[n].dict[dl] = '\0';
        const char *len = strstr(out[n].dict, "/Length ");
        ck_assert_ptr_nonnull(len);
        out[n].len = sizeof out[n].data;
        ck_assert_int_eq(uncompress(out[n].data, &out[n].len, (const Bytef *)close + 10,
                                    strtoul(len + 8, NULL, 10)),
                         Z_OK);
        n++;
    }
    return n;
}

/* Images: alpha composited onto the one colour under the image (the white
 * page, a box covering it); over several colours, composited pixel by
 * pixel in PDF/A (no transparency) and an /SMask with --plain; the same
 * pixels in the same place make one XObject. */
START_TEST(pdf_images_flattened_onto_their_background)
{
    bool plain = _i == 1;
    pd_pages *pages = xcalloc(1, sizeof *pages);
    pages->paper = *pd_paper_find("a4");
    pages->n_pages = 4;
    pages->pages = xcalloc(4, sizeof *pages->pages);
    pd_image *im = xcalloc(1, sizeof *im);
    im->width = 2;
    im->height = 1;
    im->rgba = xmalloc(8);
    memcpy(im->rgba, (const unsigned char[]){255, 0, 0, 128, 0, 0, 255, 255}, 8);
    im->alt = xstrdup("test");
    pages->images = xcalloc(1, sizeof *pages->images);
    pages->images[pages->n_images++] = im;
    /* page 1: on the page; 2: on a black box covering it; 3: on a box
       covering half of it; 4: on the page again */
    const double covers[4] = {0, 1, 0.5, 0};
    for (size_t p = 0; p < 4; p++) {
        pd_page *pg = &pages->pages[p];
        pg->items = xcalloc(2, sizeof *pg->items);
        if (covers[p] > 0)
            pg->items[pg->n_items++] = (pd_item){.kind = PD_ITEM_RECT,
                                                 .x = 90,
                                                 .y = 90,
                                                 .w = 20 + 100 * covers[p],
                                                 .h = 70,
                                                 .rgb = {0, p == 2, 0}};
        pg->items[pg->n_items++] =
            (pd_item){.kind = PD_ITEM_IMAGE, .x = 100, .y = 100, .w = 100, .h = 50, .image = im};
    }
    strbuf pdf = STRBUF_INIT;
    pd_pdf_info info = {"pildoc test", "2026-11-22T00:00:00Z", plain, false};
    pd_error err = {0};
    ck_assert(pd_render_pdf(pages, &info, NULL, NULL, &pdf, &err));
    S_pdf_image found[8];
    /* white, black, and colour + mask (plain) or composited on green and
       white, the first pixel's centre on the green box (PDF/A) */
    ck_assert_uint_eq(S_pdf_images(&pdf, found, 8), plain ? 4 : 3);
    static const unsigned char on_white[6] = {255, 127, 127, 0, 0, 255},
                               on_black[6] = {128, 0, 0, 0, 0, 255},
                               straight[6] = {255, 0, 0, 0, 0, 255}, mask[2] = {128, 255},
                               on_two[6] = {128, 127, 0, 0, 0, 255};
    const unsigned char *want[4] = {on_white, on_black, plain ? mask : on_two, straight};
    const unsigned long lens[4] = {6, 6, plain ? 2 : 6, 6};
    for (int i = 0; i < (plain ? 4 : 3); i++) {
        ck_assert_uint_eq(found[i].len, lens[i]);
        ck_assert_mem_eq(found[i].data, want[i], lens[i]);
        ck_assert_msg(strstr(found[i].dict, "/Width 2/Height 1") != NULL, "%s", found[i].dict);
        ck_assert_msg((strstr(found[i].dict, "/SMask") != NULL) == (plain && i == 3), "%s",
                      found[i].dict);
    }
    /* pages 1 and 4 draw the same XObject, scaled into the item's box */
    ck_assert_ptr_nonnull(memmem(pdf.data, pdf.len, "/XObject<</Im1 ", 15));
    ck_assert_ptr_null(memmem(pdf.data, pdf.len, "/Im4 ", 5));
    strbuf_free(&pdf);
    pd_pages_free(pages);
}
END_TEST

/* issue 10 item 17: the shaped-paragraph cache is bounded in bytes */
START_TEST(fonts_layout_cache_bounded_in_bytes)
{
    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    PangoContext *ctx = pd_fonts_context(fonts, "en");
    strbuf text = STRBUF_INIT;
    for (int i = 0; i < 1000; i++)
        strbuf_append(&text, "abcdefghi ");
    size_t most = 0;
    for (int i = 0; i < 400; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i);
        PangoLayout *l = pango_layout_new(ctx);
        /* 10,000 characters: not kept; 4,000: kept, within the bound */
        pango_layout_set_text(l, text.data, i % 2 ? 10000 : 4000);
        pd_fonts_cache_layout(fonts, key, l);
        if (i % 2)
            ck_assert_ptr_null(pd_fonts_cached_layout(fonts, key));
        else
            ck_assert_ptr_eq(pd_fonts_cached_layout(fonts, key), l);
        g_object_unref(l);
        if (pd_fonts_cache_bytes(fonts) > most)
            most = pd_fonts_cache_bytes(fonts);
    }
    ck_assert_uint_le(most, 24u * 1024 * 1024);
    ck_assert_uint_gt(most, 8u * 1024 * 1024);
    strbuf_free(&text);
    pd_fonts_free(fonts);
}
END_TEST

/* paragraphs holding a job's values are kept apart, within 2 MB: a long
 * batch of unique values no longer pushes the template's paragraphs out
 * (nor grows the worker: 6,000 jobs reached 47 MB) */
START_TEST(fonts_value_layouts_kept_apart)
{
    pd_error err = {0};
    pd_fonts *fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    ck_assert_msg(fonts != NULL, "%s", err.msg);
    PangoContext *ctx = pd_fonts_context(fonts, "en");
    PangoLayout *tpl = pango_layout_new(ctx);
    pango_layout_set_text(tpl, "Contact the clinic at once", -1);
    pd_fonts_cache_layout(fonts, "template", tpl);
    size_t tpl_bytes = pd_fonts_cache_bytes(fonts);
    strbuf text = STRBUF_INIT;
    for (int i = 0; i < 400; i++)
        strbuf_append(&text, "abcdefghi ");
    size_t most = 0;
    for (int i = 0; i < 2000; i++) { /* 2,000 unique values of 4,000 characters: 500 MB */
        char key[32];
        snprintf(key, sizeof key, "v%d", i);
        PangoLayout *l = pango_layout_new(ctx);
        pango_layout_set_text(l, text.data, 4000);
        pd_fonts_cache_value_layout(fonts, key, l);
        ck_assert_ptr_eq(pd_fonts_cached_layout(fonts, key), l); /* found within its document */
        g_object_unref(l);
        if (pd_fonts_cache_bytes(fonts) > most)
            most = pd_fonts_cache_bytes(fonts);
    }
    ck_assert_ptr_eq(pd_fonts_cached_layout(fonts, "template"), tpl);
    ck_assert_uint_le(most, tpl_bytes + 2u * 1024 * 1024);
    ck_assert_uint_gt(most, tpl_bytes + 1u * 1024 * 1024);
    /* a key the template's table has is not kept twice */
    PangoLayout *again = pango_layout_new(ctx);
    size_t before = pd_fonts_cache_bytes(fonts);
    pd_fonts_cache_value_layout(fonts, "template", again);
    ck_assert_uint_eq(pd_fonts_cache_bytes(fonts), before);
    ck_assert_ptr_eq(pd_fonts_cached_layout(fonts, "template"), tpl);
    g_object_unref(again);
    g_object_unref(tpl);
    strbuf_free(&text);
    pd_fonts_free(fonts);
}
END_TEST

/* ---- output --------------------------------------------------------------------------- */
/* ---- pdfobj: the PDF writer's object layer ------------------------------------------ */
static char *S_pdf_value(void (*fn)(strbuf *, double, int), double v, int d)
{
    strbuf sb = STRBUF_INIT;
    fn(&sb, v, d);
    return strbuf_take(&sb);
}

START_TEST(pdfobj_writes_values)
{
    const struct {
        double v;
        int d;
        const char *want;
    } reals[] = {{0, 3, "0"},
                 {12, 3, "12"},
                 {-0.5, 3, "-0.5"},
                 {595.2756, 3, "595.276"},
                 {1e-9, 3, "0"},
                 {-0.0004, 3, "0"},
                 {10.05, 1, "10.1"},
                 {1.0 / 0.0, 2, "0"},
                 {123456.789, 0, "123457"}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        char *got = S_pdf_value(pd_pdf_real, reals[i].v, reals[i].d);
        ck_assert_str_eq(got, reals[i].want);
        free(got);
    }
    strbuf sb = STRBUF_INIT;
    pd_pdf_name(&sb, "A B#(x)/é");
    ck_assert_str_eq(strbuf_str(&sb), "/A#20B#23#28x#29#2F#C3#A9");
    strbuf_clear(&sb);
    pd_pdf_text_string(&sb, "a (b) \\c");
    ck_assert_str_eq(strbuf_str(&sb), "(a \\(b\\) \\\\c)");
    strbuf_clear(&sb);
    pd_pdf_text_string(&sb, "Début à 18 h, c’est “ça” – 5 €");
    /* PDFDocEncoding */
    ck_assert_str_eq(strbuf_str(&sb), "(D\xe9"
                                      "but \xe0 18 h, c\x90"
                                      "est \x8d\xe7"
                                      "a\x8e \x85 5 \xa0)");
    strbuf_clear(&sb);
    /* UTF-16BE bytes in a literal, the delimiters among them escaped: a
       surrogate pair, U+FFFD for an invalid byte, ')' and a carriage return */
    pd_pdf_text_string(&sb, "é王\xf0\x9f\x98\x80\xff)\r");
    static const char utf16[] = "(\xfe\xff\x00\xe9\x73\x8b\xd8\x3d\xde\x00\xff\xfd"
                                "\x00\\)\x00\\r)";
    ck_assert_uint_eq(sb.len, sizeof utf16 - 1);
    ck_assert(memcmp(sb.data, utf16, sb.len) == 0);
    strbuf_clear(&sb);
    pd_pdf_text_string(&sb, "soft\xc2\xadhyphen"); /* U+00AD is not PDFDocEncoding's */
    ck_assert_uint_eq((unsigned char)sb.data[1], 0xfe);
    strbuf_clear(&sb);
    pd_pdf_date(&sb, "2026-11-22T00:00:00Z");
    ck_assert_str_eq(strbuf_str(&sb), "(D:20261122000000Z)");
    strbuf_free(&sb);
}
END_TEST

START_TEST(pdfobj_writes_a_valid_file)
{
    strbuf out = STRBUF_INIT;
    pd_pdfobj w;
    pd_pdfobj_init(&w, &out);
    uint32_t catalog = pd_pdfobj_reserve(&w), pages = pd_pdfobj_reserve(&w),
             data = pd_pdfobj_reserve(&w);
    ck_assert_uint_eq(catalog, 1);
    ck_assert_uint_eq(data, 3);
    /* written out of order: offsets follow what was written where */
    const char text[] = "chronic pain chronic pain chronic pain";
    pd_pdfobj_stream(&w, data, "/Type/Test", text, sizeof text - 1, PD_PDF_LEVEL_CONTENT);
    pd_pdfobj_begin(&w, pages);
    strbuf_append(&out, "<</Type/Pages/Kids[]/Count 0>>");
    pd_pdfobj_end(&w);
    pd_pdfobj_begin(&w, catalog);
    strbuf_printf(&out, "<</Type/Catalog/Pages %u 0 R>>", pages);
    pd_pdfobj_end(&w);
    unsigned char id[16] = {0xab, 1, 2, 3};
    ck_assert(pd_pdfobj_finish(&w, catalog, 0, id));
    const char *pdf = strbuf_str(&out);
    /* the file holds binary bytes (the deflated stream): no str* on it */
#define FIND(needle) ((const char *)memmem(pdf, out.len, needle, strlen(needle)))
    ck_assert(strncmp(pdf, "%PDF-1.7\n", 9) == 0);
    /* startxref points at the table; each entry at its object */
    const char *sx = FIND("startxref\n");
    ck_assert_ptr_nonnull(sx);
    size_t xref = strtoul(sx + 10, NULL, 10);
    ck_assert(strncmp(pdf + xref, "xref\n0 4\n0000000000 65535 f \n", 29) == 0);
    for (int n = 1; n <= 3; n++) {
        const char *entry = pdf + xref + 29 + 20 * (n - 1);
        ck_assert_int_eq(entry[17], 'n');
        size_t at = strtoul(entry, NULL, 10);
        char head[16];
        snprintf(head, sizeof head, "%d 0 obj\n", n);
        ck_assert(strncmp(pdf + at, head, strlen(head)) == 0);
    }
    ck_assert_ptr_nonnull(FIND("/Root 1 0 R/ID[<ab010203"));
    ck_assert_ptr_null(FIND("/Info"));
    /* the stream inflates to what was given, and /Length is right */
    const char *len = FIND("/Length ");
    const char *body = FIND(">>\nstream\n") + 10;
    size_t n = strtoul(len + 8, NULL, 10);
    ck_assert(strncmp(body + n, "\nendstream", 10) == 0);
    unsigned char inflated[128];
    uLongf got = sizeof inflated;
    ck_assert_int_eq(uncompress(inflated, &got, (const Bytef *)body, n), Z_OK);
    ck_assert_uint_eq(got, sizeof text - 1);
    ck_assert(memcmp(inflated, text, got) == 0);
    /* a zlib header (deflate, 32 KB window, no dictionary, check bits)
       saying the content level (4: FLEVEL 1, "fast") */
    ck_assert_int_eq((unsigned char)body[0], 0x78);
    ck_assert_int_eq((unsigned char)body[1], 0x5e);
    strbuf_free(&out);
#undef FIND

    /* an object reserved and never written is refused */
    pd_pdfobj_init(&w, &out);
    pd_pdfobj_reserve(&w);
    ck_assert(!pd_pdfobj_finish(&w, 1, 0, id));
    strbuf_free(&out);
}
END_TEST

START_TEST(output_is_atomic)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out.pdf", S_dir);
    pd_error err = {0};
    ck_assert(pd_output_write(path, "hello", 5, &err));
    FILE *f = fopen(path, "r");
    char buf[16] = {0};
    ck_assert_uint_eq(fread(buf, 1, sizeof buf, f), 5);
    fclose(f);
    ck_assert_str_eq(buf, "hello");
    pd_error e2 = {0};
    ck_assert(!pd_output_write("/nonexistent-dir/x.pdf", "x", 1, &e2));
    ck_assert_msg(strstr(e2.msg, "/nonexistent-dir/x.pdf: cannot write") == e2.msg, "%s", e2.msg);
    /* a device is never replaced (as root a rename would succeed), nor is
       any other path under /dev */
    pd_error e3 = {0}, e3b = {0};
    ck_assert(!pd_output_write("/dev/null", "x", 1, &e3));
    ck_assert_msg(strstr(e3.msg, "is a device") != NULL, "%s", e3.msg);
    ck_assert(!pd_output_write("/dev/pildoc-no-such-device", "x", 1, &e3b));
    ck_assert_msg(strstr(e3b.msg, "system path") != NULL, "%s", e3b.msg);
    struct stat st;
    ck_assert_int_eq(stat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));

    /* in two steps (batch workers): nothing at the target before commit,
       the old file kept and no temporary left after abort */
    pd_output_pending p;
    pd_error e4 = {0};
    ck_assert(pd_output_begin(path, "second", 6, &p, &e4));
    ck_assert(faccessat(p.dirfd, p.tmp, F_OK, 0) == 0);
    char tmp_name[512];
    snprintf(tmp_name, sizeof tmp_name, "%s/%s", S_dir, p.tmp);
    f = fopen(path, "r");
    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(fread(buf, 1, sizeof buf, f), 5);
    fclose(f);
    ck_assert_str_eq(buf, "hello");
    pd_output_abort(&p);
    ck_assert(access(tmp_name, F_OK) != 0);
    ck_assert_ptr_null(p.tmp);
    ck_assert(pd_output_begin(path, "second", 6, &p, &e4));
    snprintf(tmp_name, sizeof tmp_name, "%s/%s", S_dir, p.tmp);
    ck_assert(pd_output_commit(&p, &e4));
    ck_assert(access(tmp_name, F_OK) != 0);
    f = fopen(path, "r");
    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(fread(buf, 1, sizeof buf, f), 6);
    fclose(f);
    ck_assert_str_eq(buf, "second");
    pd_error e5 = {0};
    ck_assert(!pd_output_begin("/dev/null", "x", 1, &p, &e5));
    ck_assert_ptr_null(p.tmp);
}
END_TEST

TCase *pd_test_loaders_tcase(void);
TCase *pdfmeta_tcase(void); /* test_pdfmeta.c */
TCase *pd_test_elements_tcase(void);
TCase *pd_test_workpool_tcase(void); /* test_workpool.c */
TCase *pd_test_layoutcache_tcase(void);
TCase *pd_test_doccache_tcase(void);   /* test_doccache.c */
TCase *pd_test_pdfdeflate_tcase(void); /* test_pdfdeflate.c */
TCase *pd_test_glyphwarm_tcase(void);  /* tests/unit/test_glyphwarm.c */
TCase *pd_test_layoutplan_tcase(void); /* tests/unit/test_layoutplan.c */
TCase *pd_test_diskcache_tcase(void);  /* test_diskcache.c */
TCase *pd_test_subproc_tcase(void);    /* test_subproc.c */

static Suite *S_suite(void)
{
    Suite *s = suite_create("pildoc");
    TCase *tc = tcase_create("units");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, strbuf_grows_and_expands);
    tcase_add_test(tc, pdfobj_writes_values);
    tcase_add_test(tc, pdfobj_writes_a_valid_file);
    tcase_add_test(tc, lang_resolves_usual_spellings);
    tcase_add_test(tc, lang_parses_iso_dates_strictly);
    tcase_add_test(tc, lang_formats_per_language);
    tcase_add_test(tc, lang_numbers_exact_and_empty_text_untranslated);
    tcase_add_test(tc, fonts_layout_cache_bounded_in_bytes);
    tcase_add_test(tc, fonts_value_layouts_kept_apart);
    tcase_add_test(tc, pdf_line_cache_gives_fresh_bytes);
    tcase_add_test(tc, pdf_line_usage_gives_fresh_bytes);
    tcase_add_test(tc, pdf_tounicode_maps_ascend);
    tcase_add_test(tc, pdf_stream_cache_gives_fresh_bytes);
    tcase_add_test(tc, vars_check_names_and_choices);
    tcase_add_test(tc, data_files_give_dotted_names);
    tcase_add_test(tc, xmlsafe_refuses_dtds_and_depth);
    tcase_add_test(tc, message_matches_xgettext);
    tcase_add_test(tc, message_placeholders_are_checked);
    tcase_add_test(tc, template_reports_unknown_variable_with_line);
    tcase_add_test(tc, bind_conditions_and_literal_values);
    tcase_add_test(tc, bind_cached_messages_give_the_same_spans);
    tcase_add_test(tc, layout_keeps_headings_with_text_and_avoids_widows);
    tcase_add_test(tc, layout_repeats_table_header);
    tcase_add_test(tc, layout_refuses_missing_glyph);
    tcase_add_test(tc, fonts_are_private_and_render_devices_work);
    tcase_add_loop_test(tc, pdf_images_flattened_onto_their_background, 0, 2);
    tcase_add_test(tc, output_is_atomic);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, pdfmeta_tcase());
    suite_add_tcase(s, pd_test_loaders_tcase());  /* tests/unit/test_loaders.c */
    suite_add_tcase(s, pd_test_elements_tcase()); /* tests/unit/test_elements.c */
    suite_add_tcase(s, pd_test_workpool_tcase());
    suite_add_tcase(s, pd_test_layoutcache_tcase()); /* tests/unit/test_layoutcache.c */
    suite_add_tcase(s, pd_test_doccache_tcase());
    suite_add_tcase(s, pd_test_pdfdeflate_tcase());
    suite_add_tcase(s, pd_test_diskcache_tcase());
    suite_add_tcase(s, pd_test_glyphwarm_tcase());
    suite_add_tcase(s, pd_test_layoutplan_tcase());
    suite_add_tcase(s, pd_test_subproc_tcase());
    return s;
}

int main(void)
{
    const char *datadir = getenv("PILDOC_DATADIR");
    if (datadir && chdir(datadir) != 0)
        return 2;
    snprintf(S_dir, sizeof S_dir, "/tmp/pildoc-unit.XXXXXX");
    if (!mkdtemp(S_dir))
        return 2;
    lang_init();
    xmlsafe_init();
    SRunner *sr = srunner_create(S_suite());
    srunner_add_suite(sr, lang_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (size_t i = 0; i < 8; i++)
        pd_lang_free(S_langs[i]);
    xmlCleanupParser();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", S_dir);
    if (system(cmd) != 0)
        failed++;
    return failed ? 1 : 0;
}
