#include "batch.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "fonts.h"
#include "jobsrc.h"
#include "output.h"
#include "paths.h"
#include "renderer.h"
#include "strbuf.h"
#include "workpool.h"
#include "xmlsafe.h"

#define MAX_WORKERS PD_WORKPOOL_MAX_WORKERS
#define MAX_MESSAGE ((size_t)64 * 1024 * 1024) /* a job or a result between processes */
#define MAX_PENDING 4096                       /* results waiting for an earlier job to finish */
/* Jobs handed to a worker before it has finished the previous one: the next
 * job already waits in its pipe when it has written a file, so the worker
 * never idles for a round trip through the master, and it renders while
 * its writer thread flushes the previous files (1,200 jobs of
 * tests/make-jobs.py, --jobs 2 on 2 cores: 5.9 s with one job at a time,
 * 5.75 s with two, 4.9-5.0 s with two and the writer thread). Four: a
 * flush to disk that takes longer than a document (0.4-0.6 ms typical,
 * up to 17 ms on a busy disk) no longer stops the worker, and the files
 * waiting meanwhile are flushed together (S_report_prepare); make bench's
 * 300 jobs, --jobs 2, 14 runs alternating with two and one flush per file
 * (load 1.9): 460 ms wall against 516, 732 ms CPU against 816; each
 * worker ~0.4 MB larger (six: ~1 MB, and no faster). */
#define JOBS_PER_WORKER 4
/* ... and once the job file is read to its end, two at most: a worker
 * that holds four of the last jobs could leave the other idle while it
 * finishes them. */
#define JOBS_AT_THE_END 2
/* Jobs read ahead of the workers, so that each worker can be sent those of
 * the templates and languages it has already laid out (the first document
 * of each costs 5-10 times a later one): see S_pick. */
#define LOOK_AHEAD 16

/* --- messages between the master and its workers ------------------------
 * A message (a frame of workpool.h) is NUL-terminated strings. */

static void S_field(strbuf *m, const char *s)
{
    strbuf_append_len(m, s ? s : "", strlen(s ? s : "") + 1);
}

static void S_fieldf(strbuf *m, size_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", v);
    S_field(m, buf);
}

/* Splits a message into its NUL-terminated fields (pointers into data). */
static void S_split(const char *data, size_t len, const char **fields, size_t max, size_t *n)
{
    *n = 0;
    for (size_t off = 0; off < len && *n < max;) {
        fields[(*n)++] = data + off;
        const char *nul = memchr(data + off, '\0', len - off);
        off = nul ? (size_t)(nul - data) + 1 : len;
    }
}

/* --- what a job file may show and name ------------------------------------- */

/* Format controls that reorder or hide text: C1 controls, bidirectional
 * marks, embeddings, overrides and isolates, line and paragraph
 * separators. */
static bool S_is_hidden_control(gunichar c)
{
    return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 ||
           c == 0x2029;
}

/* s as it may go to a terminal, a log or the manifest: control characters,
 * C1 and bidirectional controls and bytes that are not UTF-8 escaped
 * (\x1b, \u202e), the rest as it is. Returns a malloc'd string. */
static char *S_shown(const char *s)
{
    strbuf out = STRBUF_INIT;
    strbuf_append(&out, "");
    for (const char *p = s ? s : ""; *p;) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            strbuf_printf(&out, "\\x%02x", (unsigned char)*p);
            p++;
            continue;
        }
        const char *next = g_utf8_next_char(p);
        if (c < 0x20 || c == 0x7f)
            strbuf_printf(&out, "\\x%02x", (unsigned)c);
        else if (S_is_hidden_control(c))
            strbuf_printf(&out, "\\u%04x", (unsigned)c);
        else
            strbuf_append_len(&out, p, (size_t)(next - p));
        p = next;
    }
    return strbuf_take(&out);
}

/* An output name stays inside the output folder: relative, no "..", no
 * control characters, no empty or hidden parts. NULL when fine. */
static const char *S_bad_output(const char *name)
{
    if (!*name)
        return "an empty output name";
    if (name[0] == '/')
        return "an absolute output name (it must stay inside the output folder)";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return "a control character or backslash in the output name";
    if (!xmlsafe_valid_utf8(name))
        return "an output name that is not UTF-8";
    for (const char *p = name; *p; p = g_utf8_next_char(p))
        if (S_is_hidden_control(g_utf8_get_char(p)))
            return "a C1, bidirectional or line-separator control in the output name";
    const char *part = name;
    while (part) {
        const char *slash = strchr(part, '/');
        size_t len = slash ? (size_t)(slash - part) : strlen(part);
        if (len == 0 || (len == 2 && strncmp(part, "..", 2) == 0) || (len == 1 && part[0] == '.'))
            return "'..', '.' or an empty part in the output name (it must stay inside the "
                   "output folder)";
        if (part[0] == '.')
            return "an output name part starting with '.'";
        if (len > 255)
            return "an output name part longer than 255 bytes";
        part = slash ? slash + 1 : NULL;
    }
    if (strlen(name) > 1000)
        return "an output name longer than 1000 bytes";
    return NULL;
}

/* The name as the strictest file system compares it: NFC, case-folded
 * (a case-insensitive share holds one of "A.pdf" and "a.pdf"). Malloc'd. */
static char *S_name_key(const char *name)
{
    gchar *nfc = g_utf8_normalize(name, -1, G_NORMALIZE_NFC);
    gchar *fold = g_utf8_casefold(nfc ? nfc : name, -1);
    gchar *key = g_utf8_normalize(fold, -1, G_NORMALIZE_NFC);
    char *out = xstrdup(key ? key : fold);
    g_free(nfc);
    g_free(fold);
    g_free(key);
    return out;
}

/* "digits" then what follows, or NULL. */
static const char *S_skip_digits(const char *s)
{
    if (*s < '0' || *s > '9')
        return NULL;
    while (*s >= '0' && *s <= '9')
        s++;
    return s;
}

/* A (case-folded) name the manifests of DIR use: manifest.csv,
 * manifest-K-of-N.csv, either with .partial. */
static bool S_reserved_name(const char *key)
{
    if (strncmp(key, "manifest", 8) != 0)
        return false;
    const char *p = key + 8;
    if (*p == '-') {
        p = S_skip_digits(p + 1);
        if (!p || strncmp(p, "-of-", 4) != 0 || !(p = S_skip_digits(p + 4)))
            return false;
    }
    return strcmp(p, ".csv") == 0 || strcmp(p, ".csv.partial") == 0;
}

/* Output names seen so far (as 128 bits of the SHA-256 of their key) with
 * the job that first used each: 24 bytes a job, open addressing. */
typedef struct S_name_entry {
    uint64_t a, b; /* 0, 0: empty */
    size_t job;
} S_name_entry;

typedef struct S_names {
    S_name_entry *slots;
    size_t cap, n;
} S_names;

/* The job that already uses the name of key (S_name_key), or 0 after
 * recording it for job. */
static size_t S_names_claim(S_names *t, const char *key, size_t job)
{
    struct sha256_ctx sum;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&sum);
    sha256_update(&sum, strlen(key), (const uint8_t *)key);
    sha256_digest(&sum, sizeof digest, digest);
    uint64_t a, b;
    memcpy(&a, digest, 8);
    memcpy(&b, digest + 8, 8);
    a |= 1; /* never the empty mark */
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        S_name_entry *slots = xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].a) {
                size_t k = (size_t)t->slots[i].b & (cap - 1);
                while (slots[k].a)
                    k = (k + 1) & (cap - 1);
                slots[k] = t->slots[i];
            }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    size_t k = (size_t)b & (t->cap - 1);
    for (; t->slots[k].a; k = (k + 1) & (t->cap - 1))
        if (t->slots[k].a == a && t->slots[k].b == b)
            return t->slots[k].job;
    t->slots[k] = (S_name_entry){a, b, job};
    t->n++;
    return 0;
}

/* --- the worker ------------------------------------------------------------ */

typedef struct S_options {
    const char *jobs_file;
    const char *out_dir;
    int workers;
    size_t shard_k, shard_n; /* 1-based; 0 when not sharded */
    int strict;              /* -1 as the template says, 1 strict */
    bool quiet, resume;
    bool plain; /* --plain: no PDF/A, the smallest files */
    const pd_paper *paper;
    int out_fd;          /* the output folder, open */
    char tmp_prefix[16]; /* of this run's temporary files: ".pd-" + a random run id + "-" */
} S_options;

/* A rendered job on its way to the master. The worker's main thread
 * renders each document; the pool's writer thread (workpool.h) then writes
 * it to a temporary file, takes its SHA-256, flushes it to disk, renames it
 * into place and only then reports the job, in order, while the main
 * thread renders the next one. fsync takes about an eighth of a 2-worker
 * run on 2 cores (measured with the flushes removed); writing and hashing
 * on that thread too leave the main thread 0.1-0.2 ms a document less. */
