#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

int pd_output_create_unique(int dirfd, const char *prefix, const char *suffix, mode_t mode,
                            char **name)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    strbuf n = STRBUF_INIT;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char r[8];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            break;
        strbuf_clear(&n);
        strbuf_printf(&n, "%s", prefix);
        for (size_t i = 0; i < sizeof r; i++)
            strbuf_append_len(&n, &letters[r[i] % (sizeof letters - 1)], 1);
        strbuf_printf(&n, "%s", suffix);
        int fd = openat(dirfd, n.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0) {
            *name = strbuf_take(&n);
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    strbuf_free(&n);
    errno = e;
    return -1;
}

int pd_output_open_parent(int dirfd, const char *name, bool create, const char *shown,
                          const char **base, pd_error *err)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        pd_error_set(err, shown, 0, "cannot open the output folder: %s", strerror(errno));
        return -1;
    }
    const char *part = name;
    for (const char *slash; (slash = strchr(part, '/')) != NULL; part = slash + 1) {
        char *dir = strndup(part, (size_t)(slash - part));
        if (!dir)
            abort();
        int next = openat(fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, dir, 0777) != 0 && errno != EEXIST) {
                pd_error_set(err, shown, 0, "cannot create folder '%s': %s", dir, strerror(errno));
                goto fail;
            }
            next = openat(fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            struct stat st;
            if (errno == ELOOP ||
                (fstatat(fd, dir, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)))
                pd_error_set(err, shown, 0,
                             "output folder part '%s' is a symbolic link (not followed)", dir);
            else if (errno == ENOTDIR)
                pd_error_set(err, shown, 0, "output folder part '%s' is not a folder", dir);
            else
                pd_error_set(err, shown, 0, "cannot open folder '%s': %s", dir, strerror(errno));
            goto fail;
        }
        free(dir);
        close(fd);
        fd = next;
        continue;
    fail:
        free(dir);
        close(fd);
        return -1;
    }
    *base = part;
    return fd;
}

bool pd_output_begin_at(int dirfd, const char *base, const char *shown, const char *tmp_prefix,
                        const char *data, size_t len, pd_output_pending *p, pd_error *err)
{
    p->fd = -1;
    p->dirfd = -1;
    p->tmp = p->base = p->path = NULL;
    bool keep_mode = false;
    mode_t mode = 0;
    struct stat st;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        const char *bad = NULL;
        if (S_ISDIR(st.st_mode))
            bad = "is a folder";
        /* never rename over a device, FIFO or socket (as root, /dev/full
           would be replaced); a symbolic link itself is replaced */
        else if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
            bad = "is not a regular file";
        /* a read-only file stays as it is, even for root (whom access()
           and rename() would let through) */
        else if (S_ISREG(st.st_mode) &&
                 ((st.st_mode & 0222) == 0 || faccessat(dirfd, base, W_OK, 0) != 0))
            bad = "cannot write: the file is read-only";
        if (bad) {
            close(dirfd);
            pd_error_set(err, shown, 0, "%s", bad);
            return false;
        }
        /* a re-rendered file keeps its mode (0600 stays 0600), but only
           its permissions and only when it is ours: a file planted by
           another user with 0666 or 04777 must not make a patient's
           document readable by all (it gets the umask, as a new file) */
        if (S_ISREG(st.st_mode) && st.st_uid == geteuid())
            keep_mode = true, mode = st.st_mode & 0777;
    }
    char *tmp = NULL;
    /* short, so that a 255-byte target name still has a temporary name */
    /* a new file: 0666 less the umask, applied by open */
    int fd = pd_output_create_unique(dirfd, tmp_prefix ? tmp_prefix : ".pd-", ".tmp",
                                     keep_mode ? 0600 : 0666, &tmp);
    if (fd < 0) {
        int e = errno;
        close(dirfd);
        return pd_error_set(err, shown, 0, "cannot write into its folder: %s", strerror(e));
    }
    if ((keep_mode && fchmod(fd, mode) != 0) || !pd_output_write_fd(fd, data, len)) {
        int e = errno;
        close(fd);
        unlinkat(dirfd, tmp, 0);
        close(dirfd);
        free(tmp);
        return pd_error_set(err, shown, 0, "cannot write: %s", strerror(e));
    }
    p->fd = fd;
    p->dirfd = dirfd;
    p->tmp = tmp;
    p->base = xstrdup(base);
    p->path = xstrdup(shown);
    return true;
}

