/* The registry of the template language's elements agrees with the
 * grammar (templates/pildoc.rng) and with what xgettext extracts
 * (po/pildoc.its): an element added to one and not the others fails here. */
#include <check.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"
#include "error.h"
#include "message.h"
#include "xmlsafe.h"

/* Each entry's id is its place in the table, so bind.c's switch (which
   has no default: -Wswitch names an element without a binder) and the
   registry cannot drift apart; every element of the grammar has one. */
START_TEST(elements_have_ids_in_order)
{
    size_t n;
    const pd_element *e = pd_elements(&n);
    ck_assert_uint_eq(n, PD_EL_COUNT);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(e[i].id, i);
        ck_assert_ptr_eq(pd_element_find(e[i].name), &e[i]);
        /* only inline elements have rules inside a message */
        if (e[i].role != PD_ELEMENT_INLINE)
            ck_assert(!e[i].empty && !e[i].attributes && !e[i].required);
        if (e[i].required)
            ck_assert(pd_element_allows(&e[i], e[i].required));
    }
    ck_assert_ptr_null(pd_element_find("blink"));
    ck_assert_ptr_null(pd_element_find(""));
}
END_TEST

START_TEST(elements_allow_their_attributes)
{
    const pd_element *num = pd_element_find("num"), *var = pd_element_find("var");
    ck_assert(pd_element_allows(num, "value"));
    ck_assert(pd_element_allows(num, "style"));
    ck_assert(pd_element_allows(num, "decimals"));
    ck_assert(!pd_element_allows(num, "dec"));
    ck_assert(!pd_element_allows(num, "values"));
    ck_assert(!pd_element_allows(num, "name"));
    ck_assert(pd_element_allows(var, "name"));
    ck_assert(!pd_element_allows(var, "value"));
    ck_assert(!pd_element_allows(pd_element_find("b"), "name"));
    ck_assert(!pd_element_allows(pd_element_find("br"), ""));
}
END_TEST

/* The registry's rules as a translator meets them: one line naming
   file:line, the element and what is wrong. */
static const struct {
    const char *msg, *error;
} S_bad_messages[] = {
    {"a <blink>b</blink>", "fr.po:7: fr translation: unknown inline element <blink>"},
    {"a <p>b</p>", "fr.po:7: fr translation: unknown inline element <p>"},
    {"a <br>b</br>", "fr.po:7: fr translation: <br> must be empty"},
    {"a <var name=\"x\">b</var>", "fr.po:7: fr translation: <var> must be empty"},
    {"a <num value=\"x\" dec=\"2\"/>", "fr.po:7: fr translation: unknown attribute 'dec' on <num>"},
    {"a <var name=\"x\" value=\"y\"/>",
     "fr.po:7: fr translation: unknown attribute 'value' on <var>"},
    {"a <b class=\"x\">b</b>", "fr.po:7: fr translation: unknown attribute 'class' on <b>"},
    {"a <var/>", "fr.po:7: fr translation: <var> needs a name"},
    {"a <num style=\"percent\"/>", "fr.po:7: fr translation: <num> needs a value"},
};

START_TEST(messages_follow_the_registry)
{
    pd_error err = {0};
    xmlDocPtr ok = message_parse("<b>a</b> <i>b</i><br/><var name=\"x\"/> <num value=\"y\" "
                                 "style=\"percent\" decimals=\"1\"/>",
                                 "fr.po", 7, "fr translation", &err);
    ck_assert_msg(ok, "%s", err.msg);
    xmlFreeDoc(ok);
    for (size_t i = 0; i < sizeof S_bad_messages / sizeof S_bad_messages[0]; i++) {
        pd_error bad = {0};
        ck_assert_ptr_null(
            message_parse(S_bad_messages[i].msg, "fr.po", 7, "fr translation", &bad));
        ck_assert_str_eq(bad.msg, S_bad_messages[i].error);
    }
}
END_TEST

