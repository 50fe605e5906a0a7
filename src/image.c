#include "image.h"

#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <librsvg/rsvg.h>
#include <libxml/parser.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diskcache.h"
#include "output.h"
#include "paths.h"
#include "strbuf.h"
#include "subproc.h"
#include "xmlsafe.h"

#define IMAGE_MAX_BYTES (8L * 1024 * 1024)
#define IMAGE_MAX_SIDE 4096

/* NULL when the file open on fd, named path, is inside root's real
 * location and path still names that very file (a link or file swapped in
 * since the open is not taken), else why not. */
static const char *S_inside(int fd, const char *path, const char *root)
{
    char rp[PATH_MAX], rr[PATH_MAX];
    struct stat opened, named;
    if (!realpath(path, rp) || !realpath(root, rr))
        return "outside";
    if (fstat(fd, &opened) != 0 || stat(rp, &named) != 0 || opened.st_dev != named.st_dev ||
        opened.st_ino != named.st_ino)
        return "changed";
    size_t n = strlen(rr);
    return strncmp(rp, rr, n) == 0 && (rp[n] == '/' || rp[n] == '\0') ? NULL : "outside";
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

/* The PNG header's size, so that a hostile file claiming a huge image is
 * refused before anything is allocated. */
static bool S_png_size(const unsigned char *b, size_t n, unsigned long *w, unsigned long *h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 24 || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
        return false;
    *w =
        (unsigned long)b[16] << 24 | (unsigned long)b[17] << 16 | (unsigned long)b[18] << 8 | b[19];
    *h =
        (unsigned long)b[20] << 24 | (unsigned long)b[21] << 16 | (unsigned long)b[22] << 8 | b[23];
    return true;
}

/* cairo reads a PNG from memory through this. */
typedef struct S_stream {
    const unsigned char *p;
    size_t left;
} S_stream;

static cairo_status_t S_stream_read(void *closure, unsigned char *data, unsigned int length)
{
    S_stream *st = closure;
    if (length > st->left)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, st->p, length);
    st->p += length;
    st->left -= length;
    return CAIRO_STATUS_SUCCESS;
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

/* What drawing an SVG may cost. librsvg and cairo take time in proportion
 * to what is drawn, and some of it without bound: a filter chain, markers on
 * every vertex of a long path, a self-intersecting stroked path (quadratic
 * in its segments), <use> copies of copies, a megabyte of text (7 s to
 * minutes, gigabytes). A logo or a pictogram needs none of that: the work
 * is bounded before anything is drawn, counting each <use> copy. */
#define SVG_MAX_ELEMENTS 2000
#define SVG_MAX_POINTS 10000     /* coordinate pairs of all paths and shapes */
#define SVG_MAX_PATH_POINTS 2000 /* of one path */
#define SVG_MAX_TEXT 1000        /* bytes of text drawn */
#define SVG_MAX_USE_DEPTH 16
#define SVG_MAX_PIXELS ((size_t)IMAGE_MAX_SIDE * IMAGE_MAX_SIDE) /* of embedded PNGs, in all */
/* layers drawn apart and blended (a mask, an opacity below 1), times the
   picture's pixels: each layer costs them all (1,900 masked translucent
   rectangles took 46 s at 1,666 pixels; 100 took 24 s at 4,096): 100
   layers at 1,024 pixels a side, 400 for a 512-pixel logo, 6 at 4,096 */
#define SVG_MAX_LAYER_PIXELS ((size_t)100 * 1024 * 1024)
#define SVG_SATURATED ((size_t)1 << 40)

typedef struct S_cost {
    size_t elements, points, text, pixels, layers;
} S_cost;

typedef struct S_costing {
    GHashTable *ids;  /* id -> element */
    GHashTable *memo; /* element -> S_cost* */
    const char *why;
    bool all_layers; /* a style sheet sets a mask or an opacity: each element counts */
} S_costing;

static size_t S_sat_add(size_t a, size_t b)
{
    return a + b > SVG_SATURATED ? SVG_SATURATED : a + b;
}

/* Coordinate pairs in path data or a points list: half its numbers. */
static size_t S_points(const char *d)
{
    size_t numbers = 0;
    bool in = false;
    for (const char *p = d; *p; p++) {
        bool part = (*p >= '0' && *p <= '9') || *p == '.';
        if (part && !in)
            numbers++;
        in = part || ((*p == 'e' || *p == 'E') && in);
    }
    return (numbers + 1) / 2;
}

static const char *S_attr(xmlNodePtr n, const char *name)
{
    for (xmlAttrPtr a = n->properties; a; a = a->next)
        if (xmlStrEqual(a->name, BAD_CAST name) && a->children && a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

static bool S_css_sets(const char *s, const char *name);

/* The layers n is drawn on apart (SVG_MAX_LAYER_PIXELS): one for a mask,
 * one for an opacity other than 1 (attribute or style). */
static size_t S_layers(xmlNodePtr n)
{
    const char *mask = S_attr(n, "mask"), *opacity = S_attr(n, "opacity");
    const char *style = S_attr(n, "style");
    return ((mask && strcmp(mask, "none") != 0) || (style && S_css_sets(style, "mask"))) +
           ((opacity && g_ascii_strtod(opacity, NULL) < 1) ||
            (style && S_css_sets(style, "opacity")));
}

static S_cost S_cost_of(S_costing *c, xmlNodePtr n, int depth)
{
    S_cost cost = {0, 0, 0, 0, 0};
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->parent && (xmlStrEqual(n->parent->name, BAD_CAST "text") ||
                          xmlStrEqual(n->parent->name, BAD_CAST "tspan") ||
                          xmlStrEqual(n->parent->name, BAD_CAST "textPath")))
            cost.text = n->content ? strlen((const char *)n->content) : 0;
        return cost;
    }
    if (n->type != XML_ELEMENT_NODE)
        return cost;
    if (depth > SVG_MAX_USE_DEPTH) {
        c->why = "an SVG file whose <use> copies go more than 16 deep (or refer to themselves)";
        cost.elements = SVG_SATURATED;
        return cost;
    }
    const S_cost *known = g_hash_table_lookup(c->memo, n);
    if (known)
        return *known;
    cost.elements = 1;
    cost.layers = S_layers(n);
    const char *d = S_attr(n, "d");
    const char *points = S_attr(n, "points");
    size_t own = (d ? S_points(d) : 0) + (points ? S_points(points) : 0);
    if (own > SVG_MAX_PATH_POINTS && !c->why)
        c->why = "an SVG file with a path of more than 2000 points";
    cost.points = own;
    static const char png[] = "data:image/png;base64,";
    const char *href = S_attr(n, "href");
    unsigned long w = 0, h = 0;
    if (href && strncmp(href, png, sizeof png - 1) == 0 &&
        S_base64_png_size(href + sizeof png - 1, &w, &h))
        cost.pixels = (size_t)w * h; /* each one decoded at its full size */
    if (xmlStrEqual(n->name, BAD_CAST "use")) {
        xmlNodePtr target = href && href[0] == '#' ? g_hash_table_lookup(c->ids, href + 1) : NULL;
        if (target) {
            S_cost t = S_cost_of(c, target, depth + 1);
            cost.elements = S_sat_add(cost.elements, t.elements);
            cost.points = S_sat_add(cost.points, t.points);
            cost.text = S_sat_add(cost.text, t.text);
            cost.pixels = S_sat_add(cost.pixels, t.pixels);
            cost.layers = S_sat_add(cost.layers, t.layers);
        }
    }
    for (xmlNodePtr ch = n->children; ch; ch = ch->next) {
        S_cost t = S_cost_of(c, ch, depth);
        cost.elements = S_sat_add(cost.elements, t.elements);
        cost.points = S_sat_add(cost.points, t.points);
        cost.text = S_sat_add(cost.text, t.text);
        cost.pixels = S_sat_add(cost.pixels, t.pixels);
        cost.layers = S_sat_add(cost.layers, t.layers);
    }
    g_hash_table_insert(c->memo, n, g_memdup2(&cost, sizeof cost));
    return cost;
}

/* True when CSS text s sets property name (filter, marker...) to anything
 * but none. */
static bool S_css_sets(const char *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = s; (p = strcasestr(p, name)) != NULL; p += n) {
        if (p > s && (g_ascii_isalnum(p[-1]) || p[-1] == '-' || p[-1] == '_'))
            continue;
        const char *q = p + n;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        if (*q != ':')
            continue;
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        if (g_ascii_strncasecmp(q, "none", 4) != 0 || g_ascii_isalnum(q[4]) || q[4] == '-')
            return true;
    }
    return false;
}

