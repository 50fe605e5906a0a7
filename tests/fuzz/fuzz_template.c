/* Fuzzes template loading (parse, schema, includes, variable check), then
 * binding and layout of whatever loads. */
#include "bind.h"
#include "fonts.h"
#include "fuzz_common.h"
#include "layout.h"
#include "template.h"
#include "vars.h"

static pd_fonts *S_fonts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    S_fuzz_init();
    pd_error err = {0};
    S_fonts = pd_fonts_new("fonts", "build/fontcache", &err);
    if (!S_fonts)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* in the templates folder, so that includes of real fragments resolve */
    char path[128];
    snprintf(path, sizeof path, "templates/.fuzz-%d.xml", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    pd_error err = {0};
    pd_template *t =
        pd_template_load(path, "templates", "templates/pildoc.rng", S_fuzz_schema(), &err);
    unlink(path);
    if (!t)
        return 0;
    pd_values v;
    pd_values_init(&v);
    static pd_lang *en; /* the source language: no catalog */
    if (!en)
        en = pd_lang_load("build/locale", "en", &err);
    pd_doc *doc = pd_bind(t, S_fuzz_schema(), &v, en, NULL, NULL, &err);
    if (doc) {
        pd_pages *pages = pd_layout(doc, S_fonts, pd_paper_find("a4"), &err);
        pd_pages_free(pages);
    }
    pd_doc_free(doc);
    pd_values_free(&v);
    pd_template_free(t);
    return 0;
}