/* Plain messages are built without the parser (message.c): the tree must
 * be the parser's, node for node; the others still go through the parser
 * (a CR is normalised, a control character refused). */
static char *S_tree(xmlDocPtr doc)
{
    xmlChar *out = NULL;
    int len = 0;
    xmlDocDumpMemory(doc, &out, &len);
    char *s = strdup((const char *)out);
    xmlFree(out);
    return s;
}

START_TEST(plain_messages_are_the_parsers_tree)
{
    static const char *const plain[] = {"",
                                        "Ketamine",
                                        "  two  spaces\tand a tab\n ",
                                        "氯胺酮是一种麻醉药。",
                                        "a ]] b \" ' =",
                                        "ééé ß 𝄞"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        pd_error err = {0};
        xmlDocPtr built = message_parse(plain[i], "t.xml", 1, "src", &err);
        ck_assert_msg(built, "%s", err.msg);
        char *m = NULL;
        ck_assert_int_ge(asprintf(&m, "<m>%s</m>", plain[i]), 0);
        xmlDocPtr parsed = xmlsafe_read_memory(m, strlen(m), "t.xml", 1, &err);
        ck_assert_msg(parsed, "%s", err.msg);
        char *a = S_tree(built), *b = S_tree(parsed);
        ck_assert_str_eq(a, b);
        xmlNodePtr ra = xmlDocGetRootElement(built), rb = xmlDocGetRootElement(parsed);
        ck_assert_int_eq((int)xmlChildElementCount(ra), 0);
        ck_assert_int_eq(ra->children == NULL, rb->children == NULL);
        if (ra->children) {
            ck_assert_ptr_null(ra->children->next);
            ck_assert_ptr_null(rb->children->next);
            ck_assert_int_eq(ra->children->type, rb->children->type);
            ck_assert_str_eq((const char *)ra->children->content,
                             (const char *)rb->children->content);
        }
        free(a);
        free(b);
        free(m);
        xmlFreeDoc(built);
        xmlFreeDoc(parsed);
    }
    pd_error err = {0};
    xmlDocPtr crlf = message_parse("a\r\nb", "t.xml", 1, "src", &err);
    ck_assert_msg(crlf, "%s", err.msg);
    ck_assert_str_eq((const char *)xmlDocGetRootElement(crlf)->children->content, "a\nb");
    xmlFreeDoc(crlf);
    xmlDocPtr amp = message_parse("a &amp; b", "t.xml", 1, "src", &err);
    ck_assert_msg(amp, "%s", err.msg);
    ck_assert_str_eq((const char *)xmlDocGetRootElement(amp)->children->content, "a & b");
    xmlFreeDoc(amp);
    ck_assert_ptr_null(message_parse("a \x01 b", "t.xml", 1, "src", &err));
    pd_error err2 = {0};
    ck_assert_ptr_null(message_parse("a \xef\xbf\xbf b", "t.xml", 1, "src", &err2));
    pd_error err3 = {0};
    ck_assert_ptr_null(message_parse("a \xc3 b", "t.xml", 1, "src", &err3));
}
END_TEST

TCase *pd_test_elements_tcase(void);

/* "a b c": names joined by spaces, sorted, for comparing sets. */
static int S_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *S_sorted(char **names, size_t n)
{
    qsort(names, n, sizeof *names, S_cmp);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(names[i]) + 1;
    char *out = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(names[i], names[i - 1]) == 0)
            continue; /* a set */
        if (*out)
            strcat(out, " ");
        strcat(out, names[i]);
    }
    return out;
}

/* The registry's names that pass keep(), sorted. */
static char *S_registry(bool (*keep)(const pd_element *))
{
    size_t n;
    const pd_element *e = pd_elements(&n);
    char **names = calloc(n, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep(&e[i]))
            names[k++] = (char *)e[i].name;
    char *out = S_sorted(names, k);
    free(names);
    return out;
}

static bool S_any(const pd_element *e)
{
    (void)e;
    return true;
}

