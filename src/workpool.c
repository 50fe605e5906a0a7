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
#include <sys/socket.h>
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
 * 0 timed out, -1 the peer is gone or an error. */
static int S_transfer(int fd, bool out, char *p, size_t len, double deadline)
{
    while (len) {
        int w = S_wait(fd, out ? POLLOUT : POLLIN, deadline);
        if (w <= 0)
            return w;
        ssize_t n =
            out ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT) : recv(fd, p, len, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
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

static int S_send_frame(int fd, const void *data, size_t len, double deadline)
{
    uint32_t n = (uint32_t)len;
    int rc = S_write_all(fd, &n, sizeof n, deadline);
    return rc == 1 && len ? S_write_all(fd, data, len, deadline) : rc;
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

int pd_workpool_worker_main(int fd, const pd_workpool_handler *h)
{
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
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
    strbuf out = STRBUF_INIT;
    /* the request size is the caller's to bound; a frame is at most 4 GB */
    while (state && rc == 1 && S_recv_frame(fd, &msg, UINT32_MAX, 0) == 1) {
        strbuf_clear(&out);
        h->handle(state, msg.data ? msg.data : "", msg.len, &out);
        rc = S_send_frame(fd, out.data, out.len, 0);
        strbuf_clear(&msg);
    }
    if (state && h->stop)
        h->stop(state);
    strbuf_free(&msg);
    strbuf_free(&out);
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

/* Forks and execs a worker; waits for its ready frame. On success fills
 * pid and fd. */
static bool S_spawn(pd_workpool *p, pid_t *pid_out, int *fd_out, char *why, size_t why_len)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(why, why_len, "cannot create a socket pair: %s", strerror(errno));
        return false;
    }
    sigset_t all;
    sigemptyset(&all);
    pid_t pid = fork();
    if (pid == 0) {
        /* only async-signal-safe calls until exec */
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (sv[1] == PD_WORKPOOL_FD)
            fcntl(sv[1], F_SETFD, 0);
        else if (dup2(sv[1], PD_WORKPOOL_FD) < 0)
            _exit(127);
        execv(p->argv[0], p->argv);
        _exit(127);
    }
    close(sv[1]);
    if (pid < 0) {
        snprintf(why, why_len, "cannot fork a worker: %s", strerror(errno));
        close(sv[0]);
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
