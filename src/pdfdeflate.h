/* pdfdeflate: the zlib level of the streams in our PDFs.
 *
 * cairo 1.16 compresses every PDF stream (page content, embedded font
 * subsets) with zlib's default level 6 and has no setting for it. At level
 * 6 zlib took 27 % of a batch worker's time (perf; mostly font data that
 * hardly compresses); level 1 made a batch about 15 % faster (one worker:
 * 11.9 -> 10.3 ms per document) for files about 5 % larger (README,
 * "Speed"). pdfdeflate.c therefore defines deflateInit_() (what zlib's
 * deflateInit() macro calls, and the only zlib entry cairo uses) in the
 * executable: the dynamic linker binds cairo's call to it instead of
 * libz's, and it starts the stream at
 * PD_DEFLATE_LEVEL through deflateInit2_(). Every other parameter is
 * deflateInit()'s. Other zlib users (libpng calls deflateInit2_) are not
 * affected. tests/e2e.sh checks the level in the zlib header of the
 * streams of a real PDF, so a cairo that stops calling deflateInit_()
 * shows as a failed test, not as a silent slowdown. */
#ifndef PILDOC_PDFDEFLATE_H
#define PILDOC_PDFDEFLATE_H

#define PD_DEFLATE_LEVEL 1

/* The level the last deflateInit_() call asked for (cairo's own level),
 * or -1 before any call: for the unit test. */
int pd_deflate_requested_level(void);

#endif
