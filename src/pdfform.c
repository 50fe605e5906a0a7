#include "pdfform.h"

#include "diskcache.h"
#include "paths.h"
#include "pdffont.h"

#include <glib.h>
#include <hb-ot.h>
#include <hb-subset.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field geometry, in points: a text field sits on its line to write on,
 * tall enough for the value's type; a signature field takes the room
 * above its line (the layout leaves 15 mm). */
#define TEXT_ABOVE 15.0
#define TEXT_BELOW 2.0
#define SIGN_ABOVE 36.0
#define FONT_SIZE 10.0
#define INITIALS_SIZE 14.0
/* Field flag: DoNotSpellCheck (names, numbers, dates). */
#define FF_DO_NOT_SPELL_CHECK (1u << 22)

/* Filled values print like the printed sheet's: blue-black. */
static const char S_value_colour[] = "0.02 0.16 0.48 rg";

/* A terminal field: one or more widgets (the same variable on several
 * pages). Its name's parts hang in a tree of nodes. */
typedef struct S_field {
    char *name; /* fully qualified */
    char *tu;
    pd_field_kind kind;
    pd_blank_kind blank;
    size_t *widgets; /* indexes into form->widgets */
    size_t n_widgets;
    uint32_t obj; /* the field's dictionary (the widget's when it has one) */
} S_field;

typedef struct S_node {
    char *part;
    struct S_node *kids;
    size_t n_kids;
    long field; /* index of its terminal field, or -1 */
    uint32_t obj;
} S_node;

typedef struct S_widget {
    pd_form_widget pub;
    const pd_field *src;
    size_t field;
    long struct_parent;
} S_widget;

struct pd_form {
    const pd_pages *pages;
    S_widget *widgets; /* page by page, tab order */
    size_t n_widgets;
    pd_form_widget *pub; /* the same, as the header shows them */
    size_t *page_start;  /* n_pages + 1 entries */
    S_field *fields;
    size_t n_fields;
    S_node root;
    uint32_t acroform, font;
};

static const char *const S_kind_words[] = {"text", "name", "phone", "date", "part", "id"};

static const char *S_blank_word(pd_blank_kind b)
{
    return (size_t)b < sizeof S_kind_words / sizeof S_kind_words[0] ? S_kind_words[b] : "text";
}

bool pd_form_has_signature(const pd_pages *pages)
{
    for (size_t i = 0; i < pages->n_fields; i++)
        if (pages->fields[i]->kind == PD_FIELD_SIGN)
            return true;
    return false;
}

/* Reading order on a page: top to bottom, then left to right (the
 * running header first; a row of boxes left to right). */
static int S_by_position(const void *a, const void *b)
{
    const S_widget *x = a, *y = b;
    double ty = round(-x->pub.rect[3] / 2), uy = round(-y->pub.rect[3] / 2);
    if (ty != uy)
        return ty < uy ? -1 : 1;
    if (x->pub.rect[0] != y->pub.rect[0])
        return x->pub.rect[0] < y->pub.rect[0] ? -1 : 1;
    return 0;
}

/* The widget rectangle of an item, in PDF space (y up). */
static void S_rect_of(const pd_item *it, double page_h, double r[4])
{
    const pd_field *f = it->field;
    if (it->kind == PD_ITEM_BOX) {
        r[0] = it->x;
        r[1] = page_h - it->y - it->h;
        r[2] = it->x + it->w;
        r[3] = page_h - it->y;
        return;
    }
    double above = f->kind == PD_FIELD_SIGN ? SIGN_ABOVE : TEXT_ABOVE;
    r[0] = it->x;
    r[1] = page_h - it->y - TEXT_BELOW;
    r[2] = it->x + it->w;
    r[3] = page_h - it->y + above;
}

/* The name of a field: its variable's (a signature's: the template's
 * name="..."), or its kind's word and a number. */
static char *S_name_of(const pd_field *f, unsigned *counters)
{
    strbuf sb = STRBUF_INIT;
    switch (f->kind) {
    case PD_FIELD_TEXT:
        if (f->var)
            strbuf_append(&sb, f->var);
        else if (f->part) /* a date in parts: date.N.1, date.N.2... */
            strbuf_printf(&sb, "date.%u",
                          f->part == 1 ? ++counters[PD_BLANK_DATE] : counters[PD_BLANK_DATE]);
        else
            strbuf_printf(&sb, "%s.%u", S_blank_word(f->blank), ++counters[f->blank]);
        if (f->part)
            strbuf_printf(&sb, ".%d", f->part);
        break;
    case PD_FIELD_CHOICE: strbuf_printf(&sb, "%s.%s", f->var, f->value); break;
    case PD_FIELD_CHECK: strbuf_printf(&sb, "tick.%u", ++counters[6]); break;
    case PD_FIELD_INITIALS: strbuf_printf(&sb, "initials.%u", ++counters[7]); break;
    case PD_FIELD_SIGN: /* named by the template (sign.patient), or numbered */
        if (f->var)
            strbuf_append(&sb, f->var);
        else
            strbuf_printf(&sb, "sign.%u", ++counters[8]);
        break;
    }
    /* a period separates the parts of a name: none inside a part */
    return strbuf_take(&sb);
}

