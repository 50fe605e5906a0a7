#include "doccache.h"

#include <nettle/sha2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- the digest ------------------------------------------------------------
 * Every item is a type byte and, for strings and byte runs, a 64-bit
 * length before the bytes; arrays give their count first. The walk below
 * is fixed by the code, so two different documents cannot serialise to
 * the same bytes. */

/* Items are gathered in a buffer and hashed a block of them at a time
 * (a document has thousands of small ones). */
typedef struct S_hash {
    struct sha256_ctx ctx;
    size_t n;
    unsigned char buf[4096];
} S_hash;

static void S_raw(S_hash *h, const void *p, size_t n)
{
    if (n == 0) /* p may be NULL then */
        return;
    if (h->n + n > sizeof h->buf) {
        sha256_update(&h->ctx, h->n, h->buf);
        h->n = 0;
        if (n > sizeof h->buf) {
            sha256_update(&h->ctx, n, p);
            return;
        }
    }
    memcpy(h->buf + h->n, p, n);
    h->n += n;
}

static void S_u64(S_hash *h, char type, uint64_t v)
{
    unsigned char b[9];
    b[0] = (unsigned char)type;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(v >> (8 * i));
    S_raw(h, b, sizeof b);
}

static void S_int(S_hash *h, long long v)
{
    S_u64(h, 'i', (uint64_t)v);
}

static void S_count(S_hash *h, size_t n)
{
    S_u64(h, 'n', (uint64_t)n);
}

static void S_num(S_hash *h, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    S_u64(h, 'd', bits);
}

static void S_bytes(S_hash *h, const void *p, size_t n)
{
    S_u64(h, 'b', (uint64_t)n);
    S_raw(h, p, n);
}

/* A string or NULL (which differs from ""). */
static void S_str(S_hash *h, const char *s)
{
    if (!s) {
        S_raw(h, "0", 1);
        return;
    }
    S_u64(h, 's', (uint64_t)strlen(s));
    S_raw(h, s, strlen(s));
}

/* Whether a pointer is NULL, before what it points to. */
static bool S_present(S_hash *h, const void *p)
{
    S_raw(h, p ? "1" : "0", 1);
    return p != NULL;
}

static void S_image(S_hash *h, const pd_image *im)
{
    if (!S_present(h, im))
        return;
    S_int(h, im->width);
    S_int(h, im->height);
    size_t n = im->rgba && im->width > 0 && im->height > 0
                   ? (size_t)im->width * (size_t)im->height * 4
                   : 0;
    S_present(h, im->rgba);
    S_bytes(h, im->rgba, n);
    S_str(h, im->alt);
}

static void S_text(S_hash *h, const pd_text *t)
{
    S_count(h, t->n_spans);
    for (size_t i = 0; i < t->n_spans; i++) {
        const pd_span *s = &t->spans[i];
        S_str(h, s->text);
        S_int(h, s->style);
        S_num(h, s->blank_em);
        S_int(h, s->blank_kind);
        S_str(h, s->origin.file);
        S_int(h, s->origin.line);
        S_str(h, s->origin.what);
        S_str(h, s->var);
    }
}

static void S_blocks(S_hash *h, const pd_block *blocks, size_t n)
{
    S_count(h, n);
    for (size_t i = 0; i < n; i++) {
        const pd_block *b = &blocks[i];
        S_int(h, b->kind);
        S_text(h, &b->text);
        S_str(h, b->marker);
        S_int(h, b->urgent);
        S_int(h, b->columns);
        S_int(h, b->checked);
        S_str(h, b->var);
        S_str(h, b->value);
        S_int(h, b->answered);
        S_int(h, b->tick);
        S_count(h, b->label_spans);
        S_blocks(h, b->children, b->n_children);
        S_count(h, b->widths ? b->n_cols : 0);
        for (size_t c = 0; b->widths && c < b->n_cols; c++)
            S_num(h, b->widths[c]);
        S_count(h, b->n_cols);
        S_count(h, b->n_rows);
        for (size_t r = 0; r < b->n_rows; r++) {
            S_int(h, b->rows[r].header);
            S_count(h, b->rows[r].n_cells);
            for (size_t c = 0; c < b->rows[r].n_cells; c++)
                S_text(h, &b->rows[r].cells[c]);
        }
        S_image(h, b->image);
        S_num(h, b->width_em);
        S_str(h, b->lang_tag);
    }
}

