/* lazylib: libraries pildoc opens when it first needs them, not at start-up.
 * librsvg (SVG logos), libmicrohttpd (serve) and libgettextpo (langs) with
 * their dependencies are 13 of the 63 shared objects a fresh process would
 * map and relocate, 2.8 ms of every `pildoc render` that uses none of
 * them. pildoc is not linked against them: src/lazyrsvg.c, src/lazymhd.c
 * and src/lazypo.c define the functions pildoc calls, with the libraries'
 * own prototypes, and forward each call to the library, opened by soname
 * at the first call. So the callers (image.c, serve.c, catalog.c) are
 * written against the libraries' headers as usual.
 * Ownership: a library opened stays open for the life of the process (the
 * one process-wide state here, guarded for threads). */
#ifndef PILDOC_LAZYLIB_H
#define PILDOC_LAZYLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct pd_lazylib {
    const char *soname;       /* e.g. "librsvg-2.so.2" */
    const char *const *names; /* the functions to look up, NULL-terminated */
    void **fns;               /* filled in names' order */
    pthread_once_t once;
    bool ok;
    char why[256]; /* when !ok: why the library could not be opened */
} pd_lazylib;

#define PD_LAZYLIB_INIT(soname, names, fns)                                                        \
    {                                                                                              \
        (soname), (names), (fns), PTHREAD_ONCE_INIT, false, ""                                     \
    }

/* Opens lib and looks up all its functions, once per process (later calls
 * return the first answer). False when the library or one of the functions
 * is missing, with the reason in lib->why. */
bool pd_lazylib_open(pd_lazylib *lib);

/* For a function that cannot report failure and is only reached after the
 * library's first function succeeded: the looked-up address, or a message
 * on stderr and abort() (a broken installation, not bad input). */
void *pd_lazylib_fn(pd_lazylib *lib, size_t index);

#endif
