#include "bilingual.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

typedef struct S_zip {
    pd_doc *doc;      /* the first language's document, receiving both */
    const char *tag2; /* the second language's BCP 47 tag, from doc's pool */
    unsigned style2;  /* what sets the second language apart */
    const char *file; /* for errors: the template */
    pd_error *err;
    pd_doc *trash; /* emptied block arrays, freed at the end with whatever they still hold */
} S_zip;

static pd_origin S_reorigin(S_zip *z, pd_origin o)
{
    o.file = o.file ? pd_doc_intern(z->doc, o.file) : NULL;
    o.what = o.what ? pd_doc_intern(z->doc, o.what) : NULL;
    return o;
}

/* Appends a copy of src's spans to dst, with extra style bits. */
static void S_append_text(S_zip *z, pd_text *dst, const pd_text *src, size_t from, size_t to,
                          unsigned extra)
{
    for (size_t i = from; i < to && i < src->n_spans; i++) {
        const pd_span *s = &src->spans[i];
        pd_text_add(dst, s->text, strlen(s->text), s->style | extra, S_reorigin(z, s->origin));
        pd_span *last = &dst->spans[dst->n_spans - 1];
        last->blank_em = s->blank_em;
        last->blank_kind = s->blank_kind;
        last->var = s->var ? pd_doc_intern(z->doc, s->var) : NULL; /* a form field's name */
    }
}

static void S_add_literal(S_zip *z, pd_text *dst, const char *s, unsigned style)
{
    pd_origin o = {z->file, 0, NULL};
    pd_text_add(dst, s, strlen(s), style, o);
}

/* dst = a, then sep (NULL: a line break), then b (set apart). */
static void S_join_texts(S_zip *z, pd_text *dst, const pd_text *a, const pd_text *b,
                         const char *sep)
{
    pd_text out = {0};
    S_append_text(z, &out, a, 0, a->n_spans, 0);
    if (b->n_spans) {
        S_add_literal(z, &out, sep ? sep : "\n", sep ? 0 : (unsigned)PD_SPAN_BREAK);
        S_append_text(z, &out, b, 0, b->n_spans, z->style2);
    }
    pd_text_clear(dst);
    *dst = out;
}

/* Re-interns the origins of a block tree moved from the second document. */
static void S_reorigin_block(S_zip *z, pd_block *b)
{
    for (size_t i = 0; i < b->text.n_spans; i++)
        b->text.spans[i].origin = S_reorigin(z, b->text.spans[i].origin);
    for (size_t r = 0; r < b->n_rows; r++)
        for (size_t c = 0; c < b->rows[r].n_cells; c++)
            for (size_t i = 0; i < b->rows[r].cells[c].n_spans; i++)
                b->rows[r].cells[c].spans[i].origin =
                    S_reorigin(z, b->rows[r].cells[c].spans[i].origin);
    for (size_t i = 0; i < b->n_children; i++)
        S_reorigin_block(z, &b->children[i]);
}

/* Sets the second language apart in a block tree moved from its document. */
static void S_mark_second(S_zip *z, pd_block *b)
{
    b->lang_tag = z->tag2;
    for (size_t i = 0; i < b->text.n_spans; i++)
        b->text.spans[i].style |= z->style2;
    for (size_t r = 0; r < b->n_rows; r++)
        for (size_t c = 0; c < b->rows[r].n_cells; c++)
            for (size_t i = 0; i < b->rows[r].cells[c].n_spans; i++)
                b->rows[r].cells[c].spans[i].style |= z->style2;
    for (size_t i = 0; i < b->n_children; i++)
        S_mark_second(z, &b->children[i]);
}

/* Moves *src into a new block of (blocks, n), leaving src empty. */
static pd_block *S_move(pd_block **blocks, size_t *n, pd_block *src)
{
    pd_block *b = pd_block_append(blocks, n);
    *b = *src;
    memset(src, 0, sizeof *src);
    return b;
}

static bool S_zip_blocks(S_zip *z, pd_block *a, size_t na, pd_block *b, size_t nb, bool keep_pairs,
                         pd_block **out, size_t *n_out);

