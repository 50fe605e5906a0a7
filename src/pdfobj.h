/* pdfobj: the object and stream layer of pildoc's PDF writer.
 *
 * A pd_pdfobj writes a PDF file front to back into a caller-owned strbuf:
 * numbered indirect objects (numbers are reserved first, so that objects can
 * refer to ones written later), streams deflated with zlib, then the
 * cross-reference table and a trailer with /Root, /Info and /ID. Values are
 * written as bytes by the caller with the helpers below (numbers, names,
 * strings); nothing here knows about pages or fonts. The same input always
 * gives the same bytes: no clock (except pd_pdf_date without a date) and
 * no randomness.
 *
 * Ownership: the writer borrows `out` until pd_pdfobj_finish; it owns its
 * offset table, freed by pd_pdfobj_finish or pd_pdfobj_free. */
#ifndef PILDOC_PDFOBJ_H
#define PILDOC_PDFOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Deflate levels of libdeflate (1-12), measured on the leaflets' and a
 * consent sheet's 38 page streams (427 KB) and on the leaflets' font
 * programs (en, zh_CN: 212 KB), against zlib which wrote them before:
 * libdeflate at level 6 makes streams 14 % smaller than zlib at level 1
 * (96.9 against 112.4 KB) in less time (0.8x), and fonts a little smaller
 * than zlib at 6 in half its time (177.6 against 178.3 KB). Levels above
 * 6 gain under 1 % for 1.5-5x the time.
 * Content streams are made for every document (a filled consent's pages
 * are all unique: the patient's name is in each running header), so they
 * take level 4: on the page streams of make bench's 300 jobs (18.7 MB,
 * 7.5 MB of it not repeated) 26 % less deflate time than level 6 for
 * 3.5 % larger streams, 0.8 % larger files (level 5: -12 % time for
 * +0.7 %; level 3: -29 % for +4.3 %). Deflating pieces of a page
 * separately and reusing the unchanged ones costs more than it saves:
 * each piece loses the window of the ones before (+13 % bytes at 2.4
 * pieces a page, +39 % at 6.5), libdeflate cannot end a piece on a byte
 * boundary without an extra inflate, and cutting only before the running
 * header (a consent's body repeats) still costs +4.7 % for -17 %.
 * Font programs, images and the ICC profile are made once per worker and
 * reused by every document of a template: level 6. */
#define PD_PDF_LEVEL_CONTENT 4
#define PD_PDF_LEVEL_SHARED 6

typedef struct pd_pdfobj {
    strbuf *out;
    size_t *offsets; /* offsets[n]: where object n starts; 0 until written */
    uint32_t n_objects;
    size_t cap;
} pd_pdfobj;

/* Starts the file (header and a binary comment) in `out`. */
void pd_pdfobj_init(pd_pdfobj *w, strbuf *out);
void pd_pdfobj_free(pd_pdfobj *w);

/* A new object number (1, 2, ...), to be written later with begin/end. */
uint32_t pd_pdfobj_reserve(pd_pdfobj *w);
/* "N 0 obj\n"; the caller then appends the value to w->out. */
void pd_pdfobj_begin(pd_pdfobj *w, uint32_t num);
/* "\nendobj\n" */
void pd_pdfobj_end(pd_pdfobj *w);
/* Object `num` as a stream: `dict` holds the dictionary's entries other
 * than /Length and /Filter (may be ""); data is deflated at `level`. */
void pd_pdfobj_stream(pd_pdfobj *w, uint32_t num, const char *dict, const void *data, size_t len,
                      int level);
/* Object `num` as a stream of data already deflated (pd_pdf_deflate). */
void pd_pdfobj_stream_deflated(pd_pdfobj *w, uint32_t num, const char *dict, const void *data,
                               size_t len);
/* Object `num` as a stream of data written as it is, without a filter
 * (PDF/A-1: the XMP metadata stream). */
void pd_pdfobj_stream_raw(pd_pdfobj *w, uint32_t num, const char *dict, const void *data,
                          size_t len);
/* Writes the cross-reference table and the trailer (info may be 0: none)
 * and frees the offset table. Fails when a reserved object was never
 * written (a bug: the file would be broken). */
bool pd_pdfobj_finish(pd_pdfobj *w, uint32_t root, uint32_t info, const unsigned char id[16]);

/* A zlib stream (RFC 1950, PDF's FlateDecode) of data, by libdeflate,
 * appended to `out`. */
void pd_pdf_deflate(strbuf *out, const void *data, size_t len, int level);

/* A compressor at one level kept for many streams: the same bytes as
 * pd_pdf_deflate, without allocating libdeflate's compressor (a few
 * hundred KB) for each one (0.6 % of a batch's CPU). Owned by the caller,
 * who frees it with pd_pdf_deflater_free (NULL is fine). */
typedef struct pd_pdf_deflater pd_pdf_deflater;
pd_pdf_deflater *pd_pdf_deflater_new(int level);
void pd_pdf_deflater_free(pd_pdf_deflater *z);
void pd_pdf_deflate_with(pd_pdf_deflater *z, strbuf *out, const void *data, size_t len);

/* Value writers (append to sb). */
/* A number with at most `decimals` (0-6) decimals, trailing zeros dropped:
 * "12", "-0.5", "595.276". Faster than printf, which mattered with cairo. */
void pd_pdf_real(strbuf *sb, double v, int decimals);
void pd_pdf_int(strbuf *sb, long v);
/* A name: "/" then the bytes, with # escapes for delimiters, whitespace,
 * '#' and bytes outside 0x21-0x7E. */
void pd_pdf_name(strbuf *sb, const char *name);
/* A text string (Info, outline titles, /Lang), as a literal string: in
 * PDFDocEncoding when every character has a code there, else UTF-16BE
 * with a byte order mark (bytes, not hex: half the size). Invalid UTF-8
 * bytes become U+FFFD. */
void pd_pdf_text_string(strbuf *sb, const char *utf8);
/* A date string "(D:YYYYMMDDHHmmSSZ)" from "YYYY-MM-DDThh:mm:ss[Z]"; the
 * current time when iso is NULL or malformed. */
void pd_pdf_date(strbuf *sb, const char *iso);
/* Bytes as a hex string "<0a1b...>". */
void pd_pdf_hex(strbuf *sb, const unsigned char *bytes, size_t n);

#endif