typedef struct S_report {
    char *number, *error, *warning; /* owned */
    bool ok;
    size_t pages;
    strbuf pdf;             /* the document's bytes, while ok */
    int dir;                /* the output's folder (owned), -1 when nothing to write */
    char *base, *shown;     /* the output's name in it, and as the job file gives it */
    const char *tmp_prefix; /* of this run's temporary files (S_options) */
    bool begun;             /* S_report_prepare wrote the temporary file: file, sha */
    pd_output_pending file;
    char sha[65];   /* of the bytes written (pdf is then freed) */
    bool sha_known; /* sha set by the worker (the renderer knew it) */
    size_t len;     /* pdf.len, kept when it is freed */
} S_report;

/* On the writer thread, for every report waiting (workpool.h): writes r's
 * temporary file and starts its flush to disk, so that the first commit
 * of the batch (S_report_finish) takes them all to disk together; hashes
 * the bytes meanwhile and frees them. */
static void S_report_prepare(void *later)
{
    S_report *r = later;
    if (r->dir < 0 || r->begun)
        return;
    pd_error err = {0};
    /* closes the folder, and leaves nothing behind on failure */
    r->begun = pd_output_begin_at(r->dir, r->base, r->shown, r->tmp_prefix,
                                  r->pdf.data ? r->pdf.data : "", r->pdf.len, &r->file, &err);
    r->dir = -1;
    if (r->begun) {
        pd_output_start_flush(&r->file);
        if (!r->sha_known)
            pd_output_sha256_hex(r->pdf.data ? r->pdf.data : "", r->pdf.len, r->sha);
        strbuf_free(&r->pdf);
    } else {
        r->ok = false;
        free(r->error);
        r->error = xstrdup(err.msg);
    }
}

/* On the writer thread: writes (unless prepared) and commits r's file
 * (nothing when the master is gone) and makes the report, freeing r. */
static void S_report_finish(void *later, bool gone, strbuf *out)
{
    S_report *r = later;
    if (gone) {
        if (r->begun)
            pd_output_abort(&r->file);
        else if (r->dir >= 0)
            close(r->dir);
    } else {
        S_report_prepare(r); /* nothing when the writer prepared it, as it does */
        pd_error err = {0};
        if (r->begun && !pd_output_commit(&r->file, &err)) {
            r->ok = false;
            free(r->error);
            r->error = xstrdup(err.msg);
        }
    }
    const char *sha = r->begun ? r->sha : "";
    if (!gone) {
        S_field(out, r->number);
        S_field(out, r->ok ? "ok" : "failed");
        S_fieldf(out, r->ok ? r->pages : 0);
        S_fieldf(out, r->ok ? r->len : 0);
        S_field(out, r->ok ? sha : "");
        S_field(out, r->ok ? "" : r->error);
        S_field(out, r->warning);
    }
    free(r->number);
    free(r->error);
    free(r->warning);
    free(r->base);
    free(r->shown);
    strbuf_free(&r->pdf);
    free(r);
}

/* A worker's state: its renderer, or why it could not be made (every job
 * then fails with that reason: the worker itself stays, so that the run
 * reports each job rather than a dying worker). */
typedef struct S_worker_ctx {
    const pd_env *env;
    const S_options *opt;
    pd_renderer *r;
    pd_error init_err;
} S_worker_ctx;

static void *S_worker_start(void *arg, char *why, size_t why_len)
{
    (void)why, (void)why_len;
    S_worker_ctx *w = arg;
    if (!w->r) /* else the master's warmed renderer, inherited (S_warm) */
        w->r = pd_renderer_new(w->env, &w->init_err);
    return w;
}

/* The worker process _exits next: its renderer is freed only for a
 * memory check, as `render`'s (renderer.h); 10-13 ms saved per worker. */
static void S_worker_stop(void *state)
{
    S_worker_ctx *w = state;
    pd_renderer_end_of_process(w->r);
    w->r = NULL;
}

/* One job: renders it and opens the folder of its output; writing the file
 * and the report are left for S_report_finish. */
static void S_worker_handle(void *state, const char *msg, size_t len, strbuf *out, void **later)
{
    (void)out;
    S_worker_ctx *w = state;
    pd_renderer *r = w->r;
    const S_options *opt = w->opt;
    const char *f[2048];
    size_t n;
    S_split(msg, len, f, 2048, &n);
    /* number, template, lang, output, data file, clinic profile, n values,
       name, value..., then flags: large_print, form, plain, clinic_nofollow, also=LL */
    pd_error err = {0};
    pd_job_result res = {0};
    pd_values values;
    pd_values_init(&values);
    S_report *rep = xcalloc(1, sizeof *rep);
    rep->dir = -1;
    size_t flags = n >= 7 ? 7 + 2 * (size_t)strtoull(f[6], NULL, 10) : 0;
    if (n < 7 || flags > n) {
        pd_error_set(&err, NULL, 0, "internal: a short job message");
        goto report;
    }
    if (!r) {
        err = w->init_err;
        goto report;
    }
    /* the real path the job file's reader checked: no link swapped in since */
    if (*f[4] && !pd_data_load_nofollow(f[4], pd_renderer_schema(r), &values, &err))
        goto report;
    for (size_t i = 7; i + 1 < flags; i += 2)
        if (!pd_values_set(&values, pd_renderer_schema(r), f[i], f[i + 1], "job", 0, &err))
            goto report;
    pd_job job = {.template_name = f[1],
                  .lang = f[2],
                  .paper = opt->paper,
                  .strict = opt->strict,
                  .values = &values,
                  .format = PD_FORMAT_PDF,
                  .page = 1,
                  .dpi = 100,
                  .clinic = *f[5] ? f[5] : NULL};
    const char *also = NULL;
    for (size_t i = flags; i < n; i++) {
        job.large_print |= strcmp(f[i], "large_print") == 0;
        job.form |= strcmp(f[i], "form") == 0;
        job.clinic_nofollow |= strcmp(f[i], "clinic_nofollow") == 0;
        job.plain |= strcmp(f[i], "plain") == 0;
        if (strncmp(f[i], "also=", 5) == 0)
            also = f[i] + 5;
    }
    job.plain |= opt->plain;
    if (!(also ? pd_renderer_render_also(r, &job, also, &res, &err)
               : pd_renderer_render(r, &job, &res, &err)))
        goto report;
    /* the folders of the output, each opened below the last without
       following a symbolic link: a link swapped in meanwhile cannot
       lead outside --out */
    const char *base;
    rep->dir = pd_output_open_parent(opt->out_fd, f[3], true, f[3], &base, &err);
    if (rep->dir < 0)
        goto report;
    rep->ok = true;
    rep->base = xstrdup(base);
    rep->shown = xstrdup(f[3]);
    rep->tmp_prefix = opt->tmp_prefix;
    rep->pdf = res.bytes; /* taken, not copied */
    rep->len = rep->pdf.len;
    if (res.has_sha256) {
        pd_output_hex(res.sha256, rep->sha);
        rep->sha_known = true;
    }
    res.bytes = (strbuf)STRBUF_INIT;
report:
    rep->number = xstrdup(n > 0 ? f[0] : "0");
    rep->pages = res.pages;
    rep->error = xstrdup(rep->ok ? "" : err.msg);
    rep->warning = xstrdup(res.warning ? res.warning : "");
    pd_job_result_free(&res);
    pd_values_free(&values);
    *later = rep;
}

/* --- the master -------------------------------------------------------------- */

static volatile sig_atomic_t S_stop;

static void S_on_signal(int sig)
{
    S_stop = sig;
}

typedef struct S_result {
    size_t number;
    bool done, ok, kept;
    bool skipped; /* read ahead but never sent: the run stopped first */
    char *output, *id, *error;
    size_t pages, bytes;
    char sha[65];
    char input[65]; /* SHA-256 of what the job asks for (resume compares it) */
} S_result;

/* A row of an earlier manifest of DIR that --resume may keep. */
typedef struct S_old_row {
    size_t number; /* the key of the table */
    char *output;
    size_t pages, bytes;
    char sha[65], input[65];
    struct S_old_row *next; /* another candidate for the same job */
} S_old_row;

typedef struct S_master {
    const S_options *opt;
    const pd_env *env;
    pd_jobsrc *src;
    pd_schema *schema;
    pd_workpool_async *pool; /* the workers */
    int lock_fd;             /* a shard's own lock, or -1 */
    int dir_lock_fd;         /* the folder opened once more, for its lock alone, or -1 */
    bool worker_lost;        /* a worker died during the run */
    bool worker_failed;      /* a worker did not end cleanly */
    const char *stopped;     /* why no new job starts, or NULL */
    S_result *pending;       /* in job order: the manifest is written in job order */
    size_t n_pending;
    S_names names;
    GHashTable *old;          /* job number -> S_old_row list (--resume) */
    GHashTable *lost_folders; /* folders (relative, "" for DIR) of jobs a dead worker had */
    size_t last_number;
    bool job_file_known;
    dev_t job_dev;
    ino_t job_ino;
    FILE *manifest;
    int manifest_errno; /* the manifest cannot be written: why */
    size_t done, written, kept, failed, total;
    double started;
    bool progress;     /* a progress line is on the terminal */
    pd_renderer *warm; /* S_warm's, which every forked worker inherits, or NULL */
    /* jobs read and ready for a worker, in job order (S_hand_out) */
    struct S_ready {
        size_t number;
        strbuf msg;    /* the message to the worker */
        char *key;     /* what the document shares with others: S_affinity_key */
        size_t passed; /* times a later job was sent before it */
    } ready[LOOK_AHEAD];
    size_t n_ready;
    bool source_done;     /* the job file is read to its end (or broken) */
    GHashTable *laid_out; /* affinity key -> bit mask (uint64_t) of the slots that have it */
} S_master;