static bool S_translatable(const pd_element *e)
{
    return e->translatable;
}

static bool S_inline(const pd_element *e)
{
    return e->role == PD_ELEMENT_INLINE;
}

/* The names of an ITS selector "//a | //b | //c" (without skip). */
static char *S_selector_names(const char *selector, const char *skip)
{
    char *copy = strdup(selector), *save = NULL;
    char *names[128] = {NULL};
    size_t n = 0;
    for (char *w = strtok_r(copy, " |", &save); w && n < 128; w = strtok_r(NULL, " |", &save)) {
        while (*w == '/')
            w++;
        if (!skip || strcmp(w, skip) != 0)
            names[n++] = w;
    }
    char *out = S_sorted(names, n);
    free(copy);
    return out;
}

START_TEST(elements_agree_with_the_grammar)
{
    xmlDocPtr rng = xmlReadFile("templates/pildoc.rng", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(rng);
    char *names[256] = {NULL};
    size_t n = 0;
    xmlNodePtr root = xmlDocGetRootElement(rng);
    for (xmlNodePtr x = root; x;) {
        if (x->type == XML_ELEMENT_NODE && xmlStrEqual(x->name, BAD_CAST "element") && n < 256) {
            xmlChar *name = xmlGetProp(x, BAD_CAST "name");
            if (name)
                names[n++] = (char *)name;
        }
        /* depth first */
        if (x->children)
            x = x->children;
        else {
            while (x && !x->next && x != root)
                x = x->parent;
            x = x && x != root ? x->next : NULL;
        }
    }
    char *grammar = S_sorted(names, n), *registry = S_registry(S_any);
    ck_assert_str_eq(grammar, registry);
    for (size_t i = 0; i < n; i++)
        xmlFree(names[i]);
    free(grammar);
    free(registry);
    xmlFreeDoc(rng);
}
END_TEST

START_TEST(elements_agree_with_the_its_rules)
{
    xmlDocPtr its = xmlReadFile("po/pildoc.its", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(its);
    char *messages = NULL, *inside = NULL;
    for (xmlNodePtr x = xmlDocGetRootElement(its)->children; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *sel = xmlGetProp(x, BAD_CAST "selector");
        xmlChar *tr = xmlGetProp(x, BAD_CAST "translate");
        /* choice: the variables.xml element whose labels are translated */
        if (xmlStrEqual(x->name, BAD_CAST "translateRule") && tr &&
            xmlStrEqual(tr, BAD_CAST "yes") && sel && strstr((const char *)sel, "//title"))
            messages = S_selector_names((const char *)sel, "choice");
        if (xmlStrEqual(x->name, BAD_CAST "withinTextRule") && sel)
            inside = S_selector_names((const char *)sel, NULL);
        xmlFree(sel);
        xmlFree(tr);
    }
    ck_assert_ptr_nonnull(messages);
    ck_assert_ptr_nonnull(inside);
    char *translatable = S_registry(S_translatable), *inl = S_registry(S_inline);
    ck_assert_str_eq(messages, translatable);
    ck_assert_str_eq(inside, inl);
    /* and the catalogs' checks ask the registry */
    ck_assert(message_is_translatable("labelbox"));
    ck_assert(!message_is_translatable("keep"));
    ck_assert(!message_is_translatable("nonesuch"));
    free(messages);
    free(inside);
    free(translatable);
    free(inl);
    xmlFreeDoc(its);
}
END_TEST

TCase *pd_test_elements_tcase(void)
{
    TCase *tc = tcase_create("elements");
    tcase_add_test(tc, elements_agree_with_the_grammar);
    tcase_add_test(tc, elements_agree_with_the_its_rules);
    tcase_add_test(tc, elements_have_ids_in_order);
    tcase_add_test(tc, elements_allow_their_attributes);
    tcase_add_test(tc, messages_follow_the_registry);
    tcase_add_test(tc, plain_messages_are_the_parsers_tree);
    return tc;
}
