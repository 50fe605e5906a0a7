#include "pdftags.h"

#include <glib.h>
#include <math.h>
#include <pango/pango.h>
#include <stdlib.h>
#include <string.h>

/* Element types beyond layout's pd_tag_type. */
enum { S_DOCUMENT = -1, S_LINK = -2, S_FORM = -3 };

/* K_WIDGET: a form widget annotation (pdfform.h), value: its index */
typedef enum S_kind { K_MCR, K_ELEM, K_OBJR, K_WIDGET } S_kind;

/* A child of an element: marked content (value: its MCID on `page`), an
 * element (value: its index) or a link annotation (value: its index). */
typedef struct S_kid {
    S_kind kind;
    int page;
    int value;
} S_kid;

typedef struct S_elem {
    int type;   /* pd_tag_type, S_DOCUMENT or S_LINK */
    int parent; /* index of the enclosing element; -1: none (the document) */
    int ordered;
    S_kid *kids;
    size_t n_kids;
    int page;  /* the page of its first content, -1 none */
    bool used; /* content in it or below it (or a table cell) */
    uint32_t obj;
    const char *alt;           /* Figure: the image's alt text, borrowed from the pages */
    double bbox[4];            /* Figure: where it is on its page */
    char *uri, *text;          /* Link: where it goes, what it says */
    const PangoLayout *layout; /* Link: the text it is in and where */
    int start;
} S_elem;

typedef struct S_annot {
    int page, elem;
    double rect[4];
    uint32_t obj;
} S_annot;

/* A form field's widget annotation, written by pdfform.c. */
typedef struct S_widget {
    int elem; /* its Form element */
    int page;
    uint32_t obj;
} S_widget;

typedef struct S_page {
    int *mcids; /* the element of each MCID */
    size_t n_mcids;
    int *annots; /* indexes into annots */
    size_t n_annots;
} S_page;

/* A part of a line's text (bytes of its layout's text) and its element. */
typedef struct S_range {
    int start, end, elem;
} S_range;

struct pd_pdftags {
    const pd_pages *pages;
    pd_pdfobj *w;
    S_elem *elems; /* 0: the document; 1..n_tags: layout's elements; then links */
    size_t n_elems;
    S_page *pg;
    S_annot *annots;
    size_t n_annots;
    S_widget *widgets; /* after the links in the parent tree */
    size_t n_widgets;
    size_t page;               /* the page being painted */
    int open;                  /* marked content open: 0 none, 1 an element's, 2 an artifact */
    int open_elem;             /* open == 1: whose */
    const char *open_lang;     /* open == 1: its language, or NULL (the element's) */
    bool open_own;             /* open == 1: one cluster's, with its /ActualText */
    size_t open_from, open_to; /* where its BDC is in the content */
    int open_page_was;         /* its element's page before it */
    int open_artifact;         /* open == 2: PD_ARTIFACT_* */
    /* the line being painted when it holds web addresses */
    bool inline_mode;
    int leaf;
    S_range *ranges;
    size_t n_ranges;
    int own_script; /* GUnicodeScript of the document's language */
    uint32_t root;
};

static void S_push_kid(S_elem *e, S_kind kind, int page, int value)
{
    if ((e->n_kids & (e->n_kids - 1)) == 0)
        e->kids = xrealloc(e->kids, (e->n_kids ? 2 * e->n_kids : 1) * sizeof *e->kids);
    e->kids[e->n_kids++] = (S_kid){kind, page, value};
}

static void S_push_int(int **a, size_t *n, int v)
{
    if ((*n & (*n - 1)) == 0)
        *a = xrealloc(*a, (*n ? 2 * *n : 1) * sizeof **a);
    (*a)[(*n)++] = v;
}

static int S_new_elem(pd_pdftags *t, int type, int parent)
{
    /* doubling: a document has a thousand elements and more */
    if ((t->n_elems & (t->n_elems - 1)) == 0)
        t->elems = xrealloc(t->elems, (t->n_elems ? 2 * t->n_elems : 1) * sizeof *t->elems);
    S_elem *e = &t->elems[t->n_elems];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->parent = parent;
    e->page = -1;
    return (int)t->n_elems++;
}