static const char *const S_effects[] = {"filter",     "marker",     "marker-start",
                                        "marker-mid", "marker-end", NULL};

/* NULL when drawing doc is bounded, else why not. */
static const char *S_svg_cost(xmlDocPtr doc, int svg_px)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    S_costing c = {g_hash_table_new(g_str_hash, g_str_equal),
                   g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free), NULL, false};
    for (xmlNodePtr n = root; n && !c.why; n = xmlsafe_next(root, n, true)) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        if (strcmp(name, "filter") == 0 ||
            (name[0] == 'f' && name[1] == 'e' && g_ascii_isupper(name[2])))
            c.why = "an SVG file with a filter effect (blur, shadow...): a logo or "
                    "pictogram may not use one";
        else if (strcmp(name, "marker") == 0)
            c.why = "an SVG file with markers: a logo or pictogram may not use them";
        xmlChar *css = strcmp(name, "style") == 0 ? xmlNodeGetContent(n) : NULL;
        /* a style sheet's mask or opacity may reach every element */
        if (css &&
            (S_css_sets((const char *)css, "mask") || S_css_sets((const char *)css, "opacity")))
            c.all_layers = true;
        for (size_t i = 0; S_effects[i] && !c.why; i++) {
            const char *v = S_attr(n, S_effects[i]);
            const char *style = S_attr(n, "style");
            if ((v && strcmp(v, "none") != 0) || (style && S_css_sets(style, S_effects[i])) ||
                (css && S_css_sets((const char *)css, S_effects[i])))
                c.why = i == 0 ? "an SVG file with a filter effect (blur, shadow...): a logo "
                                 "or pictogram may not use one"
                               : "an SVG file with markers: a logo or pictogram may not use them";
        }
        xmlFree(css);
        const char *id = S_attr(n, "id");
        if (id)
            g_hash_table_insert(c.ids, (gpointer)id, n);
    }
    if (!c.why && root) {
        S_cost total = S_cost_of(&c, root, 0);
        if (!c.why && total.elements > SVG_MAX_ELEMENTS)
            c.why = "an SVG file that draws more than 2000 elements (each <use> copy counted)";
        else if (!c.why && total.points > SVG_MAX_POINTS)
            c.why = "an SVG file whose paths and shapes have more than 10000 points in all";
        else if (!c.why && total.text > SVG_MAX_TEXT)
            c.why = "an SVG file with more than 1000 bytes of text";
        else if (!c.why && total.pixels > SVG_MAX_PIXELS)
            c.why = "an SVG file that embeds PNG pictures of more than 4096 x 4096 pixels in all";
        else if (!c.why && (c.all_layers ? 2 * total.elements : total.layers) >
                               SVG_MAX_LAYER_PIXELS / ((size_t)svg_px * (size_t)svg_px))
            c.why = "an SVG file with too many masked or translucent elements for the size it is "
                    "drawn at (each is drawn apart, then blended)";
    }
    g_hash_table_destroy(c.ids);
    g_hash_table_destroy(c.memo);
    return c.why;
}