/* One block of each language into out. */
static bool S_zip_one(S_zip *z, pd_block *a, pd_block *b, bool keep_pairs, pd_block **out,
                      size_t *n_out)
{
    if (a->kind != b->kind)
        return pd_error_set(z->err, z->file, 0,
                            "the two languages give different blocks (a bilingual document needs "
                            "the same structure in both)");
    switch (a->kind) {
    case PD_BLOCK_H1:
    case PD_BLOCK_H2:
    case PD_BLOCK_PARA: {
        S_reorigin_block(z, b);
        S_mark_second(z, b);
        if (!keep_pairs) {
            S_move(out, n_out, a);
            S_move(out, n_out, b);
            return true;
        }
        /* the block and its translation: on one page */
        pd_block *pair = pd_block_append(out, n_out);
        pair->kind = PD_BLOCK_KEEP;
        S_move(&pair->children, &pair->n_children, a);
        S_move(&pair->children, &pair->n_children, b);
        return true;
    }
    case PD_BLOCK_LIST:
        if (a->n_children != b->n_children)
            return pd_error_set(z->err, z->file, 0, "the two languages give different lists");
        for (size_t i = 0; i < a->n_children; i++)
            S_join_texts(z, &a->children[i].text, &a->children[i].text, &b->children[i].text, NULL);
        S_move(out, n_out, a);
        return true;
    case PD_BLOCK_TABLE:
        if (a->n_rows != b->n_rows)
            return pd_error_set(z->err, z->file, 0, "the two languages give different tables");
        for (size_t r = 0; r < a->n_rows; r++) {
            if (a->rows[r].n_cells != b->rows[r].n_cells)
                return pd_error_set(z->err, z->file, 0, "the two languages give different tables");
            for (size_t c = 0; c < a->rows[r].n_cells; c++)
                S_join_texts(z, &a->rows[r].cells[c], &a->rows[r].cells[c], &b->rows[r].cells[c],
                             NULL);
        }
        S_move(out, n_out, a);
        return true;
    case PD_BLOCK_CALLOUT: /* a callout never breaks: both languages inside it */
    case PD_BLOCK_KEEP: {
        pd_block *box = S_move(out, n_out, a);
        pd_block *children = box->children;
        size_t n = box->n_children;
        box->children = NULL;
        box->n_children = 0;
        pd_block *old = pd_block_append(&z->trash->blocks, &z->trash->n_blocks);
        old->children = children;
        old->n_children = n;
        return S_zip_blocks(z, children, n, b->children, b->n_children, a->kind == PD_BLOCK_KEEP,
                            &box->children, &box->n_children);
    }
    case PD_BLOCK_FIELD:
    case PD_BLOCK_SIGN: {
        /* once, labelled in both languages: "Name: / Nom : ____" */
        pd_text t = {0};
        S_append_text(z, &t, &a->text, 0, a->label_spans, 0);
        S_add_literal(z, &t, "/ ", 0);
        S_append_text(z, &t, &b->text, 0, b->label_spans, z->style2);
        size_t label_spans = t.n_spans;
        S_append_text(z, &t, &a->text, a->label_spans, a->text.n_spans, 0);
        pd_text_clear(&a->text);
        a->text = t;
        a->label_spans = label_spans;
        S_move(out, n_out, a);
        return true;
    }
    case PD_BLOCK_CHECK: /* short choices share a line: "kétamine / 氯胺酮" */
    case PD_BLOCK_INITIALS:
    case PD_BLOCK_ITEM:
        S_join_texts(z, &a->text, &a->text, &b->text, a->kind == PD_BLOCK_CHECK ? " / " : NULL);
        S_move(out, n_out, a);
        return true;
    case PD_BLOCK_LABEL: {
        pd_text t = {0};
        S_append_text(z, &t, &a->text, 0, a->text.n_spans, 0);
        S_add_literal(z, &t, " / ", 0);
        S_append_text(z, &t, &b->text, 0, b->text.n_spans, z->style2);
        pd_text_clear(&a->text);
        a->text = t;
        S_move(out, n_out, a);
        return true;
    }
    case PD_BLOCK_IMAGE: {
        if (a->image && b->image && b->image->alt && *b->image->alt) {
            strbuf alt = STRBUF_INIT;
            strbuf_printf(&alt, "%s / %s", a->image->alt ? a->image->alt : "", b->image->alt);
            free(a->image->alt);
            a->image->alt = strbuf_take(&alt);
        }
        S_move(out, n_out, a);
        return true;
    }
    }
    return pd_error_set(z->err, z->file, 0, "a block kind bilingual documents do not know");
}