pd_pdftags *pd_pdftags_new(const pd_pages *pages, pd_pdfobj *w)
{
    pd_pdftags *t = xcalloc(1, sizeof *t);
    t->pages = pages;
    t->w = w;
    S_new_elem(t, S_DOCUMENT, -1);
    for (size_t i = 0; i < pages->n_tags; i++) {
        int e = S_new_elem(t, (int)pages->tags[i].type, pages->tags[i].parent);
        t->elems[e].ordered = pages->tags[i].ordered;
    }
    t->pg = xcalloc(pages->n_pages + 1, sizeof *t->pg);
    t->own_script = pages->lang_tag && strncmp(pages->lang_tag, "zh", 2) == 0
                        ? G_UNICODE_SCRIPT_HAN
                        : G_UNICODE_SCRIPT_LATIN;
    return t;
}

void pd_pdftags_free(pd_pdftags *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_elems; i++) {
        free(t->elems[i].kids);
        free(t->elems[i].uri);
        free(t->elems[i].text);
    }
    free(t->elems);
    for (size_t p = 0; p < t->pages->n_pages; p++) {
        free(t->pg[p].mcids);
        free(t->pg[p].annots);
    }
    free(t->pg);
    free(t->annots);
    free(t->widgets);
    free(t->ranges);
    free(t);
}

/* The structure type as written; pildoc's own are in the role map. */
static const char *S_type_name(int type)
{
    switch (type) {
    case S_DOCUMENT: return "Document";
    case S_LINK: return "Link";
    case S_FORM: return "Form";
    case PD_TAG_H1: return "H1";
    case PD_TAG_H2: return "H2";
    case PD_TAG_P: return "P";
    case PD_TAG_L: return "L";
    case PD_TAG_LI: return "LI";
    case PD_TAG_LBL: return "Lbl";
    case PD_TAG_LBODY: return "LBody";
    case PD_TAG_TABLE: return "Table";
    case PD_TAG_TR: return "TR";
    case PD_TAG_TH: return "TH";
    case PD_TAG_TD: return "TD";
    case PD_TAG_CALLOUT: return "InfoBox";
    case PD_TAG_WARNING: return "Warning";
    case PD_TAG_FIELD: return "Div";
    case PD_TAG_FIGURE: return "Figure";
    }
    return "Span";
}

static void S_close(pd_pdftags *t, strbuf *c)
{
    if (t->open)
        strbuf_append_len(c, "EMC\n", 4);
    t->open = 0;
}

/* Begins marked content of element `elem`, with a language and an
 * /ActualText (each may be NULL). */
static void S_open(pd_pdftags *t, strbuf *c, int elem, const char *lang, const char *actual)
{
    S_page *pg = &t->pg[t->page];
    int mcid = (int)pg->n_mcids;
    t->open_from = c->len;
    t->open_page_was = t->elems[elem].page;
    S_push_int(&pg->mcids, &pg->n_mcids, elem);
    S_elem *e = &t->elems[elem];
    if (e->type == S_LINK && e->page < 0) /* a link is read where it is in its text */
        S_push_kid(&t->elems[e->parent], K_ELEM, (int)t->page, elem);
    if (e->page < 0)
        e->page = (int)t->page;
    S_push_kid(e, K_MCR, (int)t->page, mcid);
    strbuf_append_char(c, '/');
    strbuf_append(c, S_type_name(e->type));
    strbuf_append(c, "<</MCID ");
    pd_pdf_int(c, mcid);
    if (lang) {
        strbuf_append(c, "/Lang");
        pd_pdf_text_string(c, lang);
    }
    if (actual) {
        strbuf_append(c, "/ActualText");
        pd_pdf_text_string(c, actual);
    }
    strbuf_append(c, ">>BDC\n");
    t->open = 1;
    t->open_elem = elem;
    t->open_lang = lang;
    t->open_own = actual != NULL;
    t->open_to = c->len;
}

static void S_open_artifact(pd_pdftags *t, strbuf *c, int kind)
{
    static const char *const props[] = {"/Type/Layout", "/Type/Pagination",
                                        "/Type/Pagination/Subtype/Header",
                                        "/Type/Pagination/Subtype/Footer"};
    strbuf_append(c, "/Artifact<<");
    strbuf_append(c, props[kind >= 0 && kind <= PD_ARTIFACT_FOOTER ? kind : 0]);
    strbuf_append(c, ">>BDC\n");
    t->open = 2;
    t->open_artifact = kind;
}

/* ---- web addresses ---- */

static bool S_url_char(char ch)
{
    return g_ascii_isalnum(ch) || (ch && strchr("-._~:/?#[]@!$&'()*+,;=%", ch));
}

