/* A private, emptied folder for a unit test's cache files:
 * /tmp/pildoc-NAME-PID (made when missing, its files removed). */
#ifndef PILDOC_TESTDIR_H
#define PILDOC_TESTDIR_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static inline const char *pd_test_dir(const char *name)
{
    static char dir[96];
    snprintf(dir, sizeof dir, "/tmp/pildoc-%s-%ld", name, (long)getpid());
    mkdir(dir, 0700);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return dir;
}

#endif
