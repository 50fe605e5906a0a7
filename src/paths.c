#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

/* Compiled in by the Makefile from prefix, bindir, datadir, localedir. */
#ifndef PILDOC_BINDIR
#define PILDOC_BINDIR "/usr/local/bin"
#endif
#ifndef PILDOC_PKGDATADIR
#define PILDOC_PKGDATADIR "/usr/local/share/pildoc"
#endif
#ifndef PILDOC_LOCALEDIR
#define PILDOC_LOCALEDIR "/usr/local/share/locale"
#endif

char *paths_self_exe(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    return xstrdup(exe);
}

static char *S_exe_dir(void)
{
    char *exe = paths_self_exe();
    char *dir = exe ? paths_dirname(exe) : NULL;
    free(exe);
    return dir;
}

static char *S_concat(const char *a, const char *b)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s%s", a, b);
    return strbuf_take(&sb);
}

static bool S_is_source_tree(const char *dir)
{
    char *rng = paths_join(dir, "templates/pildoc.rng");
    bool yes = paths_exists(rng);
    free(rng);
    return yes;
}

/* ROOT when exe_dir is ROOT/PILDOC_BINDIR and ROOT holds the installed
 * data (DESTDIR=ROOT), else "": the compiled-in folders as they are. */
static char *S_install_root(const char *exe_dir)
{
    size_t n = strlen(exe_dir), b = strlen(PILDOC_BINDIR);
    if (n <= b || strcmp(exe_dir + n - b, PILDOC_BINDIR) != 0 || PILDOC_BINDIR[0] != '/')
        return xstrdup("");
    char *root = xstrndup(exe_dir, n - b);
    char *templates = S_concat(root, PILDOC_PKGDATADIR "/templates");
    if (!paths_exists(templates))
        root[0] = '\0';
    free(templates);
    return root;
}

char *paths_datadir(char **localedir)
{
    const char *env = getenv("PILDOC_DATADIR");
    bool from_env = env && *env;
    char *dir = from_env ? xstrdup(env) : S_exe_dir();
    if (dir && (from_env || S_is_source_tree(dir))) {
        *localedir = paths_join(dir, "build/locale");
        return dir;
    }
    char *root = dir ? S_install_root(dir) : xstrdup("");
    free(dir);
    *localedir = S_concat(root, PILDOC_LOCALEDIR);
    char *datadir = S_concat(root, PILDOC_PKGDATADIR);
    free(root);
    return datadir;
}

/* mkdir -p, new folders private to the user */
static bool S_make_dirs(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
        if (s)
            *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            free(p);
            return false;
        }
        if (!s)
            break;
        *s = '/';
    }
    free(p);
    return true;
}

char *paths_cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    strbuf sb = STRBUF_INIT;
    /* the XDG specification ignores relative paths */
    if (xdg && xdg[0] == '/')
        strbuf_printf(&sb, "%s/pildoc", xdg);
    else if (home && home[0] == '/')
        strbuf_printf(&sb, "%s/.cache/pildoc", home);
    else
        return NULL;
    char *dir = strbuf_take(&sb);
    /* fontconfig writes its cache there and maps the files it finds: only
       a real folder of our own that nobody else can write (a link or a
       folder planted in a shared cache home would have root write where
       the link points, or load another user's crafted cache) */
    struct stat st;
    if (!S_make_dirs(dir) || lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
        access(dir, W_OK | X_OK) != 0) {
        free(dir);
        return NULL;
    }
    return dir;
}

char *paths_join(const char *dir, const char *name)
{
    strbuf sb = STRBUF_INIT;
    if (name[0] == '/' || !dir[0] || strcmp(dir, ".") == 0) {
        strbuf_append(&sb, name);
    } else {
        strbuf_append(&sb, dir);
        if (dir[strlen(dir) - 1] != '/')
            strbuf_append_char(&sb, '/');
        strbuf_append(&sb, name);
    }
    return strbuf_take(&sb);
}

char *paths_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

char *paths_display(const char *path)
{
    if (path[0] != '/')
        return xstrdup(strncmp(path, "./", 2) == 0 ? path + 2 : path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return xstrdup(path);
    size_t n = strlen(cwd);
    if (strcmp(path, cwd) == 0)
        return xstrdup(".");
    if (strncmp(path, cwd, n) == 0 && path[n] == '/')
        return xstrdup(path + n + 1);
    return xstrdup(path);
}

bool paths_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool paths_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}
