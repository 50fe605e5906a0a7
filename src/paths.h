/* paths: where pildoc finds its data, and small path helpers.
 * Every returned string is malloc'd; the caller frees it. */
#ifndef PILDOC_PATHS_H
#define PILDOC_PATHS_H

#include <stdbool.h>

/* Where pildoc's data is. Returns the folder holding templates/, fonts/
 * and po/, and sets *localedir to the folder of the compiled catalogs
 * (LL/LC_MESSAGES/pildoc.mo):
 * - $PILDOC_DATADIR when set: a source tree, catalogs in its build/locale;
 * - else the executable's own folder when it is a source tree (holds
 *   templates/pildoc.rng): ./pildoc works without installing;
 * - else the installed folders the Makefile compiled in (PILDOC_PKGDATADIR,
 *   PILDOC_LOCALEDIR). When the executable lies at ROOT/PILDOC_BINDIR
 *   (installed with DESTDIR=ROOT, or a copied tree) and ROOT holds them,
 *   they are taken from under ROOT. */
char *paths_datadir(char **localedir);
/* pildoc's own cache folder, $XDG_CACHE_HOME/pildoc (default
 * ~/.cache/pildoc), created if needed; NULL when it cannot be created or
 * written, or is not a folder of our own that only we can write (a
 * symbolic link, another user's folder, group- or world-writable): then
 * pildoc runs without a cache, silently. */
char *paths_cache_dir(void);
char *paths_join(const char *dir, const char *name);
char *paths_dirname(const char *path);
/* The running program's file (/proc/self/exe), or NULL with errno set. */
char *paths_self_exe(void);
/* path relative to the current folder when it lies below it, else as is. */
char *paths_display(const char *path);
bool paths_exists(const char *path);
bool paths_has_suffix(const char *s, const char *suffix);

#endif