static char *S_label_with_hint(const pd_field *f)
{
    /* g_strdup_printf's string is freed with g_free, the rest with free */
    if (!f->hint || !*f->hint)
        return xstrdup(f->label);
    /* after a Chinese label, full-width brackets without a space */
    size_t n = strlen(f->label);
    const char *last = n ? g_utf8_prev_char(f->label + n) : f->label;
    bool wide = n && g_utf8_get_char(last) >= 0x3000;
    char *s = g_strdup_printf(wide ? "%s\xef\xbc\x88%s\xef\xbc\x89" : "%s (%s)", f->label, f->hint);
    char *copy = xstrdup(s);
    g_free(s);
    return copy;
}

static S_node *S_node_kid(S_node *n, const char *part, size_t len)
{
    for (size_t i = 0; i < n->n_kids; i++)
        if (strlen(n->kids[i].part) == len && memcmp(n->kids[i].part, part, len) == 0)
            return &n->kids[i];
    n->kids = xrealloc(n->kids, (n->n_kids + 1) * sizeof *n->kids);
    S_node *k = &n->kids[n->n_kids++];
    memset(k, 0, sizeof *k);
    k->part = xstrndup(part, len);
    k->field = -1;
    return k;
}

static void S_node_free(S_node *n)
{
    for (size_t i = 0; i < n->n_kids; i++)
        S_node_free(&n->kids[i]);
    free(n->kids);
    free(n->part);
}

/* Puts field i into the tree; false when its name clashes with another
 * field's (a name that is also another's parent). */
static bool S_node_add(S_node *root, const char *name, size_t i)
{
    S_node *n = root;
    for (const char *p = name;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        n = S_node_kid(n, p, len);
        if (!dot)
            break;
        if (n->field >= 0)
            return false;
        p = dot + 1;
    }
    if (n->field >= 0 || n->n_kids)
        return false;
    n->field = (long)i;
    return true;
}

pd_form *pd_form_new(const pd_pages *pages, pd_pdfobj *w)
{
    if (!pages->n_fields)
        return NULL;
    pd_form *form = xcalloc(1, sizeof *form);
    form->pages = pages;
    form->root.field = -1;
    form->page_start = xcalloc(pages->n_pages + 1, sizeof *form->page_start);
    for (size_t p = 0; p < pages->n_pages; p++) {
        form->page_start[p] = form->n_widgets;
        const pd_page *page = &pages->pages[p];
        for (size_t i = 0; i < page->n_items; i++) {
            const pd_item *it = &page->items[i];
            if (!it->field)
                continue;
            form->widgets = xrealloc(form->widgets, (form->n_widgets + 1) * sizeof *form->widgets);
            S_widget *wd = &form->widgets[form->n_widgets++];
            memset(wd, 0, sizeof *wd);
            wd->src = it->field;
            wd->pub.page = p;
            wd->pub.kind = it->field->kind;
            wd->pub.item = i;
            wd->struct_parent = -1;
            S_rect_of(it, pages->paper.height, wd->pub.rect);
        }
        if (form->n_widgets > form->page_start[p]) /* qsort's base may not be NULL */
            qsort(form->widgets + form->page_start[p], form->n_widgets - form->page_start[p],
                  sizeof *form->widgets, S_by_position);
    }
    form->page_start[pages->n_pages] = form->n_widgets;
    if (!form->n_widgets) {
        pd_form_free(form);
        return NULL;
    }
    /* fields: one per name; widgets numbered in tab order, so that the
       numbered names follow the reading order */
    unsigned counters[16] = {0};
    for (size_t i = 0; i < form->n_widgets; i++) {
        S_widget *wd = &form->widgets[i];
        const pd_field *f = wd->src;
        size_t k = form->n_fields;
        /* the same pd_field (a running header placed on every page), or
           the same variable: the same field */
        for (size_t j = 0; j < i; j++)
            if (form->widgets[j].src == f) {
                k = form->widgets[j].field;
                break;
            }
        char *name = NULL;
        if (k == form->n_fields) {
            name = S_name_of(f, counters);
            for (size_t j = 0; j < form->n_fields; j++)
                if (strcmp(form->fields[j].name, name) == 0 && form->fields[j].kind == f->kind &&
                    f->kind != PD_FIELD_SIGN) /* a signature line is never shared */
                    k = j;
        }
        if (k == form->n_fields) {
            form->fields = xrealloc(form->fields, (k + 1) * sizeof *form->fields);
            S_field *sf = &form->fields[k];
            memset(sf, 0, sizeof *sf);
            sf->name = name;
            name = NULL;
            sf->kind = f->kind;
            sf->blank = f->blank;
            if (!S_node_add(&form->root, sf->name, k)) { /* a clash: numbered apart */
                char *alt = g_strdup_printf("%s_%zu", sf->name, k + 1);
                for (char *c = alt; *c; c++)
                    if (*c == '.')
                        *c = '_';
                free(sf->name);
                sf->name = xstrdup(alt);
                g_free(alt);
                S_node_add(&form->root, sf->name, k);
            }
            form->n_fields++;
        }
        free(name);
        S_field *sf = &form->fields[k];
        sf->widgets = xrealloc(sf->widgets, (sf->n_widgets + 1) * sizeof *sf->widgets);
        sf->widgets[sf->n_widgets++] = i;
        wd->field = k;
        wd->pub.obj = pd_pdfobj_reserve(w);
    }
    /* accessible names: the label (and the date's form); with the heading
       before it when another field has the same label */
    for (size_t k = 0; k < form->n_fields; k++) {
        const pd_field *f = form->widgets[form->fields[k].widgets[0]].src;
        char *label = S_label_with_hint(f);
        bool unique = true;
        for (size_t j = 0; j < form->n_fields && unique; j++) {
            const pd_field *g = form->widgets[form->fields[j].widgets[0]].src;
            unique = j == k || strcmp(g->label, f->label) != 0 || g->part != f->part;
        }
        if (!unique && f->section && *f->section) {
            char *with = g_strdup_printf("%s \xe2\x80\x93 %s", f->section, label);
            free(label);
            label = xstrdup(with);
            g_free(with);
        }
        form->fields[k].tu = label;
    }
    form->pub = xcalloc(form->n_widgets, sizeof *form->pub);
    for (size_t i = 0; i < form->n_widgets; i++) {
        S_widget *wd = &form->widgets[i];
        wd->pub.name = form->fields[wd->field].name;
        wd->pub.tu = form->fields[wd->field].tu;
        form->pub[i] = wd->pub;
    }
    return form;
}

