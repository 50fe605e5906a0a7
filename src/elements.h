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

typedef struct pd_element {
    const char *name;
    pd_element_role role;
    bool translatable;   /* its text is a message (xgettext, the catalogs) */
    bool names_variable; /* its name="" is a variable of the data schema */
} pd_element;

/* The element called name, or NULL when the language has none. */
const pd_element *pd_element_find(const char *name);

/* Every element, *n of them (for tests and listings). */
const pd_element *pd_elements(size_t *n);

#endif
