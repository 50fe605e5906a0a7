/* Fuzzes batch job files, XML and CSV (the first byte chooses). */
#include "fuzz_common.h"
#include "jobsrc.h"
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
    if (size < 1)
        return 0;
    const char *path = S_fuzz_file(data[0] & 1 ? "jobs.csv" : "jobs.xml", data + 1, size - 1);
    pd_error err = {0};
    pd_jobsrc *src = pd_jobsrc_open(path, S_fuzz_schema(), &err);
    if (!src)
        return 0;
    pd_jobspec job;
    for (int i = 0; i < 10000 && pd_jobsrc_next(src, &job, &err) == 1; i++)
        pd_jobspec_clear(&job);
    pd_jobsrc_close(src);
    return 0;
}