static bool S_zip_blocks(S_zip *z, pd_block *a, size_t na, pd_block *b, size_t nb, bool keep_pairs,
                         pd_block **out, size_t *n_out)
{
    if (na != nb)
        return pd_error_set(z->err, z->file, 0,
                            "the two languages give different blocks (a bilingual document needs "
                            "the same structure in both)");
    for (size_t i = 0; i < na; i++)
        if (!S_zip_one(z, &a[i], &b[i], keep_pairs, out, n_out))
            return false;
    return true;
}

/* A label of the running header: printed text ending a label (a colon). */
static bool S_is_label(const pd_span *s)
{
    return !(s->style & (PD_SPAN_BLANK | PD_SPAN_VALUE | PD_SPAN_HINT)) &&
           (strchr(s->text, ':') || strstr(s->text, "\xef\xbc\x9a")); /* ':' or U+FF1A */
}

/* Where the label begins in span i: a span that goes on from a line or
 * value may first end the last field ("日 病历号：" after "___年___月___"). */
static const char *S_label_text(const pd_text *t, size_t i)
{
    const char *s = t->spans[i].text;
    if (i > 0 && *s != ' ' &&
        (t->spans[i - 1].style & (PD_SPAN_BLANK | PD_SPAN_VALUE | PD_SPAN_HINT))) {
        const char *sp = strchr(s, ' ');
        if (sp)
            s = sp;
    }
    return s + strspn(s, " ");
}

/* The running header labelled in both languages, each value or line once:
 * "Patient: / Patient : ____   Date of birth: / Date de naissance : ____".
 * Left in the first language alone when the two differ in their labels. */
static void S_join_running(S_zip *z, pd_text *a, const pd_text *b)
{
    size_t labels_a = 0, labels_b = 0;
    for (size_t i = 0; i < a->n_spans; i++)
        labels_a += S_is_label(&a->spans[i]);
    for (size_t i = 0; i < b->n_spans; i++)
        labels_b += S_is_label(&b->spans[i]);
    if (!labels_a || labels_a != labels_b)
        return;
    pd_text out = {0};
    size_t k = 0;
    for (size_t i = 0; i < a->n_spans; i++) {
        S_append_text(z, &out, a, i, i + 1, 0);
        if (!S_is_label(&a->spans[i]))
            continue;
        while (!S_is_label(&b->spans[k]))
            k++;
        const char *label = S_label_text(b, k);
        if (*label) {
            S_add_literal(z, &out, "/ ", 0);
            pd_text_add(&out, label, strlen(label), b->spans[k].style | z->style2,
                        S_reorigin(z, b->spans[k].origin));
        }
        k++;
    }
    pd_text_clear(a);
    *a = out;
}

/* "a / b" into *s (a's string replaced). */
static void S_join_plain(char **s, const char *a, const char *b, const char *sep)
{
    if (!b || !*b)
        return;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s%s%s", a ? a : "", sep, b);
    free(*s);
    *s = strbuf_take(&sb);
}

/* values and what pildoc sets for a bilingual document into *out: its two
 * languages, and which governs (checked, by default the second's, the
 * clinician's), for the template's statement that both say the same. */
