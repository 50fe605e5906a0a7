#include "paths.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

char *paths_datadir(void)
{
    const char *env = getenv("PILDOC_DATADIR");
    if (env && *env)
        return xstrdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return xstrdup(".");
    exe[n] = '\0';
    return paths_dirname(exe);
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
