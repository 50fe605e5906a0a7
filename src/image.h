/* image: PNG (decoded by cairo) and SVG (rendered by librsvg) files to
 * plain RGBA pixels, for a clinic's logo and the <img> pictograms of the
 * templates. An image must lie inside one of the folders it is allowed in
 * (the templates' folder, the clinic profile's folder), is at most 8 MB
 * and 4096 pixels a side (an SVG: no link outside itself, embedded
 * pictures PNG only and within that bound); anything else is one error naming the file that
 * asked for it, its line, and the image.
 * An SVG's pixels are kept in the user's cache folder (paths_cache_dir)
 * and taken from there by the next process: the same pixels, without
 * opening librsvg (see image.c). One that is not there is drawn by a
 * process of its own, when the program names one (pd_image_set_svg_program):
 * librsvg's 8 MB never stay in a long-lived worker.
 * Ownership: a pd_image owns its alt text and its pixels, or a count on
 * the pixels its copies share (pd_image_free). */
#ifndef PILDOC_IMAGE_H
#define PILDOC_IMAGE_H

#include <stdbool.h>

#include "error.h"

typedef struct pd_image {
    int width, height;   /* pixels */
    unsigned char *rgba; /* width * height * 4 bytes, rows top to bottom,
                            not premultiplied; never changed once made */
    char *alt;           /* the text alternative (required) */
    /* SHA-256 of width, height (32 bits each, big-endian) and rgba, made with the pixels by
       pd_image_load and copied by pd_image_copy (has_digest): what the
       document cache hashes instead of every pixel of every document's
       images. An image made otherwise has none, and is hashed whole. */
    unsigned char digest[32];
    int has_digest;
    /* the owner of rgba when pd_image_load made it: shared, counted, by
       pd_image_copy's copies (a document's pictograms and logo are copied
       from the worker's cache into each document and its pages); NULL:
       rgba is this image's own (an image made otherwise) */
    struct pd_image_pixels *pixels;
} pd_image;

/* Loads path (".png" or ".svg"), which must resolve inside the folder
 * `root`; an SVG is drawn svg_px pixels on its long side (enough for its
 * printed size: more only makes every PDF bigger). `where`/`line` name
 * what asked for it, in errors. */
pd_image *pd_image_load(const char *path, const char *root, int svg_px, const char *alt,
                        const char *where, long line, pd_error *err);
/* A copy with its own alt text; the pixels of a loaded image are shared,
 * any other's copied. */
pd_image *pd_image_copy(const pd_image *im);
void pd_image_free(pd_image *im);

/* The program whose `draw-svg` command draws SVGs (pildoc's own file, set
 * once by main() before any image is loaded); NULL (the default, and what
 * unit tests and fuzzers keep): drawn in this process. The name is
 * copied; pd_image_set_svg_program(NULL) frees it. */
void pd_image_set_svg_program(const char *exe);
/* `pildoc draw-svg PIXELS`: draws the SVG on standard input PIXELS pixels
 * on its long side and writes the answer image.c's drawing process gives
 * (see image.c) on standard output. Returns the exit status. */
int pd_image_draw_svg_main(int argc, char **argv);

#endif
