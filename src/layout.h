/* layout: document model -> pages of positioned lines and shapes (Pango).
 *
 * Blocks are broken into unbreakable vertical slices (a line, a table row,
 * a callout's padding) with keep-with-next flags; pagination then honours:
 * a heading never ends a page, no widow or orphan lines, a callout stays
 * whole when it fits on a page, a table that crosses a page repeats its
 * header row, and nothing is placed outside the margins.
 * Ownership: pd_pages owns its items, the Pango layouts their lines belong
 * to and copies of the metadata; pd_pages_free releases all of it. It keeps
 * a reference to nothing else. */
#ifndef PILDOC_LAYOUT_H
#define PILDOC_LAYOUT_H

#include <pango/pango.h>
#include <stddef.h>

#include "docmodel.h"
#include "error.h"
#include "fonts.h"
#include "image.h"

typedef struct pd_paper {
    const char *name;     /* "a4", "letter" */
    double width, height; /* points */
} pd_paper;

/* NULL when name is neither "a4" nor "letter" (any case). */
const pd_paper *pd_paper_find(const char *name);

typedef enum pd_item_kind {
    PD_ITEM_LINE,  /* a line of text */
    PD_ITEM_RECT,  /* a filled rectangle */
    PD_ITEM_BOX,   /* an outlined box (checkbox, initials), ticked when `checked` */
    PD_ITEM_IMAGE, /* `image` (RGBA pixels and alt text) scaled into x, y, w, h */
} pd_item_kind;

typedef struct pd_item {
    pd_item_kind kind;
    double x, y; /* line: start of the baseline; rect: top-left corner */
    double w, h; /* rect size */
    double rgb[3];
    PangoLayoutLine *line; /* borrowed from a layout pd_pages owns */
    int outline_level;     /* 1 or 2 for a heading's first line, else 0 */
    int checked;           /* PD_ITEM_BOX: draw a tick */
    char *outline_text;    /* heading text for the PDF outline, owned */
    const pd_image *image; /* PD_ITEM_IMAGE: borrowed from pd_pages' images */
} pd_item;

typedef struct pd_page {
    pd_item *items;
    size_t n_items;
} pd_page;

typedef struct pd_pages {
    pd_paper paper;
    pd_page *pages;
    size_t n_pages;
    char *title, *subject, *author, *lang_tag; /* owned copies */
    PangoLayout **layouts;
    size_t n_layouts;
    pd_image **images; /* copies, owned: the image items point here */
    size_t n_images;
} pd_pages;

/* Lays the document out. Fails (err naming the code point and where the
 * text came from) when a character has no glyph in the shipped fonts. */
pd_pages *pd_layout(const pd_doc *doc, pd_fonts *fonts, const pd_paper *paper, pd_error *err);
void pd_pages_free(pd_pages *pages);

/* The text of a laid-out line (caller frees). */
char *pd_item_text(const pd_item *item);

#endif
