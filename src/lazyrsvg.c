/* librsvg, opened at the first SVG (see lazylib.h): the functions image.c
 * calls, forwarded. */
#include <librsvg/rsvg.h>

#include "lazylib.h"

#ifndef PD_RSVG_SONAME
#define PD_RSVG_SONAME "librsvg-2.so.2"
#endif

enum { NEW_FROM_DATA, INTRINSIC_SIZE, GEOMETRY, RENDER_DOCUMENT };
static const char *const S_names[] = {
    "rsvg_handle_new_from_data", "rsvg_handle_get_intrinsic_size_in_pixels",
    "rsvg_handle_get_geometry_for_element", "rsvg_handle_render_document", NULL};
static void *S_fns[sizeof S_names / sizeof *S_names];
static pd_lazylib S_lib = PD_LAZYLIB_INIT(PD_RSVG_SONAME, S_names, S_fns);

RsvgHandle *rsvg_handle_new_from_data(const guint8 *data, gsize data_len, GError **error)
{
    if (!pd_lazylib_open(&S_lib)) {
        g_set_error(error, g_quark_from_static_string("pildoc-lazylib"), 0, "%s", S_lib.why);
        return NULL;
    }
    RsvgHandle *(*fn)(const guint8 *, gsize, GError **) = S_fns[NEW_FROM_DATA];
    return fn(data, data_len, error);
}

gboolean rsvg_handle_get_intrinsic_size_in_pixels(RsvgHandle *handle, gdouble *out_width,
                                                  gdouble *out_height)
{
    gboolean (*fn)(RsvgHandle *, gdouble *, gdouble *) = pd_lazylib_fn(&S_lib, INTRINSIC_SIZE);
    return fn(handle, out_width, out_height);
}

gboolean rsvg_handle_get_geometry_for_element(RsvgHandle *handle, const char *id,
                                              RsvgRectangle *out_ink_rect,
                                              RsvgRectangle *out_logical_rect, GError **error)
{
    gboolean (*fn)(RsvgHandle *, const char *, RsvgRectangle *, RsvgRectangle *, GError **) =
        pd_lazylib_fn(&S_lib, GEOMETRY);
    return fn(handle, id, out_ink_rect, out_logical_rect, error);
}

gboolean rsvg_handle_render_document(RsvgHandle *handle, cairo_t *cr, const RsvgRectangle *viewport,
                                     GError **error)
{
    gboolean (*fn)(RsvgHandle *, cairo_t *, const RsvgRectangle *, GError **) =
        pd_lazylib_fn(&S_lib, RENDER_DOCUMENT);
    return fn(handle, cr, viewport, error);
}
