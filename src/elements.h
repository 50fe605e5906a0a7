/* elements: the one registry of the template language's elements (the
 * grammar is templates/pildoc.rng): for each, its role, whether it is a
 * message for translators (po/pildoc.its extracts the same), whether it
 * stays inside a message as inline markup, and whether it names a
 * variable that must be in templates/variables.xml. The template loader,
 * the translator checks and the message extraction ask here instead of
 * keeping lists of names; tests/unit checks that the schema and the ITS
 * rules agree with it, so a new element is added here first.
 * Ownership: the table is static and read-only. */
#ifndef PILDOC_ELEMENTS_H
#define PILDOC_ELEMENTS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum pd_element_role {
    PD_ELEMENT_STRUCTURE, /* document, fragment, meta, body, tr: holds other elements */
    PD_ELEMENT_META,      /* title, subtitle ...: a text of the document's meta */
    PD_ELEMENT_BLOCK,     /* h1, p, field, keep ...: a block of the body */
    PD_ELEMENT_INLINE,    /* b, i, br, var, num: inside a message */
    PD_ELEMENT_CONTROL,   /* if, include: chooses or brings in other elements */
} pd_element_role;

/* One per element, in the registry's order: bind.c switches on it without
   a default, so the compiler names an element that has no binder. */
typedef enum pd_element_id {
    PD_EL_DOCUMENT,
    PD_EL_FRAGMENT,
    PD_EL_META,
    PD_EL_BODY,
    PD_EL_TR,
    PD_EL_TITLE,
    PD_EL_SUBTITLE,
    PD_EL_SUBJECT,
    PD_EL_AUTHOR,
    PD_EL_SHORT_TITLE,
    PD_EL_RUNNING,
    PD_EL_H1,
    PD_EL_H2,
    PD_EL_P,
    PD_EL_UL,
    PD_EL_OL,
    PD_EL_LI,
    PD_EL_TABLE,
    PD_EL_TH,
    PD_EL_TD,
    PD_EL_CALLOUT,
    PD_EL_IMG,
    PD_EL_KEEP,
    PD_EL_FIELD,
    PD_EL_SIGN,
    PD_EL_CHECK,
    PD_EL_INITIALS,
    PD_EL_LABELBOX,
    PD_EL_B,
    PD_EL_I,
    PD_EL_BR,
    PD_EL_VAR,
    PD_EL_NUM,
    PD_EL_IF,
    PD_EL_INCLUDE,
    PD_EL_COUNT
} pd_element_id;

typedef struct pd_element {
    const char *name;
    pd_element_id id;
    pd_element_role role;
    bool translatable;   /* its text is a message (xgettext, the catalogs) */
    bool names_variable; /* its name="" is a variable of the data schema */
    /* Inside a message (inline elements only): */
    bool empty;             /* has no content (br, var, num) */
    const char *attributes; /* the attributes it may carry, space-separated */
    const char *required;   /* the one attribute it needs, or NULL */
} pd_element;

/* The element called name, or NULL when the language has none. */
const pd_element *pd_element_find(const char *name);

/* Whether attribute is one of e->attributes. */
bool pd_element_allows(const pd_element *e, const char *attribute);

/* Every element, *n of them (for tests and listings). */
const pd_element *pd_elements(size_t *n);

#endif
