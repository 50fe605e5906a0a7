#include "pdfdeflate.h"

#include <zlib.h>

static int S_requested = -1;

int pd_deflate_requested_level(void)
{
    return S_requested;
}

/* Interposes libz's deflateInit_ (see the header). The prototype is zlib's. */
int deflateInit_(z_streamp strm, int level, const char *version, int stream_size)
{
    S_requested = level;
    return deflateInit2_(strm, PD_DEFLATE_LEVEL, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                         version, stream_size);
}