static double S_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void S_csv_cell(FILE *f, const char *s, bool last)
{
    csv_fwrite(f, s, strlen(s));
    fputc(last ? '\n' : ',', f);
}

#define MANIFEST_HEADER "job,output,status,pages,bytes,sha256,error,input_sha256\n"

/* A text cell that a spreadsheet would read as a formula (=, +, -, @, a tab
 * or CR first: OWASP's CSV injection) is written after a single quote,
 * which spreadsheets take as "text"; so is one that starts with a quote, so
 * that a reader takes off exactly one leading quote (S_manifest_text). */
static char *S_neutral(char *cell)
{
    if (!cell[0] || !strchr("=+-@\t\r'", cell[0]))
        return cell;
    size_t n = strlen(cell);
    char *quoted = xmalloc(n + 2);
    quoted[0] = '\'';
    memcpy(quoted + 1, cell, n + 1);
    free(cell);
    return quoted;
}

/* A text cell of a manifest as it was before S_neutral. */
static const char *S_manifest_text(const char *cell)
{
    return cell[0] == '\'' ? cell + 1 : cell;
}

static void S_manifest_row(FILE *f, size_t number, const char *output, bool ok, size_t pages,
                           size_t bytes, const char *sha, const char *error, const char *input)
{
    char num[32], pg[32], by[32];
    snprintf(num, sizeof num, "%zu", number);
    snprintf(pg, sizeof pg, "%zu", pages);
    snprintf(by, sizeof by, "%zu", bytes);
    char *out = S_neutral(S_shown(output)), *err = S_neutral(S_shown(error));
    S_csv_cell(f, num, false);
    S_csv_cell(f, out, false);
    S_csv_cell(f, ok ? "ok" : "failed", false);
    S_csv_cell(f, pg, false);
    S_csv_cell(f, by, false);
    S_csv_cell(f, sha, false);
    S_csv_cell(f, err, false);
    S_csv_cell(f, input, true);
    free(out);
    free(err);
}

/* Writes finished results at the head of the queue, in job order. */
static void S_flush(S_master *m)
{
    size_t k = 0;
    while (k < m->n_pending && m->pending[k].done) {
        S_result *r = &m->pending[k];
        if (m->manifest_errno) {
        } else if (r->skipped) {
            /* a job not reached: what an earlier run left for it stays listed */
            for (S_old_row *row = m->old ? g_hash_table_lookup(m->old, &r->number) : NULL; row;
                 row = row->next)
                S_manifest_row(m->manifest, r->number, row->output, true, row->pages, row->bytes,
                               row->sha, "", row->input);
        } else {
            S_manifest_row(m->manifest, r->number, r->output, r->ok, r->pages, r->bytes, r->sha,
                           r->error, r->input);
        }
        free(r->output);
        free(r->id);
        free(r->error);
        k++;
    }
    if (k) {
        if (!m->manifest_errno && (fflush(m->manifest) != 0 || ferror(m->manifest))) {
            m->manifest_errno = errno ? errno : EIO;
            m->stopped = "the manifest cannot be written";
        }
        memmove(m->pending, m->pending + k, (m->n_pending - k) * sizeof *m->pending);
        m->n_pending -= k;
    }
}

static S_result *S_queue(S_master *m, const pd_jobspec *job)
{
    m->pending = xrealloc(m->pending, (m->n_pending + 1) * sizeof *m->pending);
    S_result *r = &m->pending[m->n_pending++];
    memset(r, 0, sizeof *r);
    r->number = job->number;
    r->output = job->output ? xstrdup(job->output) : NULL;
    r->id = job->id ? xstrdup(job->id) : NULL;
    return r;
}

static void S_finish(S_master *m, S_result *r, bool ok, const char *error)
{
    r->done = true;
    r->ok = ok;
    m->done++;
    if (ok) {
        if (r->kept)
            m->kept++;
        else
            m->written++;
    } else {
        m->failed++;
        r->error = xstrdup(error && *error ? error : "failed");
        /* the job by position, id and output; never patient data, and no
           control character from the job file reaches the terminal */
        char *id = S_shown(r->id), *out = S_shown(r->output ? r->output : "no output"),
             *why = S_shown(r->error);
        fprintf(stderr, "%spildoc: job %zu (%s%s%s): %s\n", m->progress ? "\r" : "", r->number, id,
                r->id ? ", " : "", out, why);
        free(id);
        free(out);
        free(why);
    }
}

static void S_progress(S_master *m, bool last)
{
    static double shown;
    double now = S_now();
    if (!last && now - shown < 0.2)
        return;
    shown = now;
    double rate = m->done / (now - m->started > 1e-3 ? now - m->started : 1e-3);
    if (m->total) {
        double left = rate > 0 && m->total > m->done ? (double)(m->total - m->done) / rate : 0;
        fprintf(stderr, "\rpildoc batch: %zu/%zu done, %.0f documents/s, %.0f s left   ", m->done,
                m->total, rate, left);
    } else { /* a job file that cannot be read twice (a pipe): no total */
        fprintf(stderr, "\rpildoc batch: %zu done, %.0f documents/s   ", m->done, rate);
    }
    if (last)
        fputc('\n', stderr);
}

static S_result *S_find(S_master *m, size_t number)
{
    for (size_t i = 0; i < m->n_pending; i++)
        if (m->pending[i].number == number)
            return &m->pending[i];
    return NULL;
}

static void S_old_free(gpointer p)
{
    for (S_old_row *r = p, *next; r; r = next) {
        next = r->next;
        free(r->output);
        free(r);
    }
}

/* What a forked worker does not need of the master. */
static void S_master_release(S_master *m)
{
    for (size_t i = 0; i < m->n_pending; i++) {
        free(m->pending[i].output);
        free(m->pending[i].id);
        free(m->pending[i].error);
    }
    free(m->pending);
    m->pending = NULL;
    m->n_pending = 0;
    free(m->names.slots);
    m->names.slots = NULL;
    if (m->old)
        g_hash_table_destroy(m->old);
    m->old = NULL;
    if (m->lost_folders)
        g_hash_table_destroy(m->lost_folders);
    m->lost_folders = NULL;
    for (size_t k = 0; k < m->n_ready; k++) {
        strbuf_free(&m->ready[k].msg);
        free(m->ready[k].key);
    }
    m->n_ready = 0;
    if (m->laid_out)
        g_hash_table_destroy(m->laid_out);
    m->laid_out = NULL;
}

/* Removes the temporary files this run's dead workers left in the folders
 * of their jobs (every worker has ended: none is still being written). */
static void S_remove_lost_temporaries(S_master *m)
{
    if (!m->lost_folders)
        return;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, m->lost_folders);
    size_t pl = strlen(m->opt->tmp_prefix);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        strbuf probe = STRBUF_INIT;
        strbuf_printf(&probe, "%sx", (const char *)key);
        pd_error err = {0};
        const char *base;
        int dir = pd_output_open_parent(m->opt->out_fd, probe.data, false, "", &base, &err);
        strbuf_free(&probe);
        int fd = dir >= 0 ? fcntl(dir, F_DUPFD_CLOEXEC, 0) : -1;
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d && fd >= 0)
            close(fd);
        if (d)
            rewinddir(d); /* the offset is shared with out_fd, maybe read to its end */
        for (struct dirent *e; d && (e = readdir(d)) != NULL;)
            if (strncmp(e->d_name, m->opt->tmp_prefix, pl) == 0 && strlen(e->d_name) == pl + 8 + 4)
                unlinkat(dir, e->d_name, 0);
        if (d)
            closedir(d);
        if (dir >= 0)
            close(dir);
    }
}

/* The forked worker process (the pool has closed the other workers'
 * channels): drops what it does not need of the master, then renders the
 * jobs it is sent until the master closes its channel. */
static int S_worker_child(int fd, void *arg)
{
    S_master *m = arg;
    if (m->lock_fd >= 0)
        close(m->lock_fd);
    if (m->dir_lock_fd >= 0)
        close(m->dir_lock_fd);
    fclose(m->manifest);
    pd_jobsrc_close(m->src);
    pd_schema_free(m->schema);
    S_master_release(m);
    S_worker_ctx ctx = {m->env, m->opt, m->warm, {0}};
    pd_workpool_handler h = {S_worker_start, S_worker_handle, S_report_finish, S_worker_stop,
                             &ctx,           S_report_prepare};
    pd_workpool_worker_main(fd, &h);
    return 0;
}

