#include "doccache.h"

#include <glib.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- the digest ------------------------------------------------------------
 * Every item is a type byte and, for strings and byte runs, a length
 * before the bytes; arrays give their count first. The walk below is
 * fixed by the code, so two different documents cannot serialise to the
 * same bytes. Integers (counts, lengths, styles, line numbers) take as
 * few bytes as they need: 7 bits a byte, the high bit set on every byte
 * but the last (LEB128, a prefix-free code), so that where one ends is
 * never in doubt. A document's thousands of them took 9 bytes each
 * before, most of the bytes hashed; numbers with a fraction (widths in
 * em) keep their 8 bytes. The digest lives only in the process's memory:
 * it never needs to match another build's. */

/* Items are gathered in a buffer and hashed a block of them at a time
 * (a document has thousands of small ones). */
typedef struct S_hash {
    struct sha256_ctx ctx;
    size_t n;
    unsigned char buf[4096];
    const pd_doc *doc;
    const char *pooled; /* the last string found in doc's pool, and its index */
    size_t pooled_at;
} S_hash;

/* Room for n more bytes in the buffer (n at most its size). */
static void S_room(S_hash *h, size_t n)
{
    if (h->n + n > sizeof h->buf) {
        sha256_update(&h->ctx, h->n, h->buf);
        h->n = 0;
    }
}

static void S_raw(S_hash *h, const void *p, size_t n)
{
    if (n == 0) /* p may be NULL then */
        return;
    if (n > sizeof h->buf) {
        sha256_update(&h->ctx, h->n, h->buf);
        h->n = 0;
        sha256_update(&h->ctx, n, p);
        return;
    }
    S_room(h, n);
    memcpy(h->buf + h->n, p, n);
    h->n += n;
}

/* The type byte, then v in 1-10 bytes. */
static void S_u64(S_hash *h, char type, uint64_t v)
{
    S_room(h, 11);
    unsigned char *p = h->buf + h->n;
    *p++ = (unsigned char)type;
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    h->n = (size_t)(p - h->buf);
}

static void S_int(S_hash *h, long long v)
{
    S_u64(h, 'i', (uint64_t)v);
}

static void S_count(S_hash *h, size_t n)
{
    S_u64(h, 'n', (uint64_t)n);
}

/* The type byte and the 8 bytes of the double (in this machine's order:
 * the digest never leaves the process). */
static void S_num(S_hash *h, double v)
{
    S_room(h, 9);
    h->buf[h->n] = 'd';
    memcpy(h->buf + h->n + 1, &v, sizeof v);
    h->n += 9;
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
    size_t n = strlen(s);
    S_u64(h, 's', (uint64_t)n);
    S_raw(h, s, n);
}

/* A string of the document's pool (a template's file name, "fr
 * translation", a variable's name: on most spans) by its index there,
 * since the pool's strings are hashed at the end; any other as a string.
 * Each span named its file's path, some 40 bytes, before. */
