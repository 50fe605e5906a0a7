#include "message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"
#include "strbuf.h"
#include "xmlsafe.h"

static void S_escape_text(strbuf *sb, const char *s, bool attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': strbuf_append(sb, "&amp;"); break;
        case '<': strbuf_append(sb, "&lt;"); break;
        case '>': strbuf_append(sb, "&gt;"); break;
        case '"':
            if (attr)
                strbuf_append(sb, "&quot;");
            else
                strbuf_append_char(sb, '"');
            break;
        default: strbuf_append_char(sb, *s);
        }
    }
}

static bool S_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends text with runs of white space collapsed to one space. */
static void S_append_collapsed(strbuf *sb, const char *s)
{
    strbuf tmp = STRBUF_INIT;
    bool space = false;
    for (; *s; s++) {
        if (S_is_space(*s)) {
            space = true;
            continue;
        }
        if (space)
            strbuf_append_char(&tmp, ' ');
        space = false;
        strbuf_append_char(&tmp, *s);
    }
    if (space)
        strbuf_append_char(&tmp, ' ');
    S_escape_text(sb, strbuf_str(&tmp), false);
    strbuf_free(&tmp);
}

static void S_trim(strbuf *sb, size_t from)
{
    /* trim the content appended since `from` */
    size_t start = from;
    while (start < sb->len && sb->data[start] == ' ')
        start++;
    if (start > from) {
        memmove(sb->data + from, sb->data + start, sb->len - start + 1);
        sb->len -= start - from;
    }
    while (sb->len > from && sb->data[sb->len - 1] == ' ')
        sb->data[--sb->len] = '\0';
}

/* Serialises the content of elem. Depth is bounded by xmlsafe's nesting
 * limit, so recursion is safe here. */
static void S_serialize_content(strbuf *sb, xmlNodePtr elem)
{
    size_t from = sb->len;
    for (xmlNodePtr n = elem->children; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            S_append_collapsed(sb, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE) {
            strbuf_printf(sb, "<%s", (const char *)n->name);
            for (xmlAttrPtr a = n->properties; a; a = a->next) {
                xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                strbuf_printf(sb, " %s=\"", (const char *)a->name);
                S_escape_text(sb, v ? (const char *)v : "", true);
                strbuf_append_char(sb, '"');
                xmlFree(v);
            }
            if (!n->children) {
                strbuf_append(sb, "/>");
            } else {
                strbuf_append_char(sb, '>');
                S_serialize_content(sb, n);
                strbuf_printf(sb, "</%s>", (const char *)n->name);
            }
        }
    }
    S_trim(sb, from);
}

bool message_is_translatable(const char *element)
{
    const pd_element *e = pd_element_find(element);
    return e && e->translatable;
}

char *message_from_element(xmlNodePtr elem)
{
    strbuf sb = STRBUF_INIT;
    S_serialize_content(&sb, elem);
    return strbuf_take(&sb);
}

static bool S_check_inline(xmlNodePtr root, const char *file, long line, const char *what,
                           pd_error *err)
{
    for (xmlNodePtr n = xmlsafe_next(root, root, true); n; n = xmlsafe_next(root, n, true)) {
        if (n->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)n->name;
            const pd_element *e = pd_element_find(name);
            if (!e || e->role != PD_ELEMENT_INLINE)
                return pd_error_set(err, file, line, "%s: unknown inline element <%s>", what, name);
            /* what may be inside and on it: the registry says */
            if (e->empty && n->children)
                return pd_error_set(err, file, line, "%s: <%s> must be empty", what, name);
            for (xmlAttrPtr a = n->properties; a; a = a->next)
                if (!pd_element_allows(e, (const char *)a->name))
                    return pd_error_set(err, file, line, "%s: unknown attribute '%s' on <%s>", what,
                                        (const char *)a->name, name);
            if (e->required && !xmlHasProp(n, BAD_CAST e->required))
                return pd_error_set(err, file, line, "%s: <%s> needs a %s", what, name,
                                    e->required);
        } else if (n->type != XML_TEXT_NODE) {
            return pd_error_set(err, file, line, "%s: only text and inline elements are allowed",
                                what);
        }
    }
    return true;
}

