/* layoutplan: a fresh `pildoc render` shapes the paragraphs of its
 * document on two cores: the main thread from the first paragraph on, a
 * second thread from the last one back, each with a Pango font map of its
 * own, until they meet.
 *
 * Shaping paragraphs (Pango: itemizing, HarfBuzz, line breaking) is ~19 ms
 * of a fresh Chinese leaflet's ~35, on the one core the layout used; which
 * paragraph goes where is decided as they are laid out, one after another,
 * but what each paragraph is (text, style, width) depends only on the
 * document. So after a render the plan keeps, in the cache folder
 * (diskcache.h, entry "plan-*.layouts"), the paragraphs it shaped, in
 * order, and the next render of the same document (template, languages,
 * paper, print size, clinic) starts a thread that shapes them from the end
 * with a twin of the document's fonts (fonts.h) while the main thread
 * reads, binds and lays out from the start. When the layout asks for a
 * paragraph the thread has taken, it stops the thread, waits for it, and
 * takes every layout the thread made: each run then uses the document's
 * own font (pd_fonts_same_font) and the layout goes into the fonts' cache,
 * where the layout finds it as it would a paragraph met before. A layout
 * is used only when it was made for the very same paragraph (the cache's
 * identity check), and a font's metrics do not depend on which thread
 * measured it first (fonts.c, S_metrics), so documents are byte for byte
 * the same with or without the plan, the thread or the cache folder; a
 * stale or damaged plan only costs the thread's work.
 *
 * Paragraphs holding a job's values (a patient's name) are never kept:
 * the plan file holds the template's own texts only.
 *
 * Ownership: the caller owns a pd_layoutplan (`render` makes one; batch's
 * master one per warm-up document, the next one's started while the one
 * before is used) and must free it before the fonts it was given and
 * before the process forks or ends; pd_layoutplan_free stops the thread at
 * its next paragraph and joins it. The thread uses only its own twin font map,
 * fontconfig, cairo and HarfBuzz (thread-safe) and the plan's own state,
 * under the plan's lock. */
#ifndef PILDOC_LAYOUTPLAN_H
#define PILDOC_LAYOUTPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "fonts.h"
#include "layout.h"

typedef struct pd_layoutplan pd_layoutplan;

/* Starts shaping the paragraphs kept under `what` (a description of the
 * document) in cache_dir, for a layout with `fonts` (borrowed). cache_dir
 * NULL: nothing is read or kept (returns NULL, which every function here
 * accepts). thread false: nothing is shaped ahead (the plan is only
 * kept), as when the thread cannot be started. */
pd_layoutplan *pd_layoutplan_start(const char *cache_dir, const char *what, pd_fonts *fonts,
                                   bool thread);

/* What to give the layout of the document (pd_layout_opts.helper), or
 * NULL for a NULL plan. Valid until pd_layoutplan_free. */
const pd_layout_helper *pd_layoutplan_helper(pd_layoutplan *plan);

/* Keeps the paragraphs the layouts made with the helper shaped, for the
 * next render of the document, unless the plan read at the start says the
 * same (then nothing is written). */
void pd_layoutplan_record(pd_layoutplan *plan);

/* For tests: paragraphs read from the plan; layouts the thread made and
 * the layout took; whether a thread was started. */
size_t pd_layoutplan_planned(const pd_layoutplan *plan);
size_t pd_layoutplan_taken(const pd_layoutplan *plan);
bool pd_layoutplan_threaded(const pd_layoutplan *plan);
/* Waits until the thread has shaped every paragraph it will (tests). */
void pd_layoutplan_wait(pd_layoutplan *plan);

void pd_layoutplan_free(pd_layoutplan *plan);

/* For tests and fuzzing: how many paragraphs a plan file's payload holds
 * (0 when it is damaged in any way: then a render uses none of it); with
 * fonts, the first max_shaped of them are shaped, as the thread would. */
size_t pd_layoutplan_parse(const unsigned char *payload, size_t len, pd_fonts *fonts,
                           size_t max_shaped);

#endif
