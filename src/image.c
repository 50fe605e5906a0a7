#include "image.h"

#include <cairo.h>
#include <fcntl.h>
#include <librsvg/rsvg.h>
#include <libxml/parser.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

#define IMAGE_MAX_BYTES (8L * 1024 * 1024)
#define IMAGE_MAX_SIDE 4096

/* True when path's real location is inside root's. */
static bool S_inside(const char *path, const char *root)
{
    char rp[PATH_MAX], rr[PATH_MAX];
    if (!realpath(path, rp) || !realpath(root, rr))
        return false;
    size_t n = strlen(rr);
    return strncmp(rp, rr, n) == 0 && (rp[n] == '/' || rp[n] == '\0');
}

/* Copies a cairo ARGB32 (premultiplied) or RGB24 surface to straight RGBA. */
static pd_image *S_from_surface(cairo_surface_t *s, const char *alt)
{
    cairo_surface_flush(s);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    int has_alpha = cairo_image_surface_get_format(s) == CAIRO_FORMAT_ARGB32;
    const unsigned char *data = cairo_image_surface_get_data(s);
    pd_image *im = xcalloc(1, sizeof *im);
    im->width = w;
    im->height = h;
    im->rgba = xmalloc((size_t)w * (size_t)h * 4);
    im->alt = xstrdup(alt);
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            uint32_t p = row[x];
            unsigned a = has_alpha ? p >> 24 : 255, r = (p >> 16) & 255, g = (p >> 8) & 255,
                     b = p & 255;
            if (a && a < 255) { /* undo the premultiplication */
                r = (r * 255 + a / 2) / a;
                g = (g * 255 + a / 2) / a;
                b = (b * 255 + a / 2) / a;
            }
            unsigned char *o = im->rgba + ((size_t)y * (size_t)w + (size_t)x) * 4;
            o[0] = (unsigned char)(r > 255 ? 255 : r);
            o[1] = (unsigned char)(g > 255 ? 255 : g);
            o[2] = (unsigned char)(b > 255 ? 255 : b);
            o[3] = (unsigned char)a;
        }
    }
    return im;
}

/* Reads the PNG header's size, so that a hostile file claiming a huge
 * image is refused before anything is allocated. */
static bool S_png_size(const char *path, unsigned long *w, unsigned long *h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n != sizeof b || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
        return false;
    *w =
        (unsigned long)b[16] << 24 | (unsigned long)b[17] << 16 | (unsigned long)b[18] << 8 | b[19];
    *h =
        (unsigned long)b[20] << 24 | (unsigned long)b[21] << 16 | (unsigned long)b[22] << 8 | b[23];
    return true;
}

/* The width and height in the IHDR of a PNG held in base64 (white space
 * allowed, as in a data: URL): false when it does not start like a PNG. */
static bool S_base64_png_size(const char *b64, unsigned long *w, unsigned long *h)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[24];
    size_t n = 0;
    unsigned long acc = 0;
    int bits = 0;
    for (const char *p = b64; *p && n < sizeof b; p++) {
        if (strchr(" \t\r\n", *p))
            continue;
        const char *d = *p ? strchr(digits, *p) : NULL;
        if (!d)
            return false;
        acc = (acc << 6 | (unsigned long)(d - digits)) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            b[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (n < sizeof b || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
        return false;
    *w =
        (unsigned long)b[16] << 24 | (unsigned long)b[17] << 16 | (unsigned long)b[18] << 8 | b[19];
    *h =
        (unsigned long)b[20] << 24 | (unsigned long)b[21] << 16 | (unsigned long)b[22] << 8 | b[23];
    return true;
}

/* True when CSS text s refers to nothing outside the file: every url()
 * is "#id", and no @import. */
static bool S_css_local(const char *s)
{
    if (strcasestr(s, "@import"))
        return false;
    for (const char *p = s; (p = strcasestr(p, "url(")) != NULL;) {
        p += 4;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '"' || *p == '\'')
            p++;
        if (*p != '#')
            return false;
    }
    return true;
}

/* An SVG may refer only to its own elements ("#id") or embed a PNG (a
 * data: URL) of at most IMAGE_MAX_SIDE pixels a side: librsvg decodes an
 * embedded or linked picture at its full size, whatever size it prints at
 * (a 1 MB PNG of 20000 x 20000 pixels costs 1.6 GB), and would read
 * files beside it. NULL when doc is fine, else why not. */
static const char *S_svg_refs(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = root; n; n = xmlsafe_next(root, n, true)) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (n->ns && n->ns->href && strstr((const char *)n->ns->href, "XInclude"))
            return "an SVG file with an XInclude";
        if (xmlStrEqual(n->name, BAD_CAST "style")) {
            xmlChar *css = xmlNodeGetContent(n);
            bool local = !css || S_css_local((const char *)css);
            xmlFree(css);
            if (!local)
                return "an SVG file whose style refers to other files (url() or @import)";
        }
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
            xmlChar *v = xmlNodeListGetString(doc, a->children, 1);
            const char *val = v ? (const char *)v : "";
            const char *why = NULL;
            if (xmlStrEqual(a->name, BAD_CAST "href")) {
                static const char png[] = "data:image/png;base64,";
                unsigned long w = 0, h = 0;
                if (val[0] == '#')
                    why = NULL;
                else if (strncmp(val, png, sizeof png - 1) != 0)
                    why = "an SVG file that links to another file or embeds a picture that is "
                          "not a PNG";
                else if (!S_base64_png_size(val + sizeof png - 1, &w, &h))
                    why = "an SVG file that embeds a broken PNG";
                else if (w < 1 || h < 1 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE)
                    why = "an SVG file that embeds a PNG larger than 4096 pixels a side";
            } else if (!S_css_local(val)) {
                why = "an SVG file that refers to other files (url())";
            }
            xmlFree(v);
            if (why)
                return why;
        }
    }
    return NULL;
}

