/* lang: languages, message catalogs and locale-dependent formatting.
 *
 * A pd_lang is one language with its compiled catalog
 * (LOCALEDIR/LL/LC_MESSAGES/pildoc.mo), read by mofile.c: look-ups and
 * formatting go through the handle and never touch process state (no
 * LANGUAGE, no setlocale, no text domain switch), so a renderer may hold
 * French and Chinese at once, and two renderers in one process do not
 * see each other. pildoc never relies on the host's generated locales:
 * lang_init puts the process in C.UTF-8 once.
 * Ownership: a pd_lang belongs to its creator (pd_lang_free); strings
 * returned by lang_gettext/lang_ngettext live as long as the pd_lang or
 * are the msgid given; lang_format_* and lang_bcp47 return malloc'd text. */
#ifndef PILDOC_LANG_H
#define PILDOC_LANG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "strbuf.h"

/* Extraction marks (xgettext keywords in the Makefile: _:2, P_:2c,3,
 * N_, NP_:1c,2, NN_:1,2). L is the pd_lang of the document. */
#define _(L, s) lang_gettext((L), NULL, (s))
#define N_(s) (s)
#define NP_(ctx, s) (s)                /* marks s for extraction with a context */
#define NN_(one, other) (one), (other) /* marks a singular/plural pair */
#define P_(L, ctx, s) lang_gettext((L), (ctx), (s))

/* Once, before anything else: the C.UTF-8 locale for the whole process
 * (whatever LANG/LC_ALL the caller has), and the C library's own messages
 * kept in English. */
void lang_init(void);

typedef struct pd_lang pd_lang;

/* The language CODE ("en", "fr", "zh_CN": a resolved code) with its
 * catalog from localedir. "en" is the source language and has none. NULL
 * with err set when the catalog is missing, unreadable or corrupt. */
pd_lang *pd_lang_load(const char *localedir, const char *code, pd_error *err);
void pd_lang_free(pd_lang *lang);
const char *pd_lang_code(const pd_lang *lang);
/* The BCP 47 tag for Pango and PDF: "en", "fr", "zh-CN". */
const char *pd_lang_tag(const pd_lang *lang);
/* True for the source language (no catalog: every text is the msgid). */
bool pd_lang_is_source(const pd_lang *lang);

/* The languages pildoc can render: "en" plus every entry of LINGUAS_FILE.
 * Returns a NULL-terminated array the caller frees with lang_list_free. */
char **lang_available(const char *linguas_file);
void lang_list_free(char **list);

/* Turns what a user typed (fr, fr-FR, fr_FR.UTF-8, zh, zh-CN, zh-Hans ...)
 * into one of the available codes. On failure sets err listing them.
 * Returns a malloc'd code or NULL. */
char *lang_resolve(const char *requested, char *const *available, pd_error *err);

/* Translation of msgid in lang (msgid itself when there is none; "" is
 * never looked up). ctx is a msgctxt or NULL. */
const char *lang_gettext(const pd_lang *lang, const char *ctx, const char *msgid);
/* The plural form for n (the catalog's Plural-Forms rule); untranslated:
 * msgid when n is 1, else msgid_plural. */
const char *lang_ngettext(const pd_lang *lang, const char *msgid, const char *msgid_plural,
                          unsigned long n);

/* The BCP 47 tag of a code ("zh_CN" -> "zh-CN"); caller frees. */
char *lang_bcp47(const char *code);

/* Localised date from ISO year, month (1-12), day; caller frees. */
char *lang_format_date(const pd_lang *lang, int year, int month, int day);
/* A decimal number written as in XML Schema ("69", "-2.50", "1234567.125")
 * in the language's form, digit for digit: its decimal separator, grouped
 * thousands above 9999, nothing rounded or lost whatever its size; percent
 * adds the language's percent sign. NULL when `decimal` is not such a
 * number. Caller frees. */
char *lang_format_decimal(const pd_lang *lang, const char *decimal, bool percent);

/* Parses YYYY-MM-DD strictly (a real calendar date). */
bool lang_parse_iso_date(const char *s, int *year, int *month, int *day);

#endif
