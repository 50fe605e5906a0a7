/* docmodel: the laid-out-independent document: blocks of styled text.
 * It is the seam between bind (what to say) and layout (how it looks):
 * nothing here knows XML, gettext or Pango.
 * Ownership: a pd_doc owns every block, text and string reachable from it;
 * pd_doc_free releases them all. */
#ifndef PILDOC_DOCMODEL_H
#define PILDOC_DOCMODEL_H

#include <stddef.h>

#include "image.h"

enum pd_span_style {
    PD_SPAN_BOLD = 1u << 0,
    PD_SPAN_ITALIC = 1u << 1,
    PD_SPAN_BLANK = 1u << 2,  /* a line to write on: text is empty, width in em */
    PD_SPAN_BREAK = 1u << 3,  /* forced line break */
    PD_SPAN_VALUE = 1u << 4,  /* a filled-in value (set apart from printed labels) */
    PD_SPAN_HINT = 1u << 5,   /* how to fill a blank in, e.g. "DD/MM/YYYY" (set small) */
    PD_SPAN_SECOND = 1u << 6, /* in a bilingual document's second language (pd_doc.also_tag):
                                 shaped and tagged as that language */
};

/* What a line to write on is for: layout gives each kind a minimum length
 * for handwriting (a name needs more room than a day of the month). */
typedef enum pd_blank_kind {
    PD_BLANK_TEXT,  /* any short text */
    PD_BLANK_NAME,  /* a person's name */
    PD_BLANK_PHONE, /* a telephone number */
    PD_BLANK_DATE,  /* a whole date */
    PD_BLANK_PART,  /* a part of a date (day, month, year) */
    PD_BLANK_ID,    /* a hospital or patient number */
} pd_blank_kind;

/* Where a piece of text came from, for error messages ("templates/x.xml:12"
 * plus, for a translation or a value, what it was). */
typedef struct pd_origin {
    const char *file; /* borrowed from the doc's string pool */
    long line;
    const char *what; /* e.g. "fr translation", "value of 'patient.name'"; may be NULL */
} pd_origin;

typedef struct pd_span {
    char *text; /* UTF-8, owned */
    unsigned style;
    double blank_em; /* width of a PD_SPAN_BLANK */
    pd_blank_kind blank_kind;
    pd_origin origin;
    const char *var; /* PD_SPAN_BLANK: the variable it stands for (interned), or NULL */
} pd_span;

typedef struct pd_text {
    pd_span *spans;
    size_t n_spans;
} pd_text;

typedef enum pd_block_kind {
    PD_BLOCK_H1,
    PD_BLOCK_H2,
    PD_BLOCK_PARA,
    PD_BLOCK_LIST,     /* children are PD_BLOCK_ITEM */
    PD_BLOCK_ITEM,     /* text; marker in `marker` */
    PD_BLOCK_TABLE,    /* rows */
    PD_BLOCK_CALLOUT,  /* children are blocks */
    PD_BLOCK_FIELD,    /* text: label, then the value or a blank line */
    PD_BLOCK_SIGN,     /* text: label and a line to sign on; room above it */
    PD_BLOCK_CHECK,    /* text beside a box; `checked` */
    PD_BLOCK_INITIALS, /* text beside a box for initials */
    PD_BLOCK_KEEP,     /* children on one page when they fit on one; nested keeps
                          hold on their own when the outer one cannot */
    PD_BLOCK_LABEL,    /* a box for the hospital's patient label; text: its caption */
    PD_BLOCK_IMAGE,    /* `image`, `width_em` wide (0: its natural width, at most the column) */
} pd_block_kind;

typedef struct pd_row {
    pd_text *cells;
    size_t n_cells;
    int header;
} pd_row;

typedef struct pd_block {
    pd_block_kind kind;
    pd_text text; /* headings, paragraphs, items */
    char *marker; /* list items: "•" or "3." */
    int urgent;   /* callouts: 1 = urgent, 0 = information */
    int columns;  /* KEEP: its blocks side by side in this many columns when the page
                     is wide enough (signature blocks); 0 or 1: one after another */
    int checked;  /* PD_BLOCK_CHECK: ticked */
    /* what a box stands for, for fillable forms: CHECK: the variable and
       the value its box means (interned, NULL for a box of its own), and
       whether the variable has a value (then the box is printed ticked or
       not, and is no field to fill); INITIALS: ticked rather than
       initialled (clinics in mainland China) */
    const char *var, *value;
    int answered;
    int tick;
    size_t label_spans; /* FIELD, SIGN: the first spans are the label, the rest the value */
    struct pd_block *children;
    size_t n_children;
    /* tables */
    double *widths; /* relative, n_cols entries */
    size_t n_cols;
    pd_row *rows;
    size_t n_rows;
    /* images */
    pd_image *image;
    double width_em;
    /* the block's language when it is not the document's (a bilingual
       document's second language), BCP 47, from the doc's pool; or NULL */
    const char *lang_tag;
} pd_block;

typedef struct pd_doc {
    char *lang;        /* pildoc language code: "en", "fr", "zh_CN" */
    char *lang_tag;    /* BCP 47: "en", "fr", "zh-CN" */
    char *title;       /* plain text, for metadata and the footer */
    char *short_title; /* for the footer; NULL: the title */
    char *subject;
    char *author;
    pd_text title_text;
    pd_text subtitle_text;
    char *edition;    /* "Version 1.0 · Revised 22 November 2026", localised */
    char *footer_fmt; /* localised "Page {page} of {pages}" */
    char *continued;  /* localised "(continued)", after a table header repeated on a new page */
    char *blank_note; /* localised "This space is intentionally left blank.", for forms */
    /* who the document is for, on every page's header ("Patient: … Date of
       birth: …"), with values or lines to write on; empty: no header */
    pd_text running_text;
    int columns; /* columns of body text per page (the template's meta); 0 or 1: one */
    pd_block *blocks;
    size_t n_blocks;
    pd_image *logo; /* the clinic's logo, top of page 1, or NULL */
    /* a bilingual document's second language (BCP 47, from the pool), whose
       spans are PD_SPAN_SECOND and blocks have it as lang_tag; or NULL */
    const char *also_tag;
    /* and its own short title (or title), edition, "Page {page} of {pages}"
       and blank note: the joined ones above end with " / " and these, so
       that each part is shaped as its language; NULL in one language */
    char *short_title2, *edition2, *footer_fmt2, *blank_note2;
    char *title2, *subject2; /* likewise, for the metadata (pdfmeta.h) */
    unsigned also_style;     /* the style bits of the second language's spans */
    char **pool;             /* interned strings (file names) */
    size_t n_pool;
} pd_doc;

pd_doc *pd_doc_new(void);
void pd_doc_free(pd_doc *doc);

/* Appends a zeroed block to an array and returns it (arrays grow one by one;
 * documents are small). */
pd_block *pd_block_append(pd_block **blocks, size_t *n);
void pd_text_add(pd_text *t, const char *s, size_t len, unsigned style, pd_origin origin);
/* Concatenated plain text of a pd_text (blank spans become nothing);
 * the caller frees it. */
char *pd_text_plain(const pd_text *t);
void pd_text_clear(pd_text *t);
/* Returns a copy of s owned by doc (same pointer for equal strings). */
const char *pd_doc_intern(pd_doc *doc, const char *s);

#endif