/* The bytes of the regular file open on fd (at most IMAGE_MAX_BYTES), or
 * NULL. */
static char *S_read_all(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > IMAGE_MAX_BYTES)
        return NULL;
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = xmalloc(size + 1);
    ssize_t n;
    while (got < size && (n = read(fd, buf + got, size - got)) > 0)
        got += (size_t)n;
    if (got != size) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

/* NULL when libxml2 finds the SVG safe to give librsvg, else why not:
 * read once, with no network, no entity expansion and no gzip (a
 * compressed SVG would inflate without bound); no link outside itself; a
 * bounded cost at the size it is drawn (S_svg_cost). */
static const char *S_svg_check(const char *path, const char *bytes, size_t len, int svg_px)
{
    xmlDocPtr doc = xmlReadMemory(bytes, (int)len, path, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    const char *why = !doc ? "not a valid SVG file" : S_svg_refs(doc);
    if (!why)
        why = S_svg_cost(doc, svg_px);
    if (doc)
        xmlFreeDoc(doc);
    return why;
}

/* What drawing a checked SVG can fail with (S_svg_draw): a drawing
 * process answers with the index. */
static const char *const S_draw_whys[] = {
    "not a valid SVG file",
    "an SVG file without a size (width and height, or a viewBox)",
    "an SVG file that cannot be drawn",
    "larger than 4096 pixels a side",
};

/* A checked SVG drawn by librsvg svg_px pixels on its long side, given as
 * bytes (with no base file it loads nothing beside it); NULL with *why
 * one of S_draw_whys. */
static pd_image *S_svg_draw(const char *bytes, size_t len, int svg_px, const char *alt,
                            const char **why)
{
    GError *gerr = NULL;
    RsvgHandle *h = rsvg_handle_new_from_data((const guint8 *)bytes, len, &gerr);
    if (!h) {
        *why = S_draw_whys[0];
        g_clear_error(&gerr);
        return NULL;
    }
    gdouble w = 0, hh = 0;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &hh) || w <= 0 || hh <= 0) {
        RsvgRectangle ink, logical;
        if (!rsvg_handle_get_geometry_for_element(h, NULL, &ink, &logical, NULL) ||
            logical.width <= 0 || logical.height <= 0) {
            *why = S_draw_whys[1];
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
    if (pw > IMAGE_MAX_SIDE || ph > IMAGE_MAX_SIDE) {
        *why = S_draw_whys[3];
        g_object_unref(h);
        return NULL;
    }
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
    cairo_t *cr = cairo_create(s);
    RsvgRectangle viewport = {0, 0, pw, ph};
    bool ok = rsvg_handle_render_document(h, cr, &viewport, &gerr);
    cairo_destroy(cr);
    g_object_unref(h);
    pd_image *im = NULL;
    if (!ok || cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        *why = S_draw_whys[2];
        g_clear_error(&gerr);
    } else {
        im = S_from_surface(s, alt);
    }
    cairo_surface_destroy(s);
    return im;
}

/* An SVG's pixels as the cache folder keeps them and a drawing process
 * answers them: width and height (4 bytes each, big-endian), then the
 * pixels. S_pixels_size writes the first 8 bytes; S_pixels_taken makes
 * the image of such bytes starting at p + at, taking p (freed when they
 * are not whole: a side outside 1-4096 or a length that is not theirs). */
#define SVG_PIXELS_MAX                                                                             \
    (8 + (size_t)IMAGE_MAX_SIDE * IMAGE_MAX_SIDE * 4) /* their largest length                      \
                                                       */

static void S_pixels_size(unsigned char size[8], const pd_image *im)
{
    pd_diskcache_put32(size, (uint32_t)im->width);
    pd_diskcache_put32(size + 4, (uint32_t)im->height);
}

static pd_image *S_pixels_taken(unsigned char *p, size_t at, size_t len, const char *alt)
{
    size_t n = len >= at + 8 ? len - at - 8 : 0;
    uint32_t w = len >= at + 8 ? pd_diskcache_get32(p + at) : 0;
    uint32_t h = len >= at + 8 ? pd_diskcache_get32(p + at + 4) : 0;
    if (w < 1 || h < 1 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || n != (size_t)w * h * 4) {
        free(p);
        return NULL;
    }
    pd_image *im = xcalloc(1, sizeof *im);
    im->width = (int)w;
    im->height = (int)h;
    memmove(p, p + at + 8, n);
    im->rgba = p;
    im->alt = xstrdup(alt);
    return im;
}

/* --- SVGs drawn by a process of its own ------------------------------------
 * librsvg and what it brings (GIO, gdk-pixbuf, its Rust runtime: the 30
 * libraries below) add about 8 MB to a process that draws one SVG, and a
 * batch worker kept them for its thousands of documents: a --jobs 1 run
 * with nothing in the cache folder peaked at 44.6 MB, 36.4 MB with it.
 * So main() names pildoc's own program (pd_image_set_svg_program), and an
 * SVG not in the cache folder is drawn by `pildoc draw-svg PX`
 * (pd_image_draw_svg_main): the SVG on its standard input, on its output
 * "P", width and height (4 bytes each, big-endian) and the pixels, or "E"
 * and the index of why not in S_draw_whys. A crash or a hang in librsvg
 * is then an error for that image, not a lost worker. When no process can
 * be started (or no program is named: unit tests, fuzzers), the SVG is
 * drawn in this process, with the same pixels. */
#define SVG_DRAW_TIMEOUT_S 120

static char *S_svg_program;

void pd_image_set_svg_program(const char *exe)
{
    free(S_svg_program);
    S_svg_program = exe ? xstrdup(exe) : NULL;
}

/* A drawing process's answer, taken from out; NULL with *why set when it
 * is an error (or not an answer). */
static pd_image *S_svg_answer(strbuf *out, const char *alt, const char **why)
{
    const unsigned char *p = (const unsigned char *)strbuf_str(out);
    if (out->len == 2 && p[0] == 'E' && p[1] < sizeof S_draw_whys / sizeof *S_draw_whys) {
        *why = S_draw_whys[p[1]];
        return NULL;
    }
    size_t len = out->len;
    pd_image *im =
        p[0] == 'P' ? S_pixels_taken((unsigned char *)strbuf_take(out), 1, len, alt) : NULL;
    if (!im)
        *why = S_draw_whys[2];
    return im;
}

/* A checked SVG's pixels, drawn by a process of its own when one can be
 * started, else here. */
static pd_image *S_svg_pixels(const char *bytes, size_t len, int svg_px, const char *alt,
                              const char **why)
{
    if (S_svg_program) {
        char px[16], parent[24];
        snprintf(px, sizeof px, "%d", svg_px);
        snprintf(parent, sizeof parent, "%ld", (long)getpid());
        char *argv[] = {S_svg_program, "draw-svg", px, parent, NULL};
        strbuf out = STRBUF_INIT;
        pd_subproc_status st =
            pd_subproc_run(argv, bytes, len, 1 + SVG_PIXELS_MAX, SVG_DRAW_TIMEOUT_S * 1000, &out);
        pd_image *im = NULL;
        if (st == PD_SUBPROC_OK)
            im = S_svg_answer(&out, alt, why);
        else if (st != PD_SUBPROC_NOT_RUN)
            *why = st == PD_SUBPROC_TIMED_OUT ? "an SVG file that takes more than 120 s to draw"
                                              : S_draw_whys[2];
        strbuf_free(&out);
        if (st != PD_SUBPROC_NOT_RUN)
            return im;
    }
    return S_svg_draw(bytes, len, svg_px, alt, why);
}

int pd_image_draw_svg_main(int argc, char **argv)
{
    char *end = NULL, *end2 = NULL;
    long px = argc == 3 ? strtol(argv[1], &end, 10) : 0;
    long parent = argc == 3 ? strtol(argv[2], &end2, 10) : 0;
    if (!end || *end || !end2 || *end2 || px < 16 || px > IMAGE_MAX_SIDE || parent < 1) {
        fputs("pildoc draw-svg: usage: pildoc draw-svg PIXELS PARENT-PID < file.svg (used by "
              "pildoc itself)\n",
              stderr);
        return 2;
    }
    /* bounded by itself too: killed with the process that asked (a batch
       or serve worker killed meanwhile), and by its own CPU time */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)parent)
        return 1;
    struct rlimit cpu = {SVG_DRAW_TIMEOUT_S + 10, SVG_DRAW_TIMEOUT_S + 10};
    setrlimit(RLIMIT_CPU, &cpu);
    strbuf in = STRBUF_INIT;
    char buf[65536];
    ssize_t n;
    while (in.len <= IMAGE_MAX_BYTES && (n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        strbuf_append_len(&in, buf, (size_t)n);
    }
    const char *why = in.len > IMAGE_MAX_BYTES
                          ? S_draw_whys[2]
                          : S_svg_check("-", in.data ? in.data : "", in.len, (int)px);
    pd_image *im = why ? NULL : S_svg_draw(in.data ? in.data : "", in.len, (int)px, "", &why);
    strbuf_free(&in);
    strbuf ans = STRBUF_INIT;
    if (im) {
        unsigned char size[8];
        S_pixels_size(size, im);
        strbuf_append_char(&ans, 'P');
        strbuf_append_len(&ans, (const char *)size, sizeof size);
        strbuf_append_len(&ans, (const char *)im->rgba, (size_t)im->width * im->height * 4);
        pd_image_free(im);
    } else {
        /* why is one of S_draw_whys, or a check's refusal (the caller
           checked: not expected here), given as "cannot be drawn" */
        size_t k = 0, n_whys = sizeof S_draw_whys / sizeof *S_draw_whys;
        while (k < n_whys && S_draw_whys[k] != why)
            k++;
        if (k == n_whys)
            k = 2;
        strbuf_append_char(&ans, 'E');
        strbuf_append_char(&ans, (char)k);
    }
    int status = pd_output_write_fd(STDOUT_FILENO, ans.data, ans.len) ? 0 : 1;
    strbuf_free(&ans);
    return status;
}

