#include "lazylib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pthread_once's routine takes no argument: the library being opened is
 * handed over here, under this lock (one opening at a time). */
static pthread_mutex_t S_lock = PTHREAD_MUTEX_INITIALIZER;
static pd_lazylib *S_opening;

static void S_open(void)
{
    pd_lazylib *lib = S_opening;
    /* lazy binding: librsvg's ~30 dependencies bind only the functions a
       render calls (RTLD_NOW bound them all: 0.5 ms of a fresh leaflet);
       every function pildoc calls is still looked up here, now */
    void *h = dlopen(lib->soname, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lib->why, sizeof lib->why, "%s", e ? e : lib->soname);
        return;
    }
    for (size_t i = 0; lib->names[i]; i++) {
        lib->fns[i] = dlsym(h, lib->names[i]);
        if (!lib->fns[i]) {
            snprintf(lib->why, sizeof lib->why, "%s has no %s", lib->soname, lib->names[i]);
            return; /* the handle stays open: the process may have mapped it */
        }
    }
    lib->ok = true;
}

bool pd_lazylib_open(pd_lazylib *lib)
{
    pthread_mutex_lock(&S_lock);
    S_opening = lib;
    pthread_once(&lib->once, S_open);
    S_opening = NULL;
    bool ok = lib->ok;
    pthread_mutex_unlock(&S_lock);
    return ok;
}

void *pd_lazylib_fn(pd_lazylib *lib, size_t index)
{
    if (!pd_lazylib_open(lib)) {
        fprintf(stderr, "pildoc: %s\n", lib->why);
        abort();
    }
    return lib->fns[index];
}
