#include "batch.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "jobsrc.h"
#include "output.h"
#include "paths.h"
#include "renderer.h"
#include "strbuf.h"
#include "xmlsafe.h"

#define MAX_WORKERS 64
#define MAX_PENDING 4096 /* results waiting for an earlier job to finish */
/* Jobs handed to a worker before it has finished the previous one: the next
 * job already waits in its pipe when it has written a file, so the worker
 * never idles for a round trip through the master, and it renders while
 * its writer thread flushes the previous file (1,200 jobs of
 * tests/make-jobs.py, --jobs 2 on 2 cores: 5.9 s with one job at a time,
 * 5.75 s with two, 4.9-5.0 s with two and the writer thread). */
#define JOBS_PER_WORKER 2

/* --- messages between the master and its workers ------------------------
 * A message is a 32-bit length, then NUL-terminated strings. */

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

static bool S_read_all(int fd, void *data, size_t len)
{
    char *p = data;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool S_send(int fd, const strbuf *m)
{
    uint32_t len = (uint32_t)m->len;
    return pd_output_write_fd(fd, &len, sizeof len) && pd_output_write_fd(fd, m->data, m->len);
}

/* Receives a message and splits it into fields (pointers into m). */
static bool S_recv(int fd, strbuf *m, const char **fields, size_t max, size_t *n)
{
    uint32_t len;
    if (!S_read_all(fd, &len, sizeof len) || len > 64u * 1024 * 1024)
        return false;
    strbuf_clear(m);
    char *buf = xmalloc(len + 1);
    bool ok = S_read_all(fd, buf, len);
    if (ok)
        strbuf_append_len(m, buf, len);
    free(buf);
    if (!ok)
        return false;
    *n = 0;
    for (size_t off = 0; off < m->len && *n < max;) {
        fields[(*n)++] = m->data + off;
        off += strlen(m->data + off) + 1;
    }
    return true;
}

/* --- output names ------------------------------------------------------------ */

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
    const char *part = name;
    while (part) {
        const char *slash = strchr(part, '/');
        size_t len = slash ? (size_t)(slash - part) : strlen(part);
        if (len == 0 || (len == 2 && strncmp(part, "..", 2) == 0) || (len == 1 && part[0] == '.'))
            return "'..', '.' or an empty part in the output name (it must stay inside the "
                   "output folder)";
        if (part[0] == '.')
            return "an output name part starting with '.'";
        part = slash ? slash + 1 : NULL;
    }
    if (strlen(name) > 1000)
        return "an output name longer than 1000 bytes";
    return NULL;
}

/* Creates the folders of out_dir/name inside out_dir, refusing any that is
 * a symbolic link (which could lead outside). */
static bool S_make_parents(const char *out_dir, const char *name, pd_error *err)
{
    char *copy = xstrdup(name);
    bool ok = true;
    for (char *slash = strchr(copy, '/'); slash && ok; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        char *dir = paths_join(out_dir, copy);
        struct stat st;
        if (lstat(dir, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                ok = pd_error_set(err, NULL, 0, "output folder part '%s' is not a folder", copy);
        } else if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            ok = pd_error_set(err, NULL, 0, "cannot create folder '%s': %s", copy, strerror(errno));
        }
        free(dir);
        *slash = '/';
    }
    free(copy);
    return ok;
}

/* --- the worker ------------------------------------------------------------ */

typedef struct S_options {
    const char *jobs_file;
    const char *out_dir;
    int workers;
    size_t shard_k, shard_n; /* 1-based; 0 when not sharded */
    int strict;              /* -1 as the template says, 1 strict */
    bool quiet;
    const pd_paper *paper;
} S_options;

/* A finished job on its way to the master. The worker's main thread
 * renders and writes each document to a temporary file; its writer thread
 * flushes that file to disk, renames it into place and only then reports
 * the job, in order. fsync takes about an eighth of a 2-worker run on 2
 * cores (measured with the flushes removed), and the next document renders
 * meanwhile. */