/* --- SVG rasters kept on disk ----------------------------------------------
 * Opening librsvg (and the 30 libraries it brings: GIO, gdk-pixbuf, ...)
 * and drawing the leaflet's pictogram was 4-5 ms of a fresh render, a
 * tenth of it. The pixels an SVG gave are kept in the user's cache folder
 * (src/diskcache.h), named by a SHA-256 of what decides them: the SVG's
 * bytes, the size drawn, cairo's version, the installed librsvg file and
 * pildoc's own (inode, size and time: an upgrade draws again). A file is
 * used only when it holds that key and its pixels' SHA-256 matches;
 * anything else (missing, short, damaged, another version) is drawn again,
 * so a render is the same with or without the cache. Only SVGs that were
 * drawn are kept: errors are found again each time. */
#ifndef PD_RSVG_FILE
#define PD_RSVG_FILE "/usr/lib/x86_64-linux-gnu/librsvg-2.so.2"
#endif

/* The key of an SVG drawn svg_px pixels; false when librsvg's file cannot
 * be found (then nothing is cached). pildoc's own file is part of it too:
 * the pixels are what S_from_surface made of librsvg's. */
static bool S_svg_key(const char *bytes, size_t len, int svg_px, uint8_t key[PD_DISKCACHE_KEY_SIZE])
{
    pd_diskcache_key k;
    pd_diskcache_key_init(&k, "pildoc svg pixels 2");
    if (!pd_diskcache_key_add_file(&k, PD_RSVG_FILE) || !pd_diskcache_key_add_object(&k, NULL))
        return false;
    char ids[64];
    int n = snprintf(ids, sizeof ids, "%d|%d", cairo_version(), svg_px);
    pd_diskcache_key_add(&k, ids, (size_t)n);
    pd_diskcache_key_add(&k, bytes, len);
    pd_diskcache_key_end(&k, key);
    return true;
}

