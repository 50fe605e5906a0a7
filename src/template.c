#include "template.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

#define MAX_INCLUDE_DEPTH 8
/* The document with every include expanded (an include used ten times
   counts ten times): far above any leaflet (a few hundred elements, 50 kB),
   far below what would take gigabytes to lay out. */
#define MAX_EXPANDED_ELEMENTS 20000
#define MAX_EXPANDED_TEXT (2L * 1024 * 1024)

static bool S_load_file(pd_template *t, const char *path, const xmlsafe_schema *rng, int depth,
                        xmlDocPtr *out, pd_error *err);

static bool S_safe_href(const char *href)
{
    size_t n = strlen(href);
    if (n == 0 || href[0] == '/' || n < 5 || strcmp(href + n - 4, ".xml") != 0)
        return false;
    /* no parent-folder steps, no control characters, no backslashes */
    for (const char *p = href; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '\\')
            return false;
    const char *p = href;
    while (p) {
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
            return false;
        p = strchr(p, '/');
        if (p)
            p++;
    }
    return true;
}

static bool S_load_includes(pd_template *t, xmlDocPtr doc, const char *path,
                            const xmlsafe_schema *rng, int depth, pd_error *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = root; n; n = xmlsafe_next(root, n, true)) {
        if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "include")) {
            xmlChar *href = xmlGetProp(n, BAD_CAST "href");
            if (!href || !S_safe_href((const char *)href)) {
                xmlFree(href);
                return pd_error_set(err, path, xmlGetLineNo(n),
                                    "include href must be a relative path to an .xml file inside "
                                    "the templates folder");
            }
            if (depth >= MAX_INCLUDE_DEPTH) {
                xmlFree(href);
                return pd_error_set(err, path, xmlGetLineNo(n),
                                    "includes nested deeper than %d (a cycle?)", MAX_INCLUDE_DEPTH);
            }
            char *dir = paths_dirname(path);
            char *fpath = paths_join(dir, (const char *)href);
            free(dir);
            xmlFree(href);
            bool seen = false;
            for (size_t i = 0; i < t->n_fragments; i++)
                if (strcmp(t->fragments[i].path, fpath) == 0)
                    seen = true;
            if (!seen) {
                xmlDocPtr fdoc = NULL;
                pd_error inner = {0};
                if (!S_load_file(t, fpath, rng, depth + 1, &fdoc, &inner)) {
                    if (strstr(inner.msg, "cannot open"))
                        pd_error_set(err, path, xmlGetLineNo(n), "cannot include %s", fpath);
                    else
                        *err = inner;
                    free(fpath);
                    return false;
                }
                xmlNodePtr froot = xmlDocGetRootElement(fdoc);
                if (!xmlStrEqual(froot->name, BAD_CAST "fragment")) {
                    xmlFreeDoc(fdoc);
                    pd_error_set(err, path, xmlGetLineNo(n), "%s is not a <fragment>", fpath);
                    free(fpath);
                    return false;
                }
                t->fragments = xrealloc(t->fragments, (t->n_fragments + 1) * sizeof *t->fragments);
                t->fragments[t->n_fragments].path = fpath;
                t->fragments[t->n_fragments].doc = fdoc;
                t->n_fragments++;
            } else {
                free(fpath);
            }
        }
    }
    return true;
}

/* A parsed file (taken, freed on failure): validated, named path, its
 * includes loaded. */
static bool S_load_doc(pd_template *t, xmlDocPtr doc, const char *path, const xmlsafe_schema *rng,
                       int depth, xmlDocPtr *out, pd_error *err)
{
    if (!xmlsafe_validate_with(doc, rng, path, err)) {
        xmlFreeDoc(doc);
        return false;
    }
    /* keep the display path as the document's URL: errors name it */
    if (doc->URL)
        xmlFree((xmlChar *)doc->URL);
    doc->URL = xmlStrdup(BAD_CAST path);
    if (!S_load_includes(t, doc, path, rng, depth, err)) {
        xmlFreeDoc(doc);
        return false;
    }
    *out = doc;
    return true;
}

static bool S_load_file(pd_template *t, const char *path, const xmlsafe_schema *rng, int depth,
                        xmlDocPtr *out, pd_error *err)
{
    xmlDocPtr doc = xmlsafe_read_file(path, err);
    return doc && S_load_doc(t, doc, path, rng, depth, out, err);
}

/* Sizes of a template file with its includes expanded, computed once per
 * file; state 1 marks a file being expanded, so a cycle of includes is
 * found instead of recursing for ever. */
typedef struct S_size {
    int state; /* 0 not yet, 1 in progress, 2 done */
    size_t elements, text;
} S_size;