void pd_form_free(pd_form *form)
{
    if (!form)
        return;
    for (size_t k = 0; k < form->n_fields; k++) {
        free(form->fields[k].name);
        free(form->fields[k].tu);
        free(form->fields[k].widgets);
    }
    free(form->fields);
    S_node_free(&form->root);
    free(form->widgets);
    free(form->pub);
    free(form->page_start);
    free(form);
}

const pd_form_widget *pd_form_page_widgets(const pd_form *form, size_t page, size_t *n)
{
    *n = 0;
    if (!form || page >= form->pages->n_pages)
        return NULL;
    *n = form->page_start[page + 1] - form->page_start[page];
    return form->pub + form->page_start[page];
}

const pd_form_widget *pd_form_widgets(const pd_form *form, size_t *n)
{
    *n = form ? form->n_widgets : 0;
    return form ? form->pub : NULL;
}

void pd_form_set_struct_parent(pd_form *form, uint32_t obj, long struct_parent)
{
    for (size_t i = 0; form && i < form->n_widgets; i++)
        if (form->widgets[i].pub.obj == obj)
            form->widgets[i].struct_parent = struct_parent;
}

void pd_form_page_annots(const pd_form *form, size_t page, strbuf *refs)
{
    size_t n;
    const pd_form_widget *w = pd_form_page_widgets(form, page, &n);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(refs, " %u 0 R", w[i].obj);
}

/* ---- the default appearance font ----------------------------------------
 * What a filling tool writes typed values with. A subset of the body face
 * made here (not by pdffont.c) because it must keep the face's cmap, name
 * and post tables: pdftk (iText) writes a value with the embedded font
 * program itself, which it reads as a TrueType font, and finds glyphs
 * through its cmap (iText 4.2 cannot read a two-byte ToUnicode map);
 * poppler finds the codes through the ToUnicode map, which lists every
 * character. Codes are the subset's glyph ids (CIDToGIDMap /Identity), as
 * iText writes them. The characters: every one of these ranges the face
 * has (Latin for Western and Central European names, digits, punctuation)
 * and, for a Chinese document, the ideographs of GB 2312. */
typedef struct S_range {
    uint32_t first, last;
} S_range;

static const S_range S_latin[] = {
    {0x0020, 0x007E}, /* ASCII */
    {0x00A0, 0x017F}, /* Latin-1, Latin Extended-A: French, German, Polish, Turkish... */
    {0x0218, 0x021B}, /* Romanian comma below */
    {0x2010, 0x2027}, /* dashes, quotes, bullet, ellipsis */
    {0x2030, 0x203A}, /* per mille, primes, guillemets */
    {0x20AC, 0x20AC}, /* euro */
};

struct pd_form_font {
    char *path;
    unsigned index;
    bool cjk;
    char *base_font;
    strbuf program; /* deflated */
    size_t program_len;
    strbuf widths, descriptor, tounicode, cidset; /* tounicode, cidset: raw */
    size_t n_glyphs;
};

static int S_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Converts `n` one- or two-byte characters of `charset` (each `width`
 * bytes in `in`) to Unicode, in one call; table[k] gets the k-th. False
 * when the conversion is not available. */
static bool S_decode(const char *in, size_t n, int width, const char *charset, uint32_t *table)
{
    gsize len = 0;
    gchar *utf8 = g_convert(in, (gssize)(n * (size_t)width), "UTF-8", charset, NULL, &len, NULL);
    if (!utf8)
        return false;
    const char *p = utf8;
    for (size_t k = 0; k < n && p < utf8 + len; k++, p = g_utf8_next_char(p))
        table[k] = g_utf8_get_char(p);
    g_free(utf8);
    return true;
}

