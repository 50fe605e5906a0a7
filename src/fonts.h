/* fonts: Pango held to the fonts shipped in fonts/, whatever the host has.
 * A private fontconfig configuration lists only that folder (with a cache
 * folder so it is not rescanned on every run); the font map works at 72 dpi
 * so that 1 pt is 1 PDF unit.
 * Ownership: pd_fonts owns the configuration, the font map, the Pango
 * contexts and the cache of shaped paragraphs; a renderer makes one and
 * owns it, so nothing here is shared between renderers (two pd_fonts may
 * live in one process). Three process-wide effects: the last pd_fonts made
 * is fontconfig's current configuration (see pd_fonts_new); fonts.c
 * defines GLib's g_thread_new so that Pango's font matching runs in the
 * calling thread instead of two new threads per font pattern (see there);
 * and the first pd_fonts puts fonts.c's font metrics in the place of
 * Pango's for its cairo fonts: measured once per face, size and language,
 * under a lock, with no approximate character width, so that a layout
 * does not depend on which fonts were measured first nor on which thread
 * (see S_metrics).
 * Layouts made from its contexts must be freed before pd_fonts_free. */
#ifndef PILDOC_FONTS_H
#define PILDOC_FONTS_H

#include <pango/pango.h>

#include "error.h"

typedef struct pd_fonts pd_fonts;

/* fonts_dir: the folder of font files; cache_dir: where fontconfig may keep
 * its cache (created if missing; may be NULL or unwritable: then fonts are
 * scanned each time). */
pd_fonts *pd_fonts_new(const char *fonts_dir, const char *cache_dir, pd_error *err);
void pd_fonts_free(pd_fonts *fonts);

/* A second pd_fonts on the same fonts and configuration, with a font map
 * of its own: Pango's font maps may not be shared between threads, so
 * another thread lays out with a twin (layoutplan.h). It may be made on
 * that thread; it changes nothing process-wide. Free it with pd_fonts_free;
 * layouts made with it keep what they need alive. */
pd_fonts *pd_fonts_new_twin(const pd_fonts *fonts);
/* fonts' own font that draws exactly as `other` (a font of a twin: the
 * same file, face, size and synthesis), a new reference; NULL when there
 * is none. For a layout made with a twin to use fonts' fonts. */
PangoFont *pd_fonts_same_font(pd_fonts *fonts, const char *bcp47, PangoFont *other);

/* The Pango context for the language (BCP 47, e.g. "zh-CN") with unhinted
 * metrics, identical for PDF and image output. Owned by fonts (made once
 * per language, then reused). */
PangoContext *pd_fonts_context(pd_fonts *fonts, const char *bcp47);

/* Layouts already made, by a key describing text, style and width: in a
 * batch most paragraphs repeat from one document to the next, and shaping
 * them again is most of the layout time. The cache holds one reference to
 * each layout. It is bounded in bytes (an estimate from each layout's text,
 * pd_fonts_layout_cost): it is emptied when it would grow past 24 MB, and a
 * single layout above 384 kB is not kept, so a worker's memory stays flat
 * whatever the values of its jobs. */
PangoLayout *pd_fonts_cached_layout(pd_fonts *fonts, const char *key);
void pd_fonts_cache_layout(pd_fonts *fonts, const char *key, PangoLayout *layout);
/* The same for a layout holding a job's values, kept apart in a table of
 * its own bounded to 2 MB (emptied when full): they recur within their
 * document, seldom in another, and must not push the template's out. */
void pd_fonts_cache_value_layout(pd_fonts *fonts, const char *key, PangoLayout *layout);
size_t pd_fonts_layout_cost(const char *key, PangoLayout *layout);
/* What the cache holds now (both tables), in estimated bytes. */
size_t pd_fonts_cache_bytes(const pd_fonts *fonts);
/* The font family list for a language: CJK first for Chinese. */
const char *pd_fonts_families(const char *bcp47);

#endif
