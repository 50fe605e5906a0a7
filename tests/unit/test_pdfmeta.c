/* Unit tests of src/pdfmeta.c: the XMP packet and the information
 * dictionary agree, PDF/UA is declared only when asked (with the extension
 * schema PDF/A-1 requires), the ICC profile is checked. Registered by
 * test_units.c (pdfmeta_tcase). */
#include <check.h>
#include <libxml/parser.h>
#include <string.h>

#include "pdfmeta.h"
#include "strbuf.h"

TCase *pdfmeta_tcase(void);

static bool S_well_formed(const strbuf *xml)
{
    xmlDocPtr doc = xmlReadMemory(xml->data, (int)xml->len, "xmp.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlFreeDoc(doc);
    return doc != NULL;
}

START_TEST(pdfmeta_xmp_says_what_info_says)
{
    pd_pdfmeta_info info = {"Risks & <benefits>",
                            "Ketamine \x01 infusions",
                            "Zoë Nguyễn",
                            "fr-FR",
                            "pildoc test",
                            "2026-11-22T10:20:30Z",
                            false,
                            NULL,
                            NULL,
                            NULL};
    strbuf xmp = STRBUF_INIT, dict = STRBUF_INIT;
    pd_pdfmeta_xmp(&xmp, &info);
    pd_pdfmeta_info_entries(&dict, &info);
    ck_assert_msg(S_well_formed(&xmp), "%s", xmp.data);
    static const char *const want[] = {
        "<rdf:li xml:lang=\"x-default\">Risks &amp; &lt;benefits&gt;</rdf:li>",
        /* a control character XML cannot carry is U+FFFD in both */
        "<rdf:li xml:lang=\"x-default\">Ketamine \xef\xbf\xbd infusions</rdf:li>",
        "<dc:creator><rdf:Seq><rdf:li>Zoë Nguyễn</rdf:li></rdf:Seq></dc:creator>",
        "<dc:language><rdf:Bag><rdf:li>fr-FR</rdf:li></rdf:Bag></dc:language>",
        "<xmp:CreateDate>2026-11-22T10:20:30Z</xmp:CreateDate>",
        "<xmp:ModifyDate>2026-11-22T10:20:30Z</xmp:ModifyDate>",
        "<xmp:CreatorTool>pildoc test</xmp:CreatorTool>",
        "<pdf:Producer>pildoc test</pdf:Producer>",
        "<pdfaid:part>1</pdfaid:part>",
        "<pdfaid:conformance>B</pdfaid:conformance>",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(xmp.data, want[i]) != NULL, "%s not in %s", want[i], xmp.data);
    ck_assert_ptr_null(strstr(xmp.data, "pdfuaid"));
    ck_assert_msg(strstr(dict.data, "/Title(Risks & <benefits>)") != NULL, "%s", dict.data);
    /* "Ketamine \ufffd infusions" in UTF-16BE, its bytes in a literal
       string (pdfobj.c), NULs included: memmem, not strstr */
    static const char subject[] = "/Subject(\xfe\xff\0K\0e\0t";
    static const char fffd[] = "\0 \xff\xfd\0 ";
    ck_assert_msg(memmem(dict.data, dict.len, subject, sizeof subject - 1) != NULL &&
                      memmem(dict.data, dict.len, fffd, sizeof fffd - 1) != NULL,
                  "%s", dict.data);
    static const char dates[] = "/CreationDate(D:20261122102030Z)/ModDate(D:20261122102030Z)";
    ck_assert_msg(memmem(dict.data, dict.len, dates, sizeof dates - 1) != NULL, "%s", dict.data);

    /* PDF/UA: the pdfuaid property and its schema description */
    strbuf_clear(&xmp);
    info.pdfua = true;
    pd_pdfmeta_xmp(&xmp, &info);
    ck_assert_msg(S_well_formed(&xmp), "%s", xmp.data);
    ck_assert_ptr_nonnull(strstr(xmp.data, "<pdfuaid:part>1</pdfuaid:part>"));
    ck_assert_ptr_nonnull(strstr(
        xmp.data,
        "<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>"));
    ck_assert_ptr_nonnull(strstr(xmp.data, "<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>"));
    ck_assert_ptr_nonnull(strstr(xmp.data, "<pdfaProperty:name>part</pdfaProperty:name>"));

    /* bilingual: each language's title with its xml:lang, both languages */
    strbuf_clear(&xmp);
    pd_pdfmeta_info two = {
        "Consentement / 知情同意书", "Sujet / 主题", NULL,    "fr",         "pildoc test",
        "2026-11-22T10:20:30Z",      false,          "zh-CN", "知情同意书", "主题"};
    pd_pdfmeta_xmp(&xmp, &two);
    ck_assert_msg(S_well_formed(&xmp), "%s", xmp.data);
    ck_assert_msg(strstr(xmp.data,
                         "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Consentement "
                         "/ 知情同意书</rdf:li><rdf:li xml:lang=\"fr\">Consentement</"
                         "rdf:li><rdf:li xml:lang=\"zh-CN\">知情同意书</rdf:li></rdf:Alt>"),
                  "%s", xmp.data);
    ck_assert_ptr_nonnull(strstr(xmp.data, "<rdf:li xml:lang=\"zh-CN\">主题</rdf:li>"));
    ck_assert_ptr_nonnull(strstr(
        xmp.data, "<dc:language><rdf:Bag><rdf:li>fr</rdf:li><rdf:li>zh-CN</rdf:li></rdf:Bag>"));

    /* no value, no property */
    strbuf_clear(&xmp);
    strbuf_clear(&dict);
    pd_pdfmeta_info none = {NULL,  "",   NULL, NULL, "pildoc test", "2026-11-22T10:20:30Z",
                            false, NULL, NULL, NULL};
    pd_pdfmeta_xmp(&xmp, &none);
    pd_pdfmeta_info_entries(&dict, &none);
    ck_assert_ptr_null(strstr(xmp.data, "dc:title"));
    ck_assert_ptr_null(strstr(xmp.data, "dc:description"));
    ck_assert_ptr_null(strstr(dict.data, "/Title"));
    strbuf_free(&xmp);
    strbuf_free(&dict);
}
END_TEST

START_TEST(pdfmeta_dates_and_icc_profile)
{
    char buf[32];
    ck_assert_str_eq(pd_pdfmeta_resolve_date("2026-11-22T10:20:30", buf), "2026-11-22T10:20:30Z");
    const char *now = pd_pdfmeta_resolve_date(NULL, buf);
    ck_assert_uint_eq(strlen(now), 20);
    ck_assert_int_eq(now[19], 'Z');
    pd_error err = {0};
    ck_assert_ptr_null(pd_pdfmeta_icc_load("/nonexistent/sRGB.icc", &err));
    ck_assert_msg(strstr(err.msg, "icc-profiles-free") != NULL, "%s", err.msg);
    pd_error err2 = {0};
    ck_assert_ptr_null(pd_pdfmeta_icc_load("Makefile", &err2));
    ck_assert_msg(strstr(err2.msg, "not an RGB ICC colour profile") != NULL, "%s", err2.msg);
    pd_pdfmeta_icc *icc = pd_pdfmeta_icc_load(PILDOC_ICC_PROFILE, &err);
    ck_assert_ptr_nonnull(icc);
    pd_pdfmeta_icc_free(icc);
}
END_TEST

TCase *pdfmeta_tcase(void)
{
    TCase *tc = tcase_create("pdfmeta");
    tcase_add_test(tc, pdfmeta_xmp_says_what_info_says);
    tcase_add_test(tc, pdfmeta_dates_and_icc_profile);
    return tc;
}
