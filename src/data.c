#include "data.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

static bool S_has_element_child(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

static bool S_only_space(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* The element's text with the indentation of a pretty-printed file (leading
 * and trailing white space) removed; inner text is kept as written. */
static char *S_leaf_value(xmlNodePtr n)
{
    xmlChar *raw = xmlNodeGetContent(n);
    const char *s = raw ? (const char *)raw : "";
    size_t len = strlen(s);
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    size_t start = 0;
    while (start < len &&
           (s[start] == ' ' || s[start] == '\t' || s[start] == '\n' || s[start] == '\r'))
        start++;
    char *value = xstrndup(s + start, len - start);
    xmlFree(raw);
    return value;
}

static bool S_walk(xmlNodePtr parent, const char *prefix, const char *file, const pd_schema *schema,
                   pd_values *values, strbuf *seen, pd_error *err)
{
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        long line = xmlGetLineNo(n);
        if (n->type == XML_TEXT_NODE) {
            if (!S_only_space(n->content))
                return pd_error_set(err, file, line, "text outside any field");
            continue;
        }
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (n->properties)
            return pd_error_set(err, file, line, "<%s> has attributes; data elements take none",
                                (const char *)n->name);
        strbuf name = STRBUF_INIT;
        if (*prefix)
            strbuf_printf(&name, "%s.", prefix);
        strbuf_append(&name, (const char *)n->name);
        bool ok;
        if (S_has_element_child(n)) {
            ok = S_walk(n, name.data, file, schema, values, seen, err);
        } else {
            const pd_var_def *def = pd_schema_find(schema, name.data);
            if (def && def->from) {
                ok = pd_error_set(err, file, line, "'%s' %s and cannot be set", name.data,
                                  def->why_set);
            } else {
                /* seen holds "\nname\n" for every name met so far */
                strbuf key = STRBUF_INIT;
                strbuf_printf(&key, "\n%s\n", name.data);
                if (strstr(strbuf_str(seen), key.data)) {
                    ok = pd_error_set(err, file, line, "'%s' is given twice", name.data);
                } else {
                    char *value = S_leaf_value(n);
                    ok = pd_values_set(values, schema, name.data, value, file, line, err);
                    free(value);
                    strbuf_append(seen, key.data + (seen->len ? 1 : 0));
                }
                strbuf_free(&key);
            }
        }
        strbuf_free(&name);
        if (!ok)
            return false;
    }
    return true;
}

static bool S_load(const char *path, bool nofollow, const pd_schema *schema, pd_values *values,
                   pd_error *err)
{
    char *shown = paths_display(path);
    xmlDocPtr doc =
        nofollow ? xmlsafe_read_file_nofollow(shown, err) : xmlsafe_read_file(shown, err);
    if (!doc) {
        free(shown);
        return false;
    }
    bool ok = pd_data_from_node(xmlDocGetRootElement(doc), shown, schema, values, err);
    xmlFreeDoc(doc);
    free(shown);
    return ok;
}

bool pd_data_load(const char *path, const pd_schema *schema, pd_values *values, pd_error *err)
{
    return S_load(path, false, schema, values, err);
}

bool pd_data_load_nofollow(const char *path, const pd_schema *schema, pd_values *values,
                           pd_error *err)
{
    return S_load(path, true, schema, values, err);
}

bool pd_data_load_memory(const char *buf, size_t len, const char *file, const pd_schema *schema,
                         pd_values *values, pd_error *err)
{
    xmlDocPtr doc = xmlsafe_read_memory(buf, len, file, 0, err);
    if (!doc)
        return false;
    bool ok = pd_data_from_node(xmlDocGetRootElement(doc), file, schema, values, err);
    xmlFreeDoc(doc);
    return ok;
}

bool pd_data_from_node(xmlNodePtr data, const char *file, const pd_schema *schema,
                       pd_values *values, pd_error *err)
{
    strbuf seen = STRBUF_INIT;
    bool ok = S_walk(data, "", file, schema, values, &seen, err);
    strbuf_free(&seen);
    return ok;
}
