/* bind: template + values + active language -> document model.
 * Translates every message through the active catalog, chooses the
 * conditional parts, and fills variables in as literal text (a value is
 * never read as markup or as a format).
 * Ownership: the returned pd_doc belongs to the caller (pd_doc_free). */
#ifndef PILDOC_BIND_H
#define PILDOC_BIND_H

#include "docmodel.h"
#include "error.h"
#include "template.h"
#include "vars.h"

/* How complete the active translation was for one document. */
typedef struct pd_bind_stats {
    size_t messages;             /* translatable messages used */
    size_t untranslated;         /* printed in English (missing or fuzzy) */
    char *first_untranslated[3]; /* the first few msgids, owned */
} pd_bind_stats;

pd_doc *pd_bind(const pd_template *t, const pd_schema *schema, const pd_values *values,
                const char *lang, pd_bind_stats *stats, pd_error *err);
void pd_bind_stats_free(pd_bind_stats *stats);

#endif
