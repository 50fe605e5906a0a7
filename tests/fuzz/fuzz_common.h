/* Shared set-up of the libFuzzer harnesses: run from the source tree
 * (PILDOC_DATADIR, set by make fuzz), inputs written to a private temp
 * folder when the code under test reads files. */
#ifndef PILDOC_FUZZ_COMMON_H
#define PILDOC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang.h"
#include "vars.h"
#include "xmlsafe.h"

static char S_fuzz_dir[64];

__attribute__((unused)) static void S_fuzz_init(void)
{
    const char *datadir = getenv("PILDOC_DATADIR");
    if (datadir && chdir(datadir) != 0)
        abort();
    snprintf(S_fuzz_dir, sizeof S_fuzz_dir, "/tmp/pildoc-fuzz.XXXXXX");
    if (!mkdtemp(S_fuzz_dir))
        abort();
    lang_init();
    xmlsafe_init();
}

/* The data schema, loaded once (abort: a harness without it tests nothing). */
__attribute__((unused)) static pd_schema *S_fuzz_schema(void)
{
    static pd_schema *schema;
    if (!schema) {
        pd_error err = {0};
        schema = pd_schema_load("templates/variables.xml", &err);
        if (!schema)
            abort();
    }
    return schema;
}

/* Writes the input to S_fuzz_dir/name and returns the path (static). */
__attribute__((unused)) static const char *S_fuzz_file(const char *name, const uint8_t *data,
                                                       size_t size)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", S_fuzz_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    return path;
}

#endif
