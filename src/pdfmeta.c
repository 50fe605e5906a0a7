#include "pdfmeta.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An ICC profile is small (sRGB: 7 kB); anything past this is not one. */
#define ICC_MAX_BYTES (4u << 20)

struct pd_pdfmeta_icc {
    strbuf deflated;
    int components; /* 3 for RGB */
};

const char *pd_pdfmeta_resolve_date(const char *date, char buf[32])
{
    int y, mo, d, h, mi, s;
    if (date && sscanf(date, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) == 6) {
        snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y % 10000, mo % 100, d % 100, h % 100,
                 mi % 100, s % 100);
        return buf;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* The text both the information dictionary and the XMP hold: valid UTF-8
 * without the characters XML 1.0 cannot carry (C0 controls other than
 * tab and newlines), which become U+FFFD in both, so that they agree.
 * NULL for no value. Free with g_free. */
static char *S_clean(const char *text)
{
    if (!text || !*text)
        return NULL;
    char *valid = g_utf8_make_valid(text, -1);
    GString *s = g_string_sized_new(strlen(valid));
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xfffe || c == 0xffff)
            g_string_append(s, "\xef\xbf\xbd");
        else
            g_string_append_len(s, p, g_utf8_next_char(p) - p);
    }
    g_free(valid);
    return g_string_free(s, FALSE);
}

static void S_info_entry(strbuf *out, const char *key, const char *value)
{
    char *clean = S_clean(value);
    if (!clean)
        return;
    strbuf_append(out, key);
    pd_pdf_text_string(out, clean);
    g_free(clean);
}

void pd_pdfmeta_info_entries(strbuf *out, const pd_pdfmeta_info *info)
{
    char date[32];
    pd_pdfmeta_resolve_date(info->date, date);
    S_info_entry(out, "/Title", info->title);
    S_info_entry(out, "/Subject", info->subject);
    S_info_entry(out, "/Author", info->author);
    S_info_entry(out, "/Creator", info->creator);
    S_info_entry(out, "/Producer", info->creator);
    strbuf_append(out, "/CreationDate");
    pd_pdf_date(out, date);
    strbuf_append(out, "/ModDate");
    pd_pdf_date(out, date);
}

/* Text as XML character data (already cleaned). */
static void S_xml_text(strbuf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': strbuf_append(out, "&amp;"); break;
        case '<': strbuf_append(out, "&lt;"); break;
        case '>': strbuf_append(out, "&gt;"); break;
        case '"': strbuf_append(out, "&quot;"); break;
        case '\r': strbuf_append(out, "&#13;"); break;
        default: strbuf_append_char(out, *p);
        }
    }
}

/* <NAME><rdf:KIND><rdf:li[ xml:lang="x-default"]>VALUE</rdf:li>... */
static void S_xmp_list(strbuf *out, const char *name, const char *kind, bool lang,
                       const char *value)
{
    char *clean = S_clean(value);
    if (!clean)
        return;
    strbuf_printf(out, "   <%s><rdf:%s><rdf:li%s>", name, kind,
                  lang ? " xml:lang=\"x-default\"" : "");
    S_xml_text(out, clean);
    strbuf_printf(out, "</rdf:li></rdf:%s></%s>\n", kind, name);
    g_free(clean);
}

/* A language alternative: the x-default value; for a bilingual document
 * ("first / second", second given) also each language's part with its
 * xml:lang. */