/* The characters of GB 2312's rows 16-87: its 6,763 ideographs. */
static void S_add_gb2312(hb_set_t *set)
{
    char *in = xmalloc((size_t)72 * 94 * 2);
    size_t n = 0;
    for (int row = 0xB0; row <= 0xF7; row++)
        for (int col = 0xA1; col <= 0xFE; col++) {
            if (row == 0xD7 && col >= 0xFA) /* the row's unassigned end */
                continue;
            in[2 * n] = (char)row;
            in[2 * n + 1] = (char)col;
            n++;
        }
    uint32_t *table = xcalloc(n, sizeof *table);
    if (S_decode(in, n, 2, "GB2312", table))
        for (size_t k = 0; k < n; k++)
            hb_set_add(set, table[k]);
    free(table);
    free(in);
}

/* The Unicode character of each code of WinAnsiEncoding (0: none). */
static void S_winansi(uint32_t table[256])
{
    char in[224];
    int codes[224];
    size_t n = 0;
    for (int c = 32; c < 256; c++) {
        if (c == 127 || c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D)
            continue; /* undefined */
        codes[n] = c;
        in[n++] = (char)c;
    }
    uint32_t out[224] = {0};
    bool ok = S_decode(in, n, 1, "CP1252", out);
    for (size_t k = 0; k < n; k++) /* without the table: Latin-1 */
        table[codes[k]] = ok ? out[k] : codes[k] < 128 || codes[k] >= 160 ? (uint32_t)codes[k] : 0;
}

static pd_form_font *S_form_font_make(const char *path, unsigned index, bool cjk, pd_error *err)
{
    hb_blob_t *blob = hb_blob_create_from_file_or_fail(path);
    if (!blob) {
        pd_error_set(err, NULL, 0, "cannot read the font %s", path);
        return NULL;
    }
    hb_face_t *face = hb_face_create(blob, index);
    hb_blob_destroy(blob);
    hb_set_t *unicodes = hb_set_create();
    uint32_t winansi[256] = {0};
    if (!cjk) { /* the characters of WinAnsiEncoding, by code */
        S_winansi(winansi);
        for (int c = 32; c < 256; c++)
            if (winansi[c])
                hb_set_add(unicodes, winansi[c]);
    } else {
        for (size_t r = 0; r < sizeof S_latin / sizeof S_latin[0]; r++)
            hb_set_add_range(unicodes, S_latin[r].first, S_latin[r].last);
        S_add_gb2312(unicodes);
        hb_set_add_range(unicodes, 0x3000, 0x303F); /* CJK punctuation */
        hb_set_add_range(unicodes, 0xFF01, 0xFF5E); /* full-width forms */
    }
    /* only what the face has */
    hb_set_t *have = hb_set_create();
    hb_face_collect_unicodes(face, have);
    hb_set_intersect(unicodes, have);
    hb_set_destroy(have);

    hb_subset_input_t *in = hb_subset_input_create_or_fail();
    hb_face_t *sub = NULL;
    if (in) {
        hb_set_union(hb_subset_input_unicode_set(in), unicodes);
        hb_set_t *drop = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
        /* no layout tables (GSUB's closure would double a Chinese
           subset), except GPOS: HarfBuzz 6.0 fails to subset Noto Sans
           CJK without both GSUB and GPOS (measured) */
        static const char *const tables[] = {"GSUB", "GDEF", "BASE", "JSTF", "MATH", "kern",
                                             "vhea", "vmtx", "VORG", "DSIG", "hdmx", "LTSH",
                                             "VDMX", "gasp", "meta", "STAT"};
        for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
            hb_set_add(drop, hb_tag_from_string(tables[i], 4));
        hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_NO_HINTING | HB_SUBSET_FLAGS_NOTDEF_OUTLINE);
        sub = hb_subset_or_fail(face, in);
        hb_subset_input_destroy(in);
    }
    hb_face_destroy(face);
    if (!sub) {
        hb_set_destroy(unicodes);
        pd_error_set(err, NULL, 0, "font subsetting failed for the form's font %s", path);
        return NULL;
    }
    pd_form_font *ff = xcalloc(1, sizeof *ff);
    ff->path = xstrdup(path);
    ff->index = index;
    ff->cjk = cjk;
    hb_blob_t *data = hb_face_reference_blob(sub);
    unsigned len = 0;
    const char *bytes = hb_blob_get_data(data, &len);
    ff->program_len = len;
    pd_pdf_deflate(&ff->program, bytes, len, PD_PDF_LEVEL_SHARED);
    /* a tag from the program's bytes, and the PostScript name */
    uint32_t h = 2166136261u;
    for (unsigned i = 0; i < len; i += 7) {
        h ^= (unsigned char)bytes[i];
        h *= 16777619u;
    }
    hb_blob_destroy(data);
    char tag[8];
    for (int i = 0; i < 6; i++) {
        tag[i] = (char)('A' + h % 26);
        h /= 26;
        h ^= h << 13;
    }
    tag[6] = '+';
    tag[7] = '\0';
    char ps[128] = "Form";
    unsigned ps_len = sizeof ps - 1;
    hb_ot_name_get_utf8(sub, HB_OT_NAME_ID_POSTSCRIPT_NAME, HB_LANGUAGE_INVALID, &ps_len, ps);
    strbuf name = STRBUF_INIT;
    strbuf_printf(&name, "%s%s", tag, ps);
    ff->base_font = strbuf_take(&name);

    hb_font_t *font = hb_font_create(sub);
    unsigned upem = hb_face_get_upem(sub);
    double k = 1000.0 / (upem ? upem : 1000);
    unsigned n = hb_face_get_glyph_count(sub);
    ff->n_glyphs = n;
    if (!cjk) { /* a simple font: /Widths of codes 32-255 */
        strbuf_append(&ff->widths, "/FirstChar 32/LastChar 255/Widths[");
        for (int c = 32; c < 256; c++) {
            hb_codepoint_t g = 0;
            if (c > 32)
                strbuf_append_char(&ff->widths, ' ');
            if (winansi[c] && hb_font_get_nominal_glyph(font, winansi[c], &g))
                pd_pdf_real(&ff->widths, hb_font_get_glyph_h_advance(font, g) * k, 0);
            else
                strbuf_append_char(&ff->widths, '0');
        }
        strbuf_append(&ff->widths, "]");
    } else { /* /W [0 [w0 w1 ...]] by glyph id */
        strbuf_append(&ff->widths, "/DW 1000/W[0[");
        for (unsigned g = 0; g < n; g++) {
            if (g)
                strbuf_append_char(&ff->widths, ' ');
            pd_pdf_real(&ff->widths, hb_font_get_glyph_h_advance(font, g) * k, 0);
        }
        strbuf_append(&ff->widths, "]]");
    }
    /* descriptor: 32 nonsymbolic (WinAnsi), 4 symbolic */
    pd_pdffont_describe(&ff->descriptor, font, sub, k, cjk ? 4 : 32);
    /* ToUnicode: each glyph's first character; CIDSet: every glyph */
    size_t n_map = 0;
    uint32_t *map = xcalloc(2 * (size_t)hb_set_get_population(unicodes) + 2, sizeof *map);
    bool *mapped = xcalloc(n + 1, sizeof *mapped);
    hb_codepoint_t u = HB_SET_VALUE_INVALID;
    while (hb_set_next(unicodes, &u)) {
        hb_codepoint_t g;
        if (!hb_font_get_nominal_glyph(font, u, &g) || g == 0 || g >= n || mapped[g])
            continue;
        mapped[g] = true;
        map[2 * n_map] = g;
        map[2 * n_map + 1] = u;
        n_map++;
    }
    free(mapped);
    qsort(map, n_map, 2 * sizeof *map, S_u32_cmp);
    strbuf *t = &ff->tounicode;
    strbuf_append(t, "/CIDInit/ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                     "/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n"
                     "/CMapName/Adobe-Identity-UCS def\n/CMapType 2 def\n"
                     "1 begincodespacerange\n<0000><ffff>\nendcodespacerange\n");
    for (size_t i = 0; i < n_map; i += 100) {
        size_t m = n_map - i < 100 ? n_map - i : 100;
        strbuf_printf(t, "%zu beginbfchar\n", m);
        for (size_t j = i; j < i + m; j++) {
            uint32_t c = map[2 * j + 1];
            if (c >= 0x10000)
                strbuf_printf(t, "<%04x><%04x%04x>\n", map[2 * j], 0xD800 + ((c - 0x10000) >> 10),
                              0xDC00 + ((c - 0x10000) & 0x3FF));
            else
                strbuf_printf(t, "<%04x><%04x>\n", map[2 * j], c);
        }
        strbuf_append(t, "endbfchar\n");
    }
    strbuf_append(t, "endcmap\nCMapName currentdict/CMap defineresource pop\nend\nend\n");
    free(map);
    for (unsigned g = 0; g < n; g += 8) {
        unsigned char byte = 0;
        for (unsigned b = 0; b < 8 && g + b < n; b++)
            byte |= (unsigned char)(0x80 >> b);
        strbuf_append_char(&ff->cidset, (char)byte);
    }
    hb_font_destroy(font);
    hb_face_destroy(sub);
    hb_set_destroy(unicodes);
    return ff;
}

