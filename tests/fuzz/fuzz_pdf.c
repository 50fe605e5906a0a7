/* Fuzzes the PDF writer with any text a value can hold: the input (first
 * byte: the language; the rest: a patient's name, in any script) is set
 * on a consent sheet, which is laid out and written as a PDF (the first
 * byte also picks large print, the Paris clinic's profile with its logo,
 * and the paper). A written
 * file must be well formed: header, every cross-reference entry at its
 * object, trailer and end marker. Exercises glyph clusters, ToUnicode and
 * ActualText, base and extra font subsets, and the caches across inputs. */
#include "fuzz_common.h"
#include "paths.h"
#include "renderer.h"

static pd_env S_env;
static pd_renderer *S_r;
static char *S_paris;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    S_fuzz_init();
    pd_env_init(&S_env);
    pd_error err = {0};
    S_r = pd_renderer_new(&S_env, &err);
    if (!S_r)
        abort();
    S_paris = paths_join(S_env.templates_dir, "clinics/paris.xml");
    return 0;
}

static void S_check_pdf(const strbuf *pdf)
{
    const char *d = pdf->data;
    size_t n = pdf->len;
    if (n < 32 || memcmp(d, "%PDF-1.7\n", 9) != 0 || memcmp(d + n - 6, "%%EOF\n", 6) != 0)
        abort();
    const char *sx = memmem(d + n - 40, 40, "startxref\n", 10);
    if (!sx)
        abort();
    size_t xref = strtoul(sx + 10, NULL, 10);
    if (xref >= n || memcmp(d + xref, "xref\n0 ", 7) != 0)
        abort();
    unsigned count = (unsigned)strtoul(d + xref + 7, NULL, 10);
    const char *entry = strchr(d + xref + 7, '\n') + 1 + 20; /* after object 0 */
    for (unsigned i = 1; i < count; i++, entry += 20) {
        size_t at = strtoul(entry, NULL, 10);
        char head[24];
        int k = snprintf(head, sizeof head, "%u 0 obj\n", i);
        if (at >= n || memcmp(d + at, head, (size_t)k) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    static const char *const langs[] = {"en", "fr", "zh_CN"};
    char *name = strndup((const char *)data + 1, size - 1);
    pd_values values;
    pd_values_init(&values);
    pd_error err = {0};
    if (pd_values_set(&values, pd_renderer_schema(S_r), "patient.name", name, "fuzz", 1, &err)) {
        unsigned pick = data[0] / 3;
        pd_job job = {.template_name = "consent",
                      .lang = langs[data[0] % 3],
                      .paper = pd_paper_find(pick & 4 ? "letter" : "a4"),
                      .values = &values,
                      .format = PD_FORMAT_PDF,
                      .large_print = pick & 1,
                      .clinic = pick & 2 ? S_paris : NULL};
        pd_job_result res;
        if (pd_renderer_render(S_r, &job, &res, &err))
            S_check_pdf(&res.bytes);
        pd_job_result_free(&res);
    }
    pd_values_free(&values);
    free(name);
    return 0;
}
