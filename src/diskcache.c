#include "diskcache.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"

#define MAGIC "pildoc cache 1\n"
#define MAGIC_LEN (sizeof MAGIC - 1)
/* magic, key, payload length (8 bytes, big-endian), payload's SHA-256 */
#define HEAD_LEN (MAGIC_LEN + PD_DISKCACHE_KEY_SIZE + 8 + SHA256_DIGEST_SIZE)
/* a temporary file older than this is a write that stopped (killed) */
#define STALE_TEMP_SECONDS 3600

void pd_diskcache_key_init(pd_diskcache_key *k, const char *format)
{
    sha256_init(&k->ctx);
    pd_diskcache_key_add_str(k, format);
}

void pd_diskcache_key_add(pd_diskcache_key *k, const void *bytes, size_t len)
{
    /* each part preceded by its length: "ab"+"c" and "a"+"bc" differ */
    uint8_t n[8];
    for (int i = 0; i < 8; i++)
        n[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    sha256_update(&k->ctx, sizeof n, n);
    sha256_update(&k->ctx, len, bytes);
}

void pd_diskcache_key_add_str(pd_diskcache_key *k, const char *s)
{
    pd_diskcache_key_add(k, s, strlen(s));
}

bool pd_diskcache_key_add_file(pd_diskcache_key *k, const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return false;
    char id[160];
    int n = snprintf(id, sizeof id, "%lu|%lu|%lld|%lld.%09ld", (unsigned long)st.st_dev,
                     (unsigned long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
    pd_diskcache_key_add(k, id, (size_t)n);
    return true;
}

bool pd_diskcache_key_add_object(pd_diskcache_key *k, const char *symbol)
{
    if (!symbol)
        return pd_diskcache_key_add_file(k, "/proc/self/exe");
    void *address = dlsym(RTLD_DEFAULT, symbol);
    Dl_info info;
    if (!address || !dladdr(address, &info) || !info.dli_fname || info.dli_fname[0] != '/')
        return false;
    return pd_diskcache_key_add_file(k, info.dli_fname);
}

void pd_diskcache_key_end(pd_diskcache_key *k, uint8_t key[PD_DISKCACHE_KEY_SIZE])
{
    sha256_digest(&k->ctx, PD_DISKCACHE_KEY_SIZE, key);
}

char *pd_diskcache_path(const char *dir, const char *kind, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                        const char *ext)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s-", dir, kind);
    for (int i = 0; i < PD_DISKCACHE_KEY_SIZE; i++)
        strbuf_printf(&sb, "%02x", key[i]);
    strbuf_append(&sb, ext);
    return strbuf_take(&sb);
}

void pd_diskcache_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

uint32_t pd_diskcache_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void pd_diskcache_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t pd_diskcache_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static bool S_read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

unsigned char *pd_diskcache_read(const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                                 size_t max_len, size_t *len)
{
    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    uint8_t head[HEAD_LEN];
    struct stat st;
    unsigned char *payload = NULL;
    /* a regular file of our own (like the folder, paths_cache_dir) */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        (size_t)st.st_size >= HEAD_LEN && S_read_all(fd, head, sizeof head) &&
        memcmp(head, MAGIC, MAGIC_LEN) == 0 &&
        memcmp(head + MAGIC_LEN, key, PD_DISKCACHE_KEY_SIZE) == 0) {
        uint64_t n = pd_diskcache_get64(head + MAGIC_LEN + PD_DISKCACHE_KEY_SIZE);
        if (n <= max_len && (uint64_t)st.st_size - HEAD_LEN == n) {
            payload = xmalloc((size_t)n + 1);
            uint8_t sum[SHA256_DIGEST_SIZE];
            struct sha256_ctx ctx;
            bool ok = S_read_all(fd, payload, (size_t)n);
            if (ok) {
                sha256_init(&ctx);
                sha256_update(&ctx, (size_t)n, payload);
                sha256_digest(&ctx, sizeof sum, sum);
                ok = memcmp(sum, head + MAGIC_LEN + PD_DISKCACHE_KEY_SIZE + 8, sizeof sum) == 0;
            }
            if (ok) {
                payload[n] = '\0';
                *len = (size_t)n;
            } else {
                free(payload);
                payload = NULL;
            }
        }
    }
    close(fd);
    return payload;
}

static bool S_write_all(int fd, const struct iovec *iov, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return false;
            p += w;
            left -= (size_t)w;
        }
    }
    return true;
}

