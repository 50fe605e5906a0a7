#include "workpool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- frames ------------------------------------------------------------------ */

static double S_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until fd is ready for events or the deadline passes (deadline <= 0:
 * no limit). 1 ready, 0 timed out, -1 error. */
static int S_wait(int fd, short events, double deadline)
{
    for (;;) {
        int ms = -1;
        if (deadline > 0) {
            double left = deadline - S_now();
            if (left <= 0)
                return 0;
            ms = (int)(left * 1000) + 1;
        }
        struct pollfd pfd = {fd, events, 0};
        int rc = poll(&pfd, 1, ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue; /* loop re-checks the deadline */
        return 1;
    }
}

/* Sends (out) or receives all of p[0..len) before the deadline: 1 done,
 * 0 timed out, -1 the peer is gone or an error. Tries first and polls only
 * when the socket is not ready: a job or an answer waiting in the channel
 * costs no poll. */
static int S_transfer(int fd, bool out, char *p, size_t len, double deadline)
{
    while (len) {
        ssize_t n =
            out ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT) : recv(fd, p, len, MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return -1;
        int w = S_wait(fd, out ? POLLOUT : POLLIN, deadline);
        if (w <= 0)
            return w;
    }
    return 1;
}

static int S_write_all(int fd, const void *data, size_t len, double deadline)
{
    return S_transfer(fd, true, (char *)data, len, deadline);
}

static int S_read_all(int fd, void *data, size_t len, double deadline)
{
    return S_transfer(fd, false, data, len, deadline);
}

/* The length and the bytes in one call (then the rest, if the channel was
 * full). */
static int S_send_frame(int fd, const void *data, size_t len, double deadline)
{
    uint32_t n = (uint32_t)len;
    struct iovec iov[2] = {{&n, sizeof n}, {(void *)data, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    ssize_t k;
    do
        k = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (k < 0 && errno == EINTR);
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
    size_t sent = k > 0 ? (size_t)k : 0;
    if (sent < sizeof n) {
        int rc = S_write_all(fd, (char *)&n + sent, sizeof n - sent, deadline);
        if (rc != 1)
            return rc;
        sent = sizeof n;
    }
    sent -= sizeof n;
    return sent < len ? S_write_all(fd, (const char *)data + sent, len - sent, deadline) : 1;
}

/* Appends the frame's bytes to out. -2 when it is longer than max. */
static int S_recv_frame(int fd, strbuf *out, size_t max, double deadline)
{
    uint32_t n;
    int rc = S_read_all(fd, &n, sizeof n, deadline);
    if (rc != 1)
        return rc;
    if (n > max)
        return -2;
    char buf[65536];
    while (n) {
        size_t chunk = n < sizeof buf ? n : sizeof buf;
        rc = S_read_all(fd, buf, chunk, deadline);
        if (rc != 1)
            return rc;
        strbuf_append_len(out, buf, chunk);
        n -= (uint32_t)chunk;
    }
    return 1;
}

/* --- the worker ---------------------------------------------------------------- */

/* An answer on its way to the caller: made (finish) and sent by the writer
 * thread, in order. */
typedef struct S_outgoing {
    strbuf out;
    void *later;
} S_outgoing;

/* answers waiting for the writer: bounds memory (a worker holds at most
   the requests its caller hands it at once anyway) */
#define OUTGOING_QUEUE 16

typedef struct S_writer {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    S_outgoing *queue[OUTGOING_QUEUE];
    size_t head, count;
    bool closing; /* no more answers: the writer ends when the queue is empty */
    bool gone;    /* the caller is gone: answers are no longer made or sent */
    int fd;
    const pd_workpool_handler *h;
} S_writer;

/* Makes and sends o (freeing it); false when the caller is gone. w->gone
 * is read here and written only under w->lock, by this thread. */
static bool S_outgoing_send(S_writer *w, S_outgoing *o)
{
    if (o->later && w->h->finish)
        w->h->finish(o->later, w->gone, &o->out);
    bool sent = !w->gone && S_send_frame(w->fd, o->out.data, o->out.len, 0) == 1;
    strbuf_free(&o->out);
    free(o);
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
        /* every answer waiting now: prepared together, then finished and
           sent one by one (outside the lock: finishing may be slow); the
           handling thread only adds behind them */
        size_t n = w->count;
        S_outgoing *batch[OUTGOING_QUEUE];
        for (size_t i = 0; i < n; i++)
            batch[i] = w->queue[(w->head + i) % OUTGOING_QUEUE];
        bool gone = w->gone;
        pthread_mutex_unlock(&w->lock);
        for (size_t i = 0; w->h->prepare && !gone && i < n; i++)
            if (batch[i]->later)
                w->h->prepare(batch[i]->later);
        for (size_t i = 0; i < n; i++) {
            bool sent = S_outgoing_send(w, batch[i]);
            pthread_mutex_lock(&w->lock);
            if (!sent)
                w->gone = true;
            w->head = (w->head + 1) % OUTGOING_QUEUE;
            w->count--;
            pthread_cond_broadcast(&w->changed);
            pthread_mutex_unlock(&w->lock);
        }
    }
}

/* Queues o (taking it); false when the caller is gone. */
static bool S_writer_push(S_writer *w, S_outgoing *o)
{
    pthread_mutex_lock(&w->lock);
    while (w->count == OUTGOING_QUEUE)
        pthread_cond_wait(&w->changed, &w->lock);
    w->queue[(w->head + w->count) % OUTGOING_QUEUE] = o;
    w->count++;
    bool gone = w->gone;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    return !gone;
}

int pd_workpool_worker_main(int fd, const pd_workpool_handler *h)
{
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* a caller that is gone makes writes fail: what was begun is undone,
       rather than the worker dying in the middle */
    signal(SIGPIPE, SIG_IGN);
    char why[512] = "";
    void *state = h->start(h->arg, why, sizeof why);
    strbuf msg = STRBUF_INIT;
    /* ready: "R", or "E" and the reason */
    strbuf_append(&msg, state ? "R" : "E");
    if (!state)
        strbuf_append(&msg, why[0] ? why : "the worker could not start");
    int rc = S_send_frame(fd, msg.data, msg.len, 0);
    strbuf_clear(&msg);
    S_writer w = {.fd = fd, .h = h};
    pthread_t writer;
    bool threaded = false;
    if (state && h->finish) {
        pthread_mutex_init(&w.lock, NULL);
        pthread_cond_init(&w.changed, NULL);
        threaded = pthread_create(&writer, NULL, S_writer_main, &w) == 0;
    }
    /* the request size is the caller's to bound; a frame is at most 4 GB */
    while (state && rc == 1 && S_recv_frame(fd, &msg, UINT32_MAX, 0) == 1) {
        S_outgoing *o = xcalloc(1, sizeof *o);
        h->handle(state, msg.data ? msg.data : "", msg.len, &o->out, h->finish ? &o->later : NULL);
        strbuf_clear(&msg);
        bool there;
        if (threaded) {
            there = S_writer_push(&w, o);
        } else { /* no writer thread: finish and send here */
            there = S_outgoing_send(&w, o);
            w.gone = !there;
        }
        if (!there)
            break;
    }
    if (threaded) {
        pthread_mutex_lock(&w.lock);
        w.closing = true;
        pthread_cond_broadcast(&w.changed);
        pthread_mutex_unlock(&w.lock);
        pthread_join(writer, NULL);
    }
    if (state && h->finish) {
        pthread_cond_destroy(&w.changed);
        pthread_mutex_destroy(&w.lock);
    }
    if (state && h->stop)
        h->stop(state);
    strbuf_free(&msg);
    close(fd);
    return state ? 0 : 1;
}

/* --- the pool ------------------------------------------------------------------- */

typedef enum S_state { S_DEAD, S_STARTING, S_IDLE, S_BUSY } S_state;

typedef struct S_slot {
    S_state state;
    pid_t pid;
    int fd; /* our end of the channel, -1 when none */
    unsigned long served;
    double retry_at; /* when the supervisor may try to start it again */
} S_slot;

struct pd_workpool {
    pd_workpool_config cfg;
    char **argv; /* owned copy */
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a slot changed state, or closing */
    S_slot slot[PD_WORKPOOL_MAX_WORKERS];
    size_t waiting; /* calls in the queue */
    size_t calls;   /* calls in progress (queued or running) */
    bool closing;
    bool supervisor_started;
    pthread_t supervisor;
};

static void S_describe_exit(int status, char *why, size_t len, const char *what)
{
    if (WIFSIGNALED(status))
        snprintf(why, len, "%s (signal %d: %s)", what, WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(why, len, "%s (exit status %d)", what, WEXITSTATUS(status));
    else
        snprintf(why, len, "%s", what);
}

/* Ends a worker for good: SIGKILL (harmless when it is already gone), reap. */
static int S_kill_and_reap(pid_t pid)
{
    int status = 0;
    if (pid <= 0)
        return 0;
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* Starts a worker process on a new socket pair: with argv, fork and exec
 * it (its end of the channel on PD_WORKPOOL_FD); else fork and run
 * child(its end, arg) in the child, after closing close_fds[0..n_close)
 * (the other workers' channels), then _exit with what it returns. On
 * success fills pid and our end's fd; false with errno set otherwise. */
static bool S_start_process(char *const *argv, int (*child)(int, void *), void *arg,
                            const int *close_fds, size_t n_close, pid_t *pid_out, int *fd_out)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    sigset_t all;
    sigemptyset(&all);
    if (!argv)
        fflush(NULL); /* the child has nothing of the caller's left to write */
    pid_t pid = fork();
    if (pid == 0 && argv) {
        /* only async-signal-safe calls until exec */
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (sv[1] == PD_WORKPOOL_FD)
            fcntl(sv[1], F_SETFD, 0);
        else if (dup2(sv[1], PD_WORKPOOL_FD) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid == 0) {
        close(sv[0]);
        for (size_t i = 0; i < n_close; i++)
            close(close_fds[i]);
        _exit(child ? child(sv[1], arg) : 127);
    }
    int e = errno;
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        errno = e;
        return false;
    }
    *pid_out = pid;
    *fd_out = sv[0];
    return true;
}

/* Forks and execs a worker; waits for its ready frame. On success fills
 * pid and fd. */
static bool S_spawn(pd_workpool *p, pid_t *pid_out, int *fd_out, char *why, size_t why_len)
{
    int sv[2];
    pid_t pid;
    if (!S_start_process(p->argv, NULL, NULL, NULL, 0, &pid, &sv[0])) {
        snprintf(why, why_len, "cannot start a worker: %s", strerror(errno));
        return false;
    }
    strbuf ready = STRBUF_INIT;
    int rc = S_recv_frame(sv[0], &ready, 4096, S_now() + p->cfg.start_timeout);
    bool ok = rc == 1 && ready.len >= 1 && ready.data[0] == 'R';
    if (!ok) {
        int status = S_kill_and_reap(pid);
        if (rc == 1 && ready.len > 1)
            snprintf(why, why_len, "%s", ready.data + 1);
        else if (rc == 0)
            snprintf(why, why_len, "a worker did not start within %.0f s", p->cfg.start_timeout);
        else
            S_describe_exit(status, why, why_len, "a worker ended while starting");
        close(sv[0]);
    } else {
        *pid_out = pid;
        *fd_out = sv[0];
    }
    strbuf_free(&ready);
    return ok;
}

/* An idle worker whose channel is readable or hung up has died (an idle
 * worker never writes). Called with the lock held; reaps it. */
static bool S_idle_alive(pd_workpool *p, S_slot *s)
{
    struct pollfd pfd = {s->fd, POLLIN, 0};
    if (poll(&pfd, 1, 0) == 0)
        return true;
    char why[160];
    S_describe_exit(S_kill_and_reap(s->pid), why, sizeof why, "an idle worker died");
    fprintf(stderr, "pildoc: %s; starting a new one\n", why);
    close(s->fd);
    s->fd = -1;
    s->pid = 0;
    s->state = S_DEAD;
    s->retry_at = 0;
    pthread_cond_broadcast(&p->changed);
    return false;
}

static void *S_supervise(void *arg)
{
    pd_workpool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->closing) {
        double now = S_now(), next = 0;
        int i;
        for (i = 0; i < p->cfg.workers; i++) {
            S_slot *s = &p->slot[i];
            if (s->state != S_DEAD)
                continue;
            if (s->retry_at <= now)
                break;
            if (next == 0 || s->retry_at < next)
                next = s->retry_at;
        }
        if (i < p->cfg.workers) {
            S_slot *s = &p->slot[i];
            s->state = S_STARTING;
            pthread_mutex_unlock(&p->lock);
            pid_t pid = 0;
            int fd = -1;
            char why[512];
            bool ok = S_spawn(p, &pid, &fd, why, sizeof why);
            if (!ok)
                fprintf(stderr, "pildoc: cannot start a worker: %s (retrying in 1 s)\n", why);
            pthread_mutex_lock(&p->lock);
            if (ok) {
                *s = (S_slot){S_IDLE, pid, fd, 0, 0};
            } else {
                s->state = S_DEAD;
                s->retry_at = S_now() + 1;
            }
            pthread_cond_broadcast(&p->changed);
            continue;
        }
        if (next == 0) {
            pthread_cond_wait(&p->changed, &p->lock);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            double wait = next - now;
            ts.tv_sec += (time_t)wait;
            ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->changed, &p->lock, &ts);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

pd_workpool *pd_workpool_new(const pd_workpool_config *config, pd_error *err)
{
    if (config->workers < 1 || config->workers > PD_WORKPOOL_MAX_WORKERS || !config->argv ||
        !config->argv[0]) {
        pd_error_set(err, NULL, 0, "a worker pool needs 1 to %d workers and a program",
                     PD_WORKPOOL_MAX_WORKERS);
        return NULL;
    }
    pd_workpool *p = xcalloc(1, sizeof *p);
    p->cfg = *config;
    if (p->cfg.start_timeout <= 0)
        p->cfg.start_timeout = 30;
    size_t n = 0;
    while (config->argv[n])
        n++;
    p->argv = xcalloc(n + 1, sizeof *p->argv);
    for (size_t i = 0; i < n; i++)
        p->argv[i] = xstrdup(config->argv[i]);
    p->cfg.argv = p->argv;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    for (int i = 0; i < PD_WORKPOOL_MAX_WORKERS; i++)
        p->slot[i] = (S_slot){S_DEAD, 0, -1, 0, 0};
    /* the first workers one by one: a broken set-up fails here, at start,
       with the worker's own reason */
    for (int i = 0; i < p->cfg.workers; i++) {
        char why[512];
        if (!S_spawn(p, &p->slot[i].pid, &p->slot[i].fd, why, sizeof why)) {
            pd_error_set(err, NULL, 0, "%s", why);
            pd_workpool_free(p);
            return NULL;
        }
        p->slot[i].state = S_IDLE;
    }
    if (pthread_create(&p->supervisor, NULL, S_supervise, p) != 0) {
        pd_error_set(err, NULL, 0, "cannot start the worker supervisor thread");
        pd_workpool_free(p);
        return NULL;
    }
    p->supervisor_started = true;
    return p;
}

/* An idle, living worker, or -1. Lock held. */
static int S_take_idle(pd_workpool *p)
{
    for (int i = 0; i < p->cfg.workers; i++)
        if (p->slot[i].state == S_IDLE && S_idle_alive(p, &p->slot[i]))
            return i;
    return -1;
}

static void S_deadline_ts(double deadline, struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
    double wait = deadline - S_now();
    if (wait < 0)
        wait = 0;
    ts->tv_sec += (time_t)wait;
    ts->tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

pd_workpool_status pd_workpool_call(pd_workpool *p, const void *request, size_t len, double timeout,
                                    strbuf *response, char *why, size_t why_len)
{
    double deadline = S_now() + (timeout > 0 ? timeout : 1e9);
    pthread_mutex_lock(&p->lock);
    if (p->closing) {
        pthread_mutex_unlock(&p->lock);
        snprintf(why, why_len, "the server is shutting down");
        return PD_WORKPOOL_CLOSED;
    }
    int i = S_take_idle(p);
    if (i < 0) {
        if (p->waiting >= p->cfg.queue) {
            pthread_mutex_unlock(&p->lock);
            snprintf(why, why_len, "all %d workers are busy and %zu requests are waiting",
                     p->cfg.workers, p->cfg.queue);
            return PD_WORKPOOL_BUSY;
        }
        p->waiting++;
        p->calls++;
        struct timespec ts;
        S_deadline_ts(deadline, &ts);
        int rc = 0;
        while ((i = S_take_idle(p)) < 0 && !p->closing && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&p->changed, &p->lock, &ts);
        p->waiting--;
        p->calls--;
        if (i < 0) {
            pthread_cond_broadcast(&p->changed);
            pthread_mutex_unlock(&p->lock);
            snprintf(why, why_len, "%s",
                     p->closing ? "the server is shutting down" : "no worker became free in time");
            return p->closing ? PD_WORKPOOL_CLOSED : PD_WORKPOOL_TIMEOUT;
        }
    }
    S_slot *s = &p->slot[i];
    s->state = S_BUSY;
    p->calls++;
    pid_t pid = s->pid;
    int fd = s->fd;
    pthread_mutex_unlock(&p->lock);

    int rc = S_send_frame(fd, request, len, deadline);
    if (rc == 1)
        rc = S_recv_frame(fd, response, p->cfg.max_message, deadline);

    pd_workpool_status st = PD_WORKPOOL_OK;
    if (rc != 1) {
        /* dead, hung or broken: this process is finished either way */
        int status = S_kill_and_reap(pid);
        if (rc == 0) {
            snprintf(why, why_len, "the worker took longer than %.0f s and was stopped", timeout);
            st = PD_WORKPOOL_TIMEOUT;
        } else if (rc == -2) {
            snprintf(why, why_len, "the worker's answer is larger than %zu bytes",
                     p->cfg.max_message);
            st = PD_WORKPOOL_FAILED;
        } else {
            S_describe_exit(status, why, why_len, "the worker handling this request died");
            st = PD_WORKPOOL_FAILED;
        }
        close(fd);
        strbuf_clear(response);
    }
    pthread_mutex_lock(&p->lock);
    if (st == PD_WORKPOOL_OK) {
        s->state = S_IDLE;
        s->served++;
    } else {
        *s = (S_slot){S_DEAD, 0, -1, 0, 0};
    }
    p->calls--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return st;
}

size_t pd_workpool_snapshot(pd_workpool *p, pd_workpool_worker_info *out, size_t max)
{
    static const char *const names[] = {"dead", "starting", "idle", "busy"};
    pthread_mutex_lock(&p->lock);
    size_t n = (size_t)p->cfg.workers;
    for (size_t i = 0; i < n; i++) {
        S_slot *s = &p->slot[i];
        if (s->state == S_IDLE)
            S_idle_alive(p, s);
        if (i < max)
            out[i] = (pd_workpool_worker_info){s->pid, names[s->state], s->served};
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

void pd_workpool_free(pd_workpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->closing = true;
    pthread_cond_broadcast(&p->changed);
    while (p->calls > 0)
        pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (p->supervisor_started)
        pthread_join(p->supervisor, NULL);
    /* closing the channel is the worker's signal to end */
    for (int i = 0; i < PD_WORKPOOL_MAX_WORKERS; i++)
        if (p->slot[i].fd >= 0)
            close(p->slot[i].fd);
    double give_up = S_now() + 5;
    for (int i = 0; i < PD_WORKPOOL_MAX_WORKERS; i++) {
        pid_t pid = p->slot[i].pid;
        if (pid <= 0)
            continue;
        int status;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (S_now() > give_up) {
                S_kill_and_reap(pid);
                break;
            }
            struct timespec ts = {0, 10000000L};
            nanosleep(&ts, NULL);
        }
    }
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    for (size_t i = 0; p->argv[i]; i++)
        free(p->argv[i]);
    free(p->argv);
    free(p);
}

/* --- the asynchronous pool (batch) ---------------------------------------------- */

typedef struct S_async_slot {
    pid_t pid;      /* 0: no process */
    int fd;         /* our end of its channel */
    bool ready;     /* its ready frame came */
    uint64_t *tags; /* requests sent and not answered, in order (in_flight of them) */
    size_t n_tags;
    size_t answered; /* answers from this process */
} S_async_slot;

struct pd_workpool_async {
    pd_workpool_async_config cfg;
    size_t limit; /* requests a worker is handed at once now: pd_workpool_async_limit */
    S_async_slot slot[PD_WORKPOOL_MAX_WORKERS];
    size_t pending;
    int barren; /* workers in a row that ended without answering once */
    bool gave_up;
};

pd_workpool_async *pd_workpool_async_new(const pd_workpool_async_config *config)
{
    pd_workpool_async *p = xcalloc(1, sizeof *p);
    p->cfg = *config;
    if (p->cfg.workers < 1)
        p->cfg.workers = 1;
    if (p->cfg.workers > PD_WORKPOOL_MAX_WORKERS)
        p->cfg.workers = PD_WORKPOOL_MAX_WORKERS;
    if (p->cfg.in_flight < 1)
        p->cfg.in_flight = 1;
    for (int i = 0; i < PD_WORKPOOL_MAX_WORKERS; i++) {
        p->slot[i].fd = -1;
        p->slot[i].tags = xcalloc((size_t)p->cfg.in_flight, sizeof *p->slot[i].tags);
    }
    p->limit = (size_t)p->cfg.in_flight;
    return p;
}

void pd_workpool_async_limit(pd_workpool_async *p, int in_flight)
{
    p->limit = in_flight < 1                  ? 1
               : in_flight > p->cfg.in_flight ? (size_t)p->cfg.in_flight
                                              : (size_t)in_flight;
}

/* A slot that can take a request now, or -1: the first running worker
 * with room, else the first free slot (unless the pool gave up). */
static int S_async_slot_for(const pd_workpool_async *p)
{
    for (int i = 0; i < p->cfg.workers; i++)
        if (p->slot[i].pid > 0 && p->slot[i].n_tags < p->limit)
            return i;
    if (p->gave_up)
        return -1;
    for (int i = 0; i < p->cfg.workers; i++)
        if (p->slot[i].pid == 0)
            return i;
    return -1;
}

int pd_workpool_async_next_slot(const pd_workpool_async *p)
{
    return S_async_slot_for(p);
}

size_t pd_workpool_async_pending(const pd_workpool_async *p)
{
    return p->pending;
}

bool pd_workpool_async_gave_up(const pd_workpool_async *p)
{
    return p->gave_up;
}

/* Worker i is gone (killed, crashed, or its channel broke): reaped, and
 * the requests it held reported lost with how it ended. */
static void S_async_lost(pd_workpool_async *p, int i, const char *reason)
{
    S_async_slot *s = &p->slot[i];
    close(s->fd);
    int st = 0;
    char how[600];
    snprintf(how, sizeof how, "%s", reason ? reason : "its channel closed");
    if (waitpid(s->pid, &st, 0) == s->pid && !reason) {
        if (WIFSIGNALED(st)) {
            const char *abbrev = sigabbrev_np(WTERMSIG(st));
            snprintf(how, sizeof how, "killed by signal %d (SIG%s)", WTERMSIG(st),
                     abbrev ? abbrev : "?");
        } else if (WIFEXITED(st)) {
            snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(st));
        }
    }
    pid_t pid = s->pid;
    size_t n = s->n_tags, answered = s->answered;
    uint64_t *tags = xmalloc((n ? n : 1) * sizeof *tags);
    if (n)
        memcpy(tags, s->tags, n * sizeof *tags);
    p->pending -= n;
    s->pid = 0;
    s->fd = -1;
    s->ready = false;
    s->n_tags = 0;
    s->answered = 0;
    /* a worker that cannot answer a single request (it crashes at start):
       no endless restarts */
    if (answered == 0 && ++p->barren >= p->cfg.give_up_after && p->cfg.give_up_after > 0)
        p->gave_up = true;
    p->cfg.lost(p->cfg.arg, i, pid, how, tags, n);
    free(tags);
}

bool pd_workpool_async_submit(pd_workpool_async *p, int i, uint64_t tag, const void *data,
                              size_t len, char *why, size_t why_len)
{
    if (i < 0 || i >= p->cfg.workers ||
        (p->slot[i].pid > 0 && p->slot[i].n_tags >= (size_t)p->cfg.in_flight) ||
        (p->slot[i].pid == 0 && p->gave_up)) {
        snprintf(why, why_len, "no worker can take it");
        return false;
    }
    S_async_slot *s = &p->slot[i];
    if (s->pid == 0) {
        int others[PD_WORKPOOL_MAX_WORKERS];
        size_t n = 0;
        for (int k = 0; k < PD_WORKPOOL_MAX_WORKERS; k++)
            if (p->slot[k].pid > 0)
                others[n++] = p->slot[k].fd;
        if (!S_start_process(NULL, p->cfg.child, p->cfg.arg, others, n, &s->pid, &s->fd)) {
            snprintf(why, why_len, "cannot start a worker process: %s", strerror(errno));
            s->pid = 0;
            s->fd = -1;
            p->gave_up = true;
            return false;
        }
    }
    s->tags[s->n_tags++] = tag;
    p->pending++;
    if (S_send_frame(s->fd, data, len, 0) != 1)
        S_async_lost(p, i, NULL);
    return true;
}

/* One message from worker i: its ready frame, an answer, or its end. */
static void S_async_collect(pd_workpool_async *p, int i)
{
    S_async_slot *s = &p->slot[i];
    strbuf msg = STRBUF_INIT;
    int rc = S_recv_frame(s->fd, &msg, p->cfg.max_answer, 0);
    if (rc != 1) {
        strbuf_free(&msg);
        S_async_lost(p, i, NULL);
        return;
    }
    if (!s->ready) {
        s->ready = true;
        if (msg.len < 1 || msg.data[0] != 'R') {
            /* "E" and why the worker could not start */
            char why[520];
            snprintf(why, sizeof why, "it could not start: %.*s",
                     (int)(msg.len > 1 && msg.len < 500 ? msg.len - 1 : 0),
                     msg.len > 1 ? msg.data + 1 : "");
            kill(s->pid, SIGKILL);
            strbuf_free(&msg);
            S_async_lost(p, i, why);
        } else {
            strbuf_free(&msg);
        }
        return;
    }
    if (s->n_tags == 0 ||
        !p->cfg.answer(p->cfg.arg, s->tags[0], msg.data ? msg.data : "", msg.len)) {
        strbuf_free(&msg);
        S_async_lost(p, i, NULL);
        return;
    }
    memmove(s->tags, s->tags + 1, (s->n_tags - 1) * sizeof *s->tags);
    s->n_tags--;
    p->pending--;
    s->answered++;
    p->barren = 0;
    strbuf_free(&msg);
}

bool pd_workpool_async_wait(pd_workpool_async *p, int timeout_ms)
{
    struct pollfd fds[PD_WORKPOOL_MAX_WORKERS];
    int idx[PD_WORKPOOL_MAX_WORKERS], nf = 0;
    for (int i = 0; i < PD_WORKPOOL_MAX_WORKERS; i++)
        if (p->slot[i].pid > 0) {
            fds[nf] = (struct pollfd){p->slot[i].fd, POLLIN, 0};
            idx[nf++] = i;
        }
    int rc = poll(fds, (nfds_t)nf, timeout_ms);
    if (rc < 0 && errno != EINTR)
        return false;
    for (int k = 0; rc > 0 && k < nf; k++)
        if (fds[k].revents && p->slot[idx[k]].pid > 0)
            S_async_collect(p, idx[k]);
    return true;
}

long pd_workpool_async_close(pd_workpool_async *p, void (*ended)(void *arg, int slot, int status))
{
    long peak = 0;
    /* every channel first: the workers finish and end in parallel, so the
       run ends after the slowest one, not after the sum of them all */
    for (int i = 0; i < PD_WORKPOOL_MAX_WORKERS; i++)
        if (p->slot[i].pid > 0)
            close(p->slot[i].fd);
    for (int i = 0; i < PD_WORKPOOL_MAX_WORKERS; i++) {
        S_async_slot *s = &p->slot[i];
        if (s->pid > 0) {
            int st;
            struct rusage ru;
            pid_t got;
            while ((got = wait4(s->pid, &st, 0, &ru)) < 0 && errno == EINTR)
                ;
            if (got > 0) {
                if (ru.ru_maxrss > peak)
                    peak = ru.ru_maxrss;
                if ((!WIFEXITED(st) || WEXITSTATUS(st) != 0) && ended)
                    ended(p->cfg.arg, i, st);
            }
        }
        free(s->tags);
    }
    free(p);
    return peak;
}
