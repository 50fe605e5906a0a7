#include "vars.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "langname.h"
#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

static bool S_valid_name(const char *s)
{
    /* [a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)* */
    bool start = true;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (start) {
            if (*s < 'a' || *s > 'z')
                return false;
            start = false;
        } else if (*s == '.') {
            start = true;
        } else if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) {
            return false;
        }
    }
    return !start;
}

pd_schema *pd_schema_load(const char *path, pd_error *err)
{
    xmlDocPtr doc = xmlsafe_read_file(path, err);
    if (!doc)
        return NULL;
    pd_schema *schema = xcalloc(1, sizeof *schema);
    schema->file = paths_display(path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || !xmlStrEqual(root->name, BAD_CAST "variables")) {
        pd_error_set(err, path, root ? xmlGetLineNo(root) : 0, "expected a <variables> element");
        goto fail;
    }
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        long line = xmlGetLineNo(n);
        if (!xmlStrEqual(n->name, BAD_CAST "variable")) {
            pd_error_set(err, path, line, "unknown element <%s>", (const char *)n->name);
            goto fail;
        }
        xmlChar *name = xmlGetProp(n, BAD_CAST "name");
        xmlChar *type = xmlGetProp(n, BAD_CAST "type");
        xmlChar *width = xmlGetProp(n, BAD_CAST "width");
        xmlChar *unit = xmlGetProp(n, BAD_CAST "unit");
        xmlChar *from = xmlGetProp(n, BAD_CAST "from");
        xmlChar *attribute = xmlGetProp(n, BAD_CAST "attribute");
        bool ok = name && S_valid_name((const char *)name);
        pd_var_type t = PD_VAR_TEXT;
        if (ok && type) {
            if (xmlStrEqual(type, BAD_CAST "text"))
                t = PD_VAR_TEXT;
            else if (xmlStrEqual(type, BAD_CAST "choice"))
                t = PD_VAR_CHOICE;
            else if (xmlStrEqual(type, BAD_CAST "date"))
                t = PD_VAR_DATE;
            else if (xmlStrEqual(type, BAD_CAST "count"))
                t = PD_VAR_COUNT;
            else if (xmlStrEqual(type, BAD_CAST "language"))
                t = PD_VAR_LANGUAGE;
            else
                ok = false;
        }
        if (!ok) {
            pd_error_set(err, path, line,
                         "a <variable> needs a valid name and a type of text, choice, date, count "
                         "or language");
            xmlFree(name);
            xmlFree(type);
            xmlFree(width);
            goto fail;
        }
        if (pd_schema_find(schema, (const char *)name)) {
            pd_error_set(err, path, line, "variable '%s' is defined twice", (const char *)name);
            xmlFree(name);
            xmlFree(type);
            xmlFree(width);
            xmlFree(unit);
            xmlFree(from);
            xmlFree(attribute);
            goto fail;
        }
        schema->defs = xrealloc(schema->defs, (schema->n_defs + 1) * sizeof *schema->defs);
        pd_var_def *def = &schema->defs[schema->n_defs++];
        memset(def, 0, sizeof *def);
        def->name = xstrdup((const char *)name);
        def->type = t;
        def->line = line;
        def->blank_em = width ? atof((const char *)width) : 0;
        if (def->blank_em <= 0 || def->blank_em > 60)
            def->blank_em = t == PD_VAR_DATE ? 8 : t == PD_VAR_COUNT ? 3 : 14;
        xmlFree(name);
        xmlFree(type);
        xmlFree(width);
        def->unit = unit ? xstrdup((const char *)unit) : NULL;
        def->from = from ? xstrdup((const char *)from) : NULL;
        def->attribute = attribute ? xstrdup((const char *)attribute) : NULL;
        xmlFree(unit);
        xmlFree(from);
        xmlFree(attribute);
        if (def->attribute && !def->from) {
            pd_error_set(err, path, line, "a computed variable needs both from and attribute");
            goto fail;
        }
        if (def->from) { /* from="--also" without an attribute: pildoc sets it */
            strbuf why = STRBUF_INIT;
            strbuf_printf(&why, def->attribute ? "comes from the %s template" : "is set by %s",
                          def->from);
            def->why_set = strbuf_take(&why);
        }
        for (xmlNodePtr c = n->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            xmlChar *value = xmlGetProp(c, BAD_CAST "value");
            if (!xmlStrEqual(c->name, BAD_CAST "choice") || t != PD_VAR_CHOICE || !value) {
                pd_error_set(err, path, xmlGetLineNo(c),
                             "only a choice variable holds <choice value=\"...\"> elements");
                xmlFree(value);
                goto fail;
            }
            xmlChar *label = xmlNodeGetContent(c);
            def->choices = xrealloc(def->choices, (def->n_choices + 1) * sizeof *def->choices);
            def->choices[def->n_choices].value = xstrdup((const char *)value);
            def->choices[def->n_choices].label = xmlsafe_collapse_space((const char *)label);
            def->n_choices++;
            xmlFree(value);
            xmlFree(label);
        }
        if (t == PD_VAR_CHOICE && def->n_choices == 0) {
            pd_error_set(err, path, line, "choice variable '%s' lists no choices", def->name);
            goto fail;
        }
    }
    xmlFreeDoc(doc);
    return schema;
