#include "formats.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const pd_format_info S_formats[] = {
    {PD_FORMAT_PDF, "pdf", "pdf", "application/pdf"},
    {PD_FORMAT_PNG, "png", "png", "image/png"},
    {PD_FORMAT_TEXT, "text", "txt", "text/plain; charset=utf-8"},
};

#define S_COUNT (sizeof S_formats / sizeof S_formats[0])

const pd_format_info *pd_format_by_name(const char *name)
{
    for (size_t i = 0; i < S_COUNT; i++)
        if (strcmp(S_formats[i].name, name) == 0)
            return &S_formats[i];
    return NULL;
}

const pd_format_info *pd_format_of(pd_format format)
{
    for (size_t i = 0; i < S_COUNT; i++)
        if (S_formats[i].format == format)
            return &S_formats[i];
    return &S_formats[0];
}

void pd_format_names(char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < S_COUNT && used < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == S_COUNT ? " or " : ", ";
        int n = snprintf(buf + used, size - used, "%s%s", sep, S_formats[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