/* --- the form's font kept on disk ------------------------------------------
 * Subsetting and deflating the Chinese form font (GB 2312's 6,763
 * ideographs) was 40 of a fresh `render consent --lang zh_CN --form`'s 61
 * ms. It is a pure function of the font file, face and cjk: kept whole in
 * pildoc's cache folder (src/diskcache.h, form-<key>.pdffont) under a key
 * of the font file's identity, pildoc's executable, HarfBuzz's version
 * and subsetter, libdeflate and the level; a file that does not match is
 * made again and replaced, so the bytes written are the same either way. */
#define FORM_DISK_FORMAT "pildoc form font 2"
#define FORM_DISK_MAX ((size_t)64 << 20)

static bool S_form_key(const char *path, unsigned index, bool cjk,
                       uint8_t key[PD_DISKCACHE_KEY_SIZE])
{
    pd_diskcache_key k;
    pd_diskcache_key_init(&k, FORM_DISK_FORMAT);
    char ids[96];
    snprintf(ids, sizeof ids, "face %u|cjk %d|%s|deflate level %d", index, cjk, hb_version_string(),
             PD_PDF_LEVEL_SHARED);
    pd_diskcache_key_add_str(&k, ids);
    pd_diskcache_key_add_str(&k, path);
    if (!pd_diskcache_key_add_file(&k, path) || !pd_diskcache_key_add_object(&k, NULL) ||
        !pd_diskcache_key_add_object(&k, "hb_subset_or_fail") ||
        !pd_diskcache_key_add_object(&k, "libdeflate_zlib_compress") ||
        !pd_diskcache_key_add_object(&k, "g_convert"))
        return false;
    pd_diskcache_key_end(&k, key);
    return true;
}

