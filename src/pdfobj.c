#include "pdfobj.h"

#include <libdeflate.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void pd_pdfobj_init(pd_pdfobj *w, strbuf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    /* the comment's high bytes tell transfer tools the file is binary */
    strbuf_append(out, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
}

void pd_pdfobj_free(pd_pdfobj *w)
{
    free(w->offsets);
    w->offsets = NULL;
    w->n_objects = 0;
    w->cap = 0;
}

uint32_t pd_pdfobj_reserve(pd_pdfobj *w)
{
    uint32_t n = ++w->n_objects;
    if (n >= w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        w->offsets = xrealloc(w->offsets, cap * sizeof *w->offsets);
        memset(w->offsets + w->cap, 0, (cap - w->cap) * sizeof *w->offsets);
        w->cap = cap;
    }
    return n;
}

void pd_pdfobj_begin(pd_pdfobj *w, uint32_t num)
{
    w->offsets[num] = w->out->len;
    pd_pdf_int(w->out, (long)num);
    strbuf_append_len(w->out, " 0 obj\n", 7);
}

void pd_pdfobj_end(pd_pdfobj *w)
{
    strbuf_append_len(w->out, "\nendobj\n", 8);
}

/* A stream object: dict's entries, then filter (or nothing), /Length. */
static void S_stream_obj(pd_pdfobj *w, uint32_t num, const char *dict, const char *filter,
                         const void *data, size_t len)
{
    pd_pdfobj_begin(w, num);
    strbuf_append(w->out, "<<");
    strbuf_append(w->out, dict);
    strbuf_append(w->out, filter);
    strbuf_append(w->out, "/Length ");
    pd_pdf_int(w->out, (long)len);
    strbuf_append(w->out, ">>\nstream\n");
    strbuf_append_len(w->out, data, len);
    strbuf_append(w->out, "\nendstream");
    pd_pdfobj_end(w);
}

void pd_pdfobj_stream_deflated(pd_pdfobj *w, uint32_t num, const char *dict, const void *data,
                               size_t len)
{
    S_stream_obj(w, num, dict, "/Filter/FlateDecode", data, len);
}

void pd_pdfobj_stream_raw(pd_pdfobj *w, uint32_t num, const char *dict, const void *data,
                          size_t len)
{
    S_stream_obj(w, num, dict, "", data, len);
}

void pd_pdfobj_stream(pd_pdfobj *w, uint32_t num, const char *dict, const void *data, size_t len,
                      int level)
{
    strbuf z = STRBUF_INIT;
    pd_pdf_deflate(&z, data, len, level);
    pd_pdfobj_stream_deflated(w, num, dict, z.data, z.len);
    strbuf_free(&z);
}

bool pd_pdfobj_finish(pd_pdfobj *w, uint32_t root, uint32_t info, const unsigned char id[16])
{
    strbuf *out = w->out;
    for (uint32_t i = 1; i <= w->n_objects; i++)
        if (!w->offsets[i]) {
            pd_pdfobj_free(w);
            return false;
        }
    size_t xref = out->len;
    strbuf_printf(out, "xref\n0 %u\n0000000000 65535 f \n", w->n_objects + 1);
    for (uint32_t i = 1; i <= w->n_objects; i++) {
        /* each entry is exactly 20 bytes */
        char entry[24];
        snprintf(entry, sizeof entry, "%010zu 00000 n \n", w->offsets[i]);
        strbuf_append_len(out, entry, 20);
    }
    strbuf_printf(out, "trailer\n<</Size %u/Root %u 0 R", w->n_objects + 1, root);
    if (info)
        strbuf_printf(out, "/Info %u 0 R", info);
    strbuf_append(out, "/ID[");
    pd_pdf_hex(out, id, 16);
    pd_pdf_hex(out, id, 16);
    strbuf_printf(out, "]>>\nstartxref\n%zu\n%%%%EOF\n", xref);
    pd_pdfobj_free(w);
    return true;
}

struct pd_pdf_deflater {
    struct libdeflate_compressor *c;
};

pd_pdf_deflater *pd_pdf_deflater_new(int level)
{
    pd_pdf_deflater *z = xcalloc(1, sizeof *z);
    z->c = libdeflate_alloc_compressor(level);
    if (!z->c) {
        fputs("pildoc: out of memory\n", stderr);
        _exit(1);
    }
    return z;
}

void pd_pdf_deflater_free(pd_pdf_deflater *z)
{
    if (!z)
        return;
    libdeflate_free_compressor(z->c);
    free(z);
}

void pd_pdf_deflate_with(pd_pdf_deflater *z, strbuf *out, const void *data, size_t len)
{
    size_t bound = libdeflate_zlib_compress_bound(z->c, len);
    if (!out->data || out->cap < out->len + bound + 1) {
        out->data = xrealloc(out->data, out->len + bound + 1);
        out->cap = out->len + bound + 1;
    }
    /* libdeflate keeps no state from one call to the next: the bytes are
       those of a new compressor */
    size_t n = libdeflate_zlib_compress(z->c, data, len, out->data + out->len, bound);
    if (!n) /* cannot happen with the bound's room (an empty input gives 8 bytes) */
        abort();
    out->len += n;
    out->data[out->len] = '\0';
}

void pd_pdf_deflate(strbuf *out, const void *data, size_t len, int level)
{
    /* a compressor per call for streams made once per worker (fonts,
       images); content streams keep one (pd_pdf_deflater) */
    pd_pdf_deflater *z = pd_pdf_deflater_new(level);
    pd_pdf_deflate_with(z, out, data, len);
    pd_pdf_deflater_free(z);
}

void pd_pdf_int(strbuf *sb, long v)
{
    char buf[24], *p = buf + sizeof buf;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    strbuf_append_len(sb, p, (size_t)(buf + sizeof buf - p));
}

