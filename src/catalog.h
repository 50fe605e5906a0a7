/* catalog: checks on translation catalogs (po/LL.po) for translators.
 *  - a translation keeps its message's placeholders: inline markup
 *    (b, i, br, var, num) and {name} placeholders of program messages;
 *  - per template, how many messages a catalog translates, leaves fuzzy or
 *    untranslated (read with libgettextpo, GNU gettext's own PO reader).
 * Ownership: nothing returned needs freeing unless said. */
#ifndef PILDOC_CATALOG_H
#define PILDOC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "template.h"

/* True when msgstr keeps the placeholders of msgid; else a short reason in
 * why. An empty msgstr (untranslated) passes. */
bool catalog_check_translation(const char *msgid, const char *msgstr, char *why, size_t size);

/* The messages (context or NULL, msgid) a template and its fragments hold,
 * in document order, each once. Caller frees with catalog_messages_free. */
typedef struct catalog_messages {
    char **ctx;
    char **id;
    size_t n;
} catalog_messages;

void catalog_template_messages(const pd_template *t, catalog_messages *out);
void catalog_messages_free(catalog_messages *m);

typedef struct catalog_counts {
    size_t translated, fuzzy, untranslated;
} catalog_counts;

/* Counts how the catalog po_path covers the messages. */
bool catalog_count(const char *po_path, const catalog_messages *m, catalog_counts *out,
                   pd_error *err);

#endif