/* The payload's strings (pd_diskcache_write_strings): program_len and
 * n_glyphs (8 bytes each, big-endian), then base_font, program, widths,
 * descriptor, tounicode and cidset. */
static void S_form_keep(const char *dir, const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                        const pd_form_font *ff)
{
    uint8_t nums[16];
    pd_diskcache_put64(nums, ff->program_len);
    pd_diskcache_put64(nums + 8, ff->n_glyphs);
    pd_diskcache_part strings[7] = {{nums, sizeof nums},
                                    {ff->base_font, strlen(ff->base_font)},
                                    {ff->program.data, ff->program.len},
                                    {ff->widths.data, ff->widths.len},
                                    {ff->descriptor.data, ff->descriptor.len},
                                    {ff->tounicode.data, ff->tounicode.len},
                                    {ff->cidset.data, ff->cidset.len}};
    pd_diskcache_write_strings(dir, file, key, strings, 7);
}

static pd_form_font *S_form_load(const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                                 const char *path, unsigned index, bool cjk)
{
    pd_diskcache_part s[7];
    uint8_t *p = pd_diskcache_read_strings(file, key, FORM_DISK_MAX, s, 7);
    pd_form_font *ff = NULL;
    if (p && s[0].len == 16 && s[1].len > 0 && s[2].len > 0) {
        ff = xcalloc(1, sizeof *ff);
        ff->path = xstrdup(path);
        ff->index = index;
        ff->cjk = cjk;
        ff->program_len = (size_t)pd_diskcache_get64(s[0].data);
        ff->n_glyphs = (size_t)pd_diskcache_get64((const uint8_t *)s[0].data + 8);
        ff->base_font = xstrndup(s[1].data, s[1].len);
        strbuf *bufs[5] = {&ff->program, &ff->widths, &ff->descriptor, &ff->tounicode, &ff->cidset};
        for (size_t i = 0; i < 5; i++)
            strbuf_append_len(bufs[i], s[2 + i].data, s[2 + i].len);
    }
    free(p);
    return ff;
}

pd_form_font *pd_form_font_new(const char *path, unsigned index, const char *lang_tag,
                               pd_error *err)
{
    bool cjk = lang_tag && strncmp(lang_tag, "zh", 2) == 0;
    uint8_t key[PD_DISKCACHE_KEY_SIZE];
    char *dir = S_form_key(path, index, cjk, key) ? paths_cache_dir() : NULL;
    char *file = dir ? pd_diskcache_path(dir, "form", key, ".pdffont") : NULL;
    pd_form_font *ff = file ? S_form_load(file, key, path, index, cjk) : NULL;
    if (!ff) {
        ff = S_form_font_make(path, index, cjk, err);
        if (ff && file)
            S_form_keep(dir, file, key, ff);
    }
    free(file);
    free(dir);
    return ff;
}

void pd_form_font_free(pd_form_font *ff)
{
    if (!ff)
        return;
    free(ff->path);
    free(ff->base_font);
    strbuf_free(&ff->program);
    strbuf_free(&ff->widths);
    strbuf_free(&ff->descriptor);
    strbuf_free(&ff->tounicode);
    strbuf_free(&ff->cidset);
    free(ff);
}

bool pd_form_font_is(const pd_form_font *ff, const char *path, unsigned index, const char *lang_tag)
{
    bool cjk = lang_tag && strncmp(lang_tag, "zh", 2) == 0;
    return ff && strcmp(ff->path, path) == 0 && ff->index == index && ff->cjk == cjk;
}

size_t pd_form_font_size(const pd_form_font *ff)
{
    return ff ? ff->program.len : 0;
}

static void S_write_simple_font(pd_form *form, pd_pdfobj *w, const pd_form_font *ff)
{
    uint32_t desc = pd_pdfobj_reserve(w), file = pd_pdfobj_reserve(w);
    strbuf *o = w->out;
    pd_pdfobj_begin(w, form->font);
    strbuf_append(o, "<</Type/Font/Subtype/TrueType/BaseFont");
    pd_pdf_name(o, ff->base_font);
    strbuf_append_len(o, ff->widths.data, ff->widths.len);
    strbuf_printf(o, "/Encoding/WinAnsiEncoding/FontDescriptor %u 0 R>>", desc);
    pd_pdfobj_end(w);
    pd_pdfobj_begin(w, desc);
    strbuf_append(o, "<</Type/FontDescriptor/FontName");
    pd_pdf_name(o, ff->base_font);
    strbuf_append_len(o, ff->descriptor.data, ff->descriptor.len);
    strbuf_printf(o, "/FontFile2 %u 0 R>>", file);
    pd_pdfobj_end(w);
    char dict[64];
    snprintf(dict, sizeof dict, "/Length1 %zu", ff->program_len);
    pd_pdfobj_stream_deflated(w, file, dict, ff->program.data, ff->program.len);
}

