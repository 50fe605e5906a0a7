/* pdfform: fillable form fields for pildoc's PDF writer (`render --form`).
 *
 * From the places to fill in that layout ties to lines to write on and
 * boxes (pd_field), it writes an interactive form (AcroForm) into the PDF:
 *  - a text field at every line to write on, a check box at every tick
 *    box, a text field at every initials box, an unsigned signature field
 *    (/FT /Sig) at every line to sign on;
 *  - each with its accessible name (/TU): the label printed with it, in
 *    the document's language, a date's form after it ("(DD/MM/YYYY)"),
 *    the heading it is under before it when the label alone is not unique;
 *  - names from the variables (patient.name, treatment.medicine.ketamine;
 *    the same variable on every page is one field with a widget per page)
 *    or numbered by kind in reading order (sign.1, initials.3, date.2);
 *  - widgets in reading order on each page (/Annots, /Tabs /S), each with
 *    an appearance stream (PDF/A-1 requires one; no NeedAppearances, no
 *    action);
 *  - a default-appearance font (/DR) embedded as a subset of the
 *    document's body face with its ToUnicode map, so that a filling tool
 *    can write what is typed with it: the Latin letters of every Western
 *    European language and, in a Chinese document, the common characters
 *    (see pdfform.c for the measured sizes).
 * Ownership: a pd_form borrows the pages (they must outlive it) and owns
 * everything else; pd_form_free releases it. */
#ifndef PILDOC_PDFFORM_H
#define PILDOC_PDFFORM_H

#include <hb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "layout.h"
#include "pdfobj.h"
#include "strbuf.h"

/* One widget annotation: what a structure tree needs to link it (an
 * /OBJR in a /Form element; the widget's /StructParent is written by
 * whoever builds the tree, see pd_form_set_struct_parent). */
typedef struct pd_form_widget {
    uint32_t obj;       /* the widget annotation's object number */
    size_t page;        /* 0-based */
    pd_field_kind kind; /* text, check box, initials, signature */
    const char *name;   /* the field's fully qualified name, "patient.name" */
    const char *tu;     /* its accessible name */
    double rect[4];     /* x0 y0 x1 y1, PDF user space */
    size_t item;        /* the index of its item (line to write on, box) on its page */
} pd_form_widget;

typedef struct pd_form pd_form;

/* The form of laid-out pages: NULL when they have no field. Object
 * numbers for its widgets are reserved in w. */
pd_form *pd_form_new(const pd_pages *pages, pd_pdfobj *w);
void pd_form_free(pd_form *form);

/* The widgets of page `page` (0-based) in tab order; *n their count. */
const pd_form_widget *pd_form_page_widgets(const pd_form *form, size_t page, size_t *n);
/* Every widget, page by page in tab order. */
const pd_form_widget *pd_form_widgets(const pd_form *form, size_t *n);
/* The /StructParent of widget obj (an index into the parent tree), or -1
 * to leave it out (the default). */
void pd_form_set_struct_parent(pd_form *form, uint32_t obj, long struct_parent);
/* Whether the document has a line to sign on (a form in the full sense:
 * pildoc refuses --form for a document without one). */
bool pd_form_has_signature(const pd_pages *pages);

/* Appends " N 0 R" for each widget of page `page` to refs (the caller
 * writes the page's /Annots array and /Tabs/S). */
void pd_form_page_annots(const pd_form *form, size_t page, strbuf *refs);

/* The font typed values are written in (see pdfform.c): a subset of the
 * face in `path` (font file, face index) with its cmap, for the language
 * (BCP 47: "zh" adds the ideographs of GB 2312). Costly for Chinese: a
 * caller that makes many forms keeps it (pd_form_font_is tells whether a
 * kept one is for this face), and it is kept on disk for the next process
 * (src/diskcache.h). NULL with err set when it cannot be made. */
typedef struct pd_form_font pd_form_font;
pd_form_font *pd_form_font_new(const char *path, unsigned index, const char *lang_tag,
                               pd_error *err);
void pd_form_font_free(pd_form_font *font);
bool pd_form_font_is(const pd_form_font *font, const char *path, unsigned index,
                     const char *lang_tag);
/* Its font program's size in the file (deflated), in bytes. */
size_t pd_form_font_size(const pd_form_font *font);

/* Writes the fields, widgets, appearance streams and the font. page_objs:
 * the pages' object numbers. Returns the AcroForm dictionary's object
 * number, for the catalog. */
uint32_t pd_form_write(pd_form *form, pd_pdfobj *w, const uint32_t *page_objs,
                       const pd_form_font *font);

#endif