fail:
    xmlFreeDoc(doc);
    pd_schema_free(schema);
    return NULL;
}

void pd_schema_free(pd_schema *schema)
{
    if (!schema)
        return;
    for (size_t i = 0; i < schema->n_defs; i++) {
        pd_var_def *d = &schema->defs[i];
        free(d->name);
        for (size_t c = 0; c < d->n_choices; c++) {
            free(d->choices[c].value);
            free(d->choices[c].label);
        }
        free(d->choices);
        free(d->unit);
        free(d->from);
        free(d->why_set);
        free(d->attribute);
    }
    free(schema->defs);
    free(schema->file);
    free(schema);
}

const pd_var_def *pd_schema_find(const pd_schema *schema, const char *name)
{
    for (size_t i = 0; i < schema->n_defs; i++)
        if (strcmp(schema->defs[i].name, name) == 0)
            return &schema->defs[i];
    return NULL;
}

const pd_choice *pd_var_def_choice(const pd_var_def *def, const char *value)
{
    for (size_t i = 0; i < def->n_choices; i++)
        if (strcmp(def->choices[i].value, value) == 0)
            return &def->choices[i];
    return NULL;
}

void pd_values_init(pd_values *v)
{
    memset(v, 0, sizeof *v);
}

void pd_values_free(pd_values *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->names[i]);
        free(v->values[i]);
    }
    free(v->names);
    free(v->values);
    memset(v, 0, sizeof *v);
}

/* Checks a text value: valid UTF-8 (guaranteed by the XML parser or checked
 * here for --set) and no control characters but none at all. */
static bool S_check_text(const char *value, const char *name, const char *where, long line,
                         pd_error *err)
{
    const unsigned char *p = (const unsigned char *)value;
    if (!xmlsafe_valid_utf8(value))
        return pd_error_set(err, where, line, "value of '%s' is not valid UTF-8", name);
    unsigned bidi = xmlsafe_bidi_control(value);
    if (bidi)
        return pd_error_set(err, where, line,
                            "value of '%s' holds a bidirectional control character (U+%04X)", name,
                            bidi);
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return pd_error_set(err, where, line,
                                "value of '%s' holds a control character (U+%04X)", name, *p);
        /* C1 controls U+0080..U+009F are encoded C2 80..C2 9F */
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return pd_error_set(err, where, line,
                                "value of '%s' holds a control character (U+%04X)", name, p[1]);
    }
    return true;
}

