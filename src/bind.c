#include "bind.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"
#include "lang.h"
#include "langname.h"
#include "message.h"
#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

typedef struct S_ctx {
    const pd_lang *lang; /* every text of the document comes from here */
    const pd_template *t;
    const pd_schema *schema;
    const pd_values *values;
    pd_doc *doc;
    pd_bind_stats *stats;
    pd_error *err;
    const char *tr_what; /* "fr translation" */
    GHashTable *cached;  /* this language's entries of the cache, or NULL */
    GHashTable *images;  /* the cache's decoded <img> pictures, or NULL */
    /* the last template file named in an origin, and its interned copy
       (pd_doc_intern compares with every string of the pool) */
    const char *file, *file_interned;
} S_ctx;

/* One step of a message's spans, in the order its markup gives them:
 * a text, a line break, a variable (its value is the document's), a
 * number (printed in the message's language). */
typedef enum S_op_kind { S_OP_TEXT, S_OP_BREAK, S_OP_VAR, S_OP_NUM } S_op_kind;

typedef struct S_op {
    S_op_kind kind;
    unsigned style; /* PD_SPAN_* */
    /* TEXT, BREAK, NUM: as printed; VAR: the variable's name: in the
       message's bytes from at - 1 (at 0: NULL), len bytes */
    size_t at, len;
} S_op;

/* One message as parsed and checked for one language, walked once into
 * the steps that make its spans (S_compile): a document replays them
 * (S_play) instead of walking the markup's tree, whose nodes lie all over
 * the heap (the tree walk was most of binding a cached message). */
typedef struct S_message {
    bool translated;    /* the steps are the translation's */
    char *untranslated; /* the msgid when it printed in English, else NULL */
    S_op *ops;
    size_t n_ops;
    char *bytes; /* the steps' texts */
} S_message;

static void S_message_free(gpointer p)
{
    S_message *m = p;
    free(m->untranslated);
    free(m->ops);
    free(m->bytes);
    free(m);
}

struct pd_bind_cache {
    GHashTable *by_lang; /* language -> (element -> S_message) */
    GHashTable *images;  /* <img> element -> pd_image (decoding an SVG costs ms) */
};

pd_bind_cache *pd_bind_cache_new(void)
{
    pd_bind_cache *cache = xcalloc(1, sizeof *cache);
    cache->by_lang =
        g_hash_table_new_full(g_str_hash, g_str_equal, free, (GDestroyNotify)g_hash_table_destroy);
    cache->images =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)pd_image_free);
    return cache;
}

void pd_bind_cache_free(pd_bind_cache *cache)
{
    if (!cache)
        return;
    g_hash_table_destroy(cache->by_lang);
    g_hash_table_destroy(cache->images);
    free(cache);
}

static GHashTable *S_cache_for(pd_bind_cache *cache, const char *lang)
{
    if (!cache)
        return NULL;
    GHashTable *h = g_hash_table_lookup(cache->by_lang, lang);
    if (!h) {
        h = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, S_message_free);
        g_hash_table_insert(cache->by_lang, xstrdup(lang), h);
    }
    return h;
}

static bool S_is(xmlNodePtr n, const char *name)
{
    return xmlStrEqual(n->name, BAD_CAST name);
}

static bool S_condition(S_ctx *c, xmlNodePtr n)
{
    xmlChar *name = xmlGetProp(n, BAD_CAST "name");
    const char *value = pd_values_get(c->values, (const char *)name);
    xmlFree(name);
    xmlChar *list = xmlGetProp(n, BAD_CAST "is");
    bool negate = false;
    if (!list) {
        list = xmlGetProp(n, BAD_CAST "not");
        negate = true;
    }
    bool match = false;
    char *copy = xstrdup(list ? (const char *)list : "");
    xmlFree(list);
    char *save = NULL;
    for (char *w = strtok_r(copy, " \t\r\n", &save); w && !match;
         w = strtok_r(NULL, " \t\r\n", &save))
        match = strcmp(w, "unset") == 0 ? value == NULL : (value && strcmp(value, w) == 0);
    free(copy);
    return negate ? !match : match;
}

/* s with each run of white space made one space (a translation may hold
 * newlines), into out (as long as s at most); returns its length. */
static size_t S_collapse(const char *s, char *collapsed)
{
    size_t n = 0;
    bool space = false;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = true;
            continue;
        }
        if (space)
            collapsed[n++] = ' ';
        space = false;
        collapsed[n++] = *p;
    }
    if (space)
        collapsed[n++] = ' ';
    collapsed[n] = '\0';
    return n;
}