/* The kept pixels of key, or NULL. */
static pd_image *S_svg_cached(const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                              const char *alt)
{
    size_t len = 0;
    unsigned char *p = pd_diskcache_read(file, key, SVG_PIXELS_MAX, &len);
    return p ? S_pixels_taken(p, 0, len, alt) : NULL;
}

/* Keeps im's pixels as file. Failures only cost the next render time. */
static void S_svg_keep(const char *dir, const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                       const pd_image *im)
{
    unsigned char size[8];
    S_pixels_size(size, im);
    pd_diskcache_part parts[2] = {{size, sizeof size},
                                  {im->rgba, (size_t)im->width * (size_t)im->height * 4}};
    pd_diskcache_write(dir, file, key, parts, 2);
}

/* An SVG's pixels: the kept ones, else drawn by librsvg (and kept). */
static pd_image *S_svg_image(const char *path, const char *bytes, size_t len, int svg_px,
                             const char *alt, const char **why)
{
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    char *dir = S_svg_key(bytes, len, svg_px, key) ? paths_cache_dir() : NULL;
    char *file = dir ? pd_diskcache_path(dir, "svg", key, ".rgba") : NULL;
    pd_image *im = file ? S_svg_cached(file, key, alt) : NULL;
    if (!im && !(*why = S_svg_check(path, bytes, len, svg_px))) {
        im = S_svg_pixels(bytes, len, svg_px, alt, why);
        if (im && file)
            S_svg_keep(dir, file, key, im);
    }
    free(file);
    free(dir);
    return im;
}

