/* doccache: finished PDFs kept by a renderer, keyed by a SHA-256 digest of
 * everything that determines their bytes: the bound document (every field
 * of pd_doc, its blocks, spans, rows, images, recursively) and the options
 * of the job (paper, print size, form, plain, the PDF writer's key and
 * metadata). A batch prints the same leaflet many times (a leaflet names
 * no patient): the second time, its bytes come from here instead of
 * layout and the PDF writer.
 * Patient safety: a wrong hit would print another patient's document, so
 * the digest covers the bound document itself, not the job's values, and
 * its serialisation is unambiguous (every item typed and length-prefixed).
 * A field added to docmodel.h, pd_paper, pd_layout_opts or pd_pdf_info
 * must be added to the digest (doccache.c) too; tests/batch.sh fails when
 * one that reaches the page is left out.
 * Memory is bounded, and documents seen once do not fill it (a batch's
 * consent sheets all name their patient): a segmented cache (2Q). A new
 * document is kept on probation (a small first-in-first-out segment); a
 * hit there, or a second sight of a document already dropped from it (its
 * digest is remembered among a bounded number of ghosts), moves it to the
 * protected segment (least recently used dropped first). Both together
 * keep at most cap bytes (counted whole; the memory held is less: stream
 * bodies that several documents share are kept once, doccache.c).
 * Ownership: a pd_doccache owns copies of the bytes it is given; lookups
 * copy them out. No process-wide state: one cache per renderer. */
#ifndef PILDOC_DOCCACHE_H
#define PILDOC_DOCCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "docmodel.h"
#include "layout.h"
#include "render.h"
#include "strbuf.h"

/* The default byte caps of a renderer's cache: everything, and of that the
 * probation segment; the digests remembered of documents no longer kept. */
#define PD_DOCCACHE_CAP ((size_t)8 << 20)
#define PD_DOCCACHE_PROBATION ((size_t)2 << 20)
#define PD_DOCCACHE_GHOSTS 256

typedef struct pd_doccache_key {
    unsigned char sha256[32];
} pd_doccache_key;

/* What a PDF depends on besides the bound document. */
typedef struct pd_doccache_opts {
    const pd_paper *paper;
    const pd_layout_opts *layout;
    const pd_pdf_info *info;
    int form;             /* a fillable form */
    const char *base_key; /* the PDF writer's base-glyph key (render.h), or NULL */
} pd_doccache_opts;

void pd_doccache_digest(const pd_doc *doc, const pd_doccache_opts *opts, pd_doccache_key *out);

typedef struct pd_doccache pd_doccache;

/* cap: the most bytes of documents kept (PD_DOCCACHE_CAP normally), of
 * which probation (PD_DOCCACHE_PROBATION) on probation. */
pd_doccache *pd_doccache_new(size_t cap, size_t probation);
void pd_doccache_free(pd_doccache *c);

/* A hit appends the stored bytes to out, sets *pages and returns true. */
bool pd_doccache_get(pd_doccache *c, const pd_doccache_key *key, strbuf *out, size_t *pages);
/* The same, and the SHA-256 of the bytes in sha256: made at the entry's
 * first such hit and kept with it, so that a batch printing one leaflet a
 * hundred times hashes its file (for the manifest) twice, not a hundred
 * times. */
bool pd_doccache_get_sha256(pd_doccache *c, const pd_doccache_key *key, strbuf *out, size_t *pages,
                            unsigned char sha256[32]);
/* Keeps a copy of bytes under key: on probation the first time (or, if
 * larger than the probation cap, only its digest), protected when its
 * digest is a ghost; drops the oldest of that segment to stay within its
 * cap. A document larger than the segment's cap is not kept. */
void pd_doccache_put(pd_doccache *c, const pd_doccache_key *key, const void *bytes, size_t len,
                     size_t pages);

/* What the cache holds, for tests and PILDOC_TIMING. */
size_t pd_doccache_count(const pd_doccache *c);
size_t pd_doccache_bytes(const pd_doccache *c);
size_t pd_doccache_probation_bytes(const pd_doccache *c);
/* The bytes actually held: shared stream bodies counted once. */
size_t pd_doccache_held_bytes(const pd_doccache *c);
size_t pd_doccache_ghosts(const pd_doccache *c);

#endif
