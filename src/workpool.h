/* workpool: a pool of pre-started worker processes that turn a request
 * (bytes) into a response (bytes), for callers with many threads.
 *
 * Each worker is forked and immediately exec's the program the caller
 * names (config.argv), with its end of a socket pair on file descriptor
 * PD_WORKPOOL_FD: exec, because forking a process that has other threads
 * and carrying on in the child is unsafe (locks held by other threads stay
 * locked), and so that a worker inherits none of the caller's open files
 * or connections. That program calls pd_workpool_worker_main with a
 * handler: `start` builds the worker's state once (a pd_renderer with its
 * fonts, catalogs and caches), `handle` turns each request into its
 * response, for the life of the worker. Requests and responses travel as
 * frames: a 32-bit length in host order, then the bytes.
 *
 * A worker that dies (crash, SIGKILL, out of memory) or takes longer than
 * the call's timeout (it is then killed) fails the call in flight with a
 * reason; a supervisor thread of the pool starts a replacement (retrying
 * each second while starting fails). Calls beyond the idle workers wait in
 * a bounded queue; a call that finds the queue full fails at once
 * (PD_WORKPOOL_BUSY).
 *
 * Threads: pd_workpool_call and pd_workpool_snapshot may be called from
 * any number of threads at once. The pool owns one thread (the supervisor)
 * and its workers; it reaps only its own workers (waitpid by pid) and
 * changes no signal disposition: callers should ignore SIGPIPE or not
 * care (the pool writes with MSG_NOSIGNAL). Workers ignore SIGINT and
 * SIGTERM (a terminal's Ctrl-C or a service manager reaches the whole
 * group) and end when their channel closes.
 *
 * Ownership: the pool copies its configuration; responses are appended to
 * the caller's strbuf. */
#ifndef PILDOC_WORKPOOL_H
#define PILDOC_WORKPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

#define PD_WORKPOOL_FD 3
#define PD_WORKPOOL_MAX_WORKERS 64

/* --- in the worker process ------------------------------------------------ */

typedef struct pd_workpool_handler {
    /* Once, before the first request: the worker's state, or NULL with a
     * one-line reason in why (the worker then ends and the pool reports
     * the reason). */
    void *(*start)(void *arg, char *why, size_t why_len);
    /* One request of len bytes: appends the response to out. Failures are
     * part of the response, in whatever form the caller defines. */
    void (*handle)(void *state, const char *request, size_t len, strbuf *out);
    void (*stop)(void *state);
    void *arg;
} pd_workpool_handler;

/* The worker's life on channel fd (PD_WORKPOOL_FD): start, report ready,
 * answer requests until the channel closes, stop. Returns the process's
 * exit status. */
int pd_workpool_worker_main(int fd, const pd_workpool_handler *h);

/* --- in the calling process ------------------------------------------------- */

typedef struct pd_workpool_config {
    int workers;          /* 1 .. PD_WORKPOOL_MAX_WORKERS */
    size_t queue;         /* calls that may wait for a free worker */
    size_t max_message;   /* the largest request or response, bytes */
    double start_timeout; /* seconds a new worker has to report ready */
    char *const *argv;    /* the worker program: argv[0] is the path to exec */
} pd_workpool_config;

typedef enum pd_workpool_status {
    PD_WORKPOOL_OK,      /* response holds the worker's answer */
    PD_WORKPOOL_BUSY,    /* every worker busy and the queue full */
    PD_WORKPOOL_FAILED,  /* the worker died (or the answer was too big): why says how */
    PD_WORKPOOL_TIMEOUT, /* no answer in time: the worker was killed, or none became free */
    PD_WORKPOOL_CLOSED,  /* the pool is shutting down */
} pd_workpool_status;

typedef struct pd_workpool pd_workpool;

/* Starts every worker and waits until each reports ready; NULL with err
 * set (e.g. the reason the first worker gave) when one cannot start. */
pd_workpool *pd_workpool_new(const pd_workpool_config *config, pd_error *err);

/* Sends request to a free worker (waiting in the queue if needed, at most
 * timeout seconds) and waits at most timeout seconds for its answer.
 * On anything but PD_WORKPOOL_OK, why holds one line. */
pd_workpool_status pd_workpool_call(pd_workpool *p, const void *request, size_t len, double timeout,
                                    strbuf *response, char *why, size_t why_len);

typedef struct pd_workpool_worker_info {
    pid_t pid;            /* 0 while none runs in this slot */
    const char *state;    /* "idle", "busy", "starting", "dead" */
    unsigned long served; /* requests answered by this process */
} pd_workpool_worker_info;

/* Copies the state of each worker slot into out (at most max); returns
 * the number of slots. Idle workers that have died are noticed here. */
size_t pd_workpool_snapshot(pd_workpool *p, pd_workpool_worker_info *out, size_t max);
/* Refuses new calls, waits for calls in progress, then ends the workers
 * (closing their channels; SIGKILL after 5 s) and the supervisor. */
void pd_workpool_free(pd_workpool *p);

#endif
