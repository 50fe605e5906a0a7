#include "subproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long S_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts argv with `fd` as its standard input and output; -1 if it cannot be. */
static pid_t S_spawn(char *const *argv, int fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    sigset_t none, reset;
    sigemptyset(&none);
    sigemptyset(&reset);
    sigaddset(&reset, SIGPIPE);
    sigaddset(&reset, SIGXFSZ);
    pid_t pid = -1;
    /* a batch ignores SIGPIPE and SIGXFSZ (its own writes report them) and
       may block signals in threads: the child has both at their default,
       none blocked; a signal the caller ignores otherwise stays ignored (a
       batch worker ignores SIGINT, SIGTERM and SIGHUP to finish its jobs
       after a Ctrl-C: so does the child drawing for one of them) */
    if (posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO) == 0 &&
        posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO) == 0 &&
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0) == 0 &&
        posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1) == 0 &&
        posix_spawnattr_setsigmask(&attr, &none) == 0 &&
        posix_spawnattr_setsigdefault(&attr, &reset) == 0 &&
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) == 0 &&
        posix_spawn(&pid, argv[0], &fa, &attr, argv, environ) != 0)
        pid = -1;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* The child's exit status, waiting for it until the deadline, then
 * killing it (at once if `kill_it`); -1 if it had to be killed. */
static int S_reap(pid_t pid, bool kill_it, long long deadline)
{
    int st = 0;
    while (!kill_it) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return st;
        if (w < 0 && errno != EINTR)
            return -1;
        if (S_now_ms() >= deadline)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

pd_subproc_status pd_subproc_run(char *const *argv, const void *in, size_t in_len, size_t out_max,
                                 int timeout_ms, strbuf *out)
{
    strbuf_clear(out);
    int sv[2];
    if (!argv || !argv[0] || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return PD_SUBPROC_NOT_RUN;
    pid_t pid = S_spawn(argv, sv[1]);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return PD_SUBPROC_NOT_RUN;
    }
    const char *p = in;
    size_t sent = 0;
    bool in_done = false, out_done = false;
    pd_subproc_status status = PD_SUBPROC_OK;
    long long deadline = S_now_ms() + timeout_ms;
    char buf[65536];
    if (in_len == 0) {
        shutdown(sv[0], SHUT_WR);
        in_done = true;
    }
    /* input and output at once: a child may answer before reading all */
    while (!out_done && status == PD_SUBPROC_OK) {
        long long left = deadline - S_now_ms();
        if (left <= 0) {
            status = PD_SUBPROC_TIMED_OUT;
            break;
        }
        struct pollfd pfd = {sv[0], (short)(POLLIN | (in_done ? 0 : POLLOUT)), 0};
        int n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR) {
            status = PD_SUBPROC_FAILED;
            break;
        }
        if (n <= 0)
            continue;
        if (!in_done && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(sv[0], p + sent, in_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0)
                sent += (size_t)w;
            /* a child that stops reading: what it writes still counts */
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == in_len) {
                shutdown(sv[0], SHUT_WR);
                in_done = true;
            }
        }
        if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t r = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT);
            if (r > 0) {
                if (out->len + (size_t)r > out_max)
                    status = PD_SUBPROC_TOO_LONG;
                else
                    strbuf_append_len(out, buf, (size_t)r);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                out_done = true;
            }
        }
    }
    close(sv[0]);
    int st = S_reap(pid, status != PD_SUBPROC_OK, deadline);
    if (status == PD_SUBPROC_OK && st < 0)
        status = S_now_ms() >= deadline ? PD_SUBPROC_TIMED_OUT : PD_SUBPROC_FAILED;
    else if (status == PD_SUBPROC_OK && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
        status = PD_SUBPROC_FAILED;
    if (status != PD_SUBPROC_OK)
        strbuf_clear(out);
    return status;
}
