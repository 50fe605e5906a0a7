/* langname: the name of a language, given by its code, in the language of
 * a document ("ta" -> "Tamil", "tamoul", "泰米尔语"), from ICU's copy of the
 * Unicode CLDR (libicu, already loaded by libxml2).
 *
 * Why CLDR and not iso-codes' gettext domain iso_639-3: its Simplified
 * Chinese names lack languages an interpreter is often booked for (Tamil,
 * Persian, Ukrainian, Bengali print in English there); CLDR names them all,
 * and regional forms too ("ar-EG": "arabe (Égypte)").
 * No state: ICU's own caches are its business and thread-safe. */
#ifndef PILDOC_LANGNAME_H
#define PILDOC_LANGNAME_H

#include <stdbool.h>

/* True when text has the form of a language code: two or three lower-case
 * ASCII letters, then optional BCP 47 subtags ("ta", "cmn", "ar-EG",
 * "zh-Hant"). Anything else is a language's name written out. */
bool pd_langname_is_code(const char *text);

/* The name of the language `code` (pd_langname_is_code) in the language
 * `in` (a pildoc code: "en", "fr", "zh_CN"), malloc'd; NULL when the code
 * names no language CLDR knows. */
char *pd_langname(const char *code, const char *in);

#endif