static bool S_expand(const pd_template *t, xmlDocPtr doc, S_size *self, S_size *sizes,
                     pd_error *err)
{
    const char *file = doc->URL ? (const char *)doc->URL : t->path;
    self->state = 1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = root; n; n = xmlsafe_next(root, n, true)) {
        if (n->type == XML_TEXT_NODE && n->content)
            self->text += strlen((const char *)n->content);
        if (n->type != XML_ELEMENT_NODE)
            continue;
        self->elements++;
        if (xmlStrEqual(n->name, BAD_CAST "include")) {
            xmlNodePtr froot = pd_template_included(t, n);
            size_t i = 0;
            while (froot && i < t->n_fragments && t->fragments[i].doc != froot->doc)
                i++;
            if (froot && i < t->n_fragments) {
                if (sizes[i].state == 1)
                    return pd_error_set(err, file, xmlGetLineNo(n),
                                        "includes form a cycle: %s includes itself",
                                        t->fragments[i].path);
                if (sizes[i].state == 0 && !S_expand(t, froot->doc, &sizes[i], sizes, err))
                    return false;
                self->elements += sizes[i].elements;
                self->text += sizes[i].text;
            }
        }
        if (self->elements > MAX_EXPANDED_ELEMENTS || self->text > (size_t)MAX_EXPANDED_TEXT)
            return pd_error_set(err, file, xmlGetLineNo(n),
                                "with its includes expanded the document exceeds %d elements or "
                                "%ld bytes of text",
                                MAX_EXPANDED_ELEMENTS, MAX_EXPANDED_TEXT);
    }
    self->state = 2;
    return true;
}

static bool S_check_vars(xmlDocPtr doc, const char *path, const pd_schema *schema, pd_error *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = root; n; n = xmlsafe_next(root, n, true)) {
        bool named =
            n->type == XML_ELEMENT_NODE && xmlHasProp(n, BAD_CAST "name") &&
            (xmlStrEqual(n->name, BAD_CAST "var") || xmlStrEqual(n->name, BAD_CAST "if") ||
             xmlStrEqual(n->name, BAD_CAST "field") || xmlStrEqual(n->name, BAD_CAST "check"));
        if (named) {
            xmlChar *name = xmlGetProp(n, BAD_CAST "name");
            const pd_var_def *def = name ? pd_schema_find(schema, (const char *)name) : NULL;
            if (!def) {
                pd_error_set(err, path, xmlGetLineNo(n), "unknown variable '%s'",
                             name ? (const char *)name : "");
                xmlFree(name);
                return false;
            }
            xmlFree(name);
            xmlChar *list = xmlGetProp(n, BAD_CAST "is");
            if (!list)
                list = xmlGetProp(n, BAD_CAST "not");
            if (!list)
                list = xmlGetProp(n, BAD_CAST "value");
            if (list) {
                char *copy = xstrdup((const char *)list);
                xmlFree(list);
                char *save = NULL;
                for (char *w = strtok_r(copy, " \t\r\n", &save); w;
                     w = strtok_r(NULL, " \t\r\n", &save)) {
                    if (strcmp(w, "unset") == 0)
                        continue;
                    if (def->type != PD_VAR_CHOICE) {
                        pd_error_set(
                            err, path, xmlGetLineNo(n),
                            "'%s' is not a choice: a condition may only test it for 'unset'",
                            def->name);
                        free(copy);
                        return false;
                    }
                    if (!pd_var_def_choice(def, w)) {
                        strbuf sb = STRBUF_INIT;
                        for (size_t i = 0; i < def->n_choices; i++)
                            strbuf_printf(&sb, "%s, ", def->choices[i].value);
                        strbuf_append(&sb, "unset");
                        pd_error_set(err, path, xmlGetLineNo(n),
                                     "'%s' has no value '%s' (allowed: %s)", def->name, w,
                                     strbuf_str(&sb));
                        strbuf_free(&sb);
                        free(copy);
                        return false;
                    }
                }
                free(copy);
            }
        }
    }
    return true;
}

static pd_template *S_checked(pd_template *t, const pd_schema *schema, pd_error *err);

