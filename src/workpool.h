/* workpool: pools of worker processes that turn a request (bytes) into a
 * response (bytes): one module for `pildoc serve` and `pildoc batch`.
 *
 * What both share: the frames (a 32-bit length in host order, then the
 * bytes) on one socket pair per worker; the worker's life
 * (pd_workpool_worker_main: start once, answer requests in order until
 * the channel closes, stop), with an optional writer thread that finishes
 * each answer (batch: write the file, flush it to disk, rename it into place)
 * while the next request is handled, preparing first every answer waiting
 * (batch: each file written and its flush started, so that one journal
 * commit takes them all); starting workers; noticing a worker that died
 * and saying how.
 *
 * Two fronts, for two kinds of caller:
 * - pd_workpool (serve): many threads each call pd_workpool_call and wait
 *   for their answer, one request per worker at a time. Each worker is
 *   forked and immediately exec's the program the caller names
 *   (config.argv), with its channel on PD_WORKPOOL_FD: exec, because
 *   forking a process that has other threads and carrying on in the child
 *   is unsafe (locks held by other threads stay locked), and so that a
 *   worker inherits none of the caller's open files or connections. A
 *   worker that dies or takes longer than the call's timeout (it is then
 *   killed) fails the call in flight with a reason; a supervisor thread
 *   starts a replacement (retrying each second while starting fails).
 *   Calls beyond the idle workers wait in a bounded queue; a call that
 *   finds the queue full fails at once (PD_WORKPOOL_BUSY).
 * - pd_workpool_async (batch): one thread submits requests, tagged, up to
 *   `in_flight` per worker, and collects answers in a poll loop, through
 *   callbacks; the caller picks the worker (pd_workpool_async_next_slot)
 *   and may choose the request for it. Workers are forked (the caller is
 *   single-threaded) as requests need them and run a function of the
 *   caller's. A worker that
 *   dies fails the requests it held (the `lost` callback, with their tags
 *   and how it ended); the next request starts a new one, unless
 *   `give_up_after` workers in a row died without answering once.
 *
 * Workers ignore SIGINT, SIGTERM (a terminal's Ctrl-C or a service manager
 * reaches the whole group) and SIGPIPE, and end when their channel closes.
 * The pools reap only their own workers (waitpid by pid), change no signal
 * disposition of the caller, and write with MSG_NOSIGNAL.
 *
 * Ownership: a pool copies its configuration; answers are appended to the
 * caller's strbuf (pd_workpool) or lent to a callback for its duration
 * (pd_workpool_async). */
#ifndef PILDOC_WORKPOOL_H
#define PILDOC_WORKPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
     * part of the response, in whatever form the caller defines. With a
     * finish function, handle may instead set *later: the response is then
     * made by finish, on the writer thread. */
    void (*handle)(void *state, const char *request, size_t len, strbuf *out, void **later);
    /* Optional. When set, responses are sent by a writer thread, in the
     * order of the requests, while the next request is handled; a
     * response left for later is first made by finish(later, gone, out),
     * which owns later. gone: the caller is no longer there (a response
     * could not be sent): undo what handle began, out is not sent. */
    void (*finish)(void *later, bool gone, strbuf *out);
    void (*stop)(void *state);
    void *arg;
    /* Optional, with finish: called by the writer thread on each answer
     * waiting for it, in order, before it finishes any of them: begins
     * what finish completes, so that the slow parts of several answers
     * overlap (batch: writes each file and starts writing it to disk, and
     * the flushes that follow commit them together). finish is then
     * called on each as before, gone or not. */
    void (*prepare)(void *later);
} pd_workpool_handler;

/* The worker's life on channel fd (PD_WORKPOOL_FD for an exec'd worker):
 * start, report ready, answer requests until the channel closes or the
 * caller is gone, stop. Returns the process's exit status. */
int pd_workpool_worker_main(int fd, const pd_workpool_handler *h);

/* --- serve: many calling threads, one request per worker -------------------- */

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

/* --- batch: one thread, tagged requests, several in flight per worker ------- */

typedef struct pd_workpool_async_config {
    int workers;       /* at most, 1 .. PD_WORKPOOL_MAX_WORKERS, started as needed */
    int in_flight;     /* requests a worker holds at once (the next one waits in its
                          channel while it works: it never idles for a round trip) */
    size_t max_answer; /* a longer answer counts as a broken worker */
    int give_up_after; /* workers in a row that die without answering once */
    /* The worker, in the forked child, with its channel fd (every other
     * worker's channel closed); returns the child's exit status. */
    int (*child)(int fd, void *arg);
    /* The answer to the request submitted with tag; false when it is
     * malformed (the worker then counts as broken: lost). */
    bool (*answer)(void *arg, uint64_t tag, const char *data, size_t len);
    /* Worker slot (0-based) whose process pid ended or broke (how: "killed
     * by signal 9 (SIGKILL)", "exited with status 1", "its channel
     * closed"), holding the requests tags[0..n) in submission order. */
    void (*lost)(void *arg, int slot, pid_t pid, const char *how, const uint64_t *tags, size_t n);
    void *arg; /* for the three functions above */
} pd_workpool_async_config;

typedef struct pd_workpool_async pd_workpool_async;

pd_workpool_async *pd_workpool_async_new(const pd_workpool_async_config *config);
/* The slot that can take a request now: the first running worker with
 * room, else the first slot where one may be started; -1 when none can.
 * The caller may choose the request by the slot (batch sends a worker the
 * jobs of templates and languages it has already laid out). */
int pd_workpool_async_next_slot(const pd_workpool_async *p);
/* Hands the request to the worker of slot (as pd_workpool_async_next_slot
 * gave it), starting one there if none runs. false with why ("cannot start
 * a worker process: ...") when a worker cannot be started: the pool then
 * starts no more. A worker found broken while sending is reported through
 * lost, the request with it. */
bool pd_workpool_async_submit(pd_workpool_async *p, int slot, uint64_t tag, const void *data,
                              size_t len, char *why, size_t why_len);
/* From now on a worker is handed at most in_flight requests at once
 * (1 .. the configured number; those it holds stay): batch lowers it for
 * the last jobs, so that each goes to whichever worker is free first. */
void pd_workpool_async_limit(pd_workpool_async *p, int in_flight);
/* Requests handed out and not yet answered or lost. */
size_t pd_workpool_async_pending(const pd_workpool_async *p);
/* give_up_after workers in a row died without answering, or one could not
 * be started: no more are started. */
bool pd_workpool_async_gave_up(const pd_workpool_async *p);
/* Waits at most timeout_ms (-1: without limit) for answers or ends of
 * workers, and reports each through the callbacks (at most one message
 * per worker per call). false when polling fails. */
bool pd_workpool_async_wait(pd_workpool_async *p, int timeout_ms);
/* Closes every channel (the workers finish what they hold and end, all at
 * once), then waits for each, calls ended for each that did not exit with status 0 (may be
 * NULL), frees the pool. Returns the largest resident memory of a worker,
 * kB. */
long pd_workpool_async_close(pd_workpool_async *p,
                             void (*ended)(void *arg, int slot, int wait_status));

#endif
