/* xmlsafe: reading XML written by people and other systems, safely.
 * No network, no DTD (internal or external) and so no entities beyond the
 * five predefined ones, a bounded file size, element count and nesting
 * depth; only regular files (a FIFO or a device is refused, never waited
 * on); the first
 * problem is reported as "file:line: what is wrong".
 * Ownership: returned documents are freed by the caller with xmlFreeDoc;
 * returned strings with free(). */
#ifndef PILDOC_XMLSAFE_H
#define PILDOC_XMLSAFE_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define XMLSAFE_MAX_BYTES (8L * 1024 * 1024)
#define XMLSAFE_MAX_DEPTH 64
/* elements in one file, counted before parsing: a file of tiny elements
   under the byte limit must not cost a tree of hundreds of megabytes */
#define XMLSAFE_MAX_ELEMENTS 100000

/* Call once before any parsing. */
void xmlsafe_init(void);

xmlDocPtr xmlsafe_read_file(const char *path, pd_error *err);
/* The same, following no symbolic link anywhere in path: for a path checked
 * earlier (resolved, confined), so that a link swapped in since then is
 * refused rather than followed. */
xmlDocPtr xmlsafe_read_file_nofollow(const char *path, pd_error *err);
/* Parses a string; `file` and `line` name where it came from for errors. */
xmlDocPtr xmlsafe_read_memory(const char *buf, size_t len, const char *file, long line,
                              pd_error *err);

/* A RELAX NG schema parsed once, to validate many documents (a template
 * and its fragments). Owned by whoever loads it (xmlsafe_schema_free):
 * nothing is cached behind the caller's back. */
typedef struct xmlsafe_schema xmlsafe_schema;
xmlsafe_schema *xmlsafe_schema_load(const char *schema_path, pd_error *err);
void xmlsafe_schema_free(xmlsafe_schema *schema);
/* Validates doc against schema; `file` names the document in the error. */
bool xmlsafe_validate_with(xmlDocPtr doc, const xmlsafe_schema *schema, const char *file,
                           pd_error *err);
/* The same with the schema file parsed for this one document. */
bool xmlsafe_validate(xmlDocPtr doc, const char *schema_path, const char *file, pd_error *err);

/* The node after n in document order, staying within root: walk a tree
 * with `for (n = root; n; n = xmlsafe_next(root, n, true))`. descend=false
 * skips n's children. Iterative, so deep trees cost no stack. */
xmlNodePtr xmlsafe_next(xmlNodePtr root, xmlNodePtr n, bool descend);

/* The line of a DOCTYPE in the prolog of buf, or 0 when there is none. */
long xmlsafe_doctype_line(const char *buf, size_t len);

/* Collapses runs of XML white space to one space and trims the ends. */
char *xmlsafe_collapse_space(const char *s);
bool xmlsafe_valid_utf8(const char *s);
/* The first bidirectional formatting character of UTF-8 text s (Unicode's
 * Bidi_Control: ALM, LRM, RLM, the embeddings and overrides U+202A-U+202E,
 * the isolates U+2066-U+2069), or 0 when there is none. Such a character
 * in an inserted value or a translation reorders the text after it (U+202E
 * prints a phone number backwards). */
unsigned xmlsafe_bidi_control(const char *s);

#endif
