/* output: writing a finished file atomically.
 * The bytes go to a temporary file in the target's folder, are flushed to
 * disk, then renamed over the target: a reader sees the old file or the
 * whole new one, never a half-written one, and on any error nothing is
 * left behind. The temporary name is short (a 255-byte target name still
 * works) and created exclusively; an existing target keeps its mode, a new
 * one gets 0666 less the umask. Batch outputs are reached through an open
 * folder handle, one part at a time, never through a symbolic link. */
#ifndef PILDOC_OUTPUT_H
#define PILDOC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* All len bytes to fd (retrying after EINTR and short writes); false with
 * errno set when that fails. */
bool pd_output_write_fd(int fd, const void *data, size_t len);

/* path "-" writes to standard output, and so does a path that is standard
 * output (/dev/stdout, /proc/self/fd/1 ... when it is a file or a pipe); a
 * FIFO is written to directly. A character device and any other path
 * under /dev or /proc are refused: a device path is never renamed over. */
bool pd_output_write(const char *path, const char *data, size_t len, pd_error *err);

/* Creates a new file exclusively (O_EXCL, O_NOFOLLOW) in the folder dirfd,
 * named PREFIX + 8 random letters or digits + SUFFIX, with mode (less the
 * umask). Returns its descriptor and sets *name (malloc'd), or -1 with
 * errno set. */
int pd_output_create_unique(int dirfd, const char *prefix, const char *suffix, mode_t mode,
                            char **name);

/* Opens, below the folder dirfd, the folder that holds name (a relative
 * path of '/'-separated parts), part by part with O_NOFOLLOW: a symbolic
 * link anywhere fails. With create, missing folders are made (0777 less
 * the umask). Returns a new descriptor (the caller closes it) and points
 * *base at name's last part; -1 with err set (naming shown) otherwise. */
int pd_output_open_parent(int dirfd, const char *name, bool create, const char *shown,
                          const char **base, pd_error *err);

/* The same as pd_output_write in two steps, so that the flush to disk
 * (fsync, the slow part of writing) can run on another thread while the
 * next document renders. pd_output_begin_at checks the target base in the
 * folder dirfd (taking that descriptor, on failure too) and writes the
 * bytes to a temporary file beside it, named tmp_prefix (".pd-" when NULL)
 * + 8 random characters + ".tmp"; shown names the target in messages.
 * pd_output_commit flushes that file and renames it over the target;
 * pd_output_abort removes it. After a successful begin, exactly one of
 * commit or abort must follow; both free what p holds, and on any failure
 * nothing is left behind. */
typedef struct pd_output_pending {
    int fd;     /* the temporary file */
    int dirfd;  /* the folder of both, owned */
    char *tmp;  /* the temporary file's name in that folder, owned */
    char *base; /* the target's name in that folder, owned */
    char *path; /* the target as shown in messages, owned */
} pd_output_pending;

/* pd_output_begin_at for a path (its folder opened as given). */
bool pd_output_begin(const char *path, const char *data, size_t len, pd_output_pending *p,
                     pd_error *err);
bool pd_output_begin_at(int dirfd, const char *base, const char *shown, const char *tmp_prefix,
                        const char *data, size_t len, pd_output_pending *p, pd_error *err);
bool pd_output_commit(pd_output_pending *p, pd_error *err);
/* Optional, between begin and commit: starts writing the temporary file
 * to disk without waiting for it (sync_file_range), so that when several
 * files are begun and started before the first commit, that commit's
 * flush takes them all to disk in one journal commit and the others'
 * find little left to do (150 files of 80 KB on this ext4: 36-41 ms
 * instead of 92-98 ms of flushes one after the other). commit still
 * flushes each file before it is renamed. */
void pd_output_start_flush(const pd_output_pending *p);
/* The SHA-256 of len bytes as 64 lowercase hex digits and a NUL (the
 * manifest's), by GNU Nettle, which uses the CPU's SHA instructions: 7
 * times GLib's GChecksum on a 60 KB PDF, as fast as OpenSSL's libcrypto,
 * whose start-up made a worker 2.2 MB larger. */
void pd_output_sha256_hex(const void *data, size_t len, char hex[65]);
/* A SHA-256 digest in lowercase hexadecimal. */
void pd_output_hex(const unsigned char md[32], char hex[65]);
void pd_output_abort(pd_output_pending *p);

#endif