/* The pixels of a loaded image, never changed again, and the images
 * that hold them. */
struct pd_image_pixels {
    int refs; /* atomic: serve's threads may copy one renderer's images */
    unsigned char *rgba;
};

/* im's digest (pd_image.digest), once its pixels are final: of its size
 * and pixels as the cache folder keeps an SVG's (S_svg_keep); from here
 * on its pixels are shared by its copies. */
static pd_image *S_sealed(pd_image *im)
{
    im->pixels = xmalloc(sizeof *im->pixels);
    im->pixels->refs = 1;
    im->pixels->rgba = im->rgba;
    struct sha256_ctx ctx;
    unsigned char size[8];
    S_pixels_size(size, im);
    sha256_init(&ctx);
    sha256_update(&ctx, sizeof size, size);
    sha256_update(&ctx, (size_t)im->width * (size_t)im->height * 4, im->rgba);
    sha256_digest(&ctx, sizeof im->digest, im->digest);
    im->has_digest = 1;
    return im;
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
    /* opened once (never waiting on a FIFO), and that open file is what is
       checked and read: nothing swapped in after a check is taken */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        pd_error_set(err, where, line, "image '%s' not found", path);
        return NULL;
    }
    const char *where_is = S_inside(fd, path, root);
    if (where_is) {
        close(fd);
        if (strcmp(where_is, "changed") == 0)
            pd_error_set(err, where, line,
                         "image '%s' was replaced while it was read (another file or a link)",
                         path);
        else
            pd_error_set(err, where, line, "image '%s' is outside the folder %s", path, root);
        return NULL;
    }
    if (st.st_size > IMAGE_MAX_BYTES) {
        close(fd);
        pd_error_set(err, where, line, "image '%s' is larger than 8 MB", path);
        return NULL;
    }
    size_t len = 0;
    char *bytes = S_read_all(fd, &len);
    close(fd);
    const char *why = NULL;
    cairo_surface_t *s = NULL;
    if (!bytes) {
        why = "cannot be read";
    } else if (paths_has_suffix(path, ".svg")) {
        pd_image *im = S_svg_image(path, bytes, len, svg_px, alt, &why);
        if (im) {
            free(bytes);
            return S_sealed(im);
        }
    } else if (paths_has_suffix(path, ".png")) {
        unsigned long pw = 0, ph = 0;
        if (!S_png_size((const unsigned char *)bytes, len, &pw, &ph)) {
            why = "not a valid PNG file";
        } else if (pw < 1 || ph < 1 || pw > IMAGE_MAX_SIDE || ph > IMAGE_MAX_SIDE) {
            why = "larger than 4096 pixels a side";
        } else {
            S_stream stream = {(const unsigned char *)bytes, len};
            s = cairo_image_surface_create_from_png_stream(S_stream_read, &stream);
        }
        if (s && cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
            cairo_surface_destroy(s);
            s = NULL;
            why = "not a valid PNG file";
        }
    } else {
        why = "neither a .png nor an .svg file";
    }
    free(bytes);
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
    return S_sealed(im);
}

pd_image *pd_image_copy(const pd_image *im)
{
    pd_image *c = xcalloc(1, sizeof *c);
    c->width = im->width;
    c->height = im->height;
    if (im->pixels) {
        g_atomic_int_inc(&im->pixels->refs);
        c->pixels = im->pixels;
        c->rgba = im->rgba;
    } else {
        size_t n = (size_t)im->width * (size_t)im->height * 4;
        c->rgba = xmalloc(n);
        memcpy(c->rgba, im->rgba, n);
    }
    c->alt = xstrdup(im->alt);
    memcpy(c->digest, im->digest, sizeof c->digest);
    c->has_digest = im->has_digest;
    return c;
}

void pd_image_free(pd_image *im)
{
    if (!im)
        return;
    if (!im->pixels) {
        free(im->rgba);
    } else if (g_atomic_int_dec_and_test(&im->pixels->refs)) {
        free(im->pixels->rgba);
        free(im->pixels);
    }
    free(im->alt);
    free(im);
}
