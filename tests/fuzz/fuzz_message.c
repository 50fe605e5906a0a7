/* Fuzzes translated inline markup: "msgid\0msgstr" -> parsing, placeholder
 * checks, and the catalog check translators' builds run. */
#include "catalog.h"
#include "fuzz_common.h"
#include "message.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    S_fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    const char *msgid = buf, *msgstr = buf + strlen(buf) + 1;
    if (msgstr > buf + size)
        msgstr = buf + size;
    pd_error e1 = {0}, e2 = {0};
    xmlDocPtr a = message_parse(msgid, "fuzz.po", 1, "original", &e1);
    xmlDocPtr b = message_parse(msgstr, "fuzz.po", 1, "translation", &e2);
    char why[300];
    if (a && b)
        (void)message_same_placeholders(a, b, why, sizeof why);
    (void)catalog_check_translation(msgid, msgstr, why, sizeof why);
    if (a)
        xmlFreeDoc(a);
    if (b)
        xmlFreeDoc(b);
    free(buf);
    return 0;
}
