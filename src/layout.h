/* layout: document model -> pages of positioned lines and shapes (Pango).
 *
 * Blocks are broken into unbreakable vertical slices (a line, a table row,
 * a form field, a callout's padding), each glued to the next with a
 * strength; pagination breaks where the glue is weakest near the page
 * foot: a heading never ends a page, no widow or orphan lines, a sentence
 * ending in a colon stays with what it introduces, lists and tables keep
 * two items or rows on each side of a break, keep groups (callouts,
 * <keep>, nested) stay whole when they fit, a table that crosses a page
 * repeats its header row, and nothing is placed outside the margins.
 * Documents with a running text (the consent sheet) carry it at the top of
 * every page; form fields get lines sized for handwriting.
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

/* A place to fill in, for a fillable form (pildoc render --form): what a
 * line to write on or a box is for, as the page says it. The PDF writer
 * (pdfform.h) names the fields and makes them. */
typedef enum pd_field_kind {
    PD_FIELD_TEXT = 1, /* a line to write on (`blank` says for what) */
    PD_FIELD_CHOICE,   /* a box standing for one value of a variable (var, value) */
    PD_FIELD_CHECK,    /* a box of its own: ticked or not (a statement, in China) */
    PD_FIELD_INITIALS, /* a box for initials */
    PD_FIELD_SIGN,     /* a line to sign on */
} pd_field_kind;

typedef struct pd_field {
    pd_field_kind kind;
    pd_blank_kind blank; /* TEXT: name, date, phone... */
    char *var;           /* the variable it stands for ("patient.name"), or NULL */
    char *value;         /* CHOICE: the value its box means ("ketamine") */
    int part;            /* a date written in parts (Chinese ____年__月__日): 1, 2, 3; else 0 */
    char *label;         /* the text printed with it (its accessible name), never NULL */
    char *hint;          /* printed after it: how to fill it in ("DD/MM/YYYY", "年"), or NULL */
    char *section;       /* the heading it is under, or NULL (the running header) */
} pd_field;
/* Tagged PDF (pdftags.h): the logical structure layout knows, as
 * structure elements each item's content belongs to. */
typedef enum pd_tag_type {
    PD_TAG_H1,
    PD_TAG_H2,
    PD_TAG_P,
    PD_TAG_L, /* a list; `ordered`: numbered */
    PD_TAG_LI,
    PD_TAG_LBL, /* a list item's marker */
    PD_TAG_LBODY,
    PD_TAG_TABLE,
    PD_TAG_TR,
    PD_TAG_TH, /* a header row's cell: scope column */
    PD_TAG_TD,
    PD_TAG_CALLOUT, /* an information box */
    PD_TAG_WARNING, /* an urgent box */
    PD_TAG_FIELD,   /* a form field, signature line, initials or check box: label and value */
    PD_TAG_FIGURE,  /* an image; its alt text is the image's */
} pd_tag_type;

typedef struct pd_tag {
    pd_tag_type type;
    int parent;  /* 1 + index of the enclosing element in pd_pages.tags; 0: the document */
    int ordered; /* PD_TAG_L: numbered rather than bulleted */
} pd_tag;

/* What an item outside the structure (tag 0) is: PDF artifact types. */
enum {
    PD_ARTIFACT_LAYOUT,     /* rules, boxes, tints, lines to write on */
    PD_ARTIFACT_PAGINATION, /* a table header repeated on a new page */
    PD_ARTIFACT_HEADER,     /* the running header */
    PD_ARTIFACT_FOOTER,     /* title, version and page number at the foot */
};