static bool S_starts(const char *s, const char *prefix)
{
    return g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* A host name (labels of letters, digits and hyphens) ending in a
 * top-level domain a clinic's or a reference's address may have. */
static bool S_host(const char *s, size_t n)
{
    static const char *const tlds[] = {"fr",  "org", "gov", "uk", "ca", "cn", "com", "net",
                                       "int", "eu",  "edu", "de", "ch", "be", "info"};
    size_t dot = 0, label = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return false;
            dot = i + 1;
            label = 0;
        } else if (g_ascii_isalnum(s[i]) || s[i] == '-') {
            label++;
        } else {
            return false;
        }
    }
    if (!dot || label == 0 || !g_ascii_isalnum(s[0]))
        return false;
    for (size_t k = 0; k < G_N_ELEMENTS(tlds); k++)
        if (strlen(tlds[k]) == n - dot && g_ascii_strncasecmp(s + dot, tlds[k], n - dot) == 0)
            return true;
    return false;
}

/* Addresses longer than this are not made links: it bounds the work on
 * a long value without spaces. */
#define URL_MAX 512

/* The length of the web address or DOI starting at s (a word's start),
 * without trailing punctuation; 0: none. */
static size_t S_url_len(const char *s)
{
    size_t n = 0;
    while (S_url_char(s[n]))
        if (++n > URL_MAX)
            return 0;
    size_t open = 0, close = 0;
    for (size_t i = 0; i < n; i++) {
        open += s[i] == '(';
        close += s[i] == ')';
    }
    while (n && (strchr(".,;:!?'\"]", s[n - 1]) || (s[n - 1] == ')' && close > open))) {
        close -= s[n - 1] == ')';
        n--;
    }
    if (S_starts(s, "https://") || S_starts(s, "http://"))
        return n > 8 ? n : 0;
    if (S_starts(s, "www.") || S_starts(s, "doi:10."))
        return n > 7 ? n : 0;
    size_t host = 0;
    while (host < n && s[host] != '/')
        host++;
    return S_host(s, host) ? n : 0;
}

static char *S_uri_of(const char *s, size_t n)
{
    if (S_starts(s, "doi:"))
        return g_strdup_printf("https://doi.org/%.*s", (int)(n - 4), s + 4);
    if (S_starts(s, "http://") || S_starts(s, "https://"))
        return g_strndup(s, n);
    return g_strdup_printf("https://%.*s", (int)n, s);
}

/* The Link element of the address at `start` of the text of `layout` in
 * element `leaf`: one element for an address on two lines. */
static int S_link_elem(pd_pdftags *t, const PangoLayout *layout, int start, int leaf, const char *s,
                       size_t n)
{
    /* the same address on the line before: one of the last links made */
    for (size_t i = t->n_elems; i-- > t->pages->n_tags + 1 && i + 8 > t->n_elems;)
        if (t->elems[i].layout == layout && t->elems[i].start == start &&
            t->elems[i].parent == leaf)
            return (int)i;
    int e = S_new_elem(t, S_LINK, leaf);
    t->elems[e].layout = layout;
    t->elems[e].start = start;
    t->elems[e].uri = S_uri_of(s, n);
    t->elems[e].text = g_strndup(s, n);
    return e;
}