static void S_write_font(pd_form *form, pd_pdfobj *w, const pd_form_font *ff)
{
    if (!ff->cjk) {
        S_write_simple_font(form, w, ff);
        return;
    }
    pd_pdffont_objects o = {.font = form->font};
    o.cid = pd_pdfobj_reserve(w);
    o.descriptor = pd_pdfobj_reserve(w);
    o.file = pd_pdfobj_reserve(w);
    o.tounicode = pd_pdfobj_reserve(w);
    o.cidset = pd_pdfobj_reserve(w);
    pd_pdffont_write_dicts(w, &o, ff->base_font, false, &ff->widths, &ff->descriptor);
    pd_pdffont_write_program(w, o.file, false, &ff->program, ff->program_len);
    pd_pdfobj_stream(w, o.tounicode, "", ff->tounicode.data, ff->tounicode.len,
                     PD_PDF_LEVEL_SHARED);
    pd_pdfobj_stream(w, o.cidset, "", ff->cidset.data, ff->cidset.len, PD_PDF_LEVEL_SHARED);
}

/* ---- fields and widgets -------------------------------------------------- */

static void S_real(strbuf *o, double v)
{
    pd_pdf_real(o, v, 3);
}

static void S_bbox(strbuf *o, double w, double h)
{
    strbuf_append(o, "/Type/XObject/Subtype/Form/BBox[0 0 ");
    S_real(o, w);
    strbuf_append_char(o, ' ');
    S_real(o, h);
    strbuf_append_char(o, ']');
}

/* An appearance stream object of size w x h with content `ops`. */
static uint32_t S_appearance(pd_form *form, pd_pdfobj *w, double wd, double ht, const char *ops,
                             bool font)
{
    uint32_t num = pd_pdfobj_reserve(w);
    strbuf dict = STRBUF_INIT;
    S_bbox(&dict, wd, ht);
    if (font)
        strbuf_printf(&dict, "/Resources<</Font<</FF %u 0 R>>>>", form->font);
    pd_pdfobj_stream(w, num, strbuf_str(&dict), ops, strlen(ops), PD_PDF_LEVEL_CONTENT);
    strbuf_free(&dict);
    return num;
}

/* The tick of a ticked box, as the printed sheet draws it. */
static char *S_tick_ops(double wd, double ht)
{
    strbuf o = STRBUF_INIT;
    strbuf_append(&o, "q 0.02 0.16 0.48 RG 1.4 w 1 J 1 j ");
    pd_pdf_real(&o, wd * 0.18, 3);
    strbuf_append_char(&o, ' ');
    pd_pdf_real(&o, ht * 0.45, 3);
    strbuf_append(&o, " m ");
    pd_pdf_real(&o, wd * 0.42, 3);
    strbuf_append_char(&o, ' ');
    pd_pdf_real(&o, ht * 0.20, 3);
    strbuf_append(&o, " l ");
    pd_pdf_real(&o, wd * 0.85, 3);
    strbuf_append_char(&o, ' ');
    pd_pdf_real(&o, ht * 0.82, 3);
    strbuf_append(&o, " l S Q");
    return strbuf_take(&o);
}

/* The entries a field's dictionary has (besides /T, /Parent, /Kids). */
static void S_field_entries(const pd_form *form, const S_field *f, strbuf *o)
{
    switch (f->kind) {
    case PD_FIELD_TEXT:
    case PD_FIELD_INITIALS: {
        strbuf_append(o, "/FT/Tx");
        bool exact = f->kind == PD_FIELD_INITIALS || f->blank != PD_BLANK_TEXT;
        if (exact)
            strbuf_printf(o, "/Ff %u", FF_DO_NOT_SPELL_CHECK);
        double size = f->kind == PD_FIELD_INITIALS ? INITIALS_SIZE : FONT_SIZE;
        strbuf_append(o, "/DA(/FF ");
        pd_pdf_real(o, size, 1);
        strbuf_printf(o, " Tf %s)", S_value_colour);
        if (f->kind == PD_FIELD_INITIALS)
            strbuf_append(o, "/Q 1");
        strbuf_append(o, "/V()");
        break;
    }
    case PD_FIELD_CHOICE:
    case PD_FIELD_CHECK: strbuf_append(o, "/FT/Btn/V/Off"); break;
    case PD_FIELD_SIGN: strbuf_append(o, "/FT/Sig"); break;
    }
    strbuf_append(o, "/TU");
    pd_pdf_text_string(o, f->tu);
    (void)form;
}

/* The entries a widget annotation has (besides /Parent). */
static void S_widget_entries(pd_form *form, pd_pdfobj *w, const S_widget *wd,
                             const uint32_t *page_objs, uint32_t ap_on, uint32_t ap_off, strbuf *o)
{
    const double *r = wd->pub.rect;
    strbuf_append(o, "/Type/Annot/Subtype/Widget/Rect[");
    for (int i = 0; i < 4; i++) {
        if (i)
            strbuf_append_char(o, ' ');
        S_real(o, r[i]);
    }
    strbuf_printf(o, "]/P %u 0 R/F 4", page_objs[wd->pub.page]);
    if (wd->struct_parent >= 0)
        strbuf_printf(o, "/StructParent %ld", wd->struct_parent);
    if (wd->pub.kind == PD_FIELD_CHOICE || wd->pub.kind == PD_FIELD_CHECK)
        strbuf_printf(o, "/AP<</N<</Yes %u 0 R/Off %u 0 R>>>>/AS/Off", ap_on, ap_off);
    else
        strbuf_printf(o, "/AP<</N %u 0 R>>", ap_off);
    (void)form;
    (void)w;
}

