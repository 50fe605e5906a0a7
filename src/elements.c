#include "elements.h"

#include <string.h>

/* name, id, role, translatable, names_variable, and inside a message:
   empty, attributes, required.
   In the order of templates/pildoc.rng's sections: structure, meta,
   blocks, forms, inline, control. */
static const pd_element S_elements[] = {
    {"document", PD_EL_DOCUMENT, PD_ELEMENT_STRUCTURE, false, false, false, NULL, NULL},
    {"fragment", PD_EL_FRAGMENT, PD_ELEMENT_STRUCTURE, false, false, false, NULL, NULL},
    {"meta", PD_EL_META, PD_ELEMENT_STRUCTURE, false, false, false, NULL, NULL},
    {"body", PD_EL_BODY, PD_ELEMENT_STRUCTURE, false, false, false, NULL, NULL},
    {"tr", PD_EL_TR, PD_ELEMENT_STRUCTURE, false, false, false, NULL, NULL},
    {"title", PD_EL_TITLE, PD_ELEMENT_META, true, false, false, NULL, NULL},
    {"subtitle", PD_EL_SUBTITLE, PD_ELEMENT_META, true, false, false, NULL, NULL},
    {"subject", PD_EL_SUBJECT, PD_ELEMENT_META, true, false, false, NULL, NULL},
    {"author", PD_EL_AUTHOR, PD_ELEMENT_META, true, false, false, NULL, NULL},
    {"short-title", PD_EL_SHORT_TITLE, PD_ELEMENT_META, true, false, false, NULL, NULL},
    {"running", PD_EL_RUNNING, PD_ELEMENT_META, true, false, false, NULL, NULL},
    {"h1", PD_EL_H1, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"h2", PD_EL_H2, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"p", PD_EL_P, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"ul", PD_EL_UL, PD_ELEMENT_BLOCK, false, false, false, NULL, NULL},
    {"ol", PD_EL_OL, PD_ELEMENT_BLOCK, false, false, false, NULL, NULL},
    {"li", PD_EL_LI, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"table", PD_EL_TABLE, PD_ELEMENT_BLOCK, false, false, false, NULL, NULL},
    {"th", PD_EL_TH, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"td", PD_EL_TD, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"callout", PD_EL_CALLOUT, PD_ELEMENT_BLOCK, false, false, false, NULL, NULL},
    {"img", PD_EL_IMG, PD_ELEMENT_BLOCK, false, false, false, NULL,
     NULL}, /* its alt="" is translated */
    {"keep", PD_EL_KEEP, PD_ELEMENT_BLOCK, false, false, false, NULL, NULL},
    {"field", PD_EL_FIELD, PD_ELEMENT_BLOCK, true, true, false, NULL, NULL},
    {"sign", PD_EL_SIGN, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"check", PD_EL_CHECK, PD_ELEMENT_BLOCK, true, true, false, NULL, NULL},
    {"initials", PD_EL_INITIALS, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"labelbox", PD_EL_LABELBOX, PD_ELEMENT_BLOCK, true, false, false, NULL, NULL},
    {"b", PD_EL_B, PD_ELEMENT_INLINE, false, false, false, NULL, NULL},
    {"i", PD_EL_I, PD_ELEMENT_INLINE, false, false, false, NULL, NULL},
    {"br", PD_EL_BR, PD_ELEMENT_INLINE, false, false, true, NULL, NULL},
    {"var", PD_EL_VAR, PD_ELEMENT_INLINE, false, true, true, "name", "name"},
    {"num", PD_EL_NUM, PD_ELEMENT_INLINE, false, false, true, "value style decimals", "value"},
    {"if", PD_EL_IF, PD_ELEMENT_CONTROL, false, true, false, NULL, NULL},
    {"include", PD_EL_INCLUDE, PD_ELEMENT_CONTROL, false, false, false, NULL, NULL},
};

#define S_COUNT (sizeof S_elements / sizeof S_elements[0])

const pd_element *pd_element_find(const char *name)
{
    for (size_t i = 0; i < S_COUNT; i++)
        if (strcmp(S_elements[i].name, name) == 0)
            return &S_elements[i];
    return NULL;
}

const pd_element *pd_elements(size_t *n)
{
    *n = S_COUNT;
    return S_elements;
}

bool pd_element_allows(const pd_element *e, const char *attribute)
{
    size_t len = strlen(attribute);
    for (const char *p = e->attributes; p && *p;) {
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, attribute, n) == 0)
            return true;
        p = end ? end + 1 : p + n;
    }
    return false;
}
