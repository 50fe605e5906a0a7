#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "strbuf.h"

static bool S_write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool pd_output_write(const char *path, const char *data, size_t len, pd_error *err)
{
    if (strcmp(path, "-") == 0) {
        if (!S_write_all(STDOUT_FILENO, data, len))
            return pd_error_set(err, "standard output", 0, "cannot write: %s", strerror(errno));
        return true;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return pd_error_set(err, path, 0, "is a folder");
        /* never rename over a device, FIFO or socket (as root, /dev/full
           would be replaced) */
        if (!S_ISREG(st.st_mode))
            return pd_error_set(err, path, 0, "is not a regular file");
        /* a read-only file stays as it is, even for root (whom access()
           and rename() would let through) */
        if ((st.st_mode & 0222) == 0 || access(path, W_OK) != 0)
            return pd_error_set(err, path, 0, "cannot write: the file is read-only");
    }
    char *dir = paths_dirname(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    strbuf tmp = STRBUF_INIT;
    strbuf_printf(&tmp, "%s/.%s.XXXXXX", dir, base);
    free(dir);
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        int e = errno;
        char *d = paths_dirname(path);
        pd_error_set(err, path, 0, "cannot write into %s: %s", d, strerror(e));
        free(d);
        strbuf_free(&tmp);
        return false;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask); /* mkstemp makes 0600; give the usual mode */
    bool ok = S_write_all(fd, data, len) && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp.data, path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        unlink(tmp.data);
        pd_error_set(err, path, 0, "cannot write: %s", strerror(e));
    }
    strbuf_free(&tmp);
    return ok;
}