/* Collapses the white space of every text node of a message once, when
 * it is loaded (the worker's cache keeps it): not again for each
 * document. */
static void S_collapse_tree(xmlNodePtr parent)
{
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type == XML_TEXT_NODE && n->content) {
            const char *s = (const char *)n->content;
            char *collapsed = xmalloc(strlen(s) + 1);
            S_collapse(s, collapsed);
            if (strcmp(collapsed, s) != 0)
                xmlNodeSetContent(n, BAD_CAST collapsed);
            free(collapsed);
        } else if (n->type == XML_ELEMENT_NODE) {
            S_collapse_tree(n);
        }
    }
}

/* Plural forms of the units counts are printed in. The forms go through
 * ngettext, so each language gets its own ("1 séance", "2 séances";
 * French 0 is singular; Chinese has one form). {n} is the number. */
static const struct {
    const char *unit, *one, *other;
} S_units[] = {
    /* TRANSLATORS: a number of treatment sessions; {n} is the number. */
    {"session", NN_("{n} session", "{n} sessions")},
};

static void S_add_blank_kind(pd_text *out, double em, pd_blank_kind kind, unsigned style,
                             pd_origin origin)
{
    pd_text_add(out, "", 0, (style & ~(unsigned)PD_SPAN_VALUE) | PD_SPAN_BLANK, origin);
    out->spans[out->n_spans - 1].blank_em = em;
    out->spans[out->n_spans - 1].blank_kind = kind;
}

static void S_add_blank(pd_text *out, double em, unsigned style, pd_origin origin)
{
    S_add_blank_kind(out, em, PD_BLANK_TEXT, style, origin);
}

/* A date to write by hand, in the form the language expects: a pattern
 * with runs of '_' ("____年__月__日") becomes a line per run; any other
 * ("DD/MM/YYYY") a line followed by the pattern as a hint. */
static void S_add_blank_date(const pd_lang *lang, pd_text *out, double em, unsigned style,
                             pd_origin origin)
{
    /* TRANSLATORS: how a date is written by hand on a form, shown beside
       an empty date line. Letters name the parts (French: JJ/MM/AAAA);
       runs of '_' become lines to write on (Chinese: ____年__月__日). */
    const char *pattern = _(lang, "DD/MM/YYYY");
    if (!strchr(pattern, '_')) {
        S_add_blank_kind(out, em, PD_BLANK_DATE, style, origin);
        pd_text_add(out, " ", 1, style & ~(unsigned)PD_SPAN_VALUE, origin);
        pd_text_add(out, pattern, strlen(pattern), PD_SPAN_HINT, origin);
        return;
    }
    for (const char *p = pattern; *p;) {
        size_t n = strcspn(p, "_");
        if (n)
            pd_text_add(out, p, n, style & ~(unsigned)PD_SPAN_VALUE, origin);
        p += n;
        size_t u = strspn(p, "_");
        if (u)
            S_add_blank_kind(out, (double)u, PD_BLANK_PART, style, origin);
        p += u;
    }
}

/* The kind of a line to write on, from the variable's last name part
 * ("patient.name", "clinic.phone", "patient.id") or its type. */
static pd_blank_kind S_blank_kind_of(const pd_var_def *def)
{
    const char *dot = strrchr(def->name, '.');
    const char *last = dot ? dot + 1 : def->name;
    if (def->type == PD_VAR_DATE)
        return PD_BLANK_DATE;
    if (strcmp(last, "name") == 0)
        return PD_BLANK_NAME;
    if (strcmp(last, "phone") == 0)
        return PD_BLANK_PHONE;
    if (strcmp(last, "id") == 0)
        return PD_BLANK_ID;
    return PD_BLANK_TEXT;
}

