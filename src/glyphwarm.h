/* glyphwarm: a fresh `pildoc render` loads, on a thread of its own, the
 * glyph metrics that the last render of the same document asked cairo for,
 * while the main thread reads the templates and catalog and lays out.
 *
 * Measuring each glyph (cairo_scaled_font_glyph_extents: FreeType loads
 * and measures the outline, once per glyph and size) was ~6 ms of the ~21
 * ms layout of a fresh Chinese leaflet, on the one core a render used.
 * After a render, pd_glyphwarm_record keeps in the cache folder
 * (diskcache.h, entry "warm-*.glyphs") which cairo font (its fontconfig
 * pattern, size, matrix and options) showed which glyphs; the next render
 * of the same document (template, languages, paper, print size, clinic)
 * starts a thread that makes the same cairo fonts and measures those
 * glyphs, so that the layout finds them in cairo's caches. cairo locks
 * each font while it measures, so both threads may use one font; a
 * measure is the same whichever thread made it, so documents are byte for
 * byte the same with or without the list, the thread or the cache folder.
 * A list kept for other values (a patient's name) only misses or adds a
 * few glyphs. When the thread cannot be started, the work is done at once
 * on the calling thread.
 *
 * Ownership: the caller owns a pd_glyphwarm (one per process: `render`),
 * and the thread and the cairo fonts it made belong to it until
 * pd_glyphwarm_free, which stops the thread at its next glyph and joins
 * it. It must be freed before the process forks or ends. Nothing else is
 * shared: the thread reads the list file and calls only fontconfig's
 * pattern functions and cairo, which are thread-safe. */
#ifndef PILDOC_GLYPHWARM_H
#define PILDOC_GLYPHWARM_H

#include <stdbool.h>
#include <stddef.h>

#include "layout.h"

typedef struct pd_glyphwarm pd_glyphwarm;

/* Starts warming from the list kept under `what` (a description of the
 * document: its template, languages, paper ...) in cache_dir. cache_dir
 * NULL: nothing is read or kept (returns NULL, which every function here
 * accepts). thread false: the work is done before returning, as when the
 * thread cannot be started. */
pd_glyphwarm *pd_glyphwarm_start(const char *cache_dir, const char *what, bool thread);

/* Keeps the fonts and glyphs the layouts of `pages` show for the next
 * render of the document, unless the list read at the start says the
 * same (then nothing is written). */
void pd_glyphwarm_record(pd_glyphwarm *w, const pd_pages *pages);

/* After pd_glyphwarm_wait: how many glyphs were measured from the list,
 * and whether a thread did it (for tests). */
size_t pd_glyphwarm_glyphs(const pd_glyphwarm *w);
bool pd_glyphwarm_threaded(const pd_glyphwarm *w);
/* Whether the warm-up made the cairo font that `font` measures with (tests:
 * the warmed caches are the layout's own). */
bool pd_glyphwarm_holds(const pd_glyphwarm *w, PangoFont *font);
/* Waits for the whole list to be measured (tests; the program frees). */
void pd_glyphwarm_wait(pd_glyphwarm *w);

/* Stops the thread at its next glyph, joins it, releases the fonts. */
void pd_glyphwarm_free(pd_glyphwarm *w);

#endif
