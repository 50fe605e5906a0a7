/* pixcmp: compares two renderings of one page (PNG) and fails when ink is
 * present in one and missing in the other, as when a glyph was lost in PDF
 * font subsetting. Anti-aliasing differs between rasterisers, so pixels
 * are compared per block: the darkness summed over each BLOCK x BLOCK
 * square must agree within a tolerance.
 *
 *   pixcmp EXPECTED.png ACTUAL.png   -> exit 0 same, 1 different, 2 error */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOCK 10
/* a 10 pt glyph at 100 dpi inks ~100-300 px of a block; anti-aliasing
 * noise stays well under a fifth of that */
#define TOLERANCE (255.0 * 18)

static double S_dark(const unsigned char *row, int x)
{
    const unsigned char *p = row + 4 * x; /* BGRx */
    double lum = 0.114 * p[0] + 0.587 * p[1] + 0.299 * p[2];
    return 255.0 - lum;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: pixcmp EXPECTED.png ACTUAL.png\n", stderr);
        return 2;
    }
    cairo_surface_t *a = cairo_image_surface_create_from_png(argv[1]);
    cairo_surface_t *b = cairo_image_surface_create_from_png(argv[2]);
    if (cairo_surface_status(a) || cairo_surface_status(b)) {
        fprintf(stderr, "pixcmp: cannot read %s\n", cairo_surface_status(a) ? argv[1] : argv[2]);
        return 2;
    }
    cairo_surface_flush(a);
    cairo_surface_flush(b);
    int wa = cairo_image_surface_get_width(a), ha = cairo_image_surface_get_height(a);
    int wb = cairo_image_surface_get_width(b), hb = cairo_image_surface_get_height(b);
    if (abs(wa - wb) > 1 || abs(ha - hb) > 1) {
        fprintf(stderr, "pixcmp: sizes differ: %dx%d and %dx%d\n", wa, ha, wb, hb);
        return 1;
    }
    int w = wa < wb ? wa : wb, h = ha < hb ? ha : hb;
    int sa = cairo_image_surface_get_stride(a), sb = cairo_image_surface_get_stride(b);
    const unsigned char *da = cairo_image_surface_get_data(a),
                        *db = cairo_image_surface_get_data(b);
    int bad = 0;
    double worst = 0;
    int wx = 0, wy = 0;
    for (int by = 0; by < h; by += BLOCK) {
        for (int bx = 0; bx < w; bx += BLOCK) {
            double suma = 0, sumb = 0;
            for (int y = by; y < by + BLOCK && y < h; y++)
                for (int x = bx; x < bx + BLOCK && x < w; x++) {
                    suma += S_dark(da + (size_t)y * (size_t)sa, x);
                    sumb += S_dark(db + (size_t)y * (size_t)sb, x);
                }
            double d = fabs(suma - sumb);
            if (d > worst) {
                worst = d;
                wx = bx;
                wy = by;
            }
            if (d > TOLERANCE)
                bad++;
        }
    }
    printf("pixcmp: %d differing blocks; worst %.0f%% of the tolerance at x=%d y=%d\n", bad,
           100.0 * worst / TOLERANCE, wx, wy);
    cairo_surface_destroy(a);
    cairo_surface_destroy(b);
    return bad ? 1 : 0;
}