bool pd_values_set(pd_values *v, const pd_schema *schema, const char *name, const char *value,
                   const char *where, long line, pd_error *err)
{
    const pd_var_def *def = pd_schema_find(schema, name);
    if (!def)
        return pd_error_set(err, where, line, "unknown variable '%.80s' (not in %s)", name,
                            schema->file);
    /* An empty or blank value is no value: the document prints the line to
       write on, never a label followed by nothing; it also clears what an
       earlier source gave (--set NAME= over a data file). */
    if (value[strspn(value, " \t\r\n")] == '\0') {
        for (size_t i = 0; i < v->n; i++)
            if (strcmp(v->names[i], name) == 0) {
                free(v->names[i]);
                free(v->values[i]);
                v->names[i] = v->names[v->n - 1];
                v->values[i] = v->values[v->n - 1];
                v->n--;
                break;
            }
        return true;
    }
    if (!S_check_text(value, name, where, line, err))
        return false;
    size_t chars = 0;
    for (const unsigned char *q = (const unsigned char *)value; *q; q++)
        chars += (*q & 0xC0) != 0x80; /* count code points, not bytes */
    if (chars > 10000)
        return pd_error_set(err, where, line, "value of '%s' is longer than 10000 characters",
                            name);
    switch (def->type) {
    case PD_VAR_CHOICE:
        if (!pd_var_def_choice(def, value)) {
            strbuf sb = STRBUF_INIT;
            for (size_t i = 0; i < def->n_choices; i++)
                strbuf_printf(&sb, "%s%s", i ? ", " : "", def->choices[i].value);
            pd_error_set(err, where, line, "'%s' must be one of: %s", name, strbuf_str(&sb));
            strbuf_free(&sb);
            return false;
        }
        break;
    case PD_VAR_DATE: {
        int y, m, d;
        if (!lang_parse_iso_date(value, &y, &m, &d))
            return pd_error_set(err, where, line, "'%s' is not a valid date (expected YYYY-MM-DD)",
                                name);
        break;
    }
    case PD_VAR_COUNT: {
        char *end = NULL;
        long n = strtol(value, &end, 10);
        if (!*value || *end || n < 0 || n > 100000 || value[0] == '+' || value[0] == '-')
            return pd_error_set(err, where, line, "'%s' is not a whole number from 0 to 100000",
                                name);
        break;
    }
    case PD_VAR_LANGUAGE: {
        /* a name is printed as given; a code must name a language */
        char *known = pd_langname_is_code(value) ? pd_langname(value, "en") : NULL;
        if (pd_langname_is_code(value) && !known)
            return pd_error_set(err, where, line,
                                "'%s' is not a language code (ISO 639 or BCP 47, e.g. ta, "
                                "ar-EG, yue); write the language's name or its code",
                                name);
        free(known);
        break;
    }
    case PD_VAR_TEXT: break;
    }
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->names[i], name) == 0) {
            free(v->values[i]);
            v->values[i] = xstrdup(value);
            return true;
        }
    v->names = xrealloc(v->names, (v->n + 1) * sizeof *v->names);
    v->values = xrealloc(v->values, (v->n + 1) * sizeof *v->values);
    v->names[v->n] = xstrdup(name);
    v->values[v->n] = xstrdup(value);
    v->n++;
    return true;
}

bool pd_values_compute(pd_values *v, const pd_schema *schema, const char *templates_dir,
                       pd_error *err)
{
    /* each template read once, however many of its attributes are used
       (leaflet.xml gives three: a quarter of a fresh render's start-up) */
    const char *read_from = NULL;
    xmlDocPtr doc = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < schema->n_defs; i++) {
        const pd_var_def *def = &schema->defs[i];
        if (!def->from || !def->attribute)
            continue;
        strbuf file = STRBUF_INIT;
        strbuf_printf(&file, "%s/%s.xml", templates_dir, def->from);
        char *shown = paths_display(strbuf_str(&file));
        strbuf_free(&file);
        if (!read_from || strcmp(read_from, def->from) != 0) {
            xmlFreeDoc(doc);
            doc = NULL;
            read_from = def->from;
            if (paths_exists(shown)) {
                doc = xmlsafe_read_file(shown, err);
                ok = doc != NULL;
            }
        }
        if (doc) {
            xmlChar *value = xmlGetProp(xmlDocGetRootElement(doc), BAD_CAST def->attribute);
            if (value)
                ok = pd_values_set(v, schema, def->name, (const char *)value, shown, 1, err);
            xmlFree(value);
        }
        free(shown);
    }
    xmlFreeDoc(doc);
    return ok;
}

bool pd_values_set_assignment(pd_values *v, const pd_schema *schema, const char *assignment,
                              pd_error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return pd_error_set(err, NULL, 0, "--set expects NAME=VALUE, got '%.60s'", assignment);
    char *name = xstrndup(assignment, (size_t)(eq - assignment));
    const pd_var_def *def = pd_schema_find(schema, name);
    if (def && def->from) {
        pd_error_set(err, "--set", 0, "'%s' %s and cannot be set", name, def->why_set);
        free(name);
        return false;
    }
    bool ok = pd_values_set(v, schema, name, eq + 1, "--set", 0, err);
    free(name);
    return ok;
}

const char *pd_values_get(const pd_values *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->names[i], name) == 0)
            return v->values[i];
    return NULL;
}
