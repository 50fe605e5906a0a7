/* pdfobj's deflate: every stream is a zlib stream PDF can read (no preset
 * dictionary) that zlib's own inflate turns back into exactly the bytes
 * given, for empty, tiny, page-sized, incompressible and multi-block
 * inputs, at both levels; a kept compressor (pd_pdf_deflater) gives the
 * same bytes as a new one, whatever it compressed before. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pdfobj.h"
#include "strbuf.h"

enum { S_EMPTY, S_ONE, S_TINY, S_PAGE, S_RANDOM, S_LARGE, S_N_INPUTS };

/* The input of case i (free with free()). */
static unsigned char *S_input(int i, size_t *len)
{
    strbuf sb = STRBUF_INIT;
    switch (i) {
    case S_EMPTY: break;
    case S_ONE: strbuf_append(&sb, "q"); break;
    case S_TINY: strbuf_append(&sb, "BT\n"); break;
    case S_PAGE:
        /* a page's operators, each line a little different */
        for (int l = 0; l < 60; l++)
            strbuf_printf(&sb,
                          "BT\n121.638 %d.%03d Td\n/F%d 11 Tf\n[(Ketamine %d)20( dose)]TJ\nET\n",
                          780 - l * 13, l * 37 % 1000, l % 3 + 1, l * l);
        break;
    case S_RANDOM: {
        /* 100 KB no compressor can shrink: libdeflate writes stored blocks */
        uint32_t x = 2463534242u;
        for (int k = 0; k < 100000; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            char c = (char)(x >> 24);
            strbuf_append_len(&sb, &c, 1);
        }
        break;
    }
    case S_LARGE:
        /* 1.2 MB: several deflate blocks */
        for (int l = 0; l < 40000; l++)
            strbuf_printf(&sb, "%d 0 0 %d re f\n", l % 977, l % 331);
        break;
    }
    *len = sb.len;
    if (!sb.data)
        return xcalloc(1, 1);
    return (unsigned char *)strbuf_take(&sb);
}

/* z (a zlib stream) inflates by zlib to exactly data; PDF's FlateDecode
 * allows no preset dictionary. */
static void S_assert_inflates_to(const strbuf *z, size_t from, const unsigned char *data,
                                 size_t len)
{
    const unsigned char *s = (const unsigned char *)z->data + from;
    size_t n = z->len - from;
    ck_assert_uint_ge(n, 2 + 1 + 4);
    ck_assert_uint_eq(s[0] & 0x0f, 8); /* deflate */
    ck_assert_uint_eq((s[0] * 256u + s[1]) % 31, 0);
    ck_assert_uint_eq(s[1] & 0x20, 0); /* FDICT */
    uLongf got_len = len + 1;
    unsigned char *got = xcalloc(got_len, 1);
    /* uncompress also checks the Adler-32 trailer */
    ck_assert_int_eq(uncompress(got, &got_len, s, n), Z_OK);
    ck_assert_uint_eq(got_len, len);
    ck_assert(memcmp(got, data, len) == 0);
    uLong adler = adler32(adler32(0, NULL, 0), data, (uInt)len);
    ck_assert_uint_eq(
        ((uLong)s[n - 4] << 24 | (uLong)s[n - 3] << 16 | (uLong)s[n - 2] << 8 | s[n - 1]), adler);
    free(got);
}

START_TEST(deflate_inflates_to_the_bytes_given)
{
    const int levels[] = {PD_PDF_LEVEL_CONTENT, PD_PDF_LEVEL_SHARED};
    size_t len;
    unsigned char *data = S_input(_i, &len);
    for (size_t l = 0; l < 2; l++) {
        /* appended: what the buffer held stays */
        strbuf z = STRBUF_INIT;
        strbuf_append(&z, "stream\n");
        pd_pdf_deflate(&z, data, len, levels[l]);
        ck_assert(memcmp(z.data, "stream\n", 7) == 0);
        ck_assert_uint_eq(z.data[z.len], '\0');
        S_assert_inflates_to(&z, 7, data, len);
        /* the same bytes give the same stream */
        strbuf again = STRBUF_INIT;
        pd_pdf_deflate(&again, data, len, levels[l]);
        ck_assert_uint_eq(again.len, z.len - 7);
        ck_assert(memcmp(again.data, z.data + 7, again.len) == 0);
        strbuf_free(&again);
        strbuf_free(&z);
    }
    free(data);
}
END_TEST

START_TEST(kept_deflater_gives_the_bytes_of_a_new_one)
{
    strbuf fresh[S_N_INPUTS];
    unsigned char *data[S_N_INPUTS];
    size_t len[S_N_INPUTS];
    for (int i = 0; i < S_N_INPUTS; i++) {
        data[i] = S_input(i, &len[i]);
        fresh[i] = (strbuf)STRBUF_INIT;
        pd_pdf_deflate(&fresh[i], data[i], len[i], PD_PDF_LEVEL_CONTENT);
    }
    /* one compressor through every input forwards then backwards: each
       stream is the one a new compressor gives */
    pd_pdf_deflater *z = pd_pdf_deflater_new(PD_PDF_LEVEL_CONTENT);
    for (int k = 0; k < 2 * S_N_INPUTS; k++) {
        int i = k < S_N_INPUTS ? k : 2 * S_N_INPUTS - 1 - k;
        strbuf out = STRBUF_INIT;
        pd_pdf_deflate_with(z, &out, data[i], len[i]);
        ck_assert_msg(out.len == fresh[i].len && memcmp(out.data, fresh[i].data, out.len) == 0,
                      "input %d, pass %d: not the bytes of a new compressor", i, k);
        S_assert_inflates_to(&out, 0, data[i], len[i]);
        strbuf_free(&out);
    }
    pd_pdf_deflater_free(z);
    pd_pdf_deflater_free(NULL);
    for (int i = 0; i < S_N_INPUTS; i++) {
        strbuf_free(&fresh[i]);
        free(data[i]);
    }
}
END_TEST

TCase *pd_test_pdfdeflate_tcase(void);
TCase *pd_test_pdfdeflate_tcase(void)
{
    TCase *tc = tcase_create("pdfdeflate");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, deflate_inflates_to_the_bytes_given, 0, S_N_INPUTS);
    tcase_add_test(tc, kept_deflater_gives_the_bytes_of_a_new_one);
    return tc;
}
