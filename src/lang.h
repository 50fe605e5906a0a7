/* lang: languages, message catalogs and locale-dependent formatting.
 *
 * pildoc never relies on the host's generated locales (a fresh Debian has
 * only C and C.UTF-8): it runs in C.UTF-8, selects a catalog through the
 * LANGUAGE variable and flushes gettext's cache on every switch. This is
 * process-global, so one process holds one active language at a time.
 * Strings returned by lang_* are static or owned by gettext unless said. */
#ifndef PILDOC_LANG_H
#define PILDOC_LANG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "strbuf.h"

#define _(s) lang_gettext(NULL, s)
#define N_(s) (s)
#define NP_(ctx, s) (s)                /* marks s for extraction with a context */
#define NN_(one, other) (one), (other) /* marks a singular/plural pair */
#define P_(ctx, s) lang_gettext(ctx, s)

/* Once, before anything else: C.UTF-8 locale, text domain bound to
 * LOCALEDIR (the folder holding LL/LC_MESSAGES/pildoc.mo). */
void lang_init(const char *localedir);

/* The languages pildoc can render: "en" plus every entry of LINGUAS_FILE.
 * Returns a NULL-terminated array the caller frees with lang_list_free. */
char **lang_available(const char *linguas_file);
void lang_list_free(char **list);

/* Turns what a user typed (fr, fr-FR, fr_FR.UTF-8, zh, zh-CN, zh-Hans ...)
 * into one of the available codes. On failure sets err listing them.
 * Returns a malloc'd code or NULL. */
char *lang_resolve(const char *requested, char *const *available, pd_error *err);

/* Makes CODE ("en", "fr", "zh_CN") the language of every later lookup. */
void lang_activate(const char *code);
const char *lang_active(void);

/* Translation of msgid in the active language (msgid itself when there is
 * none). ctx is a msgctxt or NULL. */
const char *lang_gettext(const char *ctx, const char *msgid);
const char *lang_ngettext(const char *msgid, const char *msgid_plural, unsigned long n);

/* The BCP 47 tag for Pango and PDF: "en", "fr", "zh-CN". */
const char *lang_bcp47(const char *code);

/* Localised date from ISO year, month (1-12), day; caller frees. */
char *lang_format_date(int year, int month, int day);
/* A decimal number written as in XML Schema ("69", "-2.50", "1234567.125")
 * in the language's form, digit for digit: its decimal separator, grouped
 * thousands above 9999, nothing rounded or lost whatever its size; percent
 * adds the language's percent sign. NULL when `decimal` is not such a
 * number. Caller frees. */
char *lang_format_decimal(const char *decimal, bool percent);

/* Parses YYYY-MM-DD strictly (a real calendar date). */
bool lang_parse_iso_date(const char *s, int *year, int *month, int *day);

#endif