/* Worker slot i is gone (killed, crashed, or its channel broke): the jobs
 * it held fail with the reason; the pool starts a new worker for the next
 * jobs. */
static void S_worker_lost(void *arg, int i, pid_t pid, const char *how, const uint64_t *tags,
                          size_t n)
{
    S_master *m = arg;
    char why[700];
    snprintf(why, sizeof why,
             "the worker process rendering this job ended (%s) before finishing it", how);
    fprintf(stderr, "%spildoc: worker %d (process %ld) ended: %s\n", m->progress ? "\r" : "", i + 1,
            (long)pid, how);
    for (size_t k = 0; k < n; k++) {
        S_result *r = S_find(m, (size_t)tags[k]);
        if (!r || r->done)
            continue;
        /* its temporary file may be left there: removed at the end */
        const char *out = r->output, *slash = strrchr(out, '/');
        if (!m->lost_folders)
            m->lost_folders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_add(m->lost_folders, g_strndup(out, slash ? (size_t)(slash - out) + 1 : 0));
        S_finish(m, r, false, why);
    }
    /* a new worker in this slot has only what the master laid out (S_warm):
       counted as having nothing */
    GHashTableIter it;
    gpointer have;
    g_hash_table_iter_init(&it, m->laid_out);
    while (g_hash_table_iter_next(&it, NULL, &have))
        *(uint64_t *)have &= ~((uint64_t)1 << i);
    m->worker_lost = true;
}

/* A worker's report on the job numbered tag; false when malformed. */
static bool S_collect(void *arg, uint64_t tag, const char *data, size_t len)
{
    S_master *m = arg;
    const char *f[8];
    size_t n;
    S_split(data, len, f, 8, &n);
    if (n < 7 || strtoull(f[0], NULL, 10) != tag)
        return false;
    S_result *r = S_find(m, (size_t)tag);
    if (r && !r->done) {
        bool ok = strcmp(f[1], "ok") == 0;
        r->pages = strtoull(f[2], NULL, 10);
        r->bytes = strtoull(f[3], NULL, 10);
        snprintf(r->sha, sizeof r->sha, "%s", f[4]);
        if (*f[6] && !m->opt->quiet) {
            char *warning = S_shown(f[6]);
            fprintf(stderr, "%spildoc: warning: job %zu: %s\n", m->progress ? "\r" : "", r->number,
                    warning);
            free(warning);
        }
        S_finish(m, r, ok, f[5]);
    }
    return true;
}

/* At the end: a worker that did not exit cleanly. */
static void S_worker_ended(void *arg, int i, int wst)
{
    S_master *m = arg;
    fprintf(stderr, "pildoc: worker %d ended abnormally (%s %d)\n", i + 1,
            WIFSIGNALED(wst) ? "signal" : "status",
            WIFSIGNALED(wst) ? WTERMSIG(wst) : WEXITSTATUS(wst));
    m->worker_failed = true;
}

static bool S_in_shard(const S_options *opt, size_t number)
{
    return !opt->shard_n || (number - 1) % opt->shard_n == opt->shard_k - 1;
}

/* The number of jobs, for progress: only for a regular file, which can be
 * read twice (a FIFO cannot: the count would eat the jobs). 0 if unknown. */