/* A count with its unit: "4 sessions"; unset: a blank line then the unit. */
static void S_add_count(const pd_lang *lang, pd_text *out, const pd_var_def *def, const char *value,
                        double blank_em, unsigned style, pd_origin origin, pd_origin vo)
{
    size_t u;
    for (u = 0; u < sizeof S_units / sizeof S_units[0]; u++)
        if (def->unit && strcmp(def->unit, S_units[u].unit) == 0)
            break;
    unsigned long n = value ? strtoul(value, NULL, 10) : 2;
    const char *pattern = u < sizeof S_units / sizeof S_units[0]
                              ? lang_ngettext(lang, S_units[u].one, S_units[u].other, n)
                              : "{n}";
    const char *at = strstr(pattern, "{n}");
    if (!at) /* a translation without {n}: the number first, never lost */
        at = pattern;
    if (at > pattern)
        pd_text_add(out, pattern, (size_t)(at - pattern), style, origin);
    if (value) {
        char num[32];
        snprintf(num, sizeof num, "%lu", n);
        char *shown = lang_format_decimal(lang, num, false);
        pd_text_add(out, shown, strlen(shown), style | PD_SPAN_VALUE, vo);
        free(shown);
    } else {
        S_add_blank(out, blank_em, style, origin);
    }
    const char *rest = at == pattern && strncmp(pattern, "{n}", 3) != 0 ? pattern : at + 3;
    if (*rest)
        pd_text_add(out, rest, strlen(rest), style, origin);
}

static void S_add_var_named(S_ctx *c, pd_text *out, const char *name, double width, unsigned style,
                            pd_origin origin)
{
    const pd_var_def *def = pd_schema_find(c->schema, name);
    if (!def)
        return; /* checked at load; a translation cannot add one (placeholders) */
    const char *value = pd_values_get(c->values, def->name);
    double blank_em = width > 0 ? width : def->blank_em;
    strbuf what = STRBUF_INIT;
    strbuf_printf(&what, "value of '%s'", def->name);
    pd_origin vo = origin;
    vo.what = pd_doc_intern(c->doc, strbuf_str(&what));
    strbuf_free(&what);
    size_t first = out->n_spans;
    if (def->type == PD_VAR_COUNT || !value) {
        if (def->type == PD_VAR_COUNT)
            S_add_count(c->lang, out, def, value, blank_em, style, origin, vo);
        else if (def->type == PD_VAR_DATE)
            S_add_blank_date(c->lang, out, blank_em, style, origin);
        else
            S_add_blank_kind(out, blank_em, S_blank_kind_of(def), style, origin);
        /* a fillable form names its field after the variable */
        for (size_t i = first; i < out->n_spans; i++)
            if (out->spans[i].style & PD_SPAN_BLANK)
                out->spans[i].var = pd_doc_intern(c->doc, def->name);
        return;
    }
    char *shown = NULL;
    switch (def->type) {
    case PD_VAR_CHOICE: {
        const pd_choice *ch = pd_var_def_choice(def, value);
        shown = xstrdup(ch ? lang_gettext(c->lang, NULL, ch->label) : value);
        break;
    }
    case PD_VAR_DATE: {
        int y, m, d;
        shown = lang_parse_iso_date(value, &y, &m, &d) ? lang_format_date(c->lang, y, m, d)
                                                       : xstrdup(value);
        break;
    }
    case PD_VAR_LANGUAGE: /* a code: the language's name in the document's */
        shown = pd_langname(value, pd_lang_code(c->lang));
        if (!shown)
            shown = xstrdup(value);
        break;
    case PD_VAR_COUNT: /* printed by S_add_count above */
    case PD_VAR_TEXT: shown = xstrdup(value); break;
    }
    /* the value goes in as one literal span: never parsed */
    pd_text_add(out, shown, strlen(shown), style | PD_SPAN_VALUE, vo);
    free(shown);
}

/* The steps being compiled. */
typedef struct S_ops {
    S_op *ops;
    size_t n, cap;
    strbuf bytes;
} S_ops;

static void S_op_add(S_ops *o, S_op_kind kind, unsigned style, const char *text, size_t len)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 8;
        o->ops = xrealloc(o->ops, o->cap * sizeof *o->ops);
    }
    size_t at = 0;
    if (text) {
        at = o->bytes.len + 1;
        strbuf_append_len(&o->bytes, text, len);
        strbuf_append_char(&o->bytes, '\0');
    }
    o->ops[o->n++] = (S_op){kind, style, at, len};
}

/* The steps of a parsed message's markup (collapsed already,
 * S_collapse_tree): what walking it into spans did for every document. */
