#include "lang.h"

#include <ctype.h>
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mofile.h"
#include "strbuf.h"

struct pd_lang {
    char *code; /* "zh_CN" */
    char *tag;  /* "zh-CN" */
    pd_mo *mo;  /* NULL for the source language */
};

void lang_init(void)
{
    /* Whatever LANG/LC_ALL the caller has: a fixed UTF-8 locale, so that no
     * output depends on locales the host may or may not have. */
    if (!setlocale(LC_ALL, "C.UTF-8"))
        setlocale(LC_ALL, "C");
    /* The C library's own messages (strerror) would follow a LANGUAGE the
     * caller set; diagnostics and manifests stay English, so its domain
     * points at a folder without catalogs. */
    bindtextdomain("libc", "/nonexistent/pildoc-libc-stays-english");
}

pd_lang *pd_lang_load(const char *localedir, const char *code, pd_error *err)
{
    pd_mo *mo = NULL;
    if (strcmp(code, "en") != 0) {
        strbuf path = STRBUF_INIT;
        strbuf_printf(&path, "%s/%s/LC_MESSAGES/pildoc.mo", localedir, code);
        mo = pd_mo_load(strbuf_str(&path), err);
        strbuf_free(&path);
        if (!mo)
            return NULL;
    }
    pd_lang *lang = xcalloc(1, sizeof *lang);
    lang->code = xstrdup(code);
    lang->tag = lang_bcp47(code);
    lang->mo = mo;
    return lang;
}

void pd_lang_free(pd_lang *lang)
{
    if (!lang)
        return;
    pd_mo_free(lang->mo);
    free(lang->code);
    free(lang->tag);
    free(lang);
}

const char *pd_lang_code(const pd_lang *lang)
{
    return lang->code;
}

const char *pd_lang_tag(const pd_lang *lang)
{
    return lang->tag;
}

bool pd_lang_is_source(const pd_lang *lang)
{
    return lang->mo == NULL;
}

const char *lang_gettext(const pd_lang *lang, const char *ctx, const char *msgid)
{
    /* "" is the catalog's header ("Project-Id-Version: ..."): an empty
       text is never looked up */
    if (!*msgid || !lang->mo)
        return msgid;
    const char *t = pd_mo_gettext(lang->mo, ctx, msgid);
    return t ? t : msgid;
}

const char *lang_ngettext(const pd_lang *lang, const char *msgid, const char *msgid_plural,
                          unsigned long n)
{
    const char *t = *msgid && lang->mo ? pd_mo_ngettext(lang->mo, NULL, msgid, n) : NULL;
    return t ? t : n == 1 ? msgid : msgid_plural;
}

char **lang_available(const char *linguas_file)
{
    size_t n = 1, cap = 8;
    char **list = xcalloc(cap, sizeof *list);
    list[0] = xstrdup("en");
    FILE *f = fopen(linguas_file, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *hash = strchr(line, '#');
            if (hash)
                *hash = '\0';
            for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
                if (n + 2 > cap) {
                    cap *= 2;
                    list = xrealloc(list, cap * sizeof *list);
                }
                list[n++] = xstrdup(tok);
            }
        }
        fclose(f);
    }
    list[n] = NULL;
    return list;
}