bool pd_output_begin(const char *path, const char *data, size_t len, pd_output_pending *p,
                     pd_error *err)
{
    char *dir = paths_dirname(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        p->fd = p->dirfd = -1;
        p->tmp = p->base = p->path = NULL;
        pd_error_set(err, path, 0, "cannot write into %s: %s", dir, strerror(errno));
        free(dir);
        return false;
    }
    free(dir);
    return pd_output_begin_at(dirfd, base, path, NULL, data, len, p, err);
}

static void S_pending_free(pd_output_pending *p)
{
    if (p->dirfd >= 0)
        close(p->dirfd);
    free(p->tmp);
    free(p->base);
    free(p->path);
    p->fd = p->dirfd = -1;
    p->tmp = p->base = p->path = NULL;
}

bool pd_output_commit(pd_output_pending *p, pd_error *err)
{
    bool ok = fsync(p->fd) == 0;
    int e = errno;
    if (close(p->fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && renameat(p->dirfd, p->tmp, p->dirfd, p->base) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        if (p->tmp)
            unlinkat(p->dirfd, p->tmp, 0);
        pd_error_set(err, p->path, 0, "cannot write: %s", strerror(e));
    }
    S_pending_free(p);
    return ok;
}

void pd_output_start_flush(const pd_output_pending *p)
{
    /* failing (EINVAL, EIO...) changes nothing: commit's fsync decides */
    (void)sync_file_range(p->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

void pd_output_abort(pd_output_pending *p)
{
    if (p->fd >= 0)
        close(p->fd);
    if (p->tmp)
        unlinkat(p->dirfd, p->tmp, 0);
    S_pending_free(p);
}

/* Standard output (a file or a pipe) or a FIFO named by path: written to
 * as it is, never renamed over; a device is refused. 1 done, 0 failed
 * (err), -1 not such a path. */
static int S_write_special(const char *path, const char *data, size_t len, pd_error *err)
{
    struct stat st, out;
    bool exists = stat(path, &st) == 0;
    if (exists && S_ISCHR(st.st_mode)) /* a terminal too: -o - says standard output */
        return pd_error_set(err, path, 0, "is a device, not a file (use -o - for standard output)");
    if (exists && fstat(STDOUT_FILENO, &out) == 0 && st.st_dev == out.st_dev &&
        st.st_ino == out.st_ino) {
        if (!pd_output_write_fd(STDOUT_FILENO, data, len))
            return pd_error_set(err, "standard output", 0, "cannot write: %s", strerror(errno));
        return 1;
    }
    if (exists && S_ISFIFO(st.st_mode)) {
        int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        bool ok = fd >= 0 && pd_output_write_fd(fd, data, len);
        int e = errno;
        if (fd >= 0 && close(fd) != 0 && ok) {
            ok = false;
            e = errno;
        }
        if (!ok)
            return pd_error_set(err, path, 0, "cannot write: %s", strerror(e));
        return 1;
    }
    if (strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0)
        return pd_error_set(err, path, 0,
                            "is a system path, not a file to replace (use -o - for standard "
                            "output)");
    return -1;
}

bool pd_output_write(const char *path, const char *data, size_t len, pd_error *err)
{
    if (strcmp(path, "-") == 0) {
        if (!pd_output_write_fd(STDOUT_FILENO, data, len))
            return pd_error_set(err, "standard output", 0, "cannot write: %s", strerror(errno));
        return true;
    }
    int special = S_write_special(path, data, len, err);
    if (special >= 0)
        return special == 1;
    pd_output_pending p;
    return pd_output_begin(path, data, len, &p, err) && pd_output_commit(&p, err);
}

void pd_output_sha256_hex(const void *data, size_t len, char hex[65])
{
    struct sha256_ctx ctx;
    unsigned char md[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, sizeof md, md);
    pd_output_hex(md, hex);
}

void pd_output_hex(const unsigned char md[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}
