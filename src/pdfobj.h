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

/* zlib levels, measured: content streams are made for every document, so
 * they are deflated fast. Font programs are made once per worker and reused
 * by every document of a template, so they are deflated at zlib's default:
 * the Chinese leaflet's 193 KB of font data take 5.4 ms of CPU at level 6
 * and 3.1 ms at level 1, for 134.7 against 141.9 KB (level 9: 134.4 KB). A
 * fresh single render pays the difference once; every file of a batch is
 * smaller for nothing. Images (a clinic's logo, pictograms) are kept per
 * worker too, and deflated at the same level. */
#define PD_PDF_LEVEL_CONTENT 1
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

/* zlib's deflate of data into `out` (appended). */
void pd_pdf_deflate(strbuf *out, const void *data, size_t len, int level);

/* Value writers (append to sb). */
/* A number with at most `decimals` (0-6) decimals, trailing zeros dropped:
 * "12", "-0.5", "595.276". Faster than printf, which mattered with cairo. */
void pd_pdf_real(strbuf *sb, double v, int decimals);
void pd_pdf_int(strbuf *sb, long v);
/* A name: "/" then the bytes, with # escapes for delimiters, whitespace,
 * '#' and bytes outside 0x21-0x7E. */
void pd_pdf_name(strbuf *sb, const char *name);
/* A text string (Info, outline titles, /Lang): a literal string when the
 * UTF-8 text is printable ASCII, else UTF-16BE with a byte order mark in
 * hex. Invalid UTF-8 bytes become U+FFFD. */
void pd_pdf_text_string(strbuf *sb, const char *utf8);
/* A date string "(D:YYYYMMDDHHmmSSZ)" from "YYYY-MM-DDThh:mm:ss[Z]"; the
 * current time when iso is NULL or malformed. */
void pd_pdf_date(strbuf *sb, const char *iso);
/* Bytes as a hex string "<0a1b...>". */
void pd_pdf_hex(strbuf *sb, const unsigned char *bytes, size_t n);

#endif
