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

bool pd_output_write_fd(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool pd_output_begin(const char *path, const char *data, size_t len, pd_output_pending *p,
                     pd_error *err)
{
    p->fd = -1;
    p->tmp = p->path = NULL;
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
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        pd_error_set(err, path, 0, "cannot write into %s: %s", dir, strerror(errno));
        free(dir);
        strbuf_free(&tmp);
        return false;
    }
    free(dir);
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask); /* mkstemp makes 0600; give the usual mode */
    if (!pd_output_write_fd(fd, data, len)) {
        int e = errno;
        close(fd);
        unlink(tmp.data);
        strbuf_free(&tmp);
        return pd_error_set(err, path, 0, "cannot write: %s", strerror(e));
    }
    p->fd = fd;
    p->tmp = strbuf_take(&tmp);
    p->path = xstrdup(path);
    return true;
}

static void S_pending_free(pd_output_pending *p)
{
    free(p->tmp);
    free(p->path);
    p->fd = -1;
    p->tmp = p->path = NULL;
}

bool pd_output_commit(pd_output_pending *p, pd_error *err)
{
    bool ok = fsync(p->fd) == 0;
    int e = errno;
    if (close(p->fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(p->tmp, p->path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        if (p->tmp)
            unlink(p->tmp);
        pd_error_set(err, p->path, 0, "cannot write: %s", strerror(e));
    }
    S_pending_free(p);
    return ok;
}

void pd_output_abort(pd_output_pending *p)
{
    if (p->fd >= 0)
        close(p->fd);
    if (p->tmp)
        unlink(p->tmp);
    S_pending_free(p);
}

bool pd_output_write(const char *path, const char *data, size_t len, pd_error *err)
{
    if (strcmp(path, "-") == 0) {
        if (!pd_output_write_fd(STDOUT_FILENO, data, len))
            return pd_error_set(err, "standard output", 0, "cannot write: %s", strerror(errno));
        return true;
    }
    pd_output_pending p;
    return pd_output_begin(path, data, len, &p, err) && pd_output_commit(&p, err);
}
