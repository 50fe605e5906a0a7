/* strbuf: a growable, always NUL-terminated byte buffer.
 * Ownership: a strbuf owns its data; strbuf_free releases it,
 * strbuf_take hands it to the caller (who frees it with free()). */
#ifndef PILDOC_STRBUF_H
#define PILDOC_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void strbuf_append(strbuf *sb, const char *s);
void strbuf_append_len(strbuf *sb, const char *s, size_t n);
void strbuf_append_char(strbuf *sb, char c);
void strbuf_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The contents, "" when empty; valid until the next append. */
const char *strbuf_str(const strbuf *sb);
void strbuf_clear(strbuf *sb);
/* Returns the malloc'd string (never NULL) and resets sb. */
char *strbuf_take(strbuf *sb);
void strbuf_free(strbuf *sb);

/* Appends pattern with each {NAME} replaced by its value; unknown names
 * are kept as written, so that a translator's typo shows instead of
 * vanishing. Translated patterns are never given to printf. */
void strbuf_expand(strbuf *out, const char *pattern, const char *const *names,
                   const char *const *values, size_t n);

/* Allocation that aborts on failure: running out of memory is not an input
 * error, and carrying on would risk a half-made document. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