bool pd_diskcache_write(const char *dir, const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                        const pd_diskcache_part *parts, size_t n_parts)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/.%s.XXXXXX", dir, base);
    char *tmp = strbuf_take(&sb);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        return false;
    }
    uint8_t head[HEAD_LEN];
    memcpy(head, MAGIC, MAGIC_LEN);
    memcpy(head + MAGIC_LEN, key, PD_DISKCACHE_KEY_SIZE);
    uint64_t total = 0;
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    struct iovec *iov = xmalloc((n_parts + 1) * sizeof *iov);
    iov[0].iov_base = head;
    iov[0].iov_len = sizeof head;
    for (size_t i = 0; i < n_parts; i++) {
        sha256_update(&ctx, parts[i].len, parts[i].data);
        total += parts[i].len;
        iov[i + 1].iov_base = (void *)parts[i].data;
        iov[i + 1].iov_len = parts[i].len;
    }
    pd_diskcache_put64(head + MAGIC_LEN + PD_DISKCACHE_KEY_SIZE, total);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, head + MAGIC_LEN + PD_DISKCACHE_KEY_SIZE + 8);
    bool ok = S_write_all(fd, iov, n_parts + 1);
    free(iov);
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, file) != 0) {
        unlink(tmp);
        ok = false;
    }
    free(tmp);
    if (ok)
        pd_diskcache_trim(dir, PD_DISKCACHE_MAX_FILES, PD_DISKCACHE_MAX_BYTES);
    return ok;
}

bool pd_diskcache_write_strings(const char *dir, const char *file,
                                const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                                const pd_diskcache_part *strings, size_t n)
{
    uint8_t *lens = xmalloc(8 * n + 1);
    pd_diskcache_part *parts = xmalloc((2 * n + 1) * sizeof *parts);
    for (size_t i = 0; i < n; i++) {
        pd_diskcache_put64(lens + 8 * i, strings[i].len);
        parts[2 * i] = (pd_diskcache_part){lens + 8 * i, 8};
        parts[2 * i + 1] = strings[i];
    }
    bool ok = pd_diskcache_write(dir, file, key, parts, 2 * n);
    free(parts);
    free(lens);
    return ok;
}

unsigned char *pd_diskcache_read_strings(const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                                         size_t max_len, pd_diskcache_part *strings, size_t n)
{
    size_t len = 0;
    unsigned char *p = pd_diskcache_read(file, key, max_len, &len);
    size_t at = 0;
    for (size_t i = 0; p && i < n; i++) {
        uint64_t k = len - at >= 8 ? pd_diskcache_get64(p + at) : 0;
        if (len - at < 8 || k > len - at - 8)
            break;
        strings[i] = (pd_diskcache_part){p + at + 8, (size_t)k};
        at += 8 + (size_t)k;
        if (i + 1 == n && at == len)
            return p;
    }
    free(p); /* not n strings filling the payload */
    return NULL;
}

/* --- bounding the folder --------------------------------------------------- */

/* An entry's name: KIND-<64 hex>EXT, KIND lowercase letters, EXT a dot and
 * lowercase letters or digits. */
static bool S_entry_name(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i == 0 || i >= len || s[i++] != '-')
        return false;
    for (int k = 0; k < 2 * PD_DISKCACHE_KEY_SIZE; k++, i++)
        if (i >= len || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    if (i >= len || s[i++] != '.' || i >= len)
        return false;
    for (; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* 1: an entry, 2: a temporary file of one (".NAME.XXXXXX"), 0: not ours. */
static int S_ours(const char *name)
{
    size_t len = strlen(name);
    if (name[0] != '.')
        return S_entry_name(name, len) ? 1 : 0;
    if (len < 9 || name[len - 7] != '.')
        return 0;
    return S_entry_name(name + 1, len - 8) ? 2 : 0;
}

typedef struct S_file {
    char *name;
    struct timespec mtime;
    size_t size;
} S_file;

static int S_older(const void *a, const void *b)
{
    const S_file *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

void pd_diskcache_trim(const char *dir, size_t max_files, size_t max_bytes)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    int dfd = dirfd(d);
    S_file *files = NULL;
    size_t n = 0, cap = 0, bytes = 0;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        int kind = S_ours(e->d_name);
        struct stat st;
        if (!kind || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (kind == 2 && st.st_mtim.tv_sec < now - STALE_TEMP_SECONDS) {
            unlinkat(dfd, e->d_name, 0);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            files = xrealloc(files, cap * sizeof *files);
        }
        files[n].name = xstrdup(e->d_name);
        files[n].mtime = st.st_mtim;
        files[n].size = (size_t)st.st_size;
        bytes += files[n].size;
        n++;
    }
    if (n > max_files || bytes > max_bytes) {
        qsort(files, n, sizeof *files, S_older);
        size_t left = n;
        for (size_t i = 0; i < n && (left > max_files || bytes > max_bytes); i++) {
            /* gone already (another process trimming): counted out all the same */
            unlinkat(dfd, files[i].name, 0);
            bytes -= files[i].size;
            left--;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(files[i].name);
    free(files);
    closedir(d);
}
