/* Fuzzes data files (--data): safe XML reading and dotted-name values. */
#include "data.h"
#include "fuzz_common.h"
#include "vars.h"

static pd_schema *S_schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    S_fuzz_init();
    pd_error err = {0};
    S_schema = pd_schema_load("templates/variables.xml", &err);
    if (!S_schema)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = S_fuzz_file("data.xml", data, size);
    pd_values v;
    pd_values_init(&v);
    pd_error err = {0};
    (void)pd_data_load(path, S_schema, &v, &err);
    pd_values_free(&v);
    return 0;
}
