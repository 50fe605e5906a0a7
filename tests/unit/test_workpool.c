/* Unit tests of workpool's asynchronous pool (batch's): the caller picks
 * the worker of each request. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"
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
    pd_workpool_handler h = {S_start, S_handle, NULL, NULL, arg, NULL};
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
    pd_workpool_handler h = {S_start, S_handle, NULL, S_slow_stop, arg, NULL};
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

/* pd_workpool_async_limit: a worker is handed no more than the limit
   (those it holds stay), never more than the configured number. */
START_TEST(workpool_async_limit_lowers_requests_per_worker)
{
    S_seen seen = {0};
    pd_workpool_async_config c = {2, 3, 1 << 20, 4, S_child, S_answer, S_lost, &seen};
    pd_workpool_async *p = pd_workpool_async_new(&c);
    char why[160];
    ck_assert(pd_workpool_async_submit(p, 0, 1, "a", 1, why, sizeof why));
    ck_assert(pd_workpool_async_submit(p, 0, 2, "b", 1, why, sizeof why));
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 0); /* room for a third */
    pd_workpool_async_limit(p, 1);
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 1); /* the first holds 2 > 1 */
    ck_assert(pd_workpool_async_submit(p, 1, 3, "c", 1, why, sizeof why));
    ck_assert_int_eq(pd_workpool_async_next_slot(p), -1);
    for (int i = 0; i < 100 && pd_workpool_async_pending(p) > 0; i++)
        ck_assert(pd_workpool_async_wait(p, 5000));
    ck_assert_int_eq(seen.answers, 3);
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 0);
    ck_assert(pd_workpool_async_submit(p, 0, 4, "d", 1, why, sizeof why));
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 1);
    /* back above the configured number: 3 at most */
    pd_workpool_async_limit(p, 99);
    ck_assert(pd_workpool_async_submit(p, 0, 5, "e", 1, why, sizeof why));
    ck_assert(pd_workpool_async_submit(p, 0, 6, "f", 1, why, sizeof why));
    ck_assert_int_eq(pd_workpool_async_next_slot(p), 1);
    ck_assert(!pd_workpool_async_submit(p, 0, 7, "g", 1, why, sizeof why));
    for (int i = 0; i < 100 && pd_workpool_async_pending(p) > 0; i++)
        ck_assert(pd_workpool_async_wait(p, 5000));
    ck_assert_int_eq(seen.answers, 6);
    ck_assert_int_eq(seen.lost, 0);
    pd_workpool_async_close(p, NULL);
}
END_TEST

/* A worker whose answers are made later, by the writer thread (finish),
   each 50 ms long; prepare counts the answers it was given. Each answer
   says how many had been prepared when it was finished. */
static int S_prepared; /* in the worker process */

static void S_later_handle(void *state, const char *request, size_t len, strbuf *out, void **later)
{
    (void)state, (void)out;
    *later = xstrndup(request, len);
}

static void S_later_prepare(void *later)
{
    (void)later;
    __atomic_add_fetch(&S_prepared, 1, __ATOMIC_SEQ_CST);
}

static void S_later_finish(void *later, bool gone, strbuf *out)
{
    (void)gone;
    struct timespec ts = {0, 50000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    strbuf_printf(out, "%s@%d", (char *)later, __atomic_load_n(&S_prepared, __ATOMIC_SEQ_CST));
    free(later);
}

static int S_later_child(int fd, void *arg)
{
    pd_workpool_handler h = {S_start, S_later_handle, S_later_finish, NULL, arg, S_later_prepare};
    return pd_workpool_worker_main(fd, &h);
}

/* The writer thread prepares every answer waiting before it finishes the
   first of them: while the first (50 ms) is finished, the next three
   arrive, and are prepared before the second is finished. */
START_TEST(workpool_writer_prepares_every_answer_waiting)
{
    S_seen seen = {0};
    pd_workpool_async_config c = {1, 4, 1 << 20, 4, S_later_child, S_answer, S_lost, &seen};
    pd_workpool_async *p = pd_workpool_async_new(&c);
    char why[160];
    for (uint64_t tag = 1; tag <= 4; tag++)
        ck_assert(pd_workpool_async_submit(p, 0, tag, "x", 1, why, sizeof why));
    for (int i = 0; i < 100 && pd_workpool_async_pending(p) > 0; i++)
        ck_assert(pd_workpool_async_wait(p, 5000));
    ck_assert_int_eq(seen.answers, 4);
    /* each finished after its own prepare, and at least one after a later
       answer's: the first finish (50 ms) is still running when the
       other three wait, so they are prepared together */
    bool ahead = false;
    for (int tag = 1; tag <= 4; tag++) {
        int prepared = atoi(strchr(seen.answer[tag], '@') + 1);
        ck_assert_msg(prepared >= tag, "answer %d: %s", tag, seen.answer[tag]);
        ahead |= prepared > tag;
    }
    ck_assert_msg(ahead, "no answer was prepared before an earlier one was finished");
    pd_workpool_async_close(p, NULL);
}
END_TEST

TCase *pd_test_workpool_tcase(void)
{
    TCase *tc = tcase_create("workpool");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, workpool_async_sends_to_the_chosen_worker);
    tcase_add_test(tc, workpool_async_close_stops_workers_in_parallel);
    tcase_add_test(tc, workpool_async_limit_lowers_requests_per_worker);
    tcase_add_test(tc, workpool_writer_prepares_every_answer_waiting);
    return tc;
}
