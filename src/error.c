#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool pd_error_set(pd_error *err, const char *file, long line, const char *fmt, ...)
{
    if (!err || err->set)
        return false;
    size_t off = 0;
    if (file && line > 0)
        off = (size_t)snprintf(err->msg, sizeof err->msg, "%s:%ld: ", file, line);
    else if (file)
        off = (size_t)snprintf(err->msg, sizeof err->msg, "%s: ", file);
    if (off >= sizeof err->msg)
        off = sizeof err->msg - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + off, sizeof err->msg - off, fmt, ap);
    va_end(ap);
    /* one line, whatever the message held */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    err->located = file != NULL;
    err->set = true;
    return false;
}
