/* diskcache: results kept on disk between processes, in pildoc's cache
 * folder (paths_cache_dir: a folder of the user's own that nobody else may
 * write, where fontconfig keeps its cache too).
 *
 * An entry is one file named "KIND-<SHA-256 of the key, hex>EXT" (e.g.
 * svg-....rgba): the key is a digest of everything that decides the
 * result (the input's bytes, the identity of the library files that made
 * it, ...), built by the caller with pd_diskcache_key_*. The file holds a
 * magic line, the key, the payload's length and SHA-256, then the payload.
 * A file is used only when all of them match and it is a regular file of
 * the user's own: anything else (missing, short, damaged, another key or
 * format, a link, another user's file) reads as absent, the caller
 * computes the result again and keeps it anew, so a result is the same
 * with or without the cache. A file is written beside its place and
 * renamed (a reader sees all of it or nothing); nothing here ever fails
 * the caller: an unwritable folder or a full disk only costs time.
 *
 * The folder is bounded: after each write, pildoc's own entries (names as
 * above, and temporary files of unfinished writes) beyond
 * PD_DISKCACHE_MAX_FILES files or PD_DISKCACHE_MAX_BYTES bytes are removed,
 * the least recently written first. Other files there (fontconfig's) are
 * never touched.
 *
 * Ownership: returned strings and payloads are malloc'd, the caller's to
 * free. No state: every function works on the folder it is given. */
#ifndef PILDOC_DISKCACHE_H
#define PILDOC_DISKCACHE_H

#include <nettle/sha2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PD_DISKCACHE_KEY_SIZE SHA256_DIGEST_SIZE
#define PD_DISKCACHE_MAX_FILES 256
#define PD_DISKCACHE_MAX_BYTES ((size_t)64 << 20)

typedef struct pd_diskcache_key {
    struct sha256_ctx ctx;
} pd_diskcache_key;

/* Starts a key with the caller's format name and version (e.g. "pildoc
 * pdffont 1"): a change of what is kept changes every key. */
void pd_diskcache_key_init(pd_diskcache_key *k, const char *format);
void pd_diskcache_key_add(pd_diskcache_key *k, const void *bytes, size_t len);
void pd_diskcache_key_add_str(pd_diskcache_key *k, const char *s);
/* Adds the identity of a file (device, inode, size, modification time in
 * nanoseconds): a new version of it changes the key. False when the file
 * cannot be found (then nothing should be cached). */
bool pd_diskcache_key_add_file(pd_diskcache_key *k, const char *path);
/* Adds the identity of the file of the shared object that defines the
 * function or variable named `symbol` (as the process binds it), or of the
 * running executable for NULL. False when it cannot be found. */
bool pd_diskcache_key_add_object(pd_diskcache_key *k, const char *symbol);
void pd_diskcache_key_end(pd_diskcache_key *k, uint8_t key[PD_DISKCACHE_KEY_SIZE]);

/* dir/KIND-<hex of key>EXT */
char *pd_diskcache_path(const char *dir, const char *kind, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                        const char *ext);

/* The payload kept in `file` under `key` (at most max_len bytes), with its
 * length in *len; NULL when there is none that matches. The returned
 * buffer has one more byte, a NUL, after the payload. */
unsigned char *pd_diskcache_read(const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                                 size_t max_len, size_t *len);

/* One piece of a payload to write. */
typedef struct pd_diskcache_part {
    const void *data;
    size_t len;
} pd_diskcache_part;

/* Keeps the payload (the parts one after the other) in `file`, which lies
 * in `dir`, under `key`, then bounds the folder (pd_diskcache_trim with the
 * limits above). False when it could not be written (nothing is left). */
bool pd_diskcache_write(const char *dir, const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                        const pd_diskcache_part *parts, size_t n_parts);

/* A payload of n byte strings, each kept as its length (8 bytes,
 * big-endian) then its bytes: pd_diskcache_write of them. */
bool pd_diskcache_write_strings(const char *dir, const char *file,
                                const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                                const pd_diskcache_part *strings, size_t n);
/* Reads back such a payload of exactly n strings: strings[i] then point
 * into the returned buffer (the caller frees it). NULL when the file holds
 * no matching payload (pd_diskcache_read) or not exactly n strings. */
unsigned char *pd_diskcache_read_strings(const char *file, const uint8_t key[PD_DISKCACHE_KEY_SIZE],
                                         size_t max_len, pd_diskcache_part *strings, size_t n);

/* Big-endian numbers for payloads (a cache folder may be shared by
 * machines of either byte order through a network home). */
void pd_diskcache_put32(uint8_t *p, uint32_t v);
uint32_t pd_diskcache_get32(const uint8_t *p);
void pd_diskcache_put64(uint8_t *p, uint64_t v);
uint64_t pd_diskcache_get64(const uint8_t *p);

/* Removes pildoc's entries in dir beyond max_files or max_bytes, the least
 * recently written first (then by name), and temporary files of writes
 * that stopped more than an hour ago. */
void pd_diskcache_trim(const char *dir, size_t max_files, size_t max_bytes);

#endif