static void S_doc(S_hash *h, const pd_doc *d)
{
    S_str(h, d->lang);
    S_str(h, d->lang_tag);
    S_str(h, d->title);
    S_str(h, d->short_title);
    S_str(h, d->subject);
    S_str(h, d->author);
    S_text(h, &d->title_text);
    S_text(h, &d->subtitle_text);
    S_str(h, d->edition);
    S_str(h, d->footer_fmt);
    S_str(h, d->continued);
    S_str(h, d->blank_note);
    S_text(h, &d->running_text);
    S_int(h, d->columns);
    S_blocks(h, d->blocks, d->n_blocks);
    S_image(h, d->logo);
    S_str(h, d->also_tag);
    S_str(h, d->short_title2);
    S_str(h, d->edition2);
    S_str(h, d->footer_fmt2);
    S_str(h, d->blank_note2);
    S_str(h, d->title2);
    S_str(h, d->subject2);
    S_int(h, d->also_style);
    S_count(h, d->n_pool);
    for (size_t i = 0; i < d->n_pool; i++)
        S_str(h, d->pool[i]);
}

void pd_doccache_digest(const pd_doc *doc, const pd_doccache_opts *opts, pd_doccache_key *out)
{
    S_hash h;
    sha256_init(&h.ctx);
    h.n = 0;
    S_str(&h, "pildoc document cache 1");
    S_doc(&h, doc);
    if (S_present(&h, opts->paper)) {
        S_str(&h, opts->paper->name);
        S_num(&h, opts->paper->width);
        S_num(&h, opts->paper->height);
    }
    if (S_present(&h, opts->layout))
        S_int(&h, opts->layout->large_print);
    if (S_present(&h, opts->info)) {
        S_str(&h, opts->info->creator);
        S_str(&h, opts->info->create_date);
        S_int(&h, opts->info->plain);
        S_int(&h, opts->info->pdfua);
    }
    S_int(&h, opts->form);
    S_str(&h, opts->base_key);
    sha256_update(&h.ctx, h.n, h.buf);
    sha256_digest(&h.ctx, sizeof out->sha256, out->sha256);
}

/* --- the cache -------------------------------------------------------------
 * A short array, the least recently used first, searched from the start:
 * it holds at most a few hundred documents (cap / their size), and a
 * search costs far less than the digest. */

typedef struct S_entry {
    pd_doccache_key key;
    unsigned char *bytes;
    size_t len, pages;
} S_entry;

struct pd_doccache {
    size_t cap, total;
    S_entry *entries;
    size_t n, alloc;
};

pd_doccache *pd_doccache_new(size_t cap)
{
    pd_doccache *c = xcalloc(1, sizeof *c);
    c->cap = cap;
    return c;
}

void pd_doccache_free(pd_doccache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->entries[i].bytes);
    free(c->entries);
    free(c);
}

static size_t S_find(const pd_doccache *c, const pd_doccache_key *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(c->entries[i].key.sha256, key->sha256, sizeof key->sha256) == 0)
            return i;
    return c->n;
}

bool pd_doccache_get(pd_doccache *c, const pd_doccache_key *key, strbuf *out, size_t *pages)
{
    size_t i = S_find(c, key);
    if (i == c->n)
        return false;
    /* now the most recently used: to the end */
    S_entry e = c->entries[i];
    memmove(&c->entries[i], &c->entries[i + 1], (c->n - i - 1) * sizeof e);
    c->entries[c->n - 1] = e;
    strbuf_append_len(out, (const char *)e.bytes, e.len);
    *pages = e.pages;
    return true;
}

void pd_doccache_put(pd_doccache *c, const pd_doccache_key *key, const void *bytes, size_t len,
                     size_t pages)
{
    if (len > c->cap || S_find(c, key) < c->n)
        return;
    size_t drop = 0, freed = 0; /* the least recently used, as many as the cap needs */
    while (drop < c->n && c->total - freed + len > c->cap)
        freed += c->entries[drop++].len;
    if (drop) {
        for (size_t i = 0; i < drop; i++)
            free(c->entries[i].bytes);
        memmove(c->entries, c->entries + drop, (c->n - drop) * sizeof *c->entries);
        c->n -= drop;
        c->total -= freed;
    }
    if (c->n == c->alloc) {
        c->alloc = c->alloc ? 2 * c->alloc : 16;
        c->entries = xrealloc(c->entries, c->alloc * sizeof *c->entries);
    }
    S_entry *e = &c->entries[c->n++];
    e->key = *key;
    e->bytes = xmalloc(len ? len : 1);
    memcpy(e->bytes, bytes, len);
    e->len = len;
    e->pages = pages;
    c->total += len;
}

size_t pd_doccache_count(const pd_doccache *c)
{
    return c->n;
}

size_t pd_doccache_bytes(const pd_doccache *c)
{
    return c->total;
}
