/* message: the translatable units of a template.
 *
 * A translatable element (p, li, h1 ...) becomes one gettext message whose
 * text is the element's content serialised the way xgettext's ITS
 * extraction does it: white space collapsed, each element's content trimmed,
 * & < > escaped, and the inline elements b, i, br, var, num kept as XML so
 * that a translator can move them. A translation is parsed back with the
 * same rules and must keep the same placeholders.
 * Ownership: returned strings are freed with free(), documents with
 * xmlFreeDoc. */
#ifndef PILDOC_MESSAGE_H
#define PILDOC_MESSAGE_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* True for the elements whose content is one message (title, p, li ...);
 * the same list as the ITS rules in po/pildoc.its. */
bool message_is_translatable(const char *element);

/* The msgid of a translatable element. */
char *message_from_element(xmlNodePtr elem);

/* Parses a message (source or translation) into a document whose root <m>
 * holds text and the allowed inline elements. Errors name file:line and
 * `what` ("fr translation"). */
xmlDocPtr message_parse(const char *msg, const char *file, long line, const char *what,
                        pd_error *err);

/* Checks that a translation keeps the source's placeholders: the same
 * variables and numbers, and as many bold, italic and line-break elements.
 * On a difference, writes a short reason into why. */
bool message_same_placeholders(xmlDocPtr source, xmlDocPtr translation, char *why, size_t size);

#endif