/* The file's bytes (at most IMAGE_MAX_BYTES, checked by the caller), or
 * NULL. */
static char *S_read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > IMAGE_MAX_BYTES) {
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = xmalloc(size + 1);
    ssize_t n;
    while (got < size && (n = read(fd, buf + got, size - got)) > 0)
        got += (size_t)n;
    close(fd);
    if (got != size) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

static cairo_surface_t *S_svg(const char *path, int svg_px, const char **why)
{
    GError *gerr = NULL;
    /* read once, checked with libxml2 (no network, no entity expansion, no
       gzip: a compressed SVG would inflate without bound), then given to
       librsvg as bytes: with no base file it loads nothing beside it */
    size_t len = 0;
    char *bytes = S_read_all(path, &len);
    if (!bytes) {
        *why = "cannot be read";
        return NULL;
    }
    xmlDocPtr doc = xmlReadMemory(bytes, (int)len, path, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    *why = !doc ? "not a valid SVG file" : S_svg_refs(doc);
    if (doc)
        xmlFreeDoc(doc);
    RsvgHandle *h = *why ? NULL : rsvg_handle_new_from_data((const guint8 *)bytes, len, &gerr);
    free(bytes);
    if (*why)
        return NULL;
    if (!h) {
        *why = "not a valid SVG file";
        g_clear_error(&gerr);
        return NULL;
    }
    gdouble w = 0, hh = 0;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &hh) || w <= 0 || hh <= 0) {
        RsvgRectangle ink, logical;
        if (!rsvg_handle_get_geometry_for_element(h, NULL, &ink, &logical, NULL) ||
            logical.width <= 0 || logical.height <= 0) {
            *why = "an SVG file without a size (width and height, or a viewBox)";
            g_object_unref(h);
            return NULL;
        }
        w = logical.width;
        hh = logical.height;
    }
    double scale = svg_px / (w > hh ? w : hh);
    int pw = (int)(w * scale + 0.5), ph = (int)(hh * scale + 0.5);
    if (pw < 1)
        pw = 1;
    if (ph < 1)
        ph = 1;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
    cairo_t *cr = cairo_create(s);
    RsvgRectangle viewport = {0, 0, pw, ph};
    bool ok = rsvg_handle_render_document(h, cr, &viewport, &gerr);
    cairo_destroy(cr);
    g_object_unref(h);
    if (!ok) {
        *why = "an SVG file that cannot be drawn";
        g_clear_error(&gerr);
        cairo_surface_destroy(s);
        return NULL;
    }
    return s;
}

pd_image *pd_image_load(const char *path, const char *root, int svg_px, const char *alt,
                        const char *where, long line, pd_error *err)
{
    if (svg_px < 16)
        svg_px = 16;
    if (svg_px > IMAGE_MAX_SIDE)
        svg_px = IMAGE_MAX_SIDE;
    struct stat st;
    if (!alt || !*alt) {
        pd_error_set(err, where, line, "image '%s' has no text alternative (alt)", path);
        return NULL;
    }
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        pd_error_set(err, where, line, "image '%s' not found", path);
        return NULL;
    }
    if (!S_inside(path, root)) {
        pd_error_set(err, where, line, "image '%s' is outside the folder %s", path, root);
        return NULL;
    }
    if (st.st_size > IMAGE_MAX_BYTES) {
        pd_error_set(err, where, line, "image '%s' is larger than 8 MB", path);
        return NULL;
    }
    const char *why = NULL;
    cairo_surface_t *s = NULL;
    if (paths_has_suffix(path, ".svg")) {
        s = S_svg(path, svg_px, &why);
    } else if (paths_has_suffix(path, ".png")) {
        unsigned long pw = 0, ph = 0;
        if (!S_png_size(path, &pw, &ph)) {
            why = "not a valid PNG file";
        } else if (pw < 1 || ph < 1 || pw > IMAGE_MAX_SIDE || ph > IMAGE_MAX_SIDE) {
            why = "larger than 4096 pixels a side";
        } else {
            s = cairo_image_surface_create_from_png(path);
        }
        if (s && cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
            cairo_surface_destroy(s);
            s = NULL;
            why = "not a valid PNG file";
        }
    } else {
        why = "neither a .png nor an .svg file";
    }
    if (s && (cairo_image_surface_get_width(s) > IMAGE_MAX_SIDE ||
              cairo_image_surface_get_height(s) > IMAGE_MAX_SIDE ||
              cairo_image_surface_get_width(s) < 1)) {
        cairo_surface_destroy(s);
        s = NULL;
        why = "larger than 4096 pixels a side";
    }
    if (!s) {
        pd_error_set(err, where, line, "image '%s': %s", path, why);
        return NULL;
    }
    pd_image *im = S_from_surface(s, alt);
    cairo_surface_destroy(s);
    return im;
}

pd_image *pd_image_copy(const pd_image *im)
{
    pd_image *c = xcalloc(1, sizeof *c);
    c->width = im->width;
    c->height = im->height;
    size_t n = (size_t)im->width * (size_t)im->height * 4;
    c->rgba = xmalloc(n);
    memcpy(c->rgba, im->rgba, n);
    c->alt = xstrdup(im->alt);
    return c;
}

void pd_image_free(pd_image *im)
{
    if (!im)
        return;
    free(im->rgba);
    free(im->alt);
    free(im);
}
