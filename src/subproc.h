/* subproc: runs a program as a short-lived process of its own, gives it
 * bytes on its standard input and takes what it writes on its standard
 * output, within a size and a time bound. For work whose libraries are
 * large and needed once (librsvg, see image.c): a long-lived batch worker
 * never maps them.
 * The child gets no signal blocked, SIGPIPE and SIGXFSZ at their default
 * (what else the caller ignores, it ignores: a batch worker's SIGINT),
 * standard error on /dev/null, every other descriptor closed (pildoc
 * opens everything close-on-exec). Nothing is written to the caller's
 * standard streams; a broken pipe raises no SIGPIPE. A child may ask to
 * die with the thread that started it (PR_SET_PDEATHSIG): that thread
 * waits for it here.
 * Ownership: the caller owns `out` (strbuf_free). */
#ifndef PILDOC_SUBPROC_H
#define PILDOC_SUBPROC_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

typedef enum pd_subproc_status {
    PD_SUBPROC_OK,        /* it ran and exited with status 0: out holds what it wrote */
    PD_SUBPROC_NOT_RUN,   /* it could not be started (no program, no process left) */
    PD_SUBPROC_FAILED,    /* it exited with another status, or died of a signal */
    PD_SUBPROC_TOO_LONG,  /* it wrote more than out_max bytes: killed */
    PD_SUBPROC_TIMED_OUT, /* it took longer than timeout_ms: killed */
} pd_subproc_status;

/* Runs argv (argv[0] a path) with `in` on its standard input (then end of
 * file) and collects its standard output in out (cleared first) until it
 * exits. Waits for it in every case: no child is left behind. */
pd_subproc_status pd_subproc_run(char *const *argv, const void *in, size_t in_len, size_t out_max,
                                 int timeout_ms, strbuf *out);

#endif