/* The web addresses on a line (t->ranges), each with its annotation. */
static bool S_find_links(pd_pdftags *t, const pd_item *it, int leaf)
{
    PangoLayoutLine *line = it->line;
    const char *text = pango_layout_get_text(line->layout);
    int ls = line->start_index, le = ls + line->length;
    t->n_ranges = 0;
    /* an address that began on the line before */
    int from = ls;
    while (from > 0 && ls - from < URL_MAX && S_url_char(text[from - 1]))
        from--;
    /* most lines hold none: every address has a dot between two letters
       or digits (or began on the line before) */
    bool maybe = from < ls;
    for (const char *dot = memchr(text + ls, '.', (size_t)(le - ls)); dot && !maybe;
         dot = memchr(dot + 1, '.', (size_t)(text + le - dot - 1)))
        maybe = dot > text + ls && g_ascii_isalnum(dot[-1]) && g_ascii_isalnum(dot[1]);
    if (!maybe)
        return false;
    for (int i = from; i < le; i++) {
        if (i > 0 && (g_ascii_isalnum(text[i - 1]) || strchr("-._/:@", text[i - 1])))
            continue;
        if (!g_ascii_isalnum(text[i]))
            continue;
        int n = (int)S_url_len(text + i);
        if (n == 0)
            continue;
        int start = i > ls ? i : ls, end = i + n < le ? i + n : le;
        if (end > start) {
            int e = S_link_elem(t, line->layout, i, leaf, text + i, (size_t)n);
            t->ranges = xrealloc(t->ranges, (t->n_ranges + 1) * sizeof *t->ranges);
            t->ranges[t->n_ranges++] = (S_range){start, end, e};
            /* its annotation: the part's box on this line */
            int x0 = 0, x1 = 0;
            pango_layout_line_index_to_x(line, start, 0, &x0);
            pango_layout_line_index_to_x(line, end, 0, &x1);
            PangoRectangle logical;
            pango_layout_line_get_extents(line, NULL, &logical);
            double h = t->pages->paper.height;
            t->annots = xrealloc(t->annots, (t->n_annots + 1) * sizeof *t->annots);
            S_annot *a = &t->annots[t->n_annots];
            a->page = (int)t->page;
            a->elem = e;
            a->rect[0] = it->x + (double)(x0 < x1 ? x0 : x1) / PANGO_SCALE;
            a->rect[2] = it->x + (double)(x0 < x1 ? x1 : x0) / PANGO_SCALE;
            a->rect[1] = h - (it->y + (double)(logical.y + logical.height) / PANGO_SCALE);
            a->rect[3] = h - (it->y + (double)logical.y / PANGO_SCALE);
            a->obj = pd_pdfobj_reserve(t->w);
            S_push_kid(&t->elems[e], K_OBJR, (int)t->page, (int)t->n_annots);
            S_push_int(&t->pg[t->page].annots, &t->pg[t->page].n_annots, (int)t->n_annots);
            t->n_annots++;
        }
        i += n;
    }
    return t->n_ranges > 0;
}

/* ---- painting ---- */

void pd_pdftags_item(pd_pdftags *t, strbuf *c, size_t page, const pd_item *it)
{
    if (!t)
        return;
    t->page = page;
    t->inline_mode = false;
    if (it->tag > 0 && (size_t)it->tag <= t->pages->n_tags) {
        int elem = it->tag;
        if (it->kind == PD_ITEM_IMAGE) {
            S_elem *e = &t->elems[elem];
            double h = t->pages->paper.height;
            double box[4] = {it->x, h - it->y - it->h, it->x + it->w, h - it->y};
            if (!e->alt)
                memcpy(e->bbox, box, sizeof box);
            e->alt = it->image && it->image->alt ? it->image->alt : "";
        }
        if (it->kind == PD_ITEM_LINE && it->line &&
            (S_find_links(t, it, elem) || it->other_script)) {
            /* marked in parts, inside its text object */
            S_close(t, c);
            t->inline_mode = true;
            t->leaf = elem;
            return;
        }
        if (it->kind == PD_ITEM_BOX) { /* a check box is read as a ballot box, ticked or not */
            S_close(t, c);
            S_open(t, c, elem, NULL, it->checked ? "\xe2\x98\x91 " : "\xe2\x98\x90 ");
            return;
        }
        if (t->open == 1 && t->open_elem == elem && !t->open_own && !t->open_lang)
            return; /* the lines of a paragraph: one marked-content sequence */
        S_close(t, c);
        S_open(t, c, elem, NULL, NULL);
        return;
    }
    if (t->open == 2 && t->open_artifact == it->artifact)
        return;
    S_close(t, c);
    S_open_artifact(t, c, it->artifact);
}

void pd_pdftags_page_end(pd_pdftags *t, strbuf *c)
{
    if (t)
        S_close(t, c);
}

static int S_elem_at(const pd_pdftags *t, int index)
{
    for (size_t i = 0; i < t->n_ranges; i++)
        if (index >= t->ranges[i].start && index < t->ranges[i].end)
            return t->ranges[i].elem;
    return t->leaf;
}

void pd_pdftags_in_parts(pd_pdftags *t, strbuf *c, const pd_item *it)
{
    if (!t)
        return;
    if (t->open == 1 && t->open_to == c->len && t->open_elem == it->tag) {
        /* begun for this line and empty: taken back */
        S_page *pg = &t->pg[t->page];
        S_elem *e = &t->elems[t->open_elem];
        pg->n_mcids--;
        e->n_kids--;
        e->page = t->open_page_was;
        c->len = t->open_from;
        c->data[c->len] = '\0';
        t->open = 0;
    }
    S_close(t, c);
    t->n_ranges = 0;
    t->inline_mode = true;
    t->leaf = it->tag;
}

