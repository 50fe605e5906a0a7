/* Fuzzes data files (--data): safe XML reading and dotted-name values. */
#include "data.h"
#include "fuzz_common.h"
#include "vars.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    S_fuzz_init();
    (void)S_fuzz_schema();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = S_fuzz_file("data.xml", data, size);
    pd_values v;
    pd_values_init(&v);
    pd_error err = {0};
    (void)pd_data_load(path, S_fuzz_schema(), &v, &err);
    pd_values_free(&v);
    return 0;
}
