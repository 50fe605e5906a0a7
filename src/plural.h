/* plural: the Plural-Forms expression of a gettext catalog, parsed once
 * and evaluated for a count without touching process state.
 * The grammar is gettext's (GNU gettext manual, "Additional functions for
 * plural forms"): the variable n, unsigned integers, parentheses, and the
 * C operators ?: || && == != < > <= >= + - * / % ! with C's precedence,
 * evaluated in unsigned long arithmetic.
 * Ownership: a pd_plural belongs to the caller (pd_plural_free). */
#ifndef PILDOC_PLURAL_H
#define PILDOC_PLURAL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pd_plural pd_plural;

/* Parses expr ("(n > 1)", "n%10==1 && n%100!=11 ? 0 : 1"); NULL with a
 * short reason in why when it is not one. */
pd_plural *pd_plural_parse(const char *expr, char *why, size_t size);
void pd_plural_free(pd_plural *p);

/* The expression's value for n. A division or remainder by zero gives 0
 * (gettext would raise SIGFPE: a catalog must not stop pildoc). */
unsigned long pd_plural_eval(const pd_plural *p, unsigned long n);

/* The header's "Plural-Forms: nplurals=N; plural=EXPR;" line, parsed.
 * Absent: nplurals 2, plural n != 1 (gettext's default, English's rule).
 * False with a short reason in why when the line is there but malformed. */
bool pd_plural_from_header(const char *header, unsigned long *nplurals, pd_plural **plural,
                           char *why, size_t size);

#endif
