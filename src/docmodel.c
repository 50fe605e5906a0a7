#include "docmodel.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

pd_doc *pd_doc_new(void)
{
    return xcalloc(1, sizeof(pd_doc));
}

void pd_text_clear(pd_text *t)
{
    for (size_t i = 0; i < t->n_spans; i++)
        free(t->spans[i].text);
    free(t->spans);
    t->spans = NULL;
    t->n_spans = 0;
}

/* Frees an array of blocks without recursion on the C stack: children
 * arrays are pushed on an explicit work list, so deep nesting cannot
 * overflow it. */
static void S_free_blocks(pd_block *blocks, size_t n)
{
    typedef struct {
        pd_block *b;
        size_t n;
    } work;
    size_t cap = 16, top = 0;
    work *stack = xmalloc(cap * sizeof *stack);
    stack[top++] = (work){blocks, n};
    while (top) {
        work w = stack[--top];
        for (size_t i = 0; i < w.n; i++) {
            pd_block *b = &w.b[i];
            pd_text_clear(&b->text);
            free(b->marker);
            free(b->widths);
            pd_image_free(b->image);
            for (size_t r = 0; r < b->n_rows; r++) {
                for (size_t c = 0; c < b->rows[r].n_cells; c++)
                    pd_text_clear(&b->rows[r].cells[c]);
                free(b->rows[r].cells);
            }
            free(b->rows);
            if (b->children) {
                if (top == cap) {
                    cap *= 2;
                    stack = xrealloc(stack, cap * sizeof *stack);
                }
                stack[top++] = (work){b->children, b->n_children};
            }
        }
        free(w.b);
    }
    free(stack);
}

void pd_doc_free(pd_doc *doc)
{
    if (!doc)
        return;
    free(doc->lang);
    free(doc->lang_tag);
    free(doc->title);
    free(doc->subject);
    free(doc->author);
    free(doc->edition);
    free(doc->footer_fmt);
    free(doc->short_title2);
    free(doc->edition2);
    free(doc->footer_fmt2);
    free(doc->blank_note2);
    free(doc->title2);
    free(doc->subject2);
    pd_image_free(doc->logo);
    free(doc->short_title);
    free(doc->continued);
    free(doc->blank_note);
    pd_text_clear(&doc->running_text);
    pd_text_clear(&doc->title_text);
    pd_text_clear(&doc->subtitle_text);
    if (doc->blocks)
        S_free_blocks(doc->blocks, doc->n_blocks);
    for (size_t i = 0; i < doc->n_pool; i++)
        free(doc->pool[i]);
    free(doc->pool);
    free(doc);
}

/* Arrays of blocks and spans grow only here, by doubling: an array of n
 * entries has room for the power of two at or above n (at least 4), and
 * is full when n is one of those. */
static bool S_full(size_t n)
{
    return n == 0 || (n >= 4 && (n & (n - 1)) == 0);
}

static size_t S_room_after(size_t n)
{
    return n ? 2 * n : 4;
}

pd_block *pd_block_append(pd_block **blocks, size_t *n)
{
    if (S_full(*n))
        *blocks = xrealloc(*blocks, S_room_after(*n) * sizeof **blocks);
    pd_block *b = &(*blocks)[(*n)++];
    memset(b, 0, sizeof *b);
    return b;
}

void pd_text_add(pd_text *t, const char *s, size_t len, unsigned style, pd_origin origin)
{
    /* merge with the previous span when nothing distinguishes them */
    if (t->n_spans && !(style & (PD_SPAN_BLANK | PD_SPAN_BREAK | PD_SPAN_HINT))) {
        pd_span *last = &t->spans[t->n_spans - 1];
        if (last->style == style && last->origin.file == origin.file &&
            last->origin.line == origin.line && last->origin.what == origin.what) {
            size_t old = strlen(last->text);
            last->text = xrealloc(last->text, old + len + 1);
            memcpy(last->text + old, s, len);
            last->text[old + len] = '\0';
            return;
        }
    }
    if (S_full(t->n_spans))
        t->spans = xrealloc(t->spans, S_room_after(t->n_spans) * sizeof *t->spans);
    pd_span *sp = &t->spans[t->n_spans++];
    sp->text = xstrndup(s, len);
    sp->style = style;
    sp->blank_em = 0;
    sp->blank_kind = PD_BLANK_TEXT;
    sp->origin = origin;
    sp->var = NULL;
}

char *pd_text_plain(const pd_text *t)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < t->n_spans; i++) {
        if (t->spans[i].style & PD_SPAN_BREAK)
            strbuf_append_char(&sb, ' ');
        else if (t->spans[i].style & PD_SPAN_HINT)
            continue;
        else
            strbuf_append(&sb, t->spans[i].text);
    }
    return strbuf_take(&sb);
}

const char *pd_doc_intern(pd_doc *doc, const char *s)
{
    for (size_t i = 0; i < doc->n_pool; i++)
        if (strcmp(doc->pool[i], s) == 0)
            return doc->pool[i];
    doc->pool = xrealloc(doc->pool, (doc->n_pool + 1) * sizeof *doc->pool);
    doc->pool[doc->n_pool] = xstrdup(s);
    return doc->pool[doc->n_pool++];
}