static void S_compile(const pd_lang *lang, xmlNodePtr parent, unsigned style, S_ops *o)
{
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type == XML_TEXT_NODE) {
            if (n->content && n->content[0])
                S_op_add(o, S_OP_TEXT, style, (const char *)n->content,
                         strlen((const char *)n->content));
        } else if (n->type == XML_ELEMENT_NODE) {
            const pd_element *el = pd_element_find((const char *)n->name);
            switch (el ? el->id : PD_EL_COUNT) {
            case PD_EL_B: S_compile(lang, n, style | PD_SPAN_BOLD, o); break;
            case PD_EL_I: S_compile(lang, n, style | PD_SPAN_ITALIC, o); break;
            case PD_EL_BR: S_op_add(o, S_OP_BREAK, style | PD_SPAN_BREAK, "\n", 1); break;
            case PD_EL_VAR: {
                xmlChar *name = xmlGetProp(n, BAD_CAST "name");
                S_op_add(o, S_OP_VAR, style, (const char *)name,
                         name ? strlen((const char *)name) : 0);
                xmlFree(name);
                break;
            }
            case PD_EL_NUM: {
                xmlChar *value = xmlGetProp(n, BAD_CAST "value");
                xmlChar *st = xmlGetProp(n, BAD_CAST "style");
                /* printed digit for digit as written (the schema makes it a decimal) */
                char *shown = lang_format_decimal(lang, value ? (const char *)value : "0",
                                                  st && xmlStrEqual(st, BAD_CAST "percent"));
                if (!shown)
                    shown = xstrdup(value ? (const char *)value : "");
                S_op_add(o, S_OP_NUM, style, shown, strlen(shown));
                free(shown);
                xmlFree(value);
                xmlFree(st);
                break;
            }
            default: /* message_parse let only inline elements through */ break;
            }
        }
    }
}

/* m's steps from its markup's root element (may be NULL). */
static void S_message_compile(S_message *m, const pd_lang *lang, xmlNodePtr root)
{
    S_ops o = {0};
    if (root)
        S_compile(lang, root, 0, &o);
    m->bytes = strbuf_take(&o.bytes);
    m->ops = o.ops;
    m->n_ops = o.n;
}

/* A message's spans into out. */
static void S_play(S_ctx *c, const S_message *m, pd_origin origin, pd_text *out)
{
    for (size_t i = 0; i < m->n_ops; i++) {
        const S_op *op = &m->ops[i];
        const char *text = op->at ? m->bytes + op->at - 1 : NULL;
        if (op->kind == S_OP_VAR)
            S_add_var_named(c, out, text, 0, op->style, origin);
        else
            pd_text_add(out, text, op->len, op->style, origin);
    }
}

static void S_note_untranslated(S_ctx *c, const char *msgid)
{
    pd_bind_stats *s = c->stats;
    if (!s)
        return;
    for (size_t i = 0; i < 3; i++)
        if (!s->first_untranslated[i]) {
            s->first_untranslated[i] = xstrdup(msgid);
            break;
        }
    s->untranslated++;
}

/* Translates one translatable element into a pd_text. */
/* elem's message for the active language: the translation when there is
 * one (parsed, its placeholders checked against the template text's), else
 * the template text. NULL, with c->err set, on bad markup. */
static S_message *S_message_load(S_ctx *c, xmlNodePtr elem, const char *file, long line)
{
    char *msgid = message_from_element(elem);
    xmlChar *ctx = xmlGetProp(elem, BAD_CAST "ctx");
    S_message *m = NULL;
    xmlDocPtr src = message_parse(msgid, file, line, "template text", c->err);
    xmlDocPtr tr = NULL;
    if (!src)
        goto done;
    bool untranslated = false;
    /* an empty element has nothing to translate (and gettext("") is the
       catalog's header) */
    if (*msgid && !pd_lang_is_source(c->lang)) {
        const char *translated = lang_gettext(c->lang, (const char *)ctx, msgid);
        untranslated = translated == msgid || !*translated;
        unsigned bidi = untranslated ? 0 : xmlsafe_bidi_control(translated);
        if (bidi) {
            pd_error_set(c->err, file, line, "%s: holds a bidirectional control character (U+%04X)",
                         c->tr_what, bidi);
            goto done;
        }
        if (!untranslated) {
            tr = message_parse(translated, file, line, c->tr_what, c->err);
            if (!tr)
                goto done;
            char why[200];
            if (!message_same_placeholders(src, tr, why, sizeof why)) {
                pd_error_set(c->err, file, line, "%s: %s", c->tr_what, why);
                goto done;
            }
        }
    }
    m = xcalloc(1, sizeof *m);
    m->translated = tr != NULL;
    xmlNodePtr root = xmlDocGetRootElement(tr ? tr : src);
    if (root)
        S_collapse_tree(root);
    S_message_compile(m, c->lang, root);
    m->untranslated = untranslated ? xstrdup(msgid) : NULL;
done:
    if (tr)
        xmlFreeDoc(tr);
    if (src)
        xmlFreeDoc(src);
    xmlFree(ctx);
    free(msgid);
    return m;
}