static void S_xmp_alt(strbuf *out, const char *name, const char *value, const pd_pdfmeta_info *info,
                      const char *second)
{
    char *clean = S_clean(value);
    if (!clean)
        return;
    strbuf_printf(out, "   <%s><rdf:Alt><rdf:li xml:lang=\"x-default\">", name);
    S_xml_text(out, clean);
    strbuf_append(out, "</rdf:li>");
    char *two = info->also_lang && info->lang && second ? S_clean(second) : NULL;
    size_t n = strlen(clean), m = two ? strlen(two) : 0;
    if (two && n >= m + 3 && strcmp(clean + n - m, two) == 0 &&
        memcmp(clean + n - m - 3, " / ", 3) == 0) {
        clean[n - m - 3] = '\0';
        const char *langs[2] = {info->lang, info->also_lang}, *parts[2] = {clean, two};
        for (int k = 0; k < 2; k++) {
            strbuf_append(out, "<rdf:li xml:lang=\"");
            S_xml_text(out, langs[k]);
            strbuf_append(out, "\">");
            S_xml_text(out, parts[k]);
            strbuf_append(out, "</rdf:li>");
        }
    }
    strbuf_printf(out, "</rdf:Alt></%s>\n", name);
    g_free(two);
    g_free(clean);
}

static void S_xmp_simple(strbuf *out, const char *name, const char *value)
{
    char *clean = S_clean(value);
    if (!clean)
        return;
    strbuf_printf(out, "   <%s>", name);
    S_xml_text(out, clean);
    strbuf_printf(out, "</%s>\n", name);
    g_free(clean);
}

/* PDF/A-1 accepts only the XMP schemas of its own time: any other
 * namespace (pdfuaid) must be described by a pdfaExtension schema. */
static const char S_pdfua_extension[] =
    "  <rdf:Description rdf:about=\"\"\n"
    "    xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\"\n"
    "    xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\"\n"
    "    xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n"
    "   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\n"
    "    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\n"
    "    <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\n"
    "    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\n"
    "    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType=\"Resource\">\n"
    "     <pdfaProperty:name>part</pdfaProperty:name>\n"
    "     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>\n"
    "     <pdfaProperty:category>internal</pdfaProperty:category>\n"
    "     <pdfaProperty:description>Indicates which part of ISO 14289 the document conforms "
    "to</pdfaProperty:description>\n"
    "    </rdf:li></rdf:Seq></pdfaSchema:property>\n"
    "   </rdf:li></rdf:Bag></pdfaExtension:schemas>\n"
    "  </rdf:Description>\n";

void pd_pdfmeta_xmp(strbuf *out, const pd_pdfmeta_info *info)
{
    char date[32];
    pd_pdfmeta_resolve_date(info->date, date);
    /* the packet header's id is the fixed one XMP specifies */
    strbuf_append(out, "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                       "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                       " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                       "  <rdf:Description rdf:about=\"\" "
                       "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
                       "   <dc:format>application/pdf</dc:format>\n");
    S_xmp_alt(out, "dc:title", info->title, info, info->title2);
    S_xmp_alt(out, "dc:description", info->subject, info, info->subject2);
    S_xmp_list(out, "dc:creator", "Seq", false, info->author);
    if (info->also_lang && info->lang) {
        strbuf_printf(out, "   <dc:language><rdf:Bag><rdf:li>");
        S_xml_text(out, info->lang);
        strbuf_append(out, "</rdf:li><rdf:li>");
        S_xml_text(out, info->also_lang);
        strbuf_append(out, "</rdf:li></rdf:Bag></dc:language>\n");
    } else {
        S_xmp_list(out, "dc:language", "Bag", false, info->lang);
    }
    strbuf_append(out, "  </rdf:Description>\n"
                       "  <rdf:Description rdf:about=\"\" "
                       "xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n");
    S_xmp_simple(out, "xmp:CreatorTool", info->creator);
    S_xmp_simple(out, "xmp:CreateDate", date);
    S_xmp_simple(out, "xmp:ModifyDate", date);
    S_xmp_simple(out, "xmp:MetadataDate", date);
    strbuf_append(out, "  </rdf:Description>\n"
                       "  <rdf:Description rdf:about=\"\" "
                       "xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n");
    S_xmp_simple(out, "pdf:Producer", info->creator);
    strbuf_append(out, "  </rdf:Description>\n"
                       "  <rdf:Description rdf:about=\"\" "
                       "xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
                       "   <pdfaid:part>1</pdfaid:part>\n"
                       "   <pdfaid:conformance>B</pdfaid:conformance>\n"
                       "  </rdf:Description>\n");
    if (info->pdfua) {
        strbuf_append(out, "  <rdf:Description rdf:about=\"\" "
                           "xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\">\n"
                           "   <pdfuaid:part>1</pdfuaid:part>\n"
                           "  </rdf:Description>\n");
        strbuf_append(out, S_pdfua_extension);
    }
    strbuf_append(out, " </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>");
}