bool pd_pdftags_in_text(const pd_pdftags *t)
{
    return t && t->inline_mode;
}

bool pd_pdftags_text_split(const pd_pdftags *t, int index, const char *lang, bool own)
{
    return t && t->inline_mode &&
           (t->open != 1 || t->open_own || own || t->open_lang != lang ||
            S_elem_at(t, index) != t->open_elem);
}

void pd_pdftags_text_open(pd_pdftags *t, strbuf *c, int index, const char *lang, const char *actual)
{
    S_close(t, c);
    S_open(t, c, S_elem_at(t, index), lang, actual);
}

void pd_pdftags_line_close(pd_pdftags *t, strbuf *c)
{
    if (!t || !t->inline_mode)
        return;
    S_close(t, c);
    t->inline_mode = false;
    t->n_ranges = 0;
}

void pd_pdftags_after_line(pd_pdftags *t, strbuf *c)
{
    if (t && !t->open)
        S_open_artifact(t, c, PD_ARTIFACT_LAYOUT);
}

const char *pd_pdftags_run_lang(const pd_pdftags *t, const pd_item *it, int script)
{
    if (!t || !it->other_script || script == t->own_script || script == G_UNICODE_SCRIPT_COMMON ||
        script == G_UNICODE_SCRIPT_INHERITED || script == G_UNICODE_SCRIPT_UNKNOWN)
        return NULL;
    if (script == G_UNICODE_SCRIPT_HAN)
        return "zh";
    /* the script is known, not the language: "und-Latn" */
    static const struct {
        int script;
        const char *tag;
    } tags[] = {{G_UNICODE_SCRIPT_LATIN, "und-Latn"},      {G_UNICODE_SCRIPT_CYRILLIC, "und-Cyrl"},
                {G_UNICODE_SCRIPT_GREEK, "und-Grek"},      {G_UNICODE_SCRIPT_HIRAGANA, "ja"},
                {G_UNICODE_SCRIPT_KATAKANA, "ja"},         {G_UNICODE_SCRIPT_HANGUL, "ko"},
                {G_UNICODE_SCRIPT_ARABIC, "und-Arab"},     {G_UNICODE_SCRIPT_HEBREW, "und-Hebr"},
                {G_UNICODE_SCRIPT_DEVANAGARI, "und-Deva"}, {G_UNICODE_SCRIPT_THAI, "th"}};
    for (size_t i = 0; i < G_N_ELEMENTS(tags); i++)
        if (tags[i].script == script)
            return tags[i].tag;
    return "und";
}

/* ---- the tree ---- */

void pd_pdftags_page_entries(const pd_pdftags *t, strbuf *o, size_t page)
{
    if (!t)
        return;
    strbuf_append(o, "/StructParents ");
    pd_pdf_int(o, (long)page);
}

void pd_pdftags_page_annots(const pd_pdftags *t, size_t page, strbuf *refs)
{
    if (!t)
        return;
    const S_page *pg = &t->pg[page];
    for (size_t i = 0; i < pg->n_annots; i++)
        strbuf_printf(refs, " %u 0 R", t->annots[pg->annots[i]].obj);
}

static void S_reals(strbuf *o, const double *v, size_t n)
{
    strbuf_append_char(o, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_append_char(o, ' ');
        pd_pdf_real(o, v[i], 3);
    }
    strbuf_append_char(o, ']');
}

/* key, then "N 0 R": without printf, which was a third of writing the
 * structure tree (an element or two per line of text) */
static void S_ref(strbuf *o, const char *key, uint32_t obj)
{
    strbuf_append(o, key);
    pd_pdf_int(o, (long)obj);
    strbuf_append_len(o, " 0 R", 4);
}

