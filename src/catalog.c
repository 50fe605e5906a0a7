#include "catalog.h"

#include <gettext-po.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "strbuf.h"
#include "xmlsafe.h"

/* The sorted {name} placeholders of a program message, space separated. */
static char *S_braces(const char *s)
{
    size_t n = 0, cap = 4;
    char **names = xmalloc(cap * sizeof *names);
    for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close)
            break;
        bool word = close > p + 1;
        for (const char *q = p + 1; q < close; q++)
            if (!((*q >= 'a' && *q <= 'z') || *q == '_'))
                word = false;
        if (!word)
            continue;
        if (n == cap) {
            cap *= 2;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n] = xstrndup(p, (size_t)(close - p + 1));
        /* a date may name its month by number instead ({month_number}, as
           Chinese does): the two count as one placeholder */
        if (strcmp(names[n], "{month_number}") == 0)
            memcpy(names[n], "{month}", sizeof "{month}"); /* shorter: fits */
        n++;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful at most */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(&sb, "%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
    free(names);
    return strbuf_take(&sb);
}

static bool S_has_markup(const char *s)
{
    return strstr(s, "<b>") || strstr(s, "<i>") || strstr(s, "<br/>") || strstr(s, "<var ") ||
           strstr(s, "<num ") || strchr(s, '&');
}

bool catalog_check_translation(const char *msgid, const char *msgstr, char *why, size_t size)
{
    if (!msgstr || !*msgstr || !*msgid)
        return true;
    unsigned bidi = xmlsafe_bidi_control(msgstr);
    if (bidi) {
        /* it would reorder the text after it, values included */
        snprintf(why, size, "the translation holds a bidirectional control character (U+%04X)",
                 bidi);
        return false;
    }
    char *a = S_braces(msgid), *b = S_braces(msgstr);
    bool same = strcmp(a, b) == 0;
    if (!same)
        snprintf(why, size, "the placeholders differ: the original has %s, the translation %s",
                 *a ? a : "none", *b ? b : "none");
    free(a);
    free(b);
    if (!same)
        return false;
    if (!S_has_markup(msgid) && !strchr(msgstr, '<') && !strchr(msgstr, '&'))
        return true;
    pd_error err = {0};
    xmlDocPtr src = message_parse(msgid, NULL, 0, "original", &err);
    if (!src) {
        snprintf(why, size, "%s", err.msg);
        return false;
    }
    xmlDocPtr tr = message_parse(msgstr, NULL, 0, "translation", &err);
    if (!tr) {
        snprintf(why, size, "%s", err.msg);
        xmlFreeDoc(src);
        return false;
    }
    bool ok = message_same_placeholders(src, tr, why, size);
    xmlFreeDoc(src);
    xmlFreeDoc(tr);
    return ok;
}

static void S_add(catalog_messages *m, const char *ctx, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->id[i], id) == 0 &&
            ((!ctx && !m->ctx[i]) || (ctx && m->ctx[i] && strcmp(ctx, m->ctx[i]) == 0)))
            return;
    m->ctx = xrealloc(m->ctx, (m->n + 1) * sizeof *m->ctx);
    m->id = xrealloc(m->id, (m->n + 1) * sizeof *m->id);
    m->ctx[m->n] = ctx ? xstrdup(ctx) : NULL;
    m->id[m->n] = xstrdup(id);
    m->n++;
}

static void S_collect(catalog_messages *m, xmlNodePtr root)
{
    for (xmlNodePtr n = root; n;) {
        bool message =
            n->type == XML_ELEMENT_NODE && message_is_translatable((const char *)n->name);
        if (message) {
            char *id = message_from_element(n);
            xmlChar *ctx = xmlGetProp(n, BAD_CAST "ctx");
            if (*id)
                S_add(m, (const char *)ctx, id);
            xmlFree(ctx);
            free(id);
        }
        n = xmlsafe_next(root, n, !message); /* a message's inline markup is part of it */
    }
}