typedef struct S_report {
    char *number, *sha, *error, *warning; /* owned */
    bool ok;
    size_t pages, bytes;
    pd_output_pending file; /* fd -1 when nothing to commit */
} S_report;

#define REPORT_QUEUE 2 /* reports waiting for the writer: bounds memory */

typedef struct S_writer {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    S_report *queue[REPORT_QUEUE];
    size_t head, count;
    bool closing; /* no more reports: the writer ends when the queue is empty */
    bool broken;  /* the master is gone: files are no longer committed */
    int out_fd;
} S_writer;

/* Commits r's file and reports r (freeing it); false when the master is
 * gone. w->broken is read here and written only under w->lock. */
static bool S_report_send(S_writer *w, S_report *r)
{
    bool sent = false;
    if (r->file.fd >= 0) {
        pd_error err = {0};
        if (w->broken) {
            pd_output_abort(&r->file);
        } else if (!pd_output_commit(&r->file, &err)) {
            r->ok = false;
            free(r->error);
            r->error = xstrdup(err.msg);
        }
    }
    if (!w->broken) {
        strbuf out = STRBUF_INIT;
        S_field(&out, r->number);
        S_field(&out, r->ok ? "ok" : "failed");
        S_fieldf(&out, r->ok ? r->pages : 0);
        S_fieldf(&out, r->ok ? r->bytes : 0);
        S_field(&out, r->ok ? r->sha : "");
        S_field(&out, r->ok ? "" : r->error);
        S_field(&out, r->warning);
        sent = S_send(w->out_fd, &out);
        strbuf_free(&out);
    }
    free(r->number);
    free(r->sha);
    free(r->error);
    free(r->warning);
    free(r);
    return sent;
}

static void *S_writer_main(void *arg)
{
    S_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->count && !w->closing)
            pthread_cond_wait(&w->changed, &w->lock);
        if (!w->count) {
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        S_report *r = w->queue[w->head];
        pthread_mutex_unlock(&w->lock);
        bool sent = S_report_send(w, r); /* outside the lock: fsync is slow */
        pthread_mutex_lock(&w->lock);
        if (!sent)
            w->broken = true;
        w->head = (w->head + 1) % REPORT_QUEUE;
        w->count--;
        pthread_cond_broadcast(&w->changed);
        pthread_mutex_unlock(&w->lock);
    }
}

/* Queues r (taking it); false when the master is gone. */
static bool S_writer_push(S_writer *w, S_report *r)
{
    pthread_mutex_lock(&w->lock);
    while (w->count == REPORT_QUEUE)
        pthread_cond_wait(&w->changed, &w->lock);
    w->queue[(w->head + w->count) % REPORT_QUEUE] = r;
    w->count++;
    bool broken = w->broken;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    return !broken;
}