void pd_pdf_real(strbuf *sb, double v, int decimals)
{
    static const long scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;
    if (!isfinite(v) || fabs(v) > 1e9)
        v = 0;
    long f = scale[decimals];
    long n = lround(v * (double)f);
    if (n == 0) {
        strbuf_append_char(sb, '0');
        return;
    }
    if (n < 0) {
        strbuf_append_char(sb, '-');
        n = -n;
    }
    pd_pdf_int(sb, n / f);
    long frac = n % f;
    if (!frac)
        return;
    char digits[8];
    int k = decimals;
    while (frac % 10 == 0) {
        frac /= 10;
        k--;
    }
    for (int i = k - 1; i >= 0; i--) {
        digits[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    strbuf_append_char(sb, '.');
    strbuf_append_len(sb, digits, (size_t)k);
}

void pd_pdf_name(strbuf *sb, const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    strbuf_append_char(sb, '/');
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x21 || *p > 0x7e || strchr("#()<>[]{}/%", *p)) {
            char esc[3] = {'#', hex[*p >> 4], hex[*p & 15]};
            strbuf_append_len(sb, esc, 3);
        } else {
            strbuf_append_char(sb, (char)*p);
        }
    }
}

void pd_pdf_hex(strbuf *sb, const unsigned char *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_append_char(sb, '<');
    for (size_t i = 0; i < n; i++) {
        char two[2] = {hex[bytes[i] >> 4], hex[bytes[i] & 15]};
        strbuf_append_len(sb, two, 2);
    }
    strbuf_append_char(sb, '>');
}

/* The next code point of UTF-8 text (U+FFFD for a malformed sequence). */
static uint32_t S_next_utf8(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    int extra = c < 0x80             ? 0
                : (c & 0xe0) == 0xc0 ? 1
                : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 ? 3
                                     : -1;
    if (extra < 0) {
        *pp = p;
        return 0xfffd;
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    c &= extra == 0 ? 0x7f : (0x3fu >> extra);
    for (int i = 0; i < extra; i++, p++) {
        if ((*p & 0xc0) != 0x80) {
            *pp = p;
            return 0xfffd;
        }
        c = (c << 6) | (*p & 0x3f);
    }
    *pp = p;
    if (c < min[extra] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
        return 0xfffd;
    return c;
}

/* One byte of a literal string: the delimiters and the backslash escaped,
 * and a carriage return, which a reader would take for a line end. */
static void S_literal_byte(strbuf *sb, unsigned char b)
{
    if (b == '(' || b == ')' || b == '\\')
        strbuf_append_char(sb, '\\');
    else if (b == '\r') {
        strbuf_append_len(sb, "\\r", 2);
        return;
    }
    strbuf_append_char(sb, (char)b);
}

/* The PDFDocEncoding code of c (ISO 32000-1, annex D), or -1: printable
 * ASCII and U+00A1-U+00FF (but the soft hyphen) as in Latin-1, and the
 * punctuation French uses at 0x80-0xA0. */
static int S_pdfdoc(uint32_t c)
{
    if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa1 && c <= 0xff && c != 0xad))
        return (int)c;
    static const struct {
        uint16_t u;
        unsigned char code;
    } extra[] = {{0x2022, 0x80}, {0x2026, 0x83}, {0x2014, 0x84}, {0x2013, 0x85}, {0x2039, 0x88},
                 {0x203a, 0x89}, {0x201c, 0x8d}, {0x201d, 0x8e}, {0x2018, 0x8f}, {0x2019, 0x90},
                 {0x0152, 0x96}, {0x0153, 0x9c}, {0x20ac, 0xa0}};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (extra[i].u == c)
            return extra[i].code;
    return -1;
}

void pd_pdf_text_string(strbuf *sb, const char *utf8)
{
    /* PDFDocEncoding when every character has a code there: a French
       title takes a byte a character, not four hex digits */
    bool doc = true;
    for (const unsigned char *p = (const unsigned char *)utf8; *p && doc;)
        doc = S_pdfdoc(S_next_utf8(&p)) >= 0;
    strbuf_append_char(sb, '(');
    if (doc) {
        for (const unsigned char *p = (const unsigned char *)utf8; *p;)
            S_literal_byte(sb, (unsigned char)S_pdfdoc(S_next_utf8(&p)));
        strbuf_append_char(sb, ')');
        return;
    }
    /* else UTF-16BE with a byte order mark, as bytes in the literal */
    strbuf_append_len(sb, "\xfe\xff", 2);
    for (const unsigned char *p = (const unsigned char *)utf8; *p;) {
        uint32_t c = S_next_utf8(&p);
        uint32_t units[2] = {c, 0};
        int n = 1;
        if (c >= 0x10000) {
            c -= 0x10000;
            units[0] = 0xd800 + (c >> 10);
            units[1] = 0xdc00 + (c & 0x3ff);
            n = 2;
        }
        for (int i = 0; i < n; i++) {
            S_literal_byte(sb, (unsigned char)(units[i] >> 8));
            S_literal_byte(sb, (unsigned char)(units[i] & 0xff));
        }
    }
    strbuf_append_char(sb, ')');
}

void pd_pdf_date(strbuf *sb, const char *iso)
{
    int y, mo, d, h, mi, s;
    char buf[32];
    if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        y = tm.tm_year + 1900;
        mo = tm.tm_mon + 1;
        d = tm.tm_mday;
        h = tm.tm_hour;
        mi = tm.tm_min;
        s = tm.tm_sec;
    }
    snprintf(buf, sizeof buf, "(D:%04d%02d%02d%02d%02d%02dZ)", y % 10000, mo % 100, d % 100,
             h % 100, mi % 100, s % 100);
    strbuf_append(sb, buf);
}