static void S_write_elem(pd_pdftags *t, const S_elem *e, const uint32_t *page_objs)
{
    strbuf *o = t->w->out;
    pd_pdfobj_begin(t->w, e->obj);
    strbuf_append(o, "<</S/"); /* /Type/StructElem is optional: 16 bytes an element */
    strbuf_append(o, S_type_name(e->type));
    S_ref(o, "/P ", e->parent < 0 ? t->root : t->elems[e->parent].obj);
    if (e->page >= 0)
        S_ref(o, "/Pg ", page_objs[e->page]);
    switch (e->type) {
    case PD_TAG_TH: strbuf_append(o, "/A<</O/Table/Scope/Column>>"); break;
    case PD_TAG_L:
        strbuf_printf(o, "/A<</O/List/ListNumbering/%s>>", e->ordered ? "Decimal" : "Disc");
        break;
    case PD_TAG_FIGURE:
        strbuf_append(o, "/Alt");
        pd_pdf_text_string(o, e->alt ? e->alt : "");
        strbuf_append(o, "/A<</O/Layout/Placement/Block/BBox");
        S_reals(o, e->bbox, 4);
        strbuf_append(o, ">>");
        break;
    case S_LINK:
        strbuf_append(o, "/Alt");
        pd_pdf_text_string(o, e->text);
        break;
    default: break;
    }
    if (e->n_kids == 1 && e->kids[0].kind == K_MCR && e->kids[0].page == e->page) {
        strbuf_append(o, "/K ");
        pd_pdf_int(o, e->kids[0].value);
    } else if (e->n_kids) {
        strbuf_append(o, "/K[");
        for (size_t i = 0; i < e->n_kids; i++) {
            const S_kid *k = &e->kids[i];
            if (i)
                strbuf_append_char(o, ' ');
            if (k->kind == K_ELEM)
                S_ref(o, "", t->elems[k->value].obj);
            else if (k->kind == K_OBJR)
                strbuf_printf(o, "<</Type/OBJR/Obj %u 0 R/Pg %u 0 R>>", t->annots[k->value].obj,
                              page_objs[k->page]);
            else if (k->kind == K_WIDGET)
                strbuf_printf(o, "<</Type/OBJR/Obj %u 0 R/Pg %u 0 R>>", t->widgets[k->value].obj,
                              page_objs[k->page]);
            else if (k->page == e->page)
                pd_pdf_int(o, k->value);
            else
                strbuf_printf(o, "<</Type/MCR/Pg %u 0 R/MCID %d>>", page_objs[k->page], k->value);
        }
        strbuf_append_char(o, ']');
    }
    strbuf_append(o, ">>");
    pd_pdfobj_end(t->w);
}

void pd_pdftags_write(pd_pdftags *t, const uint32_t *page_objs)
{
    if (!t)
        return;
    size_t n_tags = t->pages->n_tags;
    /* what has content, and table cells (a table keeps its empty cells) */
    for (size_t i = t->n_elems; i-- > 1;) {
        S_elem *e = &t->elems[i];
        if (e->n_kids || e->type == PD_TAG_TH || e->type == PD_TAG_TD)
            e->used = true;
        if (e->used)
            t->elems[e->parent].used = true;
    }
    t->elems[0].used = true;
    /* layout's elements go into their parents in reading order (links
       went into theirs where they were met; one with no text, after it) */
    for (size_t i = 1; i < t->n_elems; i++) {
        const S_elem *e = &t->elems[i];
        bool from_layout = i <= n_tags; /* else a link or a form field's widget */
        if (e->used && (from_layout || e->page < 0))
            S_push_kid(&t->elems[e->parent], K_ELEM, -1, (int)i);
    }
    t->root = pd_pdfobj_reserve(t->w);
    uint32_t parent_tree = pd_pdfobj_reserve(t->w);
    for (size_t i = 0; i < t->n_elems; i++)
        if (t->elems[i].used)
            t->elems[i].obj = pd_pdfobj_reserve(t->w);
    for (size_t i = 0; i < t->n_elems; i++)
        if (t->elems[i].used)
            S_write_elem(t, &t->elems[i], page_objs);

    strbuf *o = t->w->out;
    size_t n_pages = t->pages->n_pages;
    pd_pdfobj_begin(t->w, parent_tree);
    strbuf_append(o, "<</Nums[");
    for (size_t p = 0; p < n_pages; p++) {
        strbuf_printf(o, "%s%zu[", p ? " " : "", p);
        for (size_t m = 0; m < t->pg[p].n_mcids; m++)
            S_ref(o, m ? " " : "", t->elems[t->pg[p].mcids[m]].obj);
        strbuf_append_char(o, ']');
    }
    for (size_t a = 0; a < t->n_annots; a++)
        strbuf_printf(o, " %zu %u 0 R", n_pages + a, t->elems[t->annots[a].elem].obj);
    for (size_t k = 0; k < t->n_widgets; k++)
        strbuf_printf(o, " %zu %u 0 R", n_pages + t->n_annots + k,
                      t->elems[t->widgets[k].elem].obj);
    strbuf_append(o, "]>>");
    pd_pdfobj_end(t->w);

    pd_pdfobj_begin(t->w, t->root);
    strbuf_printf(o,
                  "<</Type/StructTreeRoot/K %u 0 R/ParentTree %u 0 R/ParentTreeNextKey %zu"
                  "/RoleMap<</InfoBox/Div/Warning/Div>>>>",
                  t->elems[0].obj, parent_tree, n_pages + t->n_annots + t->n_widgets);
    pd_pdfobj_end(t->w);

    for (size_t a = 0; a < t->n_annots; a++) {
        const S_annot *an = &t->annots[a];
        const S_elem *e = &t->elems[an->elem];
        pd_pdfobj_begin(t->w, an->obj);
        strbuf_append(o, "<</Type/Annot/Subtype/Link/Rect");
        S_reals(o, an->rect, 4);
        strbuf_printf(o, "/Border[0 0 0]/F 4/P %u 0 R/StructParent %zu/Contents",
                      page_objs[an->page], n_pages + a);
        pd_pdf_text_string(o, e->text);
        strbuf_append(o, "/A<</S/URI/URI");
        pd_pdf_text_string(o, e->uri);
        strbuf_append(o, ">>>>");
        pd_pdfobj_end(t->w);
    }
}