static bool S_translate(S_ctx *c, xmlNodePtr elem, pd_text *out)
{
    const char *file = pd_template_file_of(c->t, elem);
    long line = xmlGetLineNo(elem);
    S_message *m = c->cached ? g_hash_table_lookup(c->cached, elem) : NULL;
    if (!m) {
        m = S_message_load(c, elem, file, line);
        if (!m)
            return false;
        if (c->cached)
            g_hash_table_insert(c->cached, elem, m);
    }
    if (c->stats)
        c->stats->messages++;
    if (m->untranslated)
        S_note_untranslated(c, m->untranslated);
    if (file != c->file || !c->file_interned) {
        c->file = file;
        c->file_interned = pd_doc_intern(c->doc, file);
    }
    pd_origin origin = {c->file_interned, line, m->translated ? c->tr_what : NULL};
    S_play(c, m, origin, out);
    if (!c->cached)
        S_message_free(m);
    return true;
}

static bool S_blocks(S_ctx *c, xmlNodePtr parent, pd_block **blocks, size_t *n);

static bool S_items(S_ctx *c, xmlNodePtr list, pd_block *lb, bool ordered, int *number)
{
    for (xmlNodePtr n = list->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (S_is(n, "if")) {
            if (S_condition(c, n) && !S_items(c, n, lb, ordered, number))
                return false;
            continue;
        }
        pd_block *item = pd_block_append(&lb->children, &lb->n_children);
        item->kind = PD_BLOCK_ITEM;
        if (ordered) {
            char num[16];
            snprintf(num, sizeof num, "%d.", ++*number);
            item->marker = xstrdup(num);
        } else {
            item->marker = xstrdup("\xe2\x80\xa2"); /* • */
        }
        if (!S_translate(c, n, &item->text))
            return false;
    }
    return true;
}

static bool S_rows(S_ctx *c, xmlNodePtr parent, pd_block *tb)
{
    for (xmlNodePtr r = parent->children; r; r = r->next) {
        if (r->type != XML_ELEMENT_NODE)
            continue;
        if (S_is(r, "if")) {
            if (S_condition(c, r) && !S_rows(c, r, tb))
                return false;
            continue;
        }
        tb->rows = xrealloc(tb->rows, (tb->n_rows + 1) * sizeof *tb->rows);
        pd_row *row = &tb->rows[tb->n_rows++];
        memset(row, 0, sizeof *row);
        for (xmlNodePtr cell = r->children; cell; cell = cell->next) {
            if (cell->type != XML_ELEMENT_NODE)
                continue;
            row->header = S_is(cell, "th");
            row->cells = xrealloc(row->cells, (row->n_cells + 1) * sizeof *row->cells);
            pd_text *t = &row->cells[row->n_cells++];
            memset(t, 0, sizeof *t);
            if (!S_translate(c, cell, t))
                return false;
        }
    }
    return true;
}

static bool S_table(S_ctx *c, xmlNodePtr n, pd_block *tb)
{
    tb->kind = PD_BLOCK_TABLE;
    if (!S_rows(c, n, tb))
        return false;
    size_t cols = 0;
    for (size_t r = 0; r < tb->n_rows; r++)
        if (tb->rows[r].n_cells > cols)
            cols = tb->rows[r].n_cells;
    for (size_t r = 0; r < tb->n_rows; r++)
        if (tb->rows[r].n_cells != cols)
            return pd_error_set(c->err, pd_template_file_of(c->t, n), xmlGetLineNo(n),
                                "every row of a table needs %zu cells", cols);
    tb->n_cols = cols;
    tb->widths = xcalloc(cols, sizeof *tb->widths);
    for (size_t i = 0; i < cols; i++)
        tb->widths[i] = 1;
    xmlChar *w = xmlGetProp(n, BAD_CAST "widths");
    if (w) {
        char *copy = xstrdup((const char *)w), *save = NULL;
        size_t i = 0;
        for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++)
            if (i < cols)
                tb->widths[i] = atof(tok);
        free(copy);
        xmlFree(w);
        if (i != cols)
            return pd_error_set(c->err, pd_template_file_of(c->t, n), xmlGetLineNo(n),
                                "widths lists %zu columns but the table has %zu", i, cols);
    }
    return true;
}

/* <img src alt width>: src relative to the file that holds the element,
 * confined to the template's folder; alt translated. */