static void S_worker(int in_fd, int out_fd, const pd_env *env, const S_options *opt)
{
    /* the master decides when to stop: a Ctrl-C reaches the whole process
       group, but a worker finishes the jobs it was given and ends at end
       of input */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    S_writer w = {.out_fd = out_fd};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.changed, NULL);
    pthread_t writer;
    bool threaded = pthread_create(&writer, NULL, S_writer_main, &w) == 0;
    pd_error init_err = {0};
    pd_renderer *r = pd_renderer_new(env, &init_err);
    strbuf in = STRBUF_INIT;
    const char *f[2048] = {NULL};
    size_t n;
    while (S_recv(in_fd, &in, f, 2048, &n)) {
        /* number, template, lang, output, data file, n values, name, value... */
        pd_error err = {0};
        pd_job_result res = {0};
        pd_values values;
        pd_values_init(&values);
        S_report *rep = xcalloc(1, sizeof *rep);
        rep->file.fd = -1;
        char *path = NULL;
        if (n < 6) {
            pd_error_set(&err, NULL, 0, "internal: a short job message");
            goto report;
        }
        if (!r) {
            err = init_err;
            goto report;
        }
        if (*f[4] && !pd_data_load(f[4], pd_renderer_schema(r), &values, &err))
            goto report;
        for (size_t i = 6; i + 1 < n; i += 2)
            if (!pd_values_set(&values, pd_renderer_schema(r), f[i], f[i + 1], "job", 0, &err))
                goto report;
        pd_job job = {f[1], f[2], opt->paper, opt->strict, &values, PD_FORMAT_PDF, 1, 100, 0};
        if (!pd_renderer_render(r, &job, &res, &err))
            goto report;
        if (!S_make_parents(opt->out_dir, f[3], &err))
            goto report;
        path = paths_join(opt->out_dir, f[3]);
        rep->ok = pd_output_begin(path, res.bytes.data ? res.bytes.data : "", res.bytes.len,
                                  &rep->file, &err);
    report:
        rep->number = xstrdup(n > 0 ? f[0] : "0");
        rep->pages = res.pages;
        rep->bytes = res.bytes.len;
        if (rep->ok) {
            gchar *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                                     (const guchar *)res.bytes.data, res.bytes.len);
            rep->sha = xstrdup(sum);
            g_free(sum);
        }
        rep->error = xstrdup(rep->ok ? "" : err.msg);
        rep->warning = xstrdup(res.warning ? res.warning : "");
        free(path);
        pd_job_result_free(&res);
        pd_values_free(&values);
        bool master_there;
        if (threaded) {
            master_there = S_writer_push(&w, rep);
        } else { /* no thread: commit and report here */
            master_there = S_report_send(&w, rep);
            w.broken = !master_there;
        }
        if (!master_there)
            break;
    }
    if (threaded) {
        pthread_mutex_lock(&w.lock);
        w.closing = true;
        pthread_cond_broadcast(&w.changed);
        pthread_mutex_unlock(&w.lock);
        pthread_join(writer, NULL);
    }
    pthread_cond_destroy(&w.changed);
    pthread_mutex_destroy(&w.lock);
    strbuf_free(&in);
    pd_renderer_free(r);
}

/* --- the master -------------------------------------------------------------- */

static volatile sig_atomic_t S_stop;

static void S_on_signal(int sig)
{
    S_stop = sig;
}

typedef struct S_worker_state {
    pid_t pid;
    int to, from;  /* pipes to and from the worker */
    int in_flight; /* jobs sent, results not yet received */
    long rss_kb;
} S_worker_state;

typedef struct S_result {
    size_t number;
    bool done, ok;
    int worker; /* the worker rendering it, or -1 */
    char *output, *id, *error;
    size_t pages, bytes;
    char sha[65];
} S_result;

