#include "mofile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plural.h"
#include "strbuf.h"
#include "xmlsafe.h"

#define MO_MAGIC 0x950412deU
#define MO_MAGIC_SWAPPED 0xde120495U

typedef struct S_entry {
    const char *orig, *trans;
    uint32_t orig_len, trans_len; /* without the final NUL */
} S_entry;

struct pd_mo {
    char *data;
    size_t size;
    S_entry *entries; /* sorted by strcmp on orig (the key up to its first NUL) */
    uint32_t n;
    unsigned long nplurals;
    pd_plural *plural;
};

static uint32_t S_u32(const pd_mo *mo, size_t off, bool swapped)
{
    const unsigned char *p = (const unsigned char *)mo->data + off;
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (swapped)
        v = (v >> 24) | ((v >> 8) & 0xff00U) | ((v << 8) & 0xff0000U) | (v << 24);
    return v;
}

static int S_by_orig(const void *a, const void *b)
{
    return strcmp(((const S_entry *)a)->orig, ((const S_entry *)b)->orig);
}

/* Every NUL-separated part of s[0..len) is UTF-8. */
static bool S_utf8_parts(const char *s, uint32_t len)
{
    for (const char *p = s, *end = s + len; p <= end; p += strlen(p) + 1)
        if (!xmlsafe_valid_utf8(p))
            return false;
    return true;
}

/* The header's charset, when it names one other than UTF-8. */
static bool S_charset_ok(const char *header)
{
    const char *cs = strstr(header, "charset=");
    if (!cs)
        return true;
    cs += 8;
    size_t n = strcspn(cs, " ;\n");
    return (n == 5 && strncasecmp(cs, "UTF-8", 5) == 0) ||
           (n == 4 && strncasecmp(cs, "UTF8", 4) == 0) || (n == 5 && strncmp(cs, "ASCII", 5) == 0);
}

static bool S_parse(pd_mo *mo, const char *name, pd_error *err)
{
    if (mo->size < 28)
        return pd_error_set(err, name, 0, "not a compiled catalog (%zu bytes: too short)",
                            mo->size);
    uint32_t magic = S_u32(mo, 0, false);
    if (magic != MO_MAGIC && magic != MO_MAGIC_SWAPPED)
        return pd_error_set(err, name, 0, "not a compiled catalog (no .mo magic number)");
    bool sw = magic == MO_MAGIC_SWAPPED;
    uint32_t revision = S_u32(mo, 4, sw);
    if (revision >> 16 > 1)
        return pd_error_set(err, name, 0, "compiled catalog of unknown revision %u.%u",
                            revision >> 16, revision & 0xffff);
    uint32_t n = S_u32(mo, 8, sw), orig_tab = S_u32(mo, 12, sw), trans_tab = S_u32(mo, 16, sw);
    if ((uint64_t)orig_tab + (uint64_t)n * 8 > mo->size ||
        (uint64_t)trans_tab + (uint64_t)n * 8 > mo->size)
        return pd_error_set(err, name, 0,
                            "truncated or corrupt compiled catalog (%u entries do not fit in %zu "
                            "bytes)",
                            n, mo->size);
    mo->entries = xcalloc(n ? n : 1, sizeof *mo->entries);
    mo->n = n;
    bool sorted = true;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ol = S_u32(mo, orig_tab + (size_t)i * 8, sw);
        uint32_t oo = S_u32(mo, orig_tab + (size_t)i * 8 + 4, sw);
        uint32_t tl = S_u32(mo, trans_tab + (size_t)i * 8, sw);
        uint32_t to = S_u32(mo, trans_tab + (size_t)i * 8 + 4, sw);
        if ((uint64_t)oo + ol >= mo->size || (uint64_t)to + tl >= mo->size ||
            mo->data[oo + ol] != '\0' || mo->data[to + tl] != '\0')
            return pd_error_set(err, name, 0,
                                "truncated or corrupt compiled catalog (entry %u lies outside the "
                                "file or is not terminated)",
                                i + 1);
        S_entry *e = &mo->entries[i];
        *e = (S_entry){mo->data + oo, mo->data + to, ol, tl};
        if (!S_utf8_parts(e->orig, ol) || !S_utf8_parts(e->trans, tl))
            return pd_error_set(err, name, 0,
                                "corrupt compiled catalog (entry %u is not UTF-8 text)", i + 1);
        if (i > 0 && strcmp(mo->entries[i - 1].orig, e->orig) > 0)
            sorted = false;
    }
    /* msgfmt sorts the originals; another writer might not */
    if (!sorted)
        qsort(mo->entries, n, sizeof *mo->entries, S_by_orig);
    const char *header = pd_mo_gettext(mo, NULL, "");
    if (header && !S_charset_ok(header))
        return pd_error_set(err, name, 0,
                            "the catalog is not in UTF-8 (its header names another charset)");
    char why[160];
    if (!pd_plural_from_header(header ? header : "", &mo->nplurals, &mo->plural, why, sizeof why))
        return pd_error_set(err, name, 0, "%s", why);
    return true;
}