static size_t S_count_jobs(const S_options *opt, const pd_schema *schema)
{
    struct stat st;
    if (stat(opt->jobs_file, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    pd_error err = {0};
    pd_jobsrc *src = pd_jobsrc_open(opt->jobs_file, schema, &err);
    size_t total = 0;
    pd_jobspec job;
    while (src && pd_jobsrc_next(src, &job, &err) == 1) {
        total += S_in_shard(opt, job.number);
        pd_jobspec_clear(&job);
    }
    pd_jobsrc_close(src);
    return total;
}

/* --- the manifest files and the folder lock ------------------------------------
 * DIR/S.csv (S: manifest or manifest-K-of-N) is the manifest of a finished
 * run; S.csv.partial that of a run that stopped early (what it did);
 * .S.csv.XXXXXXXX.part the one being written (or left by a killed run). */

typedef struct S_manifest_names {
    char *final, *partial, *prefix; /* prefix: of the .part files */
} S_manifest_names;

static void S_manifest_names_init(S_manifest_names *n, const S_options *opt)
{
    strbuf stem = STRBUF_INIT, sb = STRBUF_INIT;
    if (opt->shard_n)
        strbuf_printf(&stem, "manifest-%zu-of-%zu.csv", opt->shard_k, opt->shard_n);
    else
        strbuf_printf(&stem, "manifest.csv");
    strbuf_printf(&sb, "%s.partial", stem.data);
    n->partial = strbuf_take(&sb);
    strbuf_printf(&sb, ".%s.", stem.data);
    n->prefix = strbuf_take(&sb);
    n->final = strbuf_take(&stem);
}

static void S_manifest_names_free(S_manifest_names *n)
{
    free(n->final);
    free(n->partial);
    free(n->prefix);
}

/* A manifest being written, or left by a killed run. */
static bool S_is_part_file(const S_manifest_names *n, const char *name)
{
    size_t pl = strlen(n->prefix), len = strlen(name);
    return len == pl + 8 + 5 && strncmp(name, n->prefix, pl) == 0 &&
           strcmp(name + pl + 8, ".part") == 0;
}

/* Takes the folder's lock: flock on the folder itself (no lock file to
 * leave behind), exclusive for an unsharded run, shared by shards, each of
 * which also holds DIR/.manifest-K-of-N.lock alone. Returns false (and
 * says why) when another run holds it. */
static bool S_lock(S_master *m, int out_fd, const char *out_dir)
{
    const S_options *opt = m->opt;
    /* The lock is taken on a descriptor of its own, which workers close:
       on out_fd, which they keep to write into the folder, it would outlive
       a killed master as long as any of its workers, and a run started at
       once to resume would be refused. */
    m->dir_lock_fd = openat(out_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dir_fd = m->dir_lock_fd >= 0 ? m->dir_lock_fd : out_fd;
    if (flock(dir_fd, (opt->shard_n ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            fprintf(stderr,
                    "pildoc: %s: another pildoc batch is writing into this folder; nothing "
                    "done\n",
                    out_dir);
            return false;
        }
        /* a file system without locks (some NFS set-ups): go on, and say so */
        fprintf(stderr,
                "pildoc: warning: %s: cannot lock the folder (%s); another run into it would "
                "not be noticed\n",
                out_dir, strerror(e));
    }
    if (!opt->shard_n)
        return true;
    char name[96];
    snprintf(name, sizeof name, ".manifest-%zu-of-%zu.lock", opt->shard_k, opt->shard_n);
    int fd = openat(out_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        fprintf(stderr, "%s/%s: cannot open the lock file: %s\n", out_dir, name, strerror(errno));
        return false;
    }
    m->lock_fd = fd;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            fprintf(stderr,
                    "pildoc: %s: another pildoc batch of the same shard is writing into this "
                    "folder (it holds %s); nothing done\n",
                    out_dir, name);
            return false;
        }
        fprintf(stderr,
                "pildoc: warning: %s/%s: cannot lock (%s); another run of this shard would not "
                "be noticed\n",
                out_dir, name, strerror(e));
    }
    return true;
}

/* libcsv callbacks reading an earlier manifest for --resume. */
typedef struct S_old_reader {
    GHashTable *rows;
    char *field[8];
    size_t n;
} S_old_reader;

static void S_old_field(void *data, size_t len, void *user)
{
    S_old_reader *rd = user;
    if (rd->n < 8)
        rd->field[rd->n] = g_strndup(data, len);
    rd->n++;
}

static void S_old_row_end(int c, void *user)
{
    (void)c;
    S_old_reader *rd = user;
    char **f = rd->field;
    char *end = NULL;
    unsigned long long number = rd->n == 8 ? strtoull(f[0], &end, 10) : 0;
    if (number && end && !*end && strcmp(f[2], "ok") == 0 && strlen(f[5]) == 64 &&
        strlen(f[7]) == 64) {
        S_old_row *row = xcalloc(1, sizeof *row);
        row->number = (size_t)number;
        row->output = xstrdup(S_manifest_text(f[1]));
        row->pages = strtoull(f[3], NULL, 10);
        row->bytes = strtoull(f[4], NULL, 10);
        memcpy(row->sha, f[5], 65);
        memcpy(row->input, f[7], 65);
        row->next = g_hash_table_lookup(rd->rows, &row->number);
        g_hash_table_steal(rd->rows, &row->number);
        g_hash_table_insert(rd->rows, &row->number, row);
    }
    for (size_t k = 0; k < 8 && k < rd->n; k++)
        g_free(f[k]);
    memset(f, 0, sizeof rd->field);
    rd->n = 0;
}

static void S_old_load(GHashTable *rows, int out_fd, const char *name)
{
    /* O_NONBLOCK and a regular file only: a FIFO planted under a
       manifest's name must not hang the run (a link is not followed) */
    int fd = openat(out_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    struct csv_parser p;
    csv_init(&p, CSV_APPEND_NULL);
    S_old_reader rd = {rows, {NULL}, 0};
    char buf[65536];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0)
        csv_parse(&p, buf, (size_t)got, S_old_field, S_old_row_end, &rd);
    csv_fini(&p, S_old_field, S_old_row_end, &rd);
    csv_free(&p);
    for (size_t k = 0; k < 8; k++)
        g_free(rd.field[k]);
    close(fd);
}

/* Every manifest of this run's name in DIR: read for --resume (rows may
 * be NULL), or removed. */
static void S_old_manifests(int out_fd, const S_manifest_names *n, const char *keep,
                            GHashTable *rows)
{
    if (rows) {
        S_old_load(rows, out_fd, n->final);
        S_old_load(rows, out_fd, n->partial);
    }
    int fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d); /* the duplicate shares out_fd's offset, left at the end by an earlier read */
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (S_is_part_file(n, e->d_name) && (!keep || strcmp(e->d_name, keep) != 0)) {
            if (rows)
                S_old_load(rows, out_fd, e->d_name);
            else
                unlinkat(out_fd, e->d_name, 0);
        }
    closedir(d);
}

/* The digest of sum as 64 lowercase hex digits (the manifest's), by GNU
 * Nettle (the CPU's SHA instructions: 7 times GLib's GChecksum). */
static void S_sha256_hex(struct sha256_ctx *sum, char hex[65])
{
    uint8_t md[SHA256_DIGEST_SIZE];
    sha256_digest(sum, sizeof md, md);
    pd_output_hex(md, hex);
}

/* SHA-256 of what a job asks for: its message to the worker (number,
 * template, language, output, data file and clinic profile names, values),
 * the paper, the strictness and the data file's and profile's size and
 * time. */
static void S_input_sha(const S_options *opt, const strbuf *msg, const char *data_file,
                        const char *clinic, char hex[65])
{
    struct sha256_ctx sum;
    sha256_init(&sum);
    sha256_update(&sum, msg->len, (const uint8_t *)msg->data);
    char extra[128];
    struct stat st;
    if (data_file && *data_file && stat(data_file, &st) == 0)
        snprintf(extra, sizeof extra, "|%s|%d|%lld|%lld.%09ld%s", opt->paper->name, opt->strict,
                 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                 opt->plain ? "|plain" : "");
    else
        snprintf(extra, sizeof extra, "|%s|%d%s", opt->paper->name, opt->strict,
                 opt->plain ? "|plain" : "");
    sha256_update(&sum, strlen(extra), (const uint8_t *)extra);
    if (clinic && *clinic && stat(clinic, &st) == 0) {
        snprintf(extra, sizeof extra, "|clinic|%lld|%lld.%09ld", (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        sha256_update(&sum, strlen(extra), (const uint8_t *)extra);
    }
    S_sha256_hex(&sum, hex);
}

/* --resume: true (with r filled in) when the job's output exists and is
 * exactly the file an earlier manifest row of the same job lists. */
static bool S_resumable(S_master *m, S_result *r)
{
    S_old_row *row = g_hash_table_lookup(m->old, &r->number);
    for (; row; row = row->next)
        if (strcmp(row->input, r->input) == 0 && strcmp(row->output, r->output) == 0)
            break;
    if (!row)
        return false;
    pd_error err = {0};
    const char *base;
    int dir = pd_output_open_parent(m->opt->out_fd, r->output, false, r->output, &base, &err);
    if (dir < 0)
        return false;
    /* O_NONBLOCK: an output replaced by a FIFO is not waited on (it is not
       a regular file, so it is not kept) */
    int fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    close(dir);
    struct stat st;
    if (fd < 0)
        return false;
    bool same = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == row->bytes) {
        struct sha256_ctx sum;
        sha256_init(&sum);
        char buf[65536], hex[65];
        ssize_t got;
        while ((got = read(fd, buf, sizeof buf)) > 0)
            sha256_update(&sum, (size_t)got, (const uint8_t *)buf);
        S_sha256_hex(&sum, hex);
        same = got == 0 && strcmp(hex, row->sha) == 0;
    }
    close(fd);
    if (same) {
        r->kept = true;
        r->pages = row->pages;
        r->bytes = row->bytes;
        memcpy(r->sha, row->sha, sizeof r->sha);
    }
    return same;
}

/* Why a job must not run, or NULL. buf holds a formatted reason. */
static const char *S_refusal(S_master *m, const pd_jobspec *job, char *buf, size_t size)
{
    /* every valid name counts, whatever else is wrong with the job, as it
       does in the shards that skip this job */
    const char *bad = job->output ? S_bad_output(job->output) : "no output name";
    char *key = bad ? NULL : S_name_key(job->output);
    size_t first = bad ? 0 : S_names_claim(&m->names, key, job->number);
    bool reserved = key && !strchr(key, '/') && S_reserved_name(key);
    free(key);
    if (job->error)
        return job->error;
    if (bad)
        return bad;
    if (reserved)
        return "the output name is that of a manifest of the output folder";
    if (first) {
        snprintf(buf, size,
                 "the same output as job %zu (names equal up to Unicode normalisation or "
                 "case): it would overwrite it",
                 first);
        return buf;
    }
    if (m->job_file_known) {
        pd_error err = {0};
        const char *base;
        int dir = pd_output_open_parent(m->opt->out_fd, job->output, false, "", &base, &err);
        struct stat st;
        bool same = dir >= 0 && fstatat(dir, base, &st, 0) == 0 && st.st_dev == m->job_dev &&
                    st.st_ino == m->job_ino;
        if (dir >= 0)
            close(dir);
        if (same)
            return "the output is the job file itself";
    }
    return NULL;
}

/* The table of earlier rows: keyed by a pointer to the job number. */
static guint S_number_hash(gconstpointer p)
{
    size_t n = *(const size_t *)p;
    return (guint)(n ^ (n >> 32));
}

static gboolean S_number_equal(gconstpointer a, gconstpointer b)
{
    return *(const size_t *)a == *(const size_t *)b;
}

static gint S_compare_numbers(gconstpointer a, gconstpointer b)
{
    size_t x = **(const size_t *const *)a, y = **(const size_t *const *)b;
    return x < y ? -1 : x > y;
}

/* What a document shares with the others of a run, which a worker lays out
 * and subsets once (renderer.h): template, language, print size, second
 * language, clinic profile. */
static char *S_affinity_key(const pd_jobspec *job, const char *clinic)
{
    strbuf key = STRBUF_INIT;
    strbuf_printf(&key, "%s|%s|%d|%s|%s", job->template_name ? job->template_name : "",
                  job->lang ? job->lang : "", job->large_print, job->also ? job->also : "", clinic);
    return strbuf_take(&key);
}

/* Reads the next job: refused, kept (--resume) or made ready for a worker
 * (m->ready). Returns false at the end of the job file (*fatal when it is
 * broken). */
static bool S_read_job(S_master *m, bool *fatal, pd_error *fatal_err)
{
    pd_jobspec job;
    int rc = pd_jobsrc_next(m->src, &job, fatal_err);
    if (rc <= 0) {
        *fatal = rc < 0;
        return false;
    }
    if (!S_in_shard(m->opt, job.number)) {
        /* its name still counts: every shard refuses the same jobs */
        if (job.output && !S_bad_output(job.output)) {
            char *key = S_name_key(job.output);
            S_names_claim(&m->names, key, job.number);
            free(key);
        }
        pd_jobspec_clear(&job);
        return true;
    }
    m->last_number = job.number;
    char why[256];
    const char *refused = S_refusal(m, &job, why, sizeof why);
    S_result *r = S_queue(m, &job);
    if (refused) {
        S_finish(m, r, false, refused);
        pd_jobspec_clear(&job);
        return true;
    }
    strbuf msg = STRBUF_INIT;
    S_fieldf(&msg, job.number);
    S_field(&msg, job.template_name);
    S_field(&msg, job.lang);
    S_field(&msg, job.output);
    S_field(&msg, job.data_file);
    /* an installed profile by name, or a file beside the job file */
    strbuf cl = STRBUF_INIT;
    if (job.clinic_name)
        strbuf_printf(&cl, "%s/clinics/%s.xml", m->env->templates_dir, job.clinic_name);
    else
        strbuf_printf(&cl, "%s", job.clinic ? job.clinic : "");
    char *clinic = strbuf_take(&cl);
    S_field(&msg, clinic);
    S_fieldf(&msg, job.values.n);
    for (size_t v = 0; v < job.values.n; v++) {
        S_field(&msg, job.values.names[v]);
        S_field(&msg, job.values.values[v]);
    }
    if (job.large_print) /* after the values: a field of its own */
        S_field(&msg, "large_print");
    if (job.form)
        S_field(&msg, "form");
    if (job.plain)
        S_field(&msg, "plain");
    if (job.clinic && !job.clinic_name) /* the real path checked: open it following no link */
        S_field(&msg, "clinic_nofollow");
    if (job.also) {
        strbuf a = STRBUF_INIT;
        strbuf_printf(&a, "also=%s", job.also);
        S_field(&msg, a.data);
        strbuf_free(&a);
    }
    S_input_sha(m->opt, &msg, job.data_file, clinic, r->input);
    char *key = S_affinity_key(&job, clinic);
    free(clinic);
    pd_jobspec_clear(&job);
    if (msg.len > MAX_MESSAGE) {
        S_finish(m, r, false, "the job's values are larger than 64 MB");
    } else if (m->old && S_resumable(m, r)) {
        S_finish(m, r, true, NULL);
    } else {
        m->ready[m->n_ready++] = (struct S_ready){r->number, msg, key, 0};
        return true;
    }
    free(key);
    strbuf_free(&msg);
    return true;
}

/* The ready job for the worker of slot: of those of a template and
 * language it has laid out, the first one of a combination the fewest
 * other workers have (its own before those every worker inherited from the
 * master's warm-up); else the first one no worker has laid out; else the
 * oldest, also once LOOK_AHEAD later jobs went before it. So each worker
 * lays out about its share of the combinations, in parallel with the
 * others, and a worker never waits while a job does. */
static size_t S_pick(S_master *m, int slot)
{
    uint64_t bit = (uint64_t)1 << slot;
    size_t best = m->n_ready, unknown = m->n_ready;
    int best_sharing = INT_MAX;
    if (m->ready[0].passed < LOOK_AHEAD)
        for (size_t k = 0; k < m->n_ready; k++) {
            uint64_t *have = g_hash_table_lookup(m->laid_out, m->ready[k].key);
            if (have && (*have & bit) && __builtin_popcountll(*have) < best_sharing) {
                best = k;
                best_sharing = __builtin_popcountll(*have);
            }
            if (!have && unknown == m->n_ready)
                unknown = k;
        }
    return best < m->n_ready ? best : unknown < m->n_ready ? unknown : 0;
}

/* Sends ready job k to the worker of slot. */
static void S_send(S_master *m, int slot, size_t k)
{
    struct S_ready job = m->ready[k];
    memmove(&m->ready[k], &m->ready[k + 1], (m->n_ready - k - 1) * sizeof *m->ready);
    m->n_ready--;
    if (k > 0)
        m->ready[0].passed++;
    uint64_t *have = g_hash_table_lookup(m->laid_out, job.key);
    if (!have) {
        have = xcalloc(1, sizeof *have);
        g_hash_table_insert(m->laid_out, job.key, have);
        job.key = NULL;
    }
    *have |= (uint64_t)1 << slot;
    free(job.key);
    char e[160];
    if (!pd_workpool_async_submit(m->pool, slot, job.number, job.msg.data, job.msg.len, e,
                                  sizeof e))
        S_finish(m, S_find(m, job.number), false, e);
    strbuf_free(&job.msg);
}

/* Reads jobs ahead and hands them to workers until none can take more.
 * Returns false when every job has been read and handed out (*fatal when
 * the job file is broken). */
static bool S_hand_out(S_master *m, bool *fatal, pd_error *fatal_err)
{
    while (!S_stop && !m->stopped) {
        int slot = pd_workpool_async_next_slot(m->pool);
        if (slot < 0)
            return true;
        while (!m->source_done && m->n_ready < LOOK_AHEAD && m->n_pending < MAX_PENDING &&
               !S_stop && !m->stopped) {
            m->source_done = !S_read_job(m, fatal, fatal_err);
            if (m->source_done) /* the last jobs: each to the first worker free */
                pd_workpool_async_limit(m->pool, JOBS_AT_THE_END);
        }
        if (!m->n_ready)
            return !m->source_done;
        S_send(m, slot, S_pick(m, slot));
    }
    return true;
}

/* The run stopped: the jobs read ahead and not sent are not run. */
static void S_drop_ready(S_master *m)
{
    for (size_t k = 0; k < m->n_ready; k++) {
        S_result *r = S_find(m, m->ready[k].number);
        if (r)
            r->done = r->skipped = true;
        strbuf_free(&m->ready[k].msg);
        free(m->ready[k].key);
    }
    m->n_ready = 0;
}

static void S_usage(FILE *f)
{
    fputs("Usage: pildoc batch JOBS [--out DIR] [--jobs N] [--shard K/N] [--resume]\n"
          "                   [--paper a4|letter] [--strict] [--plain] [--quiet]\n"
          "\n"
          "Renders every job of JOBS (XML or CSV, read as a stream) into DIR (default out/),\n"
          "with N worker processes (default: the number of cores, at most 64). Each output\n"
          "is written atomically; a bad job fails alone. DIR/manifest.csv lists every job:\n"
          "number, output, status, pages, bytes, SHA-256, error, SHA-256 of the job's input;\n"
          "a run that stops early leaves DIR/manifest.csv.partial instead. --resume keeps\n"
          "every output that an earlier manifest lists for the same job and renders the\n"
          "rest. --shard K/N renders only the jobs whose number falls to shard K of N\n"
          "(manifest-K-of-N.csv). --strict refuses any untranslated message (consent\n"
          "sheets always do). --plain writes the smallest PDFs, untagged, not PDF/A-1b\n"
          "(one job's: a plain column or attribute, yes or no). Exit 0 when every job\n"
          "was written, 1 otherwise, 2 on a usage error.\n",
          f);
}

/* A positive decimal number and nothing before it (no sign, no space). */
static const char *S_parse_count(const char *s, size_t *v)
{
    if (*s < '0' || *s > '9')
        return NULL;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || n < 1 || n > 1000000)
        return NULL;
    *v = (size_t)n;
    return end;
}

/* A run id in the temporary names: this run's leftovers are known. */
static void S_run_id(S_options *opt)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[6] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t x = (uint64_t)getpid() * 2654435761u ^ (uint64_t)time(NULL);
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)(x >> (8 * i));
    }
    char id[7];
    for (size_t i = 0; i < 6; i++)
        id[i] = letters[r[i] % (sizeof letters - 1)];
    id[6] = '\0';
    snprintf(opt->tmp_prefix, sizeof opt->tmp_prefix, ".pd-%s-", id);
}

