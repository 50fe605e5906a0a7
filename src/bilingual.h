/* bilingual: one document in two languages (`--also`): the patient's
 * language first, every block followed by its translation.
 * The template is bound once per language (bind.c, each with its own
 * pd_lang) and the two documents are zipped block by block:
 *  - a heading or paragraph and its translation become one keep block
 *    (never separated by a page break when they fit on a page);
 *  - a list item, a table cell, a check box's text: one item, cell or box
 *    holding both texts, the second after a line break;
 *  - a field or signature line appears once, labelled in both languages;
 *  - a callout holds both languages' blocks; an image appears once;
 *  - title, subtitle, metadata, footer and edition in both languages.
 * The second language's text is set apart (italic when it is not
 * Chinese, which has no italic) and tagged with its language
 * (pd_block.lang_tag) for layout and the PDF.
 * Ownership: the returned pd_doc belongs to the caller (pd_doc_free). */
#ifndef PILDOC_BILINGUAL_H
#define PILDOC_BILINGUAL_H

#include "bind.h"
#include "docmodel.h"
#include "error.h"
#include "lang.h"
#include "template.h"
#include "vars.h"

/* stats1, stats2: each language's translation counts (as pd_bind). */
pd_doc *pd_bind_bilingual(const pd_template *t, const pd_schema *schema, const pd_values *values,
                          const pd_lang *first, const pd_lang *second, pd_bind_cache *cache,
                          pd_bind_stats *stats1, pd_bind_stats *stats2, pd_error *err);

#endif