static void S_write_widget_appearances(pd_form *form, pd_pdfobj *w, const S_widget *wd,
                                       uint32_t *on, uint32_t *off)
{
    const double *r = wd->pub.rect;
    double wdt = r[2] - r[0], ht = r[3] - r[1];
    *on = 0;
    if (wd->pub.kind == PD_FIELD_CHOICE || wd->pub.kind == PD_FIELD_CHECK) {
        char *tick = S_tick_ops(wdt, ht);
        *on = S_appearance(form, w, wdt, ht, tick, false);
        free(tick);
        *off = S_appearance(form, w, wdt, ht, "", false);
    } else if (wd->pub.kind == PD_FIELD_SIGN) {
        *off = S_appearance(form, w, wdt, ht, "", false);
    } else {
        *off = S_appearance(form, w, wdt, ht, "/Tx BMC EMC", true);
    }
}

static void S_write_node(pd_form *form, pd_pdfobj *w, S_node *n, uint32_t parent,
                         const uint32_t *page_objs)
{
    strbuf *o = w->out;
    if (n->field < 0) { /* the root, or a name's part: "patient" of patient.name */
        bool root = n == &form->root;
        for (size_t i = 0; i < n->n_kids; i++) {
            S_node *k = &n->kids[i];
            k->obj = k->field >= 0 && form->fields[k->field].n_widgets == 1
                         ? form->widgets[form->fields[k->field].widgets[0]].pub.obj
                         : pd_pdfobj_reserve(w);
        }
        if (!root) {
            pd_pdfobj_begin(w, n->obj);
            strbuf_append(o, "<</T");
            pd_pdf_text_string(o, n->part);
            if (parent)
                strbuf_printf(o, "/Parent %u 0 R", parent);
            strbuf_append(o, "/Kids[");
            for (size_t i = 0; i < n->n_kids; i++)
                strbuf_printf(o, "%s%u 0 R", i ? " " : "", n->kids[i].obj);
            strbuf_append(o, "]>>");
            pd_pdfobj_end(w);
        }
        for (size_t i = 0; i < n->n_kids; i++)
            S_write_node(form, w, &n->kids[i], root ? 0 : n->obj, page_objs);
        return;
    }
    S_field *f = &form->fields[n->field];
    f->obj = n->obj;
    uint32_t *on = xcalloc(f->n_widgets, sizeof *on), *off = xcalloc(f->n_widgets, sizeof *off);
    for (size_t i = 0; i < f->n_widgets; i++)
        S_write_widget_appearances(form, w, &form->widgets[f->widgets[i]], &on[i], &off[i]);
    pd_pdfobj_begin(w, n->obj);
    strbuf_append(o, "<<");
    if (f->n_widgets == 1) /* field and widget in one dictionary */
        S_widget_entries(form, w, &form->widgets[f->widgets[0]], page_objs, on[0], off[0], o);
    strbuf_append(o, "/T");
    pd_pdf_text_string(o, n->part);
    if (parent)
        strbuf_printf(o, "/Parent %u 0 R", parent);
    S_field_entries(form, f, o);
    if (f->n_widgets > 1) {
        strbuf_append(o, "/Kids[");
        for (size_t i = 0; i < f->n_widgets; i++)
            strbuf_printf(o, "%s%u 0 R", i ? " " : "", form->widgets[f->widgets[i]].pub.obj);
        strbuf_append(o, "]");
    }
    strbuf_append(o, ">>");
    pd_pdfobj_end(w);
    for (size_t i = 0; f->n_widgets > 1 && i < f->n_widgets; i++) {
        const S_widget *wd = &form->widgets[f->widgets[i]];
        pd_pdfobj_begin(w, wd->pub.obj);
        strbuf_append(o, "<<");
        S_widget_entries(form, w, wd, page_objs, on[i], off[i], o);
        strbuf_printf(o, "/Parent %u 0 R>>", n->obj);
        pd_pdfobj_end(w);
    }
    free(on);
    free(off);
}

uint32_t pd_form_write(pd_form *form, pd_pdfobj *w, const uint32_t *page_objs,
                       const pd_form_font *font)
{
    form->acroform = pd_pdfobj_reserve(w);
    form->font = pd_pdfobj_reserve(w);
    S_write_font(form, w, font);
    S_write_node(form, w, &form->root, 0, page_objs);
    strbuf *o = w->out;
    pd_pdfobj_begin(w, form->acroform);
    strbuf_append(o, "<</Fields[");
    for (size_t i = 0; i < form->root.n_kids; i++)
        strbuf_printf(o, "%s%u 0 R", i ? " " : "", form->root.kids[i].obj);
    strbuf_printf(o, "]/DR<</Font<</FF %u 0 R>>>>/DA(/FF ", form->font);
    pd_pdf_real(o, FONT_SIZE, 1);
    strbuf_printf(o, " Tf %s)>>", S_value_colour);
    pd_pdfobj_end(w);
    return form->acroform;
}
