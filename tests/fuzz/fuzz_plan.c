/* Fuzzes the layout plan's reader (layoutplan.h): any bytes as a plan
 * file's payload are read whole or refused (0 paragraphs), never read
 * past; the first paragraphs of what is read are shaped with the shipped
 * fonts as the render's second thread would. The corpus starts from the
 * payload of a real plan (tests/fuzz/corpus/plan). */
#include "fonts.h"
#include "fuzz_common.h"
#include "layoutplan.h"
#include "renderer.h"

static pd_env S_env;
static pd_fonts *S_fonts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    S_fuzz_init();
    pd_env_init(&S_env);
    pd_error err = {0};
    S_fonts = pd_fonts_new(S_env.fonts_dir, S_env.font_cache, &err);
    if (!S_fonts)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = pd_layoutplan_parse(data, size, S_fonts, 8);
    /* a paragraph takes at least 45 bytes (its numbers and counts) */
    if (n > size / 45)
        abort();
    return 0;
}