pd_mo *pd_mo_from_memory(const void *data, size_t len, const char *name, pd_error *err)
{
    if (len > (size_t)PD_MO_MAX_BYTES) {
        pd_error_set(err, name, 0, "a compiled catalog of more than %ld MB is refused",
                     PD_MO_MAX_BYTES / 1024 / 1024);
        return NULL;
    }
    pd_mo *mo = xcalloc(1, sizeof *mo);
    /* one NUL after the bytes: no string read runs past the buffer */
    mo->data = xmalloc(len + 1);
    if (len)
        memcpy(mo->data, data, len);
    mo->data[len] = '\0';
    mo->size = len;
    if (!S_parse(mo, name, err)) {
        pd_mo_free(mo);
        return NULL;
    }
    return mo;
}

pd_mo *pd_mo_load(const char *path, pd_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        pd_error_set(err, path, 0, "cannot read the compiled catalog: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > PD_MO_MAX_BYTES) {
        pd_error_set(err, path, 0, "%s",
                     !S_ISREG(st.st_mode) ? "a compiled catalog must be a regular file"
                                          : "a compiled catalog of more than 32 MB is refused");
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = xmalloc(size ? size : 1);
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    /* a file shorter than fstat said is read as it is (and refused if cut) */
    pd_mo *mo = pd_mo_from_memory(buf, got, path, err);
    free(buf);
    return mo;
}

void pd_mo_free(pd_mo *mo)
{
    if (!mo)
        return;
    pd_plural_free(mo->plural);
    free(mo->entries);
    free(mo->data);
    free(mo);
}

/* strcmp(stored, ctx "\004" msgid) without building the key. */
static int S_cmp_key(const char *stored, const char *ctx, const char *msgid)
{
    const unsigned char *s = (const unsigned char *)stored;
    if (ctx) {
        for (const unsigned char *c = (const unsigned char *)ctx; *c; c++, s++)
            if (*s != *c)
                return *s < *c ? -1 : 1;
        if (*s != 4)
            return *s < 4 ? -1 : 1;
        s++;
    }
    for (const unsigned char *m = (const unsigned char *)msgid;; m++, s++) {
        if (*s != *m)
            return *s < *m ? -1 : 1;
        if (!*s)
            return 0;
    }
}

static const S_entry *S_find(const pd_mo *mo, const char *ctx, const char *msgid)
{
    size_t lo = 0, hi = mo->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = S_cmp_key(mo->entries[mid].orig, ctx, msgid);
        if (c == 0)
            return &mo->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *pd_mo_gettext(const pd_mo *mo, const char *ctx, const char *msgid)
{
    const S_entry *e = mo ? S_find(mo, ctx, msgid) : NULL;
    return e ? e->trans : NULL;
}

const char *pd_mo_ngettext(const pd_mo *mo, const char *ctx, const char *msgid, unsigned long n)
{
    const S_entry *e = mo ? S_find(mo, ctx, msgid) : NULL;
    if (!e)
        return NULL;
    unsigned long index = mo->plural ? pd_plural_eval(mo->plural, n) : (n != 1);
    if (index >= mo->nplurals)
        index = 0;
    const char *p = e->trans, *end = e->trans + e->trans_len;
    while (index-- > 0) {
        p += strlen(p) + 1;
        if (p >= end) /* as gettext: fewer forms than the index */
            return NULL;
    }
    return p;
}

size_t pd_mo_count(const pd_mo *mo)
{
    return mo->n;
}

unsigned long pd_mo_nplurals(const pd_mo *mo)
{
    return mo->nplurals;
}