static bool S_values_bilingual(pd_values *out, const pd_schema *schema, const pd_values *values,
                               const pd_lang *first, const pd_lang *second, pd_error *err)
{
    const char *c1 = pd_lang_code(first), *c2 = pd_lang_code(second);
    pd_values_init(out);
    for (size_t i = 0; i < values->n; i++) /* the first value of a name wins (renderer.c) */
        if (!pd_values_get(out, values->names[i]) &&
            !pd_values_set(out, schema, values->names[i], values->values[i], "data", 0, err))
            goto fail;
    const char *governing = pd_values_get(out, "document.governing_language");
    if (governing && strcmp(governing, c1) != 0 && strcmp(governing, c2) != 0) {
        pd_error_set(err, NULL, 0,
                     "document.governing_language is %s, not one of this document's two "
                     "languages (%s, %s)",
                     governing, c1, c2);
        goto fail;
    }
    strbuf pair = STRBUF_INIT;
    bool in_order = strcmp(c1, c2) < 0;
    strbuf_printf(&pair, "%s+%s", in_order ? c1 : c2, in_order ? c2 : c1);
    bool ok = pd_values_set(out, schema, "document.languages", strbuf_str(&pair), "--also", 0, err);
    strbuf_free(&pair);
    if (ok && !governing)
        ok = pd_values_set(out, schema, "document.governing_language", c2, "--also", 0, err);
    if (ok)
        return true;
fail:
    pd_values_free(out);
    return false;
}

pd_doc *pd_bind_bilingual(const pd_template *t, const pd_schema *schema, const pd_values *values,
                          const pd_lang *first, const pd_lang *second, pd_bind_cache *cache,
                          pd_bind_stats *stats1, pd_bind_stats *stats2, pd_error *err)
{
    pd_values both;
    if (!S_values_bilingual(&both, schema, values, first, second, err))
        return NULL;
    pd_doc *a = pd_bind(t, schema, &both, first, cache, stats1, err);
    pd_doc *b = a ? pd_bind(t, schema, &both, second, cache, stats2, err) : NULL;
    pd_values_free(&both);
    if (!b) {
        pd_doc_free(a);
        return NULL;
    }
    S_zip z = {a,
               pd_doc_intern(a, pd_lang_tag(second)),
               (unsigned)PD_SPAN_SECOND |
                   (strncmp(pd_lang_tag(second), "zh", 2) == 0 ? 0 : (unsigned)PD_SPAN_ITALIC),
               pd_doc_intern(a, t->path),
               err,
               pd_doc_new()};
    /* the first document's blocks move into pairs; its old array is trash
       (held by a block of the trash document: arrays never move) */
    pd_block *old = a->blocks;
    size_t n_old = a->n_blocks;
    pd_block *holder = pd_block_append(&z.trash->blocks, &z.trash->n_blocks);
    holder->children = old;
    holder->n_children = n_old;
    a->blocks = NULL;
    a->n_blocks = 0;
    a->also_tag = z.tag2;
    bool ok = S_zip_blocks(&z, old, n_old, b->blocks, b->n_blocks, true, &a->blocks, &a->n_blocks);
    if (ok) {
        S_join_texts(&z, &a->title_text, &a->title_text, &b->title_text, NULL);
        S_join_texts(&z, &a->subtitle_text, &a->subtitle_text, &b->subtitle_text, NULL);
        S_join_running(&z, &a->running_text, &b->running_text);
        a->also_style = z.style2;
        a->short_title2 = xstrdup(b->short_title ? b->short_title : b->title ? b->title : "");
        a->edition2 = xstrdup(b->edition ? b->edition : "");
        a->footer_fmt2 = xstrdup(b->footer_fmt ? b->footer_fmt : "");
        a->blank_note2 = xstrdup(b->blank_note ? b->blank_note : "");
        a->title2 = xstrdup(b->title ? b->title : "");
        a->subject2 = xstrdup(b->subject ? b->subject : "");
        S_join_plain(&a->short_title, a->short_title ? a->short_title : a->title,
                     b->short_title ? b->short_title : b->title, " / ");
        S_join_plain(&a->title, a->title, b->title, " / ");
        S_join_plain(&a->subject, a->subject, b->subject, " / ");
        S_join_plain(&a->author, a->author, b->author, " / ");
        S_join_plain(&a->edition, a->edition, b->edition, " / ");
        S_join_plain(&a->footer_fmt, a->footer_fmt, b->footer_fmt, " / ");
        S_join_plain(&a->continued, a->continued, b->continued, " ");
        S_join_plain(&a->blank_note, a->blank_note, b->blank_note, " / ");
    }
    pd_doc_free(b);
    pd_doc_free(z.trash);
    if (!ok) {
        pd_doc_free(a);
        return NULL;
    }
    return a;
}
