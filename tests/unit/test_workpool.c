/* Unit tests of workpool's asynchronous pool (batch's): the caller picks
 * the worker of each request. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workpool.h"

/* A worker that answers each request with its bytes and its process id. */
static void *S_start(void *arg, char *why, size_t why_len)
{
    (void)why, (void)why_len;
    return arg;
}

static void S_handle(void *state, const char *request, size_t len, strbuf *out, void **later)
{
    (void)state, (void)later;
    strbuf_append_len(out, request, len);
    strbuf_printf(out, "@%ld", (long)getpid());
}

static int S_child(int fd, void *arg)
{
    pd_workpool_handler h = {S_start, S_handle, NULL, NULL, arg};
    return pd_workpool_worker_main(fd, &h);
}

typedef struct S_seen {
    char answer[8][32]; /* by tag */
    int answers, lost;
} S_seen;

static bool S_answer(void *arg, uint64_t tag, const char *data, size_t len)
{
    S_seen *s = arg;
    if (tag >= 8)
        return false;
    snprintf(s->answer[tag], sizeof s->answer[tag], "%.*s", (int)len, data);
    s->answers++;
    return true;
}

static void S_lost(void *arg, int slot, pid_t pid, const char *how, const uint64_t *tags, size_t n)
{
    (void)slot, (void)pid, (void)how, (void)tags, (void)n;
    ((S_seen *)arg)->lost++;
}

/* The process id an answer names. */
static const char *S_pid(const char *answer)
{
    const char *at = strchr(answer, '@');
    return at ? at : "";
}

START_TEST(workpool_async_sends_to_the_chosen_worker)
{
    S_seen seen = {0};
    pd_workpool_async_config c = {2, 2, 1 << 20, 4, S_child, S_answer, S_lost, &seen};
    pd_workpool_async *p = pd_workpool_async_new(&c);
    char why[160];
    /* the first slot until it holds in_flight requests, then the next */
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 0);
    ck_assert(pd_workpool_async_submit(p, 0, 1, "a", 1, why, sizeof why));
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 0);
    ck_assert(pd_workpool_async_submit(p, 0, 2, "b", 1, why, sizeof why));
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 1);
    /* a worker with no room and a slot outside the pool refuse */
    ck_assert(!pd_workpool_async_submit(p, 0, 7, "x", 1, why, sizeof why));
    ck_assert(!pd_workpool_async_submit(p, 2, 7, "x", 1, why, sizeof why));
    ck_assert(pd_workpool_async_submit(p, 1, 3, "c", 1, why, sizeof why));
    ck_assert(pd_workpool_async_submit(p, 1, 4, "", 0, why, sizeof why));
    ck_assert_int_eq(pd_workpool_async_next_slot(p), -1);
    for (int i = 0; i < 100 && pd_workpool_async_pending(p) > 0; i++)
        ck_assert(pd_workpool_async_wait(p, 5000));
    ck_assert_int_eq(seen.answers, 4);
    ck_assert_int_eq(seen.lost, 0);
    ck_assert_int_eq(strncmp(seen.answer[1], "a@", 2), 0);
    ck_assert_int_eq(strncmp(seen.answer[4], "@", 1), 0); /* an empty request */
    /* 1 and 2 went to one process, 3 and 4 to another */
    ck_assert_str_eq(S_pid(seen.answer[1]), S_pid(seen.answer[2]));
    ck_assert_str_eq(S_pid(seen.answer[3]), S_pid(seen.answer[4]));
    ck_assert_str_ne(S_pid(seen.answer[1]), S_pid(seen.answer[3]));
    /* both have room again: the first slot first */
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 0);
    ck_assert(pd_workpool_async_submit(p, 1, 5, "e", 1, why, sizeof why));
    for (int i = 0; i < 100 && pd_workpool_async_pending(p) > 0; i++)
        ck_assert(pd_workpool_async_wait(p, 5000));
    ck_assert_str_eq(S_pid(seen.answer[5]), S_pid(seen.answer[3]));
    pd_workpool_async_close(p, NULL);
}
END_TEST

/* A worker that takes 0.6 s to stop once its channel closes. */
static void S_slow_stop(void *state)
{
    (void)state;
    struct timespec ts = {0, 600000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int S_slow_child(int fd, void *arg)
{
    pd_workpool_handler h = {S_start, S_handle, NULL, S_slow_stop, arg};
    return pd_workpool_worker_main(fd, &h);
}

static double S_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Closing the pool stops every worker at once: four workers that each take
   0.6 s to stop end in about 0.6 s, not 2.4 s (one after the other). The
   wait is a sleep, not work: a loaded machine does not lengthen it. */
START_TEST(workpool_async_close_stops_workers_in_parallel)
{
    S_seen seen = {0};
    pd_workpool_async_config c = {4, 1, 1 << 20, 4, S_slow_child, S_answer, S_lost, &seen};
    pd_workpool_async *p = pd_workpool_async_new(&c);
    char why[160];
    for (int i = 0; i < 4; i++)
        ck_assert(pd_workpool_async_submit(p, i, (uint64_t)i, "a", 1, why, sizeof why));
    for (int i = 0; i < 100 && pd_workpool_async_pending(p) > 0; i++)
        ck_assert(pd_workpool_async_wait(p, 5000));
    ck_assert_int_eq(seen.answers, 4);
    double t0 = S_seconds();
    pd_workpool_async_close(p, NULL);
    double took = S_seconds() - t0;
    ck_assert_msg(took >= 0.55 && took < 1.8, "closing 4 workers took %.2f s", took);
}
END_TEST

TCase *pd_test_workpool_tcase(void)
{
    TCase *tc = tcase_create("workpool");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, workpool_async_sends_to_the_chosen_worker);
    tcase_add_test(tc, workpool_async_close_stops_workers_in_parallel);
    return tc;
}
