/* Fuzzes the compiled-catalog reader: any bytes either load (then every
 * look-up, plural forms included, stays inside the file) or give one
 * error line; and the Plural-Forms expression parser on its own. */
#include "fuzz_common.h"
#include "mofile.h"
#include "plural.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    S_fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pd_error err = {0};
    pd_mo *mo = pd_mo_from_memory(data, size, "fuzz.mo", &err);
    if (!mo) {
        if (!err.set || strchr(err.msg, '\n'))
            abort(); /* a refusal is exactly one line */
    } else {
        static const char *const keys[] = {"", "a", "month\004May", "{n} session", "zzz"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const char *t = pd_mo_gettext(mo, NULL, keys[i]);
            if (t)
                (void)strlen(t);
            for (unsigned long n = 0; n < 4; n++) {
                t = pd_mo_ngettext(mo, NULL, keys[i], n);
                if (t)
                    (void)strlen(t);
            }
        }
        pd_mo_free(mo);
    }
    /* the bytes as a Plural-Forms expression */
    char *expr = malloc(size + 1);
    if (!expr)
        return 0;
    memcpy(expr, data, size);
    expr[size] = '\0';
    char why[160];
    pd_plural *p = pd_plural_parse(expr, why, sizeof why);
    if (p) {
        for (unsigned long n = 0; n < 8; n++)
            (void)pd_plural_eval(p, n);
        (void)pd_plural_eval(p, ~0UL);
        pd_plural_free(p);
    }
    free(expr);
    return 0;
}
