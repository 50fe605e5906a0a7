#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("pildoc: out of memory\n", stderr);
        _exit(1); /* one line and exit 1, not SIGABRT; safe from any thread */
    }
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fputs("pildoc: out of memory\n", stderr);
        _exit(1); /* one line and exit 1, not SIGABRT; safe from any thread */
    }
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("pildoc: out of memory\n", stderr);
        _exit(1); /* one line and exit 1, not SIGABRT; safe from any thread */
    }
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

static void S_reserve(strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    sb->data = xrealloc(sb->data, cap);
    sb->cap = cap;
}

void strbuf_append_len(strbuf *sb, const char *s, size_t n)
{
    S_reserve(sb, n);
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_append(strbuf *sb, const char *s)
{
    strbuf_append_len(sb, s, strlen(s));
}

void strbuf_append_char(strbuf *sb, char c)
{
    strbuf_append_len(sb, &c, 1);
}

void strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    char probe[1];
    int n = vsnprintf(probe, sizeof probe, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    S_reserve(sb, (size_t)n);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void strbuf_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

const char *strbuf_str(const strbuf *sb)
{
    return sb->data ? sb->data : "";
}

void strbuf_clear(strbuf *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

char *strbuf_take(strbuf *sb)
{
    char *s = sb->data ? sb->data : xstrdup("");
    sb->data = NULL;
    sb->len = sb->cap = 0;
    return s;
}

void strbuf_free(strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

void strbuf_expand(strbuf *out, const char *pattern, const char *const *names,
                   const char *const *values, size_t n)
{
    for (const char *p = pattern; *p;) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close) {
                size_t len = (size_t)(close - p - 1);
                size_t k;
                for (k = 0; k < n; k++)
                    if (strlen(names[k]) == len && strncmp(p + 1, names[k], len) == 0)
                        break;
                if (k < n) {
                    strbuf_append(out, values[k]);
                    p = close + 1;
                    continue;
                }
            }
        }
        strbuf_append_char(out, *p++);
    }
}