pd_template *pd_template_load(const char *name_or_path, const char *templates_dir, const char *rng,
                              const pd_schema *schema, pd_error *err)
{
    pd_template *t = xcalloc(1, sizeof *t);
    bool is_name = strchr(name_or_path, '/') == NULL && !paths_has_suffix(name_or_path, ".xml");
    if (is_name) {
        for (const char *p = name_or_path; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
                pd_error_set(err, NULL, 0, "'%.60s' is not a template name", name_or_path);
                free(t);
                return NULL;
            }
        char *file = xmalloc(strlen(name_or_path) + 5);
        sprintf(file, "%s.xml", name_or_path);
        char *full = paths_join(templates_dir, file);
        free(file);
        t->path = paths_display(full);
        free(full);
        if (!paths_exists(t->path)) {
            char **names = pd_template_list(templates_dir);
            strbuf sb = STRBUF_INIT;
            for (char **p = names; p && *p; p++)
                strbuf_printf(&sb, "%s%s", p == names ? "" : ", ", *p);
            pd_error_set(err, NULL, 0, "unknown template '%s' (available: %s)", name_or_path,
                         strbuf_str(&sb));
            strbuf_free(&sb);
            for (char **p = names; p && *p; p++)
                free(*p);
            free(names);
            free(t->path);
            free(t);
            return NULL;
        }
    } else {
        t->path = paths_display(name_or_path);
    }
    /* the schema parsed once for the template and all its fragments */
    xmlsafe_schema *schema_rng = xmlsafe_schema_load(rng, err);
    bool loaded = schema_rng && S_load_file(t, t->path, schema_rng, 0, &t->doc, err);
    xmlsafe_schema_free(schema_rng);
    if (!loaded) {
        pd_template_free(t);
        return NULL;
    }
    return S_checked(t, schema, err);
}

pd_template *pd_template_load_memory(const char *buf, size_t len, const char *path, const char *rng,
                                     const pd_schema *schema, pd_error *err)
{
    pd_template *t = xcalloc(1, sizeof *t);
    t->path = paths_display(path);
    xmlDocPtr doc = xmlsafe_read_memory(buf, len, t->path, 0, err);
    xmlsafe_schema *schema_rng = doc ? xmlsafe_schema_load(rng, err) : NULL;
    bool loaded = schema_rng && S_load_doc(t, doc, t->path, schema_rng, 0, &t->doc, err);
    xmlsafe_schema_free(schema_rng);
    if (!loaded) {
        if (doc && !schema_rng)
            xmlFreeDoc(doc);
        pd_template_free(t);
        return NULL;
    }
    return S_checked(t, schema, err);
}

/* The checks after loading: the root, the size with includes expanded,
 * the variables. Returns t, or NULL (freeing it) with err set. */
static pd_template *S_checked(pd_template *t, const pd_schema *schema, pd_error *err)
{
    xmlNodePtr root = xmlDocGetRootElement(t->doc);
    if (!xmlStrEqual(root->name, BAD_CAST "document")) {
        pd_error_set(err, t->path, xmlGetLineNo(root),
                     "a template's root must be <document>, not <%s>", (const char *)root->name);
        goto fail;
    }
    xmlChar *name = xmlGetProp(root, BAD_CAST "name");
    t->name = xstrdup((const char *)name);
    xmlFree(name);
    S_size whole = {0};
    S_size *sizes = xcalloc(t->n_fragments + 1, sizeof *sizes);
    bool bounded = S_expand(t, t->doc, &whole, sizes, err);
    free(sizes);
    if (!bounded)
        goto fail;
    if (!S_check_vars(t->doc, t->path, schema, err))
        goto fail;
    for (size_t i = 0; i < t->n_fragments; i++)
        if (!S_check_vars(t->fragments[i].doc, t->fragments[i].path, schema, err))
            goto fail;
    return t;
fail:
    pd_template_free(t);
    return NULL;
}

void pd_template_free(pd_template *t)
{
    if (!t)
        return;
    if (t->doc)
        xmlFreeDoc(t->doc);
    for (size_t i = 0; i < t->n_fragments; i++) {
        xmlFreeDoc(t->fragments[i].doc);
        free(t->fragments[i].path);
    }
    free(t->fragments);
    free(t->name);
    free(t->path);
    free(t);
}

xmlNodePtr pd_template_included(const pd_template *t, xmlNodePtr include)
{
    xmlChar *href = xmlGetProp(include, BAD_CAST "href");
    const char *from = pd_template_file_of(t, include);
    char *dir = paths_dirname(from);
    char *fpath = paths_join(dir, (const char *)href);
    free(dir);
    xmlFree(href);
    xmlNodePtr root = NULL;
    for (size_t i = 0; i < t->n_fragments; i++)
        if (strcmp(t->fragments[i].path, fpath) == 0)
            root = xmlDocGetRootElement(t->fragments[i].doc);
    free(fpath);
    return root;
}

const char *pd_template_file_of(const pd_template *t, xmlNodePtr node)
{
    if (node->doc && node->doc->URL)
        return (const char *)node->doc->URL;
    return t->path;
}

static int S_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **pd_template_list(const char *templates_dir)
{
    size_t n = 0;
    char **names = xcalloc(1, sizeof *names);
    DIR *d = opendir(templates_dir);
    if (!d)
        return names;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".xml") == 0 && e->d_name[0] != '.' &&
            strcmp(e->d_name, "variables.xml") != 0) {
            names = xrealloc(names, (n + 2) * sizeof *names);
            names[n++] = xstrndup(e->d_name, len - 4);
            names[n] = NULL;
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, S_cmp);
    return names;
}