static bool S_img(S_ctx *c, xmlNodePtr e, pd_block *b)
{
    b->kind = PD_BLOCK_IMAGE;
    const char *file = pd_template_file_of(c->t, e);
    xmlChar *src = xmlGetProp(e, BAD_CAST "src");
    xmlChar *alt = xmlGetProp(e, BAD_CAST "alt");
    xmlChar *width = xmlGetProp(e, BAD_CAST "width");
    char *dir = paths_dirname(file), *root = paths_dirname(c->t->path);
    char *path = paths_join(dir, src ? (const char *)src : "");
    char *alt_text = xmlsafe_collapse_space(alt ? (const char *)alt : "");
    const char *shown = *alt_text ? lang_gettext(c->lang, NULL, alt_text) : "";
    const pd_image *known = c->images ? g_hash_table_lookup(c->images, e) : NULL;
    if (known) { /* the pixels of an earlier document; this one's alt text */
        b->image = pd_image_copy(known);
        free(b->image->alt);
        b->image->alt = xstrdup(shown);
    } else {
        /* 300 dpi at the printed width (an em is 10 points of body text) */
        double em = width ? atof((const char *)width) : 12;
        b->image = pd_image_load(path, root, (int)(em * 10 / 72 * 300), shown, file,
                                 xmlGetLineNo(e), c->err);
        if (b->image && c->images)
            g_hash_table_insert(c->images, e, pd_image_copy(b->image));
    }
    b->width_em = width ? atof((const char *)width) : 0;
    free(alt_text);
    free(path);
    free(dir);
    free(root);
    xmlFree(src);
    xmlFree(alt);
    xmlFree(width);
    return b->image != NULL;
}

/* <field>/<sign>: the label, then the value or a blank to fill in. */
static bool S_field(S_ctx *c, xmlNodePtr e, pd_block *b)
{
    if (!S_translate(c, e, &b->text))
        return false;
    xmlChar *name = xmlGetProp(e, BAD_CAST "name");
    xmlChar *width = xmlGetProp(e, BAD_CAST "width");
    double em = width ? atof((const char *)width) : (b->kind == PD_BLOCK_SIGN ? 22 : 12);
    pd_origin o = {pd_doc_intern(c->doc, pd_template_file_of(c->t, e)), xmlGetLineNo(e), NULL};
    /* a space between label and value, unless the label ends with
       full-width punctuation (Chinese "姓名：") that spaces itself */
    char *label = pd_text_plain(&b->text);
    size_t ll = strlen(label);
    if (!(ll >= 3 && (unsigned char)label[ll - 3] == 0xEF && (unsigned char)label[ll - 2] == 0xBC))
        pd_text_add(&b->text, " ", 1, 0, o);
    free(label);
    b->label_spans = b->text.n_spans;
    xmlChar *kind = xmlGetProp(e, BAD_CAST "kind");
    if (name && b->kind == PD_BLOCK_SIGN) { /* no variable: the form field's name */
        S_add_blank(&b->text, em, 0, o);
        b->text.spans[b->text.n_spans - 1].var = pd_doc_intern(c->doc, (const char *)name);
    } else if (name)
        S_add_var_named(c, &b->text, (const char *)name, width ? em : 0, 0, o);
    else if (kind && xmlStrEqual(kind, BAD_CAST "date"))
        S_add_blank_date(c->lang, &b->text, em, 0, o);
    else
        S_add_blank_kind(&b->text, em,
                         !kind                                 ? PD_BLANK_TEXT
                         : xmlStrEqual(kind, BAD_CAST "name")  ? PD_BLANK_NAME
                         : xmlStrEqual(kind, BAD_CAST "phone") ? PD_BLANK_PHONE
                         : xmlStrEqual(kind, BAD_CAST "id")    ? PD_BLANK_ID
                                                               : PD_BLANK_TEXT,
                         0, o);
    xmlFree(kind);
    xmlFree(name);
    xmlFree(width);
    return true;
}

/* <check>/<initials>: a statement with its box, ticked from the data. */
static bool S_check(S_ctx *c, xmlNodePtr e, pd_block *b)
{
    if (!S_translate(c, e, &b->text))
        return false;
    xmlChar *name = xmlGetProp(e, BAD_CAST "name");
    xmlChar *value = xmlGetProp(e, BAD_CAST "value");
    const char *given = name ? pd_values_get(c->values, (const char *)name) : NULL;
    b->checked = given && value && strcmp(given, (const char *)value) == 0;
    if (b->kind == PD_BLOCK_CHECK && name && value) {
        b->var = pd_doc_intern(c->doc, (const char *)name);
        b->value = pd_doc_intern(c->doc, (const char *)value);
        b->answered = given != NULL;
    }
    /* clinics in mainland China have statements ticked, not
       initialled (the template says so in their words) */
    const char *country = pd_values_get(c->values, "clinic.country");
    b->tick = b->kind == PD_BLOCK_INITIALS && country && strcmp(country, "CN") == 0;
    xmlFree(name);
    xmlFree(value);
    return true;
}