static void S_pooled(S_hash *h, const char *s)
{
    if (s && s == h->pooled) {
        S_u64(h, 'p', h->pooled_at);
        return;
    }
    for (size_t i = 0; s && i < h->doc->n_pool; i++)
        if (h->doc->pool[i] == s) {
            h->pooled = s;
            h->pooled_at = i;
            S_u64(h, 'p', i);
            return;
        }
    S_str(h, s);
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
    S_str(h, im->alt);
    /* the pixels' own SHA-256, made once with them (image.h), instead of
       hashing them again for every document; else the pixels */
    if (S_present(h, im->has_digest ? im : NULL)) {
        S_bytes(h, im->digest, sizeof im->digest);
        return;
    }
    size_t n = im->rgba && im->width > 0 && im->height > 0
                   ? (size_t)im->width * (size_t)im->height * 4
                   : 0;
    S_present(h, im->rgba);
    S_bytes(h, im->rgba, n);
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
        S_pooled(h, s->origin.file);
        S_int(h, s->origin.line);
        S_pooled(h, s->origin.what);
        S_pooled(h, s->var);
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
    h.doc = doc;
    h.pooled = NULL;
    h.pooled_at = 0;
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
 * Two short arrays of entries, the oldest first, searched from the start:
 * each holds at most a few dozen documents (its cap / their size), and a
 * search costs far less than the digest. The ghosts are a ring of digests.
 * An entry's bytes are kept as pieces: the body of each stream of at least
 * PIECE_SHARED bytes is one piece, shared by every entry holding the same
 * bytes (a batch's documents embed the same font subsets, pictograms and
 * pages without values: 40 % of make bench's cached bytes), and what lies
 * between is one piece of its own. The caps count each entry whole, as if
 * nothing were shared, so sharing changes only the memory held, never
 * which documents are kept. */

#define PIECE_SHARED 1024

typedef struct S_piece {
    const unsigned char *data; /* after the struct; a lookup key's: anywhere */
    size_t len, refs;
} S_piece;

typedef struct S_entry {
    pd_doccache_key key;
    S_piece **pieces;
    size_t n_pieces, len, pages;
    bool has_sha256; /* sha256 is the SHA-256 of the bytes */
    unsigned char sha256[32];
} S_entry;

typedef struct S_segment {
    size_t cap, total;
    S_entry *entries;
    size_t n, alloc;
} S_segment;

struct pd_doccache {
    S_segment probation; /* first sight, first in first out */
    S_segment protected; /* seen twice, least recently used first */
    pd_doccache_key ghost[PD_DOCCACHE_GHOSTS];
    size_t n_ghosts, next_ghost; /* the ring: next_ghost is overwritten next */
    GHashTable *shared;          /* S_piece * (PIECE_SHARED bytes or more), a set */
    size_t held;                 /* bytes of all pieces, each counted once */
};

/* Deflated streams differ early and late: their length and the bytes at
 * both ends name them well enough; equal ones are compared whole. */
static guint S_piece_hash(gconstpointer p)
{
    const S_piece *x = p;
    uint32_t h = 2166136261u ^ (uint32_t)x->len;
    size_t n = x->len < 32 ? x->len : 32;
    for (size_t i = 0; i < n; i++)
        h = (h ^ x->data[i]) * 16777619u;
    for (size_t i = x->len - n; i < x->len; i++)
        h = (h ^ x->data[i]) * 16777619u;
    return h;
}

static gboolean S_piece_equal(gconstpointer a, gconstpointer b)
{
    const S_piece *x = a, *y = b;
    return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
}

pd_doccache *pd_doccache_new(size_t cap, size_t probation)
{
    pd_doccache *c = xcalloc(1, sizeof *c);
    c->probation.cap = probation < cap ? probation : cap;
    c->protected.cap = cap - c->probation.cap;
    c->shared = g_hash_table_new(S_piece_hash, S_piece_equal);
    return c;
}

/* Appends a piece holding bytes [p, p + len) to e: the shared one with
 * the same bytes if there is one. */
static void S_piece_add(pd_doccache *c, S_entry *e, const unsigned char *p, size_t len)
{
    if (len == 0)
        return;
    S_piece key = {p, len, 0}, *x = NULL;
    if (len >= PIECE_SHARED)
        x = g_hash_table_lookup(c->shared, &key);
    if (!x) {
        x = xmalloc(sizeof *x + len);
        memcpy(x + 1, p, len);
        *x = (S_piece){(const unsigned char *)(x + 1), len, 0};
        if (len >= PIECE_SHARED)
            g_hash_table_add(c->shared, x);
        c->held += len;
    }
    x->refs++;
    if ((e->n_pieces & (e->n_pieces - 1)) == 0) /* 0, 1, 2, 4, ...: full */
        e->pieces = xrealloc(e->pieces, (e->n_pieces ? 2 * e->n_pieces : 1) * sizeof(S_piece *));
    e->pieces[e->n_pieces++] = x;
}

/* Cuts a PDF into pieces: each stream body (between ">>\nstream\n" and
 * "\nendstream") of PIECE_SHARED bytes or more, and the runs between them.
 * Any cut gives back the same bytes; these cuts find what documents share. */
static void S_pieces(pd_doccache *c, S_entry *e, const unsigned char *b, size_t len)
{
    static const char open[] = ">>\nstream\n", close[] = "\nendstream";
    size_t from = 0, at = 0;
    for (;;) {
        const unsigned char *s = memmem(b + at, len - at, open, sizeof open - 1);
        if (!s)
            break;
        size_t body = (size_t)(s - b) + sizeof open - 1;
        const unsigned char *t = memmem(b + body, len - body, close, sizeof close - 1);
        if (!t)
            break;
        size_t end = (size_t)(t - b);
        if (end - body >= PIECE_SHARED) {
            S_piece_add(c, e, b + from, body - from);
            S_piece_add(c, e, b + body, end - body);
            from = end;
        }
        at = end;
    }
    S_piece_add(c, e, b + from, len - from);
}

static void S_entry_free(pd_doccache *c, S_entry *e)
{
    for (size_t i = 0; i < e->n_pieces; i++) {
        S_piece *x = e->pieces[i];
        if (--x->refs)
            continue;
        if (x->len >= PIECE_SHARED)
            g_hash_table_remove(c->shared, x);
        c->held -= x->len;
        free(x);
    }
    free(e->pieces);
}

static void S_entry_copy(const S_entry *e, strbuf *out)
{
    for (size_t i = 0; i < e->n_pieces; i++)
        strbuf_append_len(out, (const char *)e->pieces[i]->data, e->pieces[i]->len);
}

static void S_segment_free(pd_doccache *c, S_segment *s)
{
    for (size_t i = 0; i < s->n; i++)
        S_entry_free(c, &s->entries[i]);
    free(s->entries);
}

void pd_doccache_free(pd_doccache *c)
{
    if (!c)
        return;
    S_segment_free(c, &c->probation);
    S_segment_free(c, &c->protected);
    g_hash_table_destroy(c->shared);
    free(c);
}

static bool S_same(const pd_doccache_key *a, const pd_doccache_key *b)
{
    return memcmp(a->sha256, b->sha256, sizeof a->sha256) == 0;
}

static size_t S_find(const S_segment *s, const pd_doccache_key *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (S_same(&s->entries[i].key, key))
            return i;
    return s->n;
}

/* Takes entry i out of s; its bytes are the caller's. */
static S_entry S_take(S_segment *s, size_t i)
{
    S_entry e = s->entries[i];
    memmove(&s->entries[i], &s->entries[i + 1], (s->n - i - 1) * sizeof e);
    s->n--;
    s->total -= e.len;
    return e;
}

static void S_remember(pd_doccache *c, const pd_doccache_key *key)
{
    c->ghost[c->next_ghost] = *key;
    c->next_ghost = (c->next_ghost + 1) % PD_DOCCACHE_GHOSTS;
    if (c->n_ghosts < PD_DOCCACHE_GHOSTS)
        c->n_ghosts++;
}

/* Forgets key if it is a ghost; true if it was. */
static bool S_forget(pd_doccache *c, const pd_doccache_key *key)
{
    for (size_t i = 0; i < c->n_ghosts; i++)
        if (S_same(&c->ghost[i], key)) {
            memset(&c->ghost[i], 0, sizeof c->ghost[i]); /* no document digests to zero */
            return true;
        }
    return false;
}

/* Appends e to s (the newest), dropping the oldest to stay within its cap;
 * the dropped ones of the probation segment are remembered as ghosts. */
static void S_add(pd_doccache *c, S_segment *s, S_entry e)
{
    while (s->n && s->total + e.len > s->cap) {
        S_entry old = S_take(s, 0);
        if (s == &c->probation)
            S_remember(c, &old.key);
        S_entry_free(c, &old);
    }
    if (s->n == s->alloc) {
        s->alloc = s->alloc ? 2 * s->alloc : 16;
        s->entries = xrealloc(s->entries, s->alloc * sizeof *s->entries);
    }
    s->entries[s->n++] = e;
    s->total += e.len;
}

bool pd_doccache_get(pd_doccache *c, const pd_doccache_key *key, strbuf *out, size_t *pages)
{
    return pd_doccache_get_sha256(c, key, out, pages, NULL);
}

bool pd_doccache_get_sha256(pd_doccache *c, const pd_doccache_key *key, strbuf *out, size_t *pages,
                            unsigned char sha256[32])
{
    S_entry e;
    size_t i = S_find(&c->protected, key);
    if (i < c->protected.n) {
        e = S_take(&c->protected, i);
    } else {
        i = S_find(&c->probation, key);
        if (i == c->probation.n)
            return false;
        e = S_take(&c->probation, i);
    }
    /* copied out first: making room may drop pieces it shares with older
       entries, never its own, which it holds */
    size_t at = out->len;
    S_entry_copy(&e, out);
    *pages = e.pages;
    if (sha256 && !e.has_sha256) {
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        sha256_update(&ctx, e.len, (const uint8_t *)out->data + at);
        sha256_digest(&ctx, sizeof e.sha256, e.sha256);
        e.has_sha256 = true;
    }
    if (sha256)
        memcpy(sha256, e.sha256, sizeof e.sha256);
    if (e.len > c->protected.cap) /* nowhere to keep it: served once more */
        S_entry_free(c, &e);
    else /* now the most recently used of the protected segment */
        S_add(c, &c->protected, e);
    return true;
}

void pd_doccache_put(pd_doccache *c, const pd_doccache_key *key, const void *bytes, size_t len,
                     size_t pages)
{
    if (S_find(&c->protected, key) < c->protected.n || S_find(&c->probation, key) < c->probation.n)
        return;
    /* seen before (its ghost): protected; else on probation, or only its
     * ghost when it does not fit there */
    S_segment *s = S_forget(c, key) ? &c->protected : &c->probation;
    if (len > s->cap) {
        if (s == &c->probation)
            S_remember(c, key);
        return;
    }
    S_entry e = {*key, NULL, 0, len, pages, false, {0}};
    S_pieces(c, &e, bytes, len);
    S_add(c, s, e);
}

size_t pd_doccache_count(const pd_doccache *c)
{
    return c->probation.n + c->protected.n;
}

size_t pd_doccache_bytes(const pd_doccache *c)
{
    return c->probation.total + c->protected.total;
}

size_t pd_doccache_held_bytes(const pd_doccache *c)
{
    return c->held;
}

size_t pd_doccache_probation_bytes(const pd_doccache *c)
{
    return c->probation.total;
}

size_t pd_doccache_ghosts(const pd_doccache *c)
{
    size_t n = 0;
    pd_doccache_key none = {{0}};
    for (size_t i = 0; i < c->n_ghosts; i++)
        n += !S_same(&c->ghost[i], &none);
    return n;
}
