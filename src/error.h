/* error: one diagnostic line per failure, carried back to the caller.
 * Every stage reports a bad input by filling a pd_error and returning
 * false; only main (or the batch driver) prints it. Messages name the file
 * and line and never contain patient data. */
#ifndef PILDOC_ERROR_H
#define PILDOC_ERROR_H

#include <stdbool.h>

enum pd_exit { PD_EXIT_OK = 0, PD_EXIT_INPUT = 1, PD_EXIT_USAGE = 2 };

typedef struct pd_error {
    bool set;
    bool located;   /* the message starts with a file name */
    char msg[1024]; /* "file:line: what is wrong", or "what is wrong" */
} pd_error;

/* Set the error unless one is already set (the first cause wins).
 * file may be NULL; line <= 0 omits the line. Always returns false, so
 * callers can write `return pd_error_set(...)`. */
bool pd_error_set(pd_error *err, const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
