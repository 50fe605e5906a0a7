/* bind: template + values + a language -> document model.
 * Translates every message through that language's catalog (a pd_lang,
 * never process state), chooses the
 * conditional parts, and fills variables in as literal text (a value is
 * never read as markup or as a format).
 * Ownership: the returned pd_doc belongs to the caller (pd_doc_free). */
#ifndef PILDOC_BIND_H
#define PILDOC_BIND_H

#include "docmodel.h"
#include "error.h"
#include "lang.h"
#include "template.h"
#include "vars.h"

/* How complete the active translation was for one document. */
typedef struct pd_bind_stats {
    size_t messages;             /* translatable messages used */
    size_t untranslated;         /* printed in English (missing or fuzzy) */
    char *first_untranslated[3]; /* the first few msgids, owned */
} pd_bind_stats;

/* Messages of one template already parsed and checked, per language, so
 * that a batch worker does not parse the same markup again for every
 * document (about 70 % of pd_bind's time). Values are never cached: they
 * are filled in per document. A cache belongs to the caller and serves
 * one pd_template only, for as long as that template lives (its entries
 * are keyed by the template's element pointers). */
typedef struct pd_bind_cache pd_bind_cache;
pd_bind_cache *pd_bind_cache_new(void);
void pd_bind_cache_free(pd_bind_cache *cache);

/* cache: NULL, or the cache of this template. */
pd_doc *pd_bind(const pd_template *t, const pd_schema *schema, const pd_values *values,
                const pd_lang *lang, pd_bind_cache *cache, pd_bind_stats *stats, pd_error *err);
void pd_bind_stats_free(pd_bind_stats *stats);

#endif
