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

/* All len bytes to fd (retrying after EINTR and short writes); false with
 * errno set when that fails. */
bool pd_output_write_fd(int fd, const void *data, size_t len);

/* path "-" writes to standard output. */
bool pd_output_write(const char *path, const char *data, size_t len, pd_error *err);

/* The same in two steps, so that the flush to disk (fsync, the slow part
 * of writing) can run on another thread while the next document renders.
 * pd_output_begin checks the target and writes the bytes to a temporary
 * file next to it (path "-" is not accepted); pd_output_commit flushes that
 * file and renames it over the target; pd_output_abort removes it. After a
 * successful begin, exactly one of commit or abort must follow; both free
 * what p holds, and on any failure nothing is left behind. */
typedef struct pd_output_pending {
    int fd;
    char *tmp;  /* the temporary file, owned */
    char *path; /* the target, owned */
} pd_output_pending;

bool pd_output_begin(const char *path, const char *data, size_t len, pd_output_pending *p,
                     pd_error *err);
bool pd_output_commit(pd_output_pending *p, pd_error *err);
void pd_output_abort(pd_output_pending *p);

#endif