pd_pdfmeta_icc *pd_pdfmeta_icc_load(const char *path, pd_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pd_error_set(err, NULL, 0,
                     "cannot read the sRGB colour profile %s that PDF/A needs: %s (Debian package "
                     "icc-profiles-free; --plain writes a PDF without it)",
                     path, strerror(errno));
        return NULL;
    }
    strbuf data = STRBUF_INIT;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && data.len <= ICC_MAX_BYTES)
        strbuf_append_len(&data, buf, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    /* the header: size, then at 16 the colour space of the data */
    if (bad || data.len < 128 || data.len > ICC_MAX_BYTES ||
        memcmp(data.data + 16, "RGB ", 4) != 0 || memcmp(data.data + 36, "acsp", 4) != 0) {
        strbuf_free(&data);
        pd_error_set(err, NULL, 0, "%s is not an RGB ICC colour profile", path);
        return NULL;
    }
    pd_pdfmeta_icc *icc = xcalloc(1, sizeof *icc);
    icc->components = 3;
    pd_pdf_deflate(&icc->deflated, data.data, data.len, PD_PDF_LEVEL_SHARED);
    strbuf_free(&data);
    return icc;
}

void pd_pdfmeta_icc_free(pd_pdfmeta_icc *icc)
{
    if (!icc)
        return;
    strbuf_free(&icc->deflated);
    free(icc);
}

void pd_pdfmeta_write_archival(pd_pdfobj *w, const pd_pdfmeta_info *info, const pd_pdfmeta_icc *icc,
                               strbuf *catalog)
{
    uint32_t metadata = pd_pdfobj_reserve(w), profile = pd_pdfobj_reserve(w);
    strbuf xmp = STRBUF_INIT;
    pd_pdfmeta_xmp(&xmp, info);
    pd_pdfobj_stream_raw(w, metadata, "/Type/Metadata/Subtype/XML", xmp.data, xmp.len);
    strbuf_free(&xmp);
    char dict[32];
    snprintf(dict, sizeof dict, "/N %d", icc->components);
    pd_pdfobj_stream_deflated(w, profile, dict, icc->deflated.data, icc->deflated.len);
    strbuf_printf(catalog,
                  "/Metadata %u 0 R/OutputIntents[<</Type/OutputIntent/S/GTS_PDFA1"
                  "/OutputConditionIdentifier(sRGB IEC61966-2.1)/Info(sRGB IEC61966-2.1)"
                  "/RegistryName(http://www.color.org)/DestOutputProfile %u 0 R>>]",
                  metadata, profile);
}

void pd_pdfmeta_write_catalog(pd_pdfobj *w, uint32_t num, const pd_pdfmeta_catalog *c)
{
    strbuf *o = w->out;
    pd_pdfobj_begin(w, num);
    strbuf_printf(o, "<</Type/Catalog/Pages %u 0 R", c->pages);
    if (c->outlines)
        strbuf_printf(o, "/Outlines %u 0 R/PageMode/UseOutlines", c->outlines);
    if (c->lang && *c->lang) {
        strbuf_append(o, "/Lang");
        pd_pdf_text_string(o, c->lang);
    }
    strbuf_append(o, "/ViewerPreferences<</DisplayDocTitle true>>");
    if (c->extra)
        strbuf_append_len(o, c->extra->data ? c->extra->data : "", c->extra->len);
    strbuf_append(o, ">>");
    pd_pdfobj_end(w);
}
