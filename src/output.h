/* output: writing a finished file atomically.
 * The bytes go to a temporary file in the target's folder, are flushed to
 * disk, then renamed over the target: a reader sees the old file or the
 * whole new one, never a half-written one, and on any error nothing is
 * left behind. */
#ifndef PILDOC_OUTPUT_H
#define PILDOC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* path "-" writes to standard output. */
bool pd_output_write(const char *path, const char *data, size_t len, pd_error *err);

#endif
