#include "langname.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uloc.h>
#include <unicode/ustring.h>

#include "strbuf.h"

bool pd_langname_is_code(const char *text)
{
    size_t n = strspn(text, "abcdefghijklmnopqrstuvwxyz");
    if (n < 2 || n > 3)
        return false;
    for (const char *p = text + n; *p;) {
        if (*p != '-')
            return false;
        size_t k = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        if (k < 1 || k > 8)
            return false;
        p += 1 + k;
    }
    return true;
}

char *pd_langname(const char *code, const char *in)
{
    if (!pd_langname_is_code(code) || strlen(code) > 64)
        return NULL;
    char locale[ULOC_FULLNAME_CAPACITY];
    int32_t parsed = 0;
    UErrorCode status = U_ZERO_ERROR;
    uloc_forLanguageTag(code, locale, sizeof locale, &parsed, &status);
    if (U_FAILURE(status) || status == U_STRING_NOT_TERMINATED_WARNING ||
        parsed != (int32_t)strlen(code))
        return NULL; /* not well-formed BCP 47 */
    UChar name[256];
    /* a language CLDR does not know comes back as its code, with a warning */
    status = U_ZERO_ERROR;
    uloc_getDisplayLanguage(locale, in, name, 256, &status);
    if (U_FAILURE(status) || status == U_USING_DEFAULT_WARNING)
        return NULL;
    status = U_ZERO_ERROR;
    int32_t len = uloc_getDisplayName(locale, in, name, 256, &status);
    if (U_FAILURE(status) || len >= 256)
        return NULL;
    char out[1024];
    status = U_ZERO_ERROR;
    int32_t bytes = 0;
    u_strToUTF8(out, sizeof out, &bytes, name, len, &status);
    if (U_FAILURE(status) || bytes >= (int32_t)sizeof out)
        return NULL;
    return xstrdup(out);
}