/* True when libxml2 would read "<m>msg</m>" as <m> holding msg as one text
 * node, unchanged: no markup or reference (< & >; ">" matters only in
 * "]]>", kept out all the same), no CR (line ends are normalised), no
 * control character but tab and line feed, no U+FFFE or U+FFFF, valid
 * UTF-8, and well under the parser's size bound. */
static bool S_plain(const char *msg)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++, n++) {
        if (*p == '<' || *p == '&' || *p == '>' || (*p < 0x20 && *p != '\t' && *p != '\n'))
            return false;
        if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
            return false;
    }
    return n < 65536 && xmlsafe_valid_utf8(msg);
}

xmlDocPtr message_parse(const char *msg, const char *file, long line, const char *what,
                        pd_error *err)
{
    if (S_plain(msg)) {
        /* nine messages in ten: built directly, the parser's tree without
           the parser (1 ms of a fresh Chinese render, 600 messages) */
        xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
        doc->encoding = xmlStrdup(BAD_CAST "UTF-8"); /* as xmlsafe reads it */
        xmlNodePtr root = xmlNewDocNode(doc, NULL, BAD_CAST "m", NULL);
        xmlDocSetRootElement(doc, root);
        if (*msg)
            xmlAddChild(root, xmlNewDocText(doc, BAD_CAST msg));
        return doc;
    }
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "<m>");
    strbuf_append(&sb, msg);
    strbuf_append(&sb, "</m>");
    pd_error inner = {0};
    xmlDocPtr doc = xmlsafe_read_memory(sb.data, sb.len, file, line, &inner);
    strbuf_free(&sb);
    if (!doc) {
        /* drop the "file:line: malformed XML: " prefix, keep the reason */
        const char *reason = strstr(inner.msg, "malformed XML: ");
        reason = reason ? reason + 15 : inner.msg;
        pd_error_set(err, file, line, "%s: broken inline markup (%s)", what, reason);
        return NULL;
    }
    if (!S_check_inline(xmlDocGetRootElement(doc), file, line, what, err)) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* A sorted list of placeholder keys: "var:NAME", "num:VALUE", "b", "i", "br". */
static int S_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **S_keys(xmlDocPtr doc, size_t *count)
{
    size_t n = 0, cap = 8;
    char **keys = xmalloc(cap * sizeof *keys);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr node = xmlsafe_next(root, root, true); node;
         node = xmlsafe_next(root, node, true)) {
        if (node->type == XML_ELEMENT_NODE) {
            strbuf k = STRBUF_INIT;
            strbuf_append(&k, (const char *)node->name);
            /* an inline element is known by the attribute it needs
               (var's name, num's value) */
            const pd_element *e = pd_element_find((const char *)node->name);
            xmlChar *v = xmlGetProp(node, BAD_CAST(e && e->required ? e->required : "value"));
            if (v) {
                strbuf_printf(&k, " %s", (const char *)v);
                xmlFree(v);
            }
            if (n == cap) {
                cap *= 2;
                keys = xrealloc(keys, cap * sizeof *keys);
            }
            keys[n++] = strbuf_take(&k);
        }
    }
    qsort(keys, n, sizeof *keys, S_cmp);
    *count = n;
    return keys;
}

bool message_same_placeholders(xmlDocPtr source, xmlDocPtr translation, char *why, size_t size)
{
    size_t ns, nt;
    char **ks = S_keys(source, &ns);
    char **kt = S_keys(translation, &nt);
    bool same = true;
    size_t i = 0, j = 0;
    while (i < ns || j < nt) {
        int c = i == ns ? 1 : j == nt ? -1 : strcmp(ks[i], kt[j]);
        if (c == 0) {
            i++;
            j++;
            continue;
        }
        same = false;
        if (c < 0)
            snprintf(why, size, "the translation lacks <%s> of the original", ks[i]);
        else
            snprintf(why, size, "the translation adds <%s>, not in the original", kt[j]);
        break;
    }
    for (i = 0; i < ns; i++)
        free(ks[i]);
    for (j = 0; j < nt; j++)
        free(kt[j]);
    free(ks);
    free(kt);
    return same;
}
