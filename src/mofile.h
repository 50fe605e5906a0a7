/* mofile: a compiled gettext catalog (.mo, as msgfmt writes it) read into
 * memory and looked up without touching process state.
 *
 * Why not libintl: gettext's look-ups are process-wide (one LANGUAGE, one
 * text domain, a cache flushed on every switch), so two languages cannot
 * be used at once, and switching per document leaks. libintl has no
 * per-handle API. The .mo format is small, documented and stable (GNU
 * gettext manual, "The Format of GNU MO Files"): a header, two tables of
 * (length, offset) pairs, NUL-terminated strings; originals sorted with
 * strcmp, which this reader checks (and sorts an index itself otherwise),
 * so a look-up is a binary search. Both byte orders are read. Revision 1
 * files' system-dependent strings (<PRIu64> in c-format messages) are not
 * read: pildoc's messages have none.
 *
 * Every offset and length is checked when the file is loaded: a truncated
 * or corrupt file is one error line, never a crash.
 * Ownership: a pd_mo owns its bytes; returned strings live as long as it. */
#ifndef PILDOC_MOFILE_H
#define PILDOC_MOFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* a catalog larger than this is not one pildoc wrote (ours: ~100 kB) */
#define PD_MO_MAX_BYTES (32L * 1024 * 1024)

typedef struct pd_mo pd_mo;

/* Reads the .mo file at path. NULL with err set ("path: ...") when it
 * cannot be read or is not a valid catalog. */
pd_mo *pd_mo_load(const char *path, pd_error *err);
/* The same from bytes in memory (copied); name is used in errors. */
pd_mo *pd_mo_from_memory(const void *data, size_t len, const char *name, pd_error *err);
void pd_mo_free(pd_mo *mo);

/* The translation of msgid (with context ctx, or none when NULL), or NULL
 * when the catalog has none. For a plural entry, its first form. */
const char *pd_mo_gettext(const pd_mo *mo, const char *ctx, const char *msgid);
/* The plural form for n of the entry msgid (whose msgid_plural is not part
 * of the key), or NULL when the catalog has no such entry. As gettext: an
 * index out of the catalog's range gives the first form, a form missing
 * from the entry gives NULL. */
const char *pd_mo_ngettext(const pd_mo *mo, const char *ctx, const char *msgid, unsigned long n);

/* Number of entries (the header included). */
size_t pd_mo_count(const pd_mo *mo);
/* The header's nplurals (2 when it has no Plural-Forms). */
unsigned long pd_mo_nplurals(const pd_mo *mo);

#endif
