#include "elements.h"

#include <string.h>

/* In the order of templates/pildoc.rng's sections: structure, meta,
   blocks, forms, inline, control. */
static const pd_element S_elements[] = {
    {"document", PD_ELEMENT_STRUCTURE, false, false},
    {"fragment", PD_ELEMENT_STRUCTURE, false, false},
    {"meta", PD_ELEMENT_STRUCTURE, false, false},
    {"body", PD_ELEMENT_STRUCTURE, false, false},
    {"tr", PD_ELEMENT_STRUCTURE, false, false},
    {"title", PD_ELEMENT_META, true, false},
    {"subtitle", PD_ELEMENT_META, true, false},
    {"subject", PD_ELEMENT_META, true, false},
    {"author", PD_ELEMENT_META, true, false},
    {"short-title", PD_ELEMENT_META, true, false},
    {"running", PD_ELEMENT_META, true, false},
    {"h1", PD_ELEMENT_BLOCK, true, false},
    {"h2", PD_ELEMENT_BLOCK, true, false},
    {"p", PD_ELEMENT_BLOCK, true, false},
    {"ul", PD_ELEMENT_BLOCK, false, false},
    {"ol", PD_ELEMENT_BLOCK, false, false},
    {"li", PD_ELEMENT_BLOCK, true, false},
    {"table", PD_ELEMENT_BLOCK, false, false},
    {"th", PD_ELEMENT_BLOCK, true, false},
    {"td", PD_ELEMENT_BLOCK, true, false},
    {"callout", PD_ELEMENT_BLOCK, false, false},
    {"img", PD_ELEMENT_BLOCK, false, false}, /* its alt="" is translated */
    {"keep", PD_ELEMENT_BLOCK, false, false},
    {"field", PD_ELEMENT_BLOCK, true, true},
    {"sign", PD_ELEMENT_BLOCK, true, false},
    {"check", PD_ELEMENT_BLOCK, true, true},
    {"initials", PD_ELEMENT_BLOCK, true, false},
    {"labelbox", PD_ELEMENT_BLOCK, true, false},
    {"b", PD_ELEMENT_INLINE, false, false},
    {"i", PD_ELEMENT_INLINE, false, false},
    {"br", PD_ELEMENT_INLINE, false, false},
    {"var", PD_ELEMENT_INLINE, false, true},
    {"num", PD_ELEMENT_INLINE, false, false},
    {"if", PD_ELEMENT_CONTROL, false, true},
    {"include", PD_ELEMENT_CONTROL, false, false},
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