typedef struct S_master {
    const S_options *opt;
    S_worker_state w[MAX_WORKERS];
    int n_workers;
    S_result *pending; /* in job order: the manifest is written in job order */
    size_t n_pending;
    FILE *manifest;
    size_t done, written, failed, total;
    double started;
    bool progress; /* a progress line is on the terminal */
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

/* Writes finished results at the head of the queue, in job order. */
static void S_flush(S_master *m)
{
    size_t k = 0;
    while (k < m->n_pending && m->pending[k].done) {
        S_result *r = &m->pending[k];
        char num[32], pages[32], bytes[32];
        snprintf(num, sizeof num, "%zu", r->number);
        snprintf(pages, sizeof pages, "%zu", r->pages);
        snprintf(bytes, sizeof bytes, "%zu", r->bytes);
        S_csv_cell(m->manifest, num, false);
        S_csv_cell(m->manifest, r->output ? r->output : "", false);
        S_csv_cell(m->manifest, r->ok ? "ok" : "failed", false);
        S_csv_cell(m->manifest, pages, false);
        S_csv_cell(m->manifest, bytes, false);
        S_csv_cell(m->manifest, r->sha, false);
        S_csv_cell(m->manifest, r->error ? r->error : "", true);
        free(r->output);
        free(r->id);
        free(r->error);
        k++;
    }
    if (k) {
        fflush(m->manifest);
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
    r->worker = -1;
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
        m->written++;
    } else {
        m->failed++;
        r->error = xstrdup(error && *error ? error : "failed");
        /* the job by position, id and output; never patient data */
        fprintf(stderr, "%spildoc: job %zu (%s%s%s): %s\n", m->progress ? "\r" : "", r->number,
                r->id ? r->id : "", r->id ? ", " : "", r->output ? r->output : "no output",
                r->error);
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
    double left = rate > 0 && m->total > m->done ? (double)(m->total - m->done) / rate : 0;
    fprintf(stderr, "\rpildoc batch: %zu/%zu done, %.0f documents/s, %.0f s left   ", m->done,
            m->total, rate, left);
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

static void S_collect(S_master *m, int i)
{
    strbuf msg = STRBUF_INIT;
    const char *f[8];
    size_t n;
    S_worker_state *w = &m->w[i];
    if (!S_recv(w->from, &msg, f, 8, &n) || n < 7) {
        /* the worker died: its job failed; no more jobs for it */
        for (size_t k = 0; k < m->n_pending; k++)
            if (!m->pending[k].done && m->pending[k].worker == i) {
                S_finish(m, &m->pending[k], false, "the worker rendering this job died");
            }
        close(w->from);
        close(w->to);
        w->from = w->to = -1;
        w->in_flight = 0;
        strbuf_free(&msg);
        return;
    }
    S_result *r = S_find(m, strtoull(f[0], NULL, 10));
    if (r) {
        bool ok = strcmp(f[1], "ok") == 0;
        r->pages = strtoull(f[2], NULL, 10);
        r->bytes = strtoull(f[3], NULL, 10);
        snprintf(r->sha, sizeof r->sha, "%s", f[4]);
        if (*f[6] && !m->opt->quiet)
            fprintf(stderr, "%spildoc: warning: job %zu: %s\n", m->progress ? "\r" : "", r->number,
                    f[6]);
        S_finish(m, r, ok, f[5]);
    }
    w->in_flight--;
    strbuf_free(&msg);
}

static bool S_in_shard(const S_options *opt, size_t number)
{
    return !opt->shard_n || (number - 1) % opt->shard_n == opt->shard_k - 1;
}

static size_t S_count_jobs(const S_options *opt, const pd_schema *schema)
{
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

static void S_usage(FILE *f)
{
    fputs("Usage: pildoc batch JOBS [--out DIR] [--jobs N] [--shard K/N] [--paper a4|letter]\n"
          "                   [--strict] [--quiet]\n"
          "\n"
          "Renders every job of JOBS (XML or CSV, read as a stream) into DIR (default out/),\n"
          "with N worker processes (default: the number of cores). Each output is written\n"
          "atomically; a bad job fails alone. DIR/manifest.csv lists every job: number,\n"
          "output, status, pages, bytes, SHA-256, error. --shard K/N renders only the jobs\n"
          "whose number falls to shard K of N (manifest-K-of-N.csv). --strict refuses any\n"
          "untranslated message (consent sheets always do). Exit 0 when every job was\n"
          "written, 1 otherwise, 2 on a usage error.\n",
          f);
}

int pd_batch_main(int argc, char **argv, const pd_env *env)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},   {"jobs", required_argument, NULL, 'j'},
        {"shard", required_argument, NULL, 'k'}, {"strict", no_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},       {"paper", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    S_options opt = {NULL, "out", 0, 0, 0, -1, false, pd_paper_find("a4")};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    opt.workers = cores > 0 ? (int)cores : 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:qh", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o': opt.out_dir = optarg; break;
        case 'j':
            opt.workers = (int)strtol(optarg, &end, 10);
            if (*end || opt.workers < 1 || opt.workers > MAX_WORKERS) {
                fprintf(stderr, "pildoc: --jobs takes a number from 1 to %d\n", MAX_WORKERS);
                return PD_EXIT_USAGE;
            }
            break;
        case 'k': {
            unsigned long k = 0, n = 0;
            char extra;
            if (sscanf(optarg, "%lu/%lu%c", &k, &n, &extra) != 2 || n < 1 || k < 1 || k > n) {
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
        case 'h': S_usage(stdout); return PD_EXIT_OK;
        default: fputs("Try 'pildoc batch --help'.\n", stderr); return PD_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs("pildoc: batch needs one JOBS file\nTry 'pildoc batch --help'.\n", stderr);
        return PD_EXIT_USAGE;
    }
    opt.jobs_file = argv[optind];

    pd_error err = {0};
    pd_schema *schema = pd_schema_load(env->variables, &err);
    if (!schema) {
        fprintf(stderr, "%s\n", err.msg);
        return PD_EXIT_INPUT;
    }
    pd_jobsrc *src = pd_jobsrc_open(opt.jobs_file, schema, &err);
    if (!src) {
        fprintf(stderr, "%s%s\n", err.located ? "" : "pildoc: ", err.msg);
        pd_schema_free(schema);
        return PD_EXIT_INPUT;
    }
    if (mkdir(opt.out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create the output folder: %s\n", opt.out_dir, strerror(errno));
        pd_jobsrc_close(src);
        pd_schema_free(schema);
        return PD_EXIT_INPUT;
    }
    S_master m;
    memset(&m, 0, sizeof m);
    m.opt = &opt;
    strbuf manifest_name = STRBUF_INIT, manifest_tmp = STRBUF_INIT;
    if (opt.shard_n)
        strbuf_printf(&manifest_name, "%s/manifest-%zu-of-%zu.csv", opt.out_dir, opt.shard_k,
                      opt.shard_n);
    else
        strbuf_printf(&manifest_name, "%s/manifest.csv", opt.out_dir);
    strbuf_printf(&manifest_tmp, "%s/.manifest.%ld.tmp", opt.out_dir, (long)getpid());
    m.manifest = fopen(manifest_tmp.data, "w");
    if (!m.manifest) {
        fprintf(stderr, "%s: cannot write: %s\n", manifest_tmp.data, strerror(errno));
        pd_jobsrc_close(src);
        pd_schema_free(schema);
        strbuf_free(&manifest_name);
        strbuf_free(&manifest_tmp);
        return PD_EXIT_INPUT;
    }
    fputs("job,output,status,pages,bytes,sha256,error\n", m.manifest);
    bool progress = !opt.quiet && isatty(STDERR_FILENO);
    m.progress = progress;
    if (progress)
        m.total = S_count_jobs(&opt, schema);

    /* workers: forked before any font is loaded; each loads its own */
    fflush(NULL);
    for (int i = 0; i < opt.workers; i++) {
        int to[2], from[2];
        if (pipe(to) != 0 || pipe(from) != 0) {
            fprintf(stderr, "pildoc: cannot create pipes: %s\n", strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(to[1]);
            close(from[0]);
            for (int k = 0; k < m.n_workers; k++) {
                close(m.w[k].to);
                close(m.w[k].from);
            }
            fclose(m.manifest);
            pd_jobsrc_close(src);
            pd_schema_free(schema);
            S_worker(to[0], from[1], env, &opt);
            _exit(0);
        }
        close(to[0]);
        close(from[1]);
        if (pid < 0) {
            close(to[1]);
            close(from[0]);
            fprintf(stderr, "pildoc: cannot start a worker: %s\n", strerror(errno));
            break;
        }
        m.w[m.n_workers++] = (S_worker_state){pid, to[1], from[0], false, 0};
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = S_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    m.started = S_now();
    bool source_done = m.n_workers == 0, fatal = m.n_workers == 0;
    pd_error fatal_err = {0};
    for (;;) {
        /* hand out jobs to idle workers */
        for (int i = 0; i < m.n_workers && !source_done && !S_stop; i++) {
            if (m.w[i].to < 0)
                continue;
            while (m.w[i].in_flight < JOBS_PER_WORKER && !source_done && !S_stop &&
                   m.n_pending < MAX_PENDING) {
                pd_jobspec job;
                int rc = pd_jobsrc_next(src, &job, &fatal_err);
                if (rc <= 0) {
                    source_done = true;
                    fatal = rc < 0;
                    break;
                }
                if (!S_in_shard(&opt, job.number)) {
                    pd_jobspec_clear(&job);
                    continue;
                }
                const char *bad = job.error ? NULL : job.output ? S_bad_output(job.output) : NULL;
                S_result *r = S_queue(&m, &job);
                if (job.error || bad) {
                    S_finish(&m, r, false, job.error ? job.error : bad);
                    pd_jobspec_clear(&job);
                    continue;
                }
                strbuf msg = STRBUF_INIT;
                S_fieldf(&msg, job.number);
                S_field(&msg, job.template_name);
                S_field(&msg, job.lang);
                S_field(&msg, job.output);
                S_field(&msg, job.data_file);
                S_fieldf(&msg, job.values.n);
                for (size_t v = 0; v < job.values.n; v++) {
                    S_field(&msg, job.values.names[v]);
                    S_field(&msg, job.values.values[v]);
                }
                pd_jobspec_clear(&job);
                r->worker = i;
                if (!S_send(m.w[i].to, &msg)) {
                    S_finish(&m, r, false, "the worker rendering this job died");
                    strbuf_free(&msg);
                    close(m.w[i].to);
                    m.w[i].to = -1;
                    break;
                }
                strbuf_free(&msg);
                m.w[i].in_flight++;
            }
        }
        S_flush(&m);
        struct pollfd fds[MAX_WORKERS];
        int idx[MAX_WORKERS], nf = 0;
        for (int i = 0; i < m.n_workers; i++)
            if (m.w[i].in_flight > 0) {
                fds[nf] = (struct pollfd){m.w[i].from, POLLIN, 0};
                idx[nf++] = i;
            }
        if (nf == 0 && (source_done || S_stop))
            break;
        if (nf == 0)
            continue;
        int rc = poll(fds, (nfds_t)nf, progress ? 200 : -1);
        if (rc < 0 && errno != EINTR)
            break;
        for (int k = 0; rc > 0 && k < nf; k++)
            if (fds[k].revents)
                S_collect(&m, idx[k]);
        S_flush(&m);
        if (progress)
            S_progress(&m, false);
    }
    /* end of input for the workers: they finish and exit */
    bool worker_failed = false;
    for (int i = 0; i < m.n_workers; i++) {
        if (m.w[i].to >= 0)
            close(m.w[i].to);
        if (m.w[i].from >= 0)
            close(m.w[i].from);
        int st;
        struct rusage ru;
        if (wait4(m.w[i].pid, &st, 0, &ru) > 0) {
            m.w[i].rss_kb = ru.ru_maxrss;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "pildoc: worker %d ended abnormally (%s %d)\n", i + 1,
                        WIFSIGNALED(st) ? "signal" : "status",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                worker_failed = true;
            }
        }
    }
    S_flush(&m);
    free(m.pending);
    if (progress)
        S_progress(&m, true);
    fclose(m.manifest);
    rename(manifest_tmp.data, manifest_name.data);
    long peak = 0;
    for (int i = 0; i < m.n_workers; i++)
        if (m.w[i].rss_kb > peak)
            peak = m.w[i].rss_kb;
    double secs = S_now() - m.started;
    if (fatal)
        fprintf(stderr, "%s%s\n", fatal_err.located ? "" : "pildoc: ", fatal_err.msg);
    fprintf(stderr,
            "pildoc batch: %zu jobs: %zu written, %zu failed%s; %.2f s, %.1f documents/s, "
            "%.1f ms per document, peak worker memory %.1f MB; manifest %s\n",
            m.done, m.written, m.failed,
            S_stop  ? " (interrupted)"
            : fatal ? " (job file broken)"
                    : "",
            secs, secs > 0 ? (double)m.written / secs : 0.0,
            m.written ? secs * 1000.0 / (double)m.written : 0.0, (double)peak / 1024.0,
            manifest_name.data);
    pd_jobsrc_close(src);
    pd_schema_free(schema);
    strbuf_free(&manifest_name);
    strbuf_free(&manifest_tmp);
    return (m.failed || fatal || S_stop || worker_failed) ? PD_EXIT_INPUT : PD_EXIT_OK;
}
