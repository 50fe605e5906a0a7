/* paths: where pildoc finds its data, and small path helpers.
 * Every returned string is malloc'd; the caller frees it. */
#ifndef PILDOC_PATHS_H
#define PILDOC_PATHS_H

#include <stdbool.h>

/* The folder holding templates/, po/, fonts/ and build/: $PILDOC_DATADIR,
 * else the folder of the running executable. */
char *paths_datadir(void);
char *paths_join(const char *dir, const char *name);
char *paths_dirname(const char *path);
/* path relative to the current folder when it lies below it, else as is. */
char *paths_display(const char *path);
bool paths_exists(const char *path);
bool paths_has_suffix(const char *s, const char *suffix);

#endif