/* <callout>/<keep>: a box of blocks. */
static bool S_group(S_ctx *c, xmlNodePtr e, pd_block *b)
{
    if (b->kind == PD_BLOCK_CALLOUT) {
        xmlChar *kind = xmlGetProp(e, BAD_CAST "kind");
        b->urgent = !kind || xmlStrEqual(kind, BAD_CAST "urgent");
        xmlFree(kind);
    } else {
        xmlChar *cols = xmlGetProp(e, BAD_CAST "columns"); /* 1-3, the schema says */
        b->columns = cols ? atoi((const char *)cols) : 1;
        xmlFree(cols);
    }
    return S_blocks(c, e, &b->children, &b->n_children);
}

/* The body's elements, dispatched on the registry's id (elements.h). */
static bool S_blocks(S_ctx *c, xmlNodePtr parent, pd_block **blocks, size_t *n)
{
    for (xmlNodePtr e = parent->children; e; e = e->next) {
        if (e->type != XML_ELEMENT_NODE)
            continue;
        const pd_element *el = pd_element_find((const char *)e->name);
        pd_element_id id = el ? el->id : PD_EL_COUNT;
        if (id == PD_EL_IF) {
            if (S_condition(c, e) && !S_blocks(c, e, blocks, n))
                return false;
            continue;
        }
        if (id == PD_EL_INCLUDE) {
            xmlNodePtr root = pd_template_included(c->t, e);
            if (root && !S_blocks(c, root, blocks, n))
                return false;
            continue;
        }
        pd_block *b = pd_block_append(blocks, n);
        bool ok = true;
        /* no default: the compiler names an element of the registry that
           has no case here */
        switch (id) {
        case PD_EL_H1:
        case PD_EL_H2:
        case PD_EL_P:
            b->kind = id == PD_EL_H1 ? PD_BLOCK_H1 : id == PD_EL_H2 ? PD_BLOCK_H2 : PD_BLOCK_PARA;
            ok = S_translate(c, e, &b->text);
            break;
        case PD_EL_UL:
        case PD_EL_OL: {
            b->kind = PD_BLOCK_LIST;
            int number = 0;
            ok = S_items(c, e, b, id == PD_EL_OL, &number);
            break;
        }
        case PD_EL_TABLE: ok = S_table(c, e, b); break;
        case PD_EL_CALLOUT:
        case PD_EL_KEEP:
            b->kind = id == PD_EL_CALLOUT ? PD_BLOCK_CALLOUT : PD_BLOCK_KEEP;
            ok = S_group(c, e, b);
            break;
        case PD_EL_FIELD:
        case PD_EL_SIGN:
            b->kind = id == PD_EL_FIELD ? PD_BLOCK_FIELD : PD_BLOCK_SIGN;
            ok = S_field(c, e, b);
            break;
        case PD_EL_CHECK:
        case PD_EL_INITIALS:
            b->kind = id == PD_EL_CHECK ? PD_BLOCK_CHECK : PD_BLOCK_INITIALS;
            ok = S_check(c, e, b);
            break;
        case PD_EL_IMG: ok = S_img(c, e, b); break;
        case PD_EL_LABELBOX:
            b->kind = PD_BLOCK_LABEL;
            ok = S_translate(c, e, &b->text);
            break;
        /* not a block of the body (the schema keeps them elsewhere) */
        case PD_EL_DOCUMENT:
        case PD_EL_FRAGMENT:
        case PD_EL_META:
        case PD_EL_BODY:
        case PD_EL_TR:
        case PD_EL_TITLE:
        case PD_EL_SUBTITLE:
        case PD_EL_SUBJECT:
        case PD_EL_AUTHOR:
        case PD_EL_SHORT_TITLE:
        case PD_EL_RUNNING:
        case PD_EL_LI:
        case PD_EL_TH:
        case PD_EL_TD:
        case PD_EL_B:
        case PD_EL_I:
        case PD_EL_BR:
        case PD_EL_VAR:
        case PD_EL_NUM:
        case PD_EL_IF:
        case PD_EL_INCLUDE:
        case PD_EL_COUNT:
            return pd_error_set(c->err, pd_template_file_of(c->t, e), xmlGetLineNo(e),
                                "unknown element <%s>", (const char *)e->name);
        }
        if (!ok)
            return false;
    }
    return true;
}