typedef struct pd_item {
    pd_item_kind kind;
    double x, y; /* line: start of the baseline; rect: top-left corner */
    double w, h; /* rect size */
    double rgb[3];
    PangoLayoutLine *line; /* borrowed from a layout pd_pages owns */
    int outline_level;     /* 1 or 2 for a heading's first line, else 0 */
    int checked;           /* PD_ITEM_BOX: draw a tick */
    int writeon;           /* PD_ITEM_RECT: a line to write on: 1 + its pd_blank_kind, else 0 */
    char *outline_text;    /* heading text for the PDF outline, owned */
    const pd_image *image; /* PD_ITEM_IMAGE: borrowed from pd_pages' images */
    const pd_field *field; /* a write-on line or a box: what it is for, borrowed from pd_pages'
                              fields; NULL when it is no field (a label's box, a filled value) */
    int tag;               /* 1 + index of its structure element in pd_pages.tags; 0: an artifact */
    int artifact;          /* tag 0: PD_ARTIFACT_* */
    int other_script;      /* PD_ITEM_LINE: holds a value in another script than the document's */
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
    char *also_tag;          /* a bilingual document's second language (owned), or NULL */
    char *title2, *subject2; /* and its own title and subject (owned), or NULL */
    PangoLayout **layouts;
    size_t n_layouts;
    pd_image **images; /* copies, owned: the image items point here */
    size_t n_images;
    pd_field **fields; /* owned: the items point here */
    size_t n_fields;
    pd_tag *tags; /* structure elements in reading order (a parent before its children) */
    size_t n_tags;
} pd_pages;

/* A paragraph as the layout shapes it: everything that makes its Pango
 * layout what it is (the identity the worker's cache of layouts keys it
 * by), and nothing of where it goes. */
typedef struct pd_para {
    const char *lang_tag; /* the document's language (BCP 47) */
    const char *also_tag; /* a bilingual document's second language, or NULL */
    double k;             /* print scale: 1, or large print's */
    const pd_text *text;
    double width; /* points; -1: one line of natural width */
    double size;  /* points */
    int bold;
    int flags; /* layout.c's own flags (justified, ...), kept as they come */
} pd_para;

/* pd_layout_para_name's result: "layout:" and hex digits. */
#define PD_PARA_NAME_SIZE 40

/* Something that helps a layout to its paragraphs (layoutplan.h):
 * `find` may give a layout made elsewhere for the paragraph named `name`
 * when the fonts' cache has none (borrowed, NULL: none; the layout checks
 * it was made for the same paragraph before it uses it); `used` hears of
 * each paragraph the layout uses, in order, with its name, every time,
 * except those holding a job's values. */
typedef struct pd_layout_helper {
    PangoLayout *(*find)(void *ctx, const char *name);
    void (*used)(void *ctx, const pd_para *para, const char *name);
    void *ctx;
} pd_layout_helper;

typedef struct pd_layout_opts {
    int large_print;                /* body 16 pt, everything scaled, a wider measure */
    const pd_layout_helper *helper; /* may be NULL */
} pd_layout_opts;

/* The name of a paragraph's layout in the cache (pd_fonts_cached_layout). */
void pd_layout_para_name(const pd_para *para, char name[PD_PARA_NAME_SIZE]);
/* Shapes one paragraph with ctx (a context for para->lang_tag, which may
 * belong to another font map than the document's: layoutplan.h does this
 * on a thread of its own), as pd_layout_with would, and marks the layout
 * with the paragraph's identity. NULL when a character has no glyph. The
 * caller owns the layout. Call pd_layout_para_ready on the thread that
 * lays documents out before using this on another thread. */
PangoLayout *pd_layout_para(PangoContext *ctx, const pd_para *para);
void pd_layout_para_ready(void);

/* Lays the document out. Fails (err naming the code point and where the
 * text came from) when a character has no glyph in the shipped fonts, or
 * (naming the template line) when a table or nested boxes leave no room
 * for text. opts may be NULL (normal print). */
pd_pages *pd_layout_with(const pd_doc *doc, pd_fonts *fonts, const pd_paper *paper,
                         const pd_layout_opts *opts, pd_error *err);
pd_pages *pd_layout(const pd_doc *doc, pd_fonts *fonts, const pd_paper *paper, pd_error *err);
void pd_pages_free(pd_pages *pages);

/* The text of a laid-out line (caller frees). */
char *pd_item_text(const pd_item *item);

#endif