/* Creates, opens and locks the output folder, reads (--resume) or removes
 * the manifests of earlier runs and starts this run's as a hidden .part
 * file (*part_name). false, having said why, when the run cannot start. */
static bool S_open_folder(S_master *m, S_options *opt, const S_manifest_names *mn, char **part_name)
{
    if (mkdir(opt->out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create the output folder: %s\n", opt->out_dir, strerror(errno));
        return false;
    }
    opt->out_fd = open(opt->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (opt->out_fd < 0) {
        fprintf(stderr, "%s: cannot open the output folder: %s\n", opt->out_dir, strerror(errno));
        return false;
    }
    if (!S_lock(m, opt->out_fd, opt->out_dir))
        return false;
    struct stat st;
    /* a symbolic link there is replaced, never followed */
    if (fstatat(opt->out_fd, mn->final, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
        !S_ISLNK(st.st_mode)) {
        fprintf(stderr, "%s/%s: is not a regular file: the manifest cannot be written there\n",
                opt->out_dir, mn->final);
        return false;
    }
    if (stat(opt->jobs_file, &st) == 0) {
        m->job_file_known = true;
        m->job_dev = st.st_dev;
        m->job_ino = st.st_ino;
    }
    /* the manifests of an earlier run: read for --resume, else removed,
       so that none describes files this run replaces */
    if (opt->resume) {
        m->old = g_hash_table_new_full(S_number_hash, S_number_equal, NULL, S_old_free);
        S_old_manifests(opt->out_fd, mn, NULL, m->old);
        /* kept as S.csv.partial until this run has finished: it no longer
           looks finished, and a killed resume still has it */
        if (renameat2(opt->out_fd, mn->final, opt->out_fd, mn->partial, RENAME_NOREPLACE) != 0) {
            /* a file system without RENAME_NOREPLACE */
            if (errno == EINVAL && faccessat(opt->out_fd, mn->partial, F_OK, AT_SYMLINK_NOFOLLOW))
                renameat(opt->out_fd, mn->final, opt->out_fd, mn->partial);
            else if (errno == EEXIST || errno == EINVAL)
                unlinkat(opt->out_fd, mn->final, 0);
        }
    } else {
        unlinkat(opt->out_fd, mn->final, 0);
        unlinkat(opt->out_fd, mn->partial, 0);
        S_old_manifests(opt->out_fd, mn, NULL, NULL);
    }
    int mfd = pd_output_create_unique(opt->out_fd, mn->prefix, ".part", 0666, part_name);
    m->manifest = mfd >= 0 ? fdopen(mfd, "w") : NULL;
    if (!m->manifest) {
        fprintf(stderr, "%s: cannot write the manifest: %s\n", opt->out_dir, strerror(errno));
        if (mfd >= 0)
            close(mfd);
        return false;
    }
    fputs(MANIFEST_HEADER, m->manifest);
    return true;
}

/* How many threads this process has; 0 when it cannot tell. */
static long S_threads(void)
{
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* after the command name, which may hold anything */
    /* then: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
       cmajflt utime stime cutime cstime priority nice num_threads */
    for (int field = 0; p && field < 18; field++)
        p = strchr(p + 1, ' ');
    return p ? strtol(p + 1, NULL, 10) : 0;
}

#define WARM_SCAN 256 /* jobs of the file S_warm looks at */
#define WARM_MAX 8    /* documents it renders at most */

/* --resume: an earlier run listed this job's output as written, so it
 * will most likely be kept rather than rendered (S_resumable decides, with
 * the file's SHA-256: a wrong guess only leaves its combination to the
 * workers). */
static bool S_likely_kept(S_master *m, const pd_jobspec *job)
{
    if (!m->old || !job->output)
        return false;
    for (S_old_row *row = g_hash_table_lookup(m->old, &job->number); row; row = row->next)
        if (strcmp(row->output, job->output) == 0)
            return true;
    return false;
}

/* The first document of each template and language costs a worker 5-10
 * times a later one (loading, laying out and subsetting what every later
 * one reuses); a language in a new script costs the most, and its fonts
 * (the Chinese faces) and a template's libraries (librsvg for an SVG) are
 * the largest part of a worker's memory. Before forking any worker the
 * master renders the document without values (the base of the PDF
 * writer's cache, render.h) of each of the first jobs that brings a
 * template or a set of font families (Latin, Chinese: lang + also) not met
 * yet; every worker inherits that renderer, its pages shared until written
 * (the master leaves its own untouched until the workers end, S_run). The other combinations
 * are laid out by the workers, in parallel, each its share (S_pick): make
 * bench's 300 jobs warm 2 of their 6 combinations here, 70 ms before the
 * first fork instead of 170 ms, and a worker's peak memory stays 31-35 MB
 * (45-50 MB when each loads the Chinese faces itself).
 * Outputs do not change: a renderer's caches never change its documents
 * (tests/batch.sh and tests/shards.sh compare --jobs 1 and 2). Only the
 * installed data is read (templates, catalogs, fonts, installed clinic
 * profiles): no job's values nor a file of its own. With --resume, jobs
 * an earlier run wrote are passed over: a resumed run that keeps every job
 * warms nothing. Forking is safe only from a process with one thread:
 * otherwise no renderer is kept. */
/* The warm-up render of a job's document, as a worker's job without values
 * would ask for it. */
static pd_job S_warm_job(const S_master *m, const pd_jobspec *job)
{
    return (pd_job){.template_name = job->template_name,
                    .lang = job->lang,
                    .paper = m->opt->paper,
                    .strict = 0,
                    .values = NULL,
                    .format = PD_FORMAT_PDF,
                    .page = 1,
                    .dpi = 100,
                    .large_print = job->large_print,
                    .plain = m->opt->plain};
}

/* The layout plan of a warm-up document (layoutplan.h): its thread starts
 * shaping at once, while the document before it is still being rendered. */
static pd_layoutplan *S_warm_plan(const S_master *m, pd_renderer *r, const pd_jobspec *job)
{
    if (!pd_renderer_load_fonts(r))
        return NULL;
    pd_job warm = S_warm_job(m, job);
    char *what = pd_job_describe(&warm, job->also);
    pd_layoutplan *plan = pd_layoutplan_start(m->env->font_cache, what, pd_renderer_fonts(r), true);
    free(what);
    return plan;
}

static pd_renderer *S_warm(S_master *m)
{
    struct stat st;
    if (m->opt->workers < 2 || stat(m->opt->jobs_file, &st) != 0 || !S_ISREG(st.st_mode))
        return NULL;
    pd_error err = {0};
    pd_renderer *r = pd_renderer_new(m->env, &err);
    pd_jobsrc *src = r ? pd_jobsrc_open(m->opt->jobs_file, m->schema, &err) : NULL;
    /* the font sets and the templates met: "F:families" and "T:name" */
    char *seen[2 * WARM_MAX];
    size_t n_seen = 0, n_warm = 0;
    pd_jobspec warm[WARM_MAX], job;
    for (size_t scanned = 0;
         src && n_warm < WARM_MAX && scanned < WARM_SCAN && pd_jobsrc_next(src, &job, &err) == 1;
         scanned++) {
        /* no clinic profile: the base a worker lays out for a job with
           values (renderer.c, S_set_base) has no clinic logo, the document
           without values has: they would differ */
        bool fresh = !job.error && job.template_name && job.lang && !job.clinic &&
                     !job.clinic_name && S_in_shard(m->opt, job.number) && !S_likely_kept(m, &job);
        strbuf fonts = STRBUF_INIT, tpl = STRBUF_INIT;
        if (fresh) {
            char *tag = lang_bcp47(job.lang), *also = job.also ? lang_bcp47(job.also) : NULL;
            strbuf_printf(&fonts, "F:%s|%s", pd_fonts_families(tag),
                          also ? pd_fonts_families(also) : "");
            strbuf_printf(&tpl, "T:%s", job.template_name);
            free(tag);
            free(also);
        }
        bool new_fonts = fresh, new_template = fresh;
        for (size_t i = 0; fresh && i < n_seen; i++) {
            new_fonts &= strcmp(seen[i], fonts.data) != 0;
            new_template &= strcmp(seen[i], tpl.data) != 0;
        }
        if (new_fonts)
            seen[n_seen++] = strbuf_take(&fonts);
        if (new_template)
            seen[n_seen++] = strbuf_take(&tpl);
        strbuf_free(&fonts);
        strbuf_free(&tpl);
        if (new_fonts || new_template)
            warm[n_warm++] = job; /* kept: cleared below */
        else
            pd_jobspec_clear(&job);
    }
    for (size_t i = 0; i < n_seen; i++)
        free(seen[i]);
    pd_jobsrc_close(src);
    /* each document with its layout plan, the next one's thread started
       before it: at most two such threads beside this one */
    pd_layoutplan *plan = n_warm ? S_warm_plan(m, r, &warm[0]) : NULL;
    for (size_t i = 0; i < n_warm; i++) {
        pd_layoutplan *next = i + 1 < n_warm ? S_warm_plan(m, r, &warm[i + 1]) : NULL;
        pd_job job_i = S_warm_job(m, &warm[i]);
        pd_job_result res = {0};
        pd_error ignored = {0}; /* the job itself will say what is wrong */
        pd_renderer_set_layoutplan(r, plan);
        if (warm[i].also)
            pd_renderer_render_also(r, &job_i, warm[i].also, &res, &ignored);
        else
            pd_renderer_render(r, &job_i, &res, &ignored);
        pd_renderer_set_layoutplan(r, NULL);
        pd_layoutplan_free(plan); /* joins its thread */
        plan = next;
        pd_job_result_free(&res);
        /* every worker has this one: S_pick sends its jobs anywhere */
        uint64_t *all = xmalloc(sizeof *all);
        *all = ~(uint64_t)0;
        g_hash_table_replace(m->laid_out, S_affinity_key(&warm[i], ""), all);
        pd_jobspec_clear(&warm[i]);
    }
    /* every plan's thread joined: one thread again before forking */
    if (r && S_threads() != 1) {
        pd_renderer_free(r);
        r = NULL;
        g_hash_table_remove_all(m->laid_out);
    }
    return r;
}

/* The run: hands jobs out to the workers and lists their reports in the
 * manifest until the job file ends or the run stops (a signal, a broken
 * job file, workers that cannot be kept running); then ends the workers.
 * Returns the largest memory a worker used, kB. */
static long S_run(S_master *m, bool *source_done, bool *fatal, pd_error *fatal_err)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = S_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* a dropped SSH session: stop as cleanly */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit fails the write instead */

    pd_workpool_async_config pc = {m->opt->workers, JOBS_PER_WORKER, MAX_MESSAGE,   4,
                                   S_worker_child,  S_collect,       S_worker_lost, m};
    m->started = S_now();
    m->laid_out = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    m->warm = S_warm(m);
    m->pool = pd_workpool_async_new(&pc);
    for (;;) {
        if (!*source_done)
            *source_done = !S_hand_out(m, fatal, fatal_err);
        S_flush(m);
        bool busy = pd_workpool_async_pending(m->pool) > 0;
        if (!busy && (*source_done || S_stop || m->stopped))
            break;
        if (!busy && pd_workpool_async_gave_up(m->pool)) {
            m->stopped = "no worker process could be started or kept running";
            break;
        }
        if (!busy) /* only after a worker was lost: hand out again */
            continue;
        if (!pd_workpool_async_wait(m->pool, m->progress ? 200 : -1))
            break;
        S_flush(m);
        if (m->progress)
            S_progress(m, false);
    }
    /* end of input for the workers: they finish and exit */
    long peak = pd_workpool_async_close(m->pool, S_worker_ended);
    m->pool = NULL;
    /* the warmed renderer stays untouched while the workers run: freeing
       it once they were forked took the master 7-11 ms of CPU, most of it
       copying the 1,460 pages it shares with them (copy on write) that
       free() writes to, while they start; a worker that replaces one that
       died inherits it too */
    pd_renderer_end_of_process(m->warm);
    m->warm = NULL;
    S_drop_ready(m);
    S_flush(m);
    S_remove_lost_temporaries(m);
    if (m->progress)
        S_progress(m, true);
    return peak;
}

/* Lists the rows an earlier run left for jobs this one did not reach (a
 * resumed run that stopped early), flushes the manifest to disk and
 * renames it: S.csv when the run is complete, S.csv.partial otherwise.
 * Returns the name it got (m->manifest_errno set when it could not be
 * written). */
static const char *S_close_manifest(S_master *m, const S_manifest_names *mn, const char *part_name,
                                    bool complete)
{
    /* the manifest: complete -> S.csv; a run that stopped early -> S.csv.partial
       (with the rows an earlier run left for the jobs not reached) */
    const char *manifest_as = complete ? mn->final : mn->partial;
    if (!complete && m->old && !m->manifest_errno) {
        GPtrArray *later = g_ptr_array_new();
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, m->old);
        while (g_hash_table_iter_next(&it, &key, &value))
            if (*(const size_t *)key > m->last_number)
                g_ptr_array_add(later, key);
        g_ptr_array_sort(later, S_compare_numbers);
        for (guint i = 0; i < later->len; i++) {
            size_t number = *(const size_t *)later->pdata[i];
            for (S_old_row *row = g_hash_table_lookup(m->old, later->pdata[i]); row;
                 row = row->next)
                S_manifest_row(m->manifest, number, row->output, true, row->pages, row->bytes,
                               row->sha, "", row->input);
        }
        g_ptr_array_free(later, TRUE);
    }
    if (!m->manifest_errno &&
        (fflush(m->manifest) != 0 || ferror(m->manifest) || fsync(fileno(m->manifest)) != 0))
        m->manifest_errno = errno ? errno : EIO;
    if (fclose(m->manifest) != 0 && !m->manifest_errno)
        m->manifest_errno = errno ? errno : EIO;
    if (!m->manifest_errno && renameat(m->opt->out_fd, part_name, m->opt->out_fd, manifest_as) != 0)
        m->manifest_errno = errno;
    if (m->manifest_errno) {
        unlinkat(m->opt->out_fd, part_name, 0);
    } else {
        /* what earlier runs left is now in this manifest */
        S_old_manifests(m->opt->out_fd, mn, NULL, NULL);
        if (complete)
            unlinkat(m->opt->out_fd, mn->partial, 0);
        fsync(m->opt->out_fd);
    }
    return manifest_as;
}

/* The lines that end a run: a broken job file, an unwritable manifest,
 * the counts and rates, and how to finish a run that stopped early. */
static void S_summary(const S_master *m, const S_manifest_names *mn, const char *manifest_as,
                      bool complete, bool fatal, const pd_error *fatal_err, long peak_kb)
{
    double secs = S_now() - m->started;
    if (fatal) {
        char *shown = S_shown(fatal_err->msg);
        fprintf(stderr, "%s%s\n", fatal_err->located ? "" : "pildoc: ", shown);
        free(shown);
    }
    if (m->manifest_errno)
        fprintf(stderr, "%s/%s: cannot write the manifest: %s; no manifest was written\n",
                m->opt->out_dir, mn->final, strerror(m->manifest_errno));
    char kept[64] = "";
    if (m->opt->resume)
        snprintf(kept, sizeof kept, ", %zu kept from an earlier run", m->kept);
    fprintf(stderr,
            "pildoc batch: %zu jobs: %zu written%s, %zu failed%s; %.2f s, %.1f documents/s, "
            "%.1f ms per document, peak worker memory %.1f MB; manifest %s/%s\n",
            m->done, m->written, kept, m->failed,
            S_stop       ? " (interrupted)"
            : fatal      ? " (job file broken)"
            : m->stopped ? " (stopped)"
                         : "",
            secs, secs > 0 ? (double)m->written / secs : 0.0,
            m->written ? secs * 1000.0 / (double)m->written : 0.0, (double)peak_kb / 1024.0,
            m->opt->out_dir, m->manifest_errno ? "(none)" : manifest_as);
    if (!complete && !m->manifest_errno)
        fprintf(stderr,
                "pildoc batch: the run did not finish%s%s: %s/%s lists what was done; run the "
                "same command with --resume to finish it\n",
                m->stopped ? ": " : "", m->stopped ? m->stopped : "", m->opt->out_dir, mn->partial);
}

int pd_batch_main(int argc, char **argv, const pd_env *env)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},   {"jobs", required_argument, NULL, 'j'},
        {"shard", required_argument, NULL, 'k'}, {"strict", no_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},       {"paper", required_argument, NULL, 'p'},
        {"resume", no_argument, NULL, 'r'},      {"plain", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    S_options opt = {.out_dir = "out", .strict = -1, .paper = pd_paper_find("a4"), .out_fd = -1};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* the default follows the machine, within the worker table */
    opt.workers = cores < 1 ? 1 : cores > MAX_WORKERS ? MAX_WORKERS : (int)cores;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:qh", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o': opt.out_dir = optarg; break;
        case 'j': {
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (*end || errno || optarg[0] < '0' || optarg[0] > '9' || n < 1 || n > MAX_WORKERS) {
                fprintf(stderr, "pildoc: --jobs takes a number from 1 to %d\n", MAX_WORKERS);
                return PD_EXIT_USAGE;
            }
            opt.workers = (int)n;
            break;
        }
        case 'k': {
            size_t k = 0, n = 0;
            const char *p = S_parse_count(optarg, &k);
            p = p && *p == '/' ? S_parse_count(p + 1, &n) : NULL;
            if (!p || *p || k > n) {
                fprintf(stderr, "pildoc: --shard takes K/N with 1 <= K <= N, e.g. 2/8\n");
                return PD_EXIT_USAGE;
            }
            opt.shard_k = k;
            opt.shard_n = n;
            break;
        }
        case 'p':
            opt.paper = pd_paper_find(optarg);
            if (!opt.paper) {
                fprintf(stderr, "pildoc: unknown paper size '%s' (a4 or letter)\n", optarg);
                return PD_EXIT_USAGE;
            }
            break;
        case 'S': opt.strict = 1; break;
        case 'q': opt.quiet = true; break;
        case 'r': opt.resume = true; break;
        case 'N': opt.plain = true; break;
        case 'h': S_usage(stdout); return PD_EXIT_OK;
        default: fputs("Try 'pildoc batch --help'.\n", stderr); return PD_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs("pildoc: batch needs one JOBS file\nTry 'pildoc batch --help'.\n", stderr);
        return PD_EXIT_USAGE;
    }
    opt.jobs_file = argv[optind];
    S_run_id(&opt);
    pd_error err = {0};
    pd_schema *schema = pd_schema_load(env->variables, &err);
    if (!schema) {
        fprintf(stderr, "%s\n", err.msg);
        return PD_EXIT_INPUT;
    }
    pd_jobsrc *src = pd_jobsrc_open(opt.jobs_file, schema, &err);
    if (!src) {
        char *shown = S_shown(err.msg);
        fprintf(stderr, "%s%s\n", err.located ? "" : "pildoc: ", shown);
        free(shown);
        pd_schema_free(schema);
        return PD_EXIT_INPUT;
    }
    S_master m;
    memset(&m, 0, sizeof m);
    m.opt = &opt;
    m.env = env;
    m.src = src;
    m.schema = schema;
    m.lock_fd = -1;
    m.dir_lock_fd = -1;
    S_manifest_names mn;
    S_manifest_names_init(&mn, &opt);
    char *part_name = NULL;
    int status = PD_EXIT_INPUT;
    if (!S_open_folder(&m, &opt, &mn, &part_name))
        goto out;
    bool progress = !opt.quiet && isatty(STDERR_FILENO);
    m.progress = progress;
    if (progress)
        m.total = S_count_jobs(&opt, schema);

    bool source_done = false, fatal = false;
    pd_error fatal_err = {0};
    long peak = S_run(&m, &source_done, &fatal, &fatal_err);
    bool worker_failed = m.worker_lost || m.worker_failed;
    bool complete = source_done && !fatal && !S_stop && !m.stopped;
    const char *manifest_as = S_close_manifest(&m, &mn, part_name, complete);
    S_summary(&m, &mn, manifest_as, complete, fatal, &fatal_err, peak);
    if (complete && !m.failed && !worker_failed && !m.manifest_errno)
        status = PD_EXIT_OK;
out:
    if (m.pool)
        pd_workpool_async_close(m.pool, NULL);
    if (m.old)
        g_hash_table_destroy(m.old);
    if (m.lost_folders)
        g_hash_table_destroy(m.lost_folders);
    if (m.laid_out)
        g_hash_table_destroy(m.laid_out);
    free(m.pending);
    free(m.names.slots);
    if (m.lock_fd >= 0)
        close(m.lock_fd);
    if (m.dir_lock_fd >= 0)
        close(m.dir_lock_fd); /* the folder's lock ends with it */
    if (opt.out_fd >= 0)
        close(opt.out_fd);
    free(part_name);
    S_manifest_names_free(&mn);
    pd_jobsrc_close(src);
    pd_schema_free(schema);
    return status;
}