void lang_list_free(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

static bool S_has(char *const *available, const char *code)
{
    for (char *const *p = available; *p; p++)
        if (strcmp(*p, code) == 0)
            return true;
    return false;
}

char *lang_resolve(const char *requested, char *const *available, pd_error *err)
{
    /* split "ll[-_]Script/Region[.enc][@mod]" */
    char base[64] = "", region[16] = "", script[16] = "";
    size_t i = 0, n = strlen(requested);
    size_t end = strcspn(requested, ".@");
    if (n == 0 || end >= 48)
        goto fail;
    char buf[64];
    memcpy(buf, requested, end);
    buf[end] = '\0';
    char *save = NULL;
    int part = 0;
    for (char *tok = strtok_r(buf, "-_", &save); tok; tok = strtok_r(NULL, "-_", &save), part++) {
        size_t len = strlen(tok);
        for (i = 0; i < len; i++)
            if (!isalnum((unsigned char)tok[i]))
                goto fail;
        if (part == 0) {
            if (len < 2 || len > 3)
                goto fail;
            for (i = 0; i < len; i++)
                base[i] = (char)tolower((unsigned char)tok[i]);
            base[len] = '\0';
        } else if (len == 4 && !script[0]) {
            script[0] = (char)toupper((unsigned char)tok[0]);
            for (i = 1; i < 4; i++)
                script[i] = (char)tolower((unsigned char)tok[i]);
            script[4] = '\0';
        } else if ((len == 2 || len == 3) && !region[0]) {
            for (i = 0; i < len; i++)
                region[i] = (char)toupper((unsigned char)tok[i]);
            region[len] = '\0';
        } else {
            goto fail;
        }
    }
    if (!base[0])
        goto fail;
    /* Chinese: the script decides between Simplified and Traditional */
    if (strcmp(base, "zh") == 0 && !region[0]) {
        if (!script[0] || strcmp(script, "Hans") == 0)
            strcpy(region, "CN");
        else if (strcmp(script, "Hant") == 0)
            strcpy(region, "TW");
    }
    /* a script the catalog is not written in is refused, never served in
       the other one: zh-Hant-CN asks for Traditional characters, and the
       zh_CN catalog is Simplified */
    if (strcmp(base, "zh") == 0 && script[0]) {
        bool traditional_region =
            strcmp(region, "TW") == 0 || strcmp(region, "HK") == 0 || strcmp(region, "MO") == 0;
        if (strcmp(script, "Hant") != 0 && strcmp(script, "Hans") != 0)
            goto fail;
        if ((strcmp(script, "Hant") == 0) != traditional_region)
            goto fail;
    }
    char code[80];
    if (region[0]) {
        snprintf(code, sizeof code, "%s_%s", base, region);
        if (S_has(available, code))
            return xstrdup(code);
        /* a region-neutral catalog serves every region (fr serves fr_CA) */
        if (S_has(available, base))
            return xstrdup(base);
        goto fail;
    }
    if (S_has(available, base))
        return xstrdup(base);
    /* "pt" with only pt_BR available: take the one regional catalog */
    const char *only = NULL;
    int count = 0;
    size_t bl = strlen(base);
    for (char *const *p = available; *p; p++)
        if (strncmp(*p, base, bl) == 0 && (*p)[bl] == '_') {
            only = *p;
            count++;
        }
    if (count == 1)
        return xstrdup(only);
fail:;
    strbuf sb = STRBUF_INIT;
    for (char *const *p = available; *p; p++)
        strbuf_printf(&sb, "%s%s", p == available ? "" : ", ", *p);
    pd_error_set(err, NULL, 0, "unknown language '%.40s' (available: %s)", requested,
                 strbuf_str(&sb));
    strbuf_free(&sb);
    return NULL;
}

char *lang_bcp47(const char *code)
{
    char *tag = xstrdup(code);
    for (char *p = tag; *p; p++)
        if (*p == '_')
            *p = '-';
    return tag;
}

static const char *const S_months[12] = {
    NP_("month", "January"), NP_("month", "February"), NP_("month", "March"),
    NP_("month", "April"),   NP_("month", "May"),      NP_("month", "June"),
    NP_("month", "July"),    NP_("month", "August"),   NP_("month", "September"),
    NP_("month", "October"), NP_("month", "November"), NP_("month", "December"),
};

char *lang_format_date(const pd_lang *lang, int year, int month, int day)
{
    /* the day as the language writes it may be any length ("1er", or a
       longer word): no fixed buffer for translated text */
    char d[16], m[16], y[16];
    snprintf(d, sizeof d, "%d", day);
    snprintf(m, sizeof m, "%d", month);
    snprintf(y, sizeof y, "%d", year);
    /* TRANSLATORS: how the first day of a month is written in a date:
       French "1er" (1er décembre 2026); most languages keep "1". */
    const char *first = P_(lang, "first day of the month", "1");
    const char *month_name =
        (month >= 1 && month <= 12) ? P_(lang, "month", S_months[month - 1]) : "";
    /* TRANSLATORS: the order of a full date. {day} and {year} are numbers,
       {month} the month's name, {month_number} its number (1-12).
       French: "{day} {month} {year}"; Chinese: "{year}年{month_number}月{day}日". */
    const char *pattern = _(lang, "{day} {month} {year}");
    const char *names[] = {"day", "month", "month_number", "year"};
    const char *values[] = {day == 1 ? first : d, month_name, m, y};
    strbuf out = STRBUF_INIT;
    strbuf_expand(&out, pattern, names, values, 4);
    return strbuf_take(&out);
}

/* Splits an xsd:decimal literal ("  -12.50 ", "+.5", "3.") into sign,
 * integer digits and fraction digits; false when it is not one. */
static bool S_split_decimal(const char *s, bool *negative, const char **int_digits, size_t *int_len,
                            const char **frac_digits, size_t *frac_len)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    *negative = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    *int_digits = s;
    while (isdigit((unsigned char)*s))
        s++;
    *int_len = (size_t)(s - *int_digits);
    *frac_digits = s;
    *frac_len = 0;
    if (*s == '.') {
        *frac_digits = ++s;
        while (isdigit((unsigned char)*s))
            s++;
        *frac_len = (size_t)(s - *frac_digits);
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return !*s && *int_len + *frac_len > 0;
}

char *lang_format_decimal(const pd_lang *lang, const char *decimal, bool percent)
{
    /* TRANSLATORS: the decimal separator: "," in French, "." in Chinese. */
    const char *dec = P_(lang, "decimal separator", ".");
    /* TRANSLATORS: the thousands separator; French uses a narrow no-break
       space (U+202F). */
    const char *grp = P_(lang, "thousands separator", ",");
    /* TRANSLATORS: how a percentage is written; {number} is the number.
       French: "{number} %" with a narrow no-break space (U+202F). */
    const char *pct = P_(lang, "percentage", "{number}%");

    bool negative;
    const char *ip, *fp;
    size_t intlen, fraclen;
    if (!S_split_decimal(decimal, &negative, &ip, &intlen, &fp, &fraclen))
        return NULL;
    /* leading zeros say nothing: 007 is 7, .5 is 0.5 */
    while (intlen > 1 && *ip == '0') {
        ip++;
        intlen--;
    }
    strbuf num = STRBUF_INIT;
    if (negative)
        strbuf_append_char(&num, '-');
    if (intlen == 0)
        strbuf_append_char(&num, '0');
    for (size_t i = 0; i < intlen; i++) {
        if (i > 0 && (intlen - i) % 3 == 0 && intlen > 4)
            strbuf_append(&num, grp);
        strbuf_append_char(&num, ip[i]);
    }
    if (fraclen) {
        strbuf_append(&num, dec);
        strbuf_append_len(&num, fp, fraclen);
    }
    if (!percent)
        return strbuf_take(&num);
    strbuf out = STRBUF_INIT;
    const char *names[] = {"number"};
    const char *values[] = {strbuf_str(&num)};
    strbuf_expand(&out, pct, names, values, 1);
    strbuf_free(&num);
    return strbuf_take(&out);
}

bool lang_parse_iso_date(const char *s, int *year, int *month, int *day)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    if (d > max)
        return false;
    *year = y;
    *month = m;
    *day = d;
    return true;
}
