/* formats: the one table of output formats pildoc writes: the name a user
 * gives (--format pdf), the file extension of a default output name, and
 * the MIME type a server answers with. `pildoc render`, `pildoc batch` and
 * `pildoc serve` all look formats up here, so a new format is one row.
 * Ownership: the table is static and read-only. */
#ifndef PILDOC_FORMATS_H
#define PILDOC_FORMATS_H

#include <stddef.h>

#include "renderer.h"

typedef struct pd_format_info {
    pd_format format;
    const char *name;      /* "pdf": what --format takes */
    const char *extension; /* "pdf": without the dot */
    const char *mime;      /* "application/pdf" */
} pd_format_info;

/* The row of a format name ("pdf", "png", "text"), or NULL. */
const pd_format_info *pd_format_by_name(const char *name);

/* The row of a format (every pd_format has one). */
const pd_format_info *pd_format_of(pd_format format);

/* The names for messages, "pdf, png or text", into buf (cut at size). */
void pd_format_names(char *buf, size_t size);

#endif