/* ---- form fields ---- */

/* The element a form widget's item belongs with: for a line to write on,
 * the element of the line that drew it (its run is in that line); for a
 * box, the element of its label, the nearest line to its right within
 * its height. 0 (the document) when there is none (the running header,
 * an artifact). */
static int S_widget_parent(const pd_page *page, const pd_item *it)
{
    int best = 0;
    double best_d = 1e300;
    for (size_t i = 0; i < page->n_items; i++) {
        const pd_item *l = &page->items[i];
        if (l->kind != PD_ITEM_LINE || !l->tag)
            continue;
        double d;
        if (it->kind == PD_ITEM_RECT) { /* the rule is 2.5 pt under its line's baseline */
            if (fabs(l->y + 2.5 - it->y) > 0.5 || l->x > it->x + 0.5)
                continue;
            d = it->x - l->x;
        } else {
            if (l->y < it->y - 1 || l->y > it->y + it->h + 2 || l->x < it->x + it->w - 0.5)
                continue;
            d = l->x - it->x - it->w + (l->y - it->y) / 100;
        }
        if (d < best_d) {
            best_d = d;
            best = l->tag;
        }
    }
    return best;
}

void pd_pdftags_widget(pd_pdftags *t, size_t page, const pd_item *it, uint32_t obj)
{
    if (!t)
        return;
    /* a Form element (no page of its own: it goes into its parent after
       layout's elements, in the order widgets are met) */
    int e = S_new_elem(t, S_FORM, S_widget_parent(&t->pages->pages[page], it));
    t->widgets = xrealloc(t->widgets, (t->n_widgets + 1) * sizeof *t->widgets);
    t->widgets[t->n_widgets] = (S_widget){e, (int)page, obj};
    S_push_kid(&t->elems[e], K_WIDGET, (int)page, (int)t->n_widgets);
    t->n_widgets++;
}

long pd_pdftags_widget_key(const pd_pdftags *t, uint32_t obj)
{
    for (size_t k = 0; t && k < t->n_widgets; k++)
        if (t->widgets[k].obj == obj)
            return (long)(t->pages->n_pages + t->n_annots + k);
    return -1;
}

void pd_pdftags_catalog_entries(const pd_pdftags *t, strbuf *o)
{
    if (!t || !t->root)
        return;
    /* /ViewerPreferences (DisplayDocTitle) is pdfmeta's, for every file */
    strbuf_printf(o, "/MarkInfo<</Marked true>>/StructTreeRoot %u 0 R", t->root);
}

const char *pd_pdftags_run_language(const pd_pdftags *t, const pd_item *it, int script,
                                    const char *shaped_as)
{
    if (t && it->other_script && t->pages->also_tag && shaped_as &&
        g_ascii_strcasecmp(shaped_as, t->pages->also_tag) == 0)
        return t->pages->also_tag;
    return pd_pdftags_run_lang(t, it, script);
}
