#include "pdfobj.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* next_in is a pointer to const */
#define ZLIB_CONST
#include <zlib.h>

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

void pd_pdfobj_stream_deflated(pd_pdfobj *w, uint32_t num, const char *dict, const void *data,
                               size_t len)
{
    pd_pdfobj_begin(w, num);
    strbuf_append(w->out, "<<");
    strbuf_append(w->out, dict);
    strbuf_append(w->out, "/Filter/FlateDecode/Length ");
    pd_pdf_int(w->out, (long)len);
    strbuf_append(w->out, ">>\nstream\n");
    strbuf_append_len(w->out, data, len);
    strbuf_append(w->out, "\nendstream");
    pd_pdfobj_end(w);
}

void pd_pdfobj_stream_raw(pd_pdfobj *w, uint32_t num, const char *dict, const void *data,
                          size_t len)
{
    pd_pdfobj_begin(w, num);
    strbuf_append(w->out, "<<");
    strbuf_append(w->out, dict);
    strbuf_append(w->out, "/Length ");
    pd_pdf_int(w->out, (long)len);
    strbuf_append(w->out, ">>\nstream\n");
    strbuf_append_len(w->out, data, len);
    strbuf_append(w->out, "\nendstream");
    pd_pdfobj_end(w);
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

void pd_pdf_deflate(strbuf *out, const void *data, size_t len, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit(&z, level) != Z_OK)
        abort();
    uLong bound = deflateBound(&z, (uLong)len);
    if (!out->data || out->cap < out->len + bound + 1) {
        out->data = xrealloc(out->data, out->len + bound + 1);
        out->cap = out->len + bound + 1;
    }
    z.next_in = data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    out->len += z.total_out;
    out->data[out->len] = '\0';
    deflateEnd(&z);
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

void pd_pdf_text_string(strbuf *sb, const char *utf8)
{
    const unsigned char *p = (const unsigned char *)utf8;
    bool ascii = true;
    for (; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            ascii = false;
    if (ascii) {
        strbuf_append_char(sb, '(');
        for (p = (const unsigned char *)utf8; *p; p++) {
            if (*p == '(' || *p == ')' || *p == '\\')
                strbuf_append_char(sb, '\\');
            strbuf_append_char(sb, (char)*p);
        }
        strbuf_append_char(sb, ')');
        return;
    }
    strbuf u16 = STRBUF_INIT;
    strbuf_append_len(&u16, "\xfe\xff", 2);
    for (p = (const unsigned char *)utf8; *p;) {
        uint32_t c = S_next_utf8(&p);
        if (c >= 0x10000) {
            c -= 0x10000;
            uint32_t hi = 0xd800 + (c >> 10), lo = 0xdc00 + (c & 0x3ff);
            char four[4] = {(char)(hi >> 8), (char)(hi & 0xff), (char)(lo >> 8), (char)(lo & 0xff)};
            strbuf_append_len(&u16, four, 4);
        } else {
            char two[2] = {(char)(c >> 8), (char)(c & 0xff)};
            strbuf_append_len(&u16, two, 2);
        }
    }
    pd_pdf_hex(sb, (const unsigned char *)u16.data, u16.len);
    strbuf_free(&u16);
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