static xmlNodePtr S_child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && S_is(n, name))
            return n;
    return NULL;
}

pd_doc *pd_bind(const pd_template *t, const pd_schema *schema, const pd_values *values,
                const pd_lang *lang, pd_bind_cache *cache, pd_bind_stats *stats, pd_error *err)
{
    pd_doc *doc = pd_doc_new();
    doc->lang = xstrdup(pd_lang_code(lang));
    doc->lang_tag = xstrdup(pd_lang_tag(lang));
    char what[64];
    snprintf(what, sizeof what, "%s translation", pd_lang_code(lang));
    S_ctx c = {
        lang, t,    schema, values, doc, stats, err, NULL, S_cache_for(cache, pd_lang_code(lang)),
        NULL, NULL, NULL};
    c.images = cache ? cache->images : NULL;
    c.tr_what = pd_doc_intern(doc, what);
    xmlNodePtr root = xmlDocGetRootElement(t->doc);
    xmlNodePtr meta = S_child(root, "meta");
    xmlNodePtr title = S_child(meta, "title"), subtitle = S_child(meta, "subtitle");
    xmlNodePtr subject = S_child(meta, "subject"), author = S_child(meta, "author");
    pd_text tmp = {0};
    if (!S_translate(&c, title, &doc->title_text))
        goto fail;
    doc->title = pd_text_plain(&doc->title_text);
    if (subtitle && !S_translate(&c, subtitle, &doc->subtitle_text))
        goto fail;
    if (!S_translate(&c, subject, &tmp))
        goto fail;
    doc->subject = pd_text_plain(&tmp);
    pd_text_clear(&tmp);
    if (!S_translate(&c, author, &tmp))
        goto fail;
    doc->author = pd_text_plain(&tmp);
    pd_text_clear(&tmp);
    xmlNodePtr short_title = S_child(meta, "short-title"), running = S_child(meta, "running");
    if (short_title) {
        if (!S_translate(&c, short_title, &tmp))
            goto fail;
        doc->short_title = pd_text_plain(&tmp);
        pd_text_clear(&tmp);
    }
    if (running && !S_translate(&c, running, &doc->running_text))
        goto fail;
    xmlChar *columns = xmlGetProp(meta, BAD_CAST "columns"); /* 1-3, the schema says */
    doc->columns = columns ? atoi((const char *)columns) : 1;
    xmlFree(columns);

    xmlChar *version = xmlGetProp(root, BAD_CAST "version");
    xmlChar *revised = xmlGetProp(root, BAD_CAST "revised");
    int y = 0, m = 0, d = 0;
    char *date = lang_parse_iso_date((const char *)revised, &y, &m, &d)
                     ? lang_format_date(lang, y, m, d)
                     : xstrdup((const char *)revised);
    strbuf ed = STRBUF_INIT;
    const char *names[] = {"version", "date"};
    const char *vals[] = {(const char *)version, date};
    /* TRANSLATORS: under the document's title. {version} is the document's
       version number, {date} its revision date. */
    strbuf_expand(&ed, _(lang, "Version {version}, revised {date}"), names, vals, 2);
    doc->edition = strbuf_take(&ed);
    free(date);
    xmlFree(version);
    xmlFree(revised);
    /* TRANSLATORS: the page footer; keep {page} and {pages}. */
    doc->footer_fmt = xstrdup(_(lang, "Page {page} of {pages}"));
    /* TRANSLATORS: after the first heading of a table whose header row is
       repeated at the top of the next page. */
    doc->continued = xstrdup(_(lang, "(continued)"));
    /* TRANSLATORS: printed in a large empty area of a form's page, so that
       nothing can be added there after signing. */
    doc->blank_note = xstrdup(_(lang, "This space is intentionally left blank."));

    if (!S_blocks(&c, S_child(root, "body"), &doc->blocks, &doc->n_blocks))
        goto fail;
    return doc;
fail:
    pd_text_clear(&tmp);
    pd_doc_free(doc);
    return NULL;
}

void pd_bind_stats_free(pd_bind_stats *stats)
{
    for (size_t i = 0; i < 3; i++) {
        free(stats->first_untranslated[i]);
        stats->first_untranslated[i] = NULL;
    }
}