void catalog_template_messages(const pd_template *t, catalog_messages *out)
{
    memset(out, 0, sizeof *out);
    S_collect(out, xmlDocGetRootElement(t->doc));
    for (size_t i = 0; i < t->n_fragments; i++)
        S_collect(out, xmlDocGetRootElement(t->fragments[i].doc));
}

void catalog_messages_free(catalog_messages *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->ctx[i]);
        free(m->id[i]);
    }
    free(m->ctx);
    free(m->id);
    memset(m, 0, sizeof *m);
}

/* libgettextpo's error handler takes no pointer of the caller's: this is
 * the one read in progress on this thread, set and cleared by
 * catalog_count, so nothing outlives the call. */
typedef struct S_po_read {
    const char *path;
    pd_error syntax; /* the first error reported */
} S_po_read;
static _Thread_local S_po_read *S_reading;

static void S_xerror(int severity, po_message_t message, const char *filename, size_t lineno,
                     size_t column, int multiline_p, const char *text)
{
    (void)message;
    (void)column;
    (void)multiline_p;
    if (severity == PO_SEVERITY_WARNING || !S_reading)
        return;
    pd_error_set(&S_reading->syntax, filename ? filename : S_reading->path,
                 lineno == (size_t)-1 ? 0 : (long)lineno, "%s", text);
    /* A fatal error "must not return", says gettext-po.h, because its own
     * programs would go on. Its readers (read-catalog-abstract.c,
     * po-lex.c) report one at the end of a parse or at a read error and
     * then return normally: returning here gives back a catalog that
     * catalog_count refuses (its error is recorded), where exit() would
     * end a server or a batch. */
}

static void S_xerror2(int severity, po_message_t m1, const char *f1, size_t l1, size_t c1, int ml1,
                      const char *t1, po_message_t m2, const char *f2, size_t l2, size_t c2,
                      int ml2, const char *t2)
{
    (void)m2;
    (void)f2;
    (void)l2;
    (void)c2;
    (void)ml2;
    (void)t2;
    S_xerror(severity, m1, f1, l1, c1, ml1, t1);
}

bool catalog_count(const char *po_path, const catalog_messages *m, catalog_counts *out,
                   pd_error *err)
{
    memset(out, 0, sizeof *out);
    struct po_xerror_handler handler = {S_xerror, S_xerror2};
    S_po_read reading = {po_path, {0}};
    S_reading = &reading;
    po_file_t file = po_file_read(po_path, &handler);
    S_reading = NULL;
    if (!file)
        return reading.syntax.set ? (*err = reading.syntax, false)
                                  : pd_error_set(err, po_path, 0, "cannot read the catalog");
    if (reading.syntax.set) { /* a broken catalog is not counted: msgfmt would refuse it */
        po_file_free(file);
        *err = reading.syntax;
        return false;
    }
    /* 0 missing, 1 untranslated, 2 fuzzy, 3 translated */
    int *state = xcalloc(m->n ? m->n : 1, sizeof *state);
    po_message_iterator_t it = po_message_iterator(file, NULL);
    for (po_message_t msg = po_next_message(it); msg; msg = po_next_message(it)) {
        if (po_message_is_obsolete(msg))
            continue;
        const char *id = po_message_msgid(msg), *ctx = po_message_msgctxt(msg);
        for (size_t i = 0; i < m->n; i++) {
            if (strcmp(m->id[i], id) != 0)
                continue;
            if ((ctx == NULL) != (m->ctx[i] == NULL) || (ctx && strcmp(ctx, m->ctx[i]) != 0))
                continue;
            const char *str = po_message_msgstr(msg);
            state[i] = !str || !*str ? 1 : po_message_is_fuzzy(msg) ? 2 : 3;
        }
    }
    po_message_iterator_free(it);
    po_file_free(file);
    for (size_t i = 0; i < m->n; i++) {
        if (state[i] == 3)
            out->translated++;
        else if (state[i] == 2)
            out->fuzzy++;
        else
            out->untranslated++;
    }
    free(state);
    return true;
}
