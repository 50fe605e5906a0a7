/* subproc.h: a short-lived process given bytes and answering bytes, within
 * bounds; and image.c's SVGs drawn by such a process (image.h). */
#include <check.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "subproc.h"
#include "testdir.h"

TCase *pd_test_subproc_tcase(void);

static double S_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 MB through cat: more than a socket's buffers either way, so the
 * input must be written while the output is read */
START_TEST(subproc_gives_input_and_takes_output)
{
    size_t n = 1 << 20;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)(i * 7 + i / 251);
    char *argv[] = {"/bin/cat", NULL};
    strbuf out = STRBUF_INIT;
    ck_assert_int_eq(pd_subproc_run(argv, in, n, n, 10000, &out), PD_SUBPROC_OK);
    ck_assert_uint_eq(out.len, n);
    ck_assert(memcmp(out.data, in, n) == 0);
    /* no input: end of file at once */
    ck_assert_int_eq(pd_subproc_run(argv, NULL, 0, n, 10000, &out), PD_SUBPROC_OK);
    ck_assert_uint_eq(out.len, 0);
    strbuf_free(&out);
    free(in);
}
END_TEST

START_TEST(subproc_reports_failures_and_programs_not_run)
{
    strbuf out = STRBUF_INIT;
    char *fails[] = {"/bin/sh", "-c", "echo partial; exit 3", NULL};
    ck_assert_int_eq(pd_subproc_run(fails, "x", 1, 100, 10000, &out), PD_SUBPROC_FAILED);
    ck_assert_uint_eq(out.len, 0); /* nothing of a failed run is given */
    char *killed[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
    ck_assert_int_eq(pd_subproc_run(killed, NULL, 0, 100, 10000, &out), PD_SUBPROC_FAILED);
    char *missing[] = {"/nonexistent/pildoc", "draw-svg", "64", NULL};
    ck_assert_int_eq(pd_subproc_run(missing, "x", 1, 100, 10000, &out), PD_SUBPROC_NOT_RUN);
    /* a child that stops reading at once: the rest of the input is dropped,
       no SIGPIPE (this process would die of it) */
    char *deaf[] = {"/bin/sh", "-c", "exec 0<&-; echo done", NULL};
    char *big = calloc(1, 4 << 20);
    ck_assert_int_eq(pd_subproc_run(deaf, big, 4 << 20, 100, 10000, &out), PD_SUBPROC_OK);
    ck_assert_str_eq(strbuf_str(&out), "done\n");
    free(big);
    strbuf_free(&out);
}
END_TEST

START_TEST(subproc_bounds_time_and_size)
{
    strbuf out = STRBUF_INIT;
    char *slow[] = {"/bin/sh", "-c", "sleep 20", NULL};
    double t = S_secs();
    ck_assert_int_eq(pd_subproc_run(slow, NULL, 0, 100, 300, &out), PD_SUBPROC_TIMED_OUT);
    ck_assert(S_secs() - t < 5);
    /* its output closed, still running: the wait for its exit is bounded too */
    char *lingers[] = {"/bin/sh", "-c", "exec 1>&-; sleep 20", NULL};
    t = S_secs();
    ck_assert_int_eq(pd_subproc_run(lingers, NULL, 0, 100, 300, &out), PD_SUBPROC_TIMED_OUT);
    ck_assert(S_secs() - t < 5);
    char *chatty[] = {"/bin/sh", "-c", "head -c 100000 /dev/zero", NULL};
    ck_assert_int_eq(pd_subproc_run(chatty, NULL, 0, 1000, 10000, &out), PD_SUBPROC_TOO_LONG);
    ck_assert_uint_eq(out.len, 0);
    strbuf_free(&out);
}
END_TEST

/* a caller that ignores SIGPIPE (batch, serve) and blocks signals: the
 * child has SIGPIPE at its default, none blocked; SIGINT, which a batch
 * worker ignores, stays ignored */
START_TEST(subproc_child_starts_with_default_signals)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    void (*was)(int) = signal(SIGPIPE, SIG_IGN);
    void (*was_int)(int) = signal(SIGINT, SIG_IGN);
    char *argv[] = {"/bin/cat", "/proc/self/status", NULL};
    strbuf out = STRBUF_INIT;
    ck_assert_int_eq(pd_subproc_run(argv, NULL, 0, 1 << 20, 10000, &out), PD_SUBPROC_OK);
    const char *blk = strstr(strbuf_str(&out), "SigBlk:"),
               *ign = strstr(strbuf_str(&out), "SigIgn:");
    ck_assert(blk && ign);
    /* bit n - 1 is signal n (glibc keeps its own two, 32 and 33, as it likes) */
    ck_assert_uint_eq(strtoull(blk + 7, NULL, 16) & (1ull << (SIGTERM - 1)), 0);
    ck_assert_uint_eq(strtoull(ign + 7, NULL, 16) & (1ull << (SIGPIPE - 1)), 0);
    /* but what the caller ignores besides: a batch worker's Ctrl-C must not
       kill the child drawing for a job it finishes */
    ck_assert_uint_ne(strtoull(ign + 7, NULL, 16) & (1ull << (SIGINT - 1)), 0);
    signal(SIGINT, was_int);
    signal(SIGPIPE, was);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    strbuf_free(&out);
}
END_TEST

/* A drawing program written by the test: a shell script giving `answer`. */
static const char *S_drawer(const char *answer)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/drawer.sh", pd_test_dir("subproc"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\ncat > /dev/null\nprintf '%s'\n", answer);
    fclose(f);
    chmod(path, 0700);
    return path;
}

/* An SVG not in the cache folder (none here) is drawn by the named
 * program; its answers are checked; none that can be started: drawn here,
 * the same pixels */
START_TEST(image_svg_drawn_by_a_process_of_its_own)
{
    setenv("XDG_CACHE_HOME", "/proc/pildoc-no-cache-folder", 1);
    const char *svg = "templates/pictograms/no-driving.svg";
    pd_error err = {0};
    pd_image_set_svg_program(NULL);
    pd_image *here = pd_image_load(svg, "templates", 64, "car", "t", 1, &err);
    ck_assert_ptr_nonnull(here);
    /* pildoc's own draw-svg (built before the unit tests): the same pixels
       as drawn here, at two sizes */
    char exe[PATH_MAX];
    ck_assert_ptr_nonnull(realpath("pildoc", exe));
    int sizes[] = {64, 777};
    for (int i = 0; i < 2; i++) {
        pd_image_set_svg_program(NULL);
        pd_image *mine = pd_image_load(svg, "templates", sizes[i], "car", "t", 1, &err);
        pd_image_set_svg_program(exe);
        pd_image *child = pd_image_load(svg, "templates", sizes[i], "car", "t", 1, &err);
        ck_assert_ptr_nonnull(mine);
        ck_assert_ptr_nonnull(child);
        ck_assert_int_eq(child->width, mine->width);
        ck_assert_int_eq(child->height, mine->height);
        ck_assert(memcmp(child->digest, mine->digest, 32) == 0);
        ck_assert(memcmp(child->rgba, mine->rgba, (size_t)mine->width * mine->height * 4) == 0);
        pd_image_free(mine);
        pd_image_free(child);
    }
    /* a program that cannot be started: drawn here */
    pd_image_set_svg_program("/nonexistent/pildoc");
    pd_image *fallback = pd_image_load(svg, "templates", 64, "car", "t", 1, &err);
    ck_assert_ptr_nonnull(fallback);
    ck_assert(memcmp(fallback->digest, here->digest, 32) == 0);
    /* a failing one: the image's error, no crash */
    pd_image_set_svg_program("/bin/false");
    ck_assert_ptr_null(pd_image_load(svg, "templates", 64, "car", "t", 7, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "an SVG file that cannot be drawn"));
    ck_assert_ptr_nonnull(strstr(err.msg, "no-driving.svg"));
    /* its reasons, by number; anything else is not an answer */
    pd_error e2 = {0};
    pd_image_set_svg_program(S_drawer("E\\001"));
    ck_assert_ptr_null(pd_image_load(svg, "templates", 64, "car", "t", 1, &e2));
    ck_assert_ptr_nonnull(strstr(e2.msg, "without a size"));
    const char *bad[] = {"E\\011", "P\\0\\0\\0\\2\\0\\0\\0\\2abc", "P\\0\\0\\020\\001\\0\\0\\0\\1",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pd_error e3 = {0};
        pd_image_set_svg_program(S_drawer(bad[i]));
        ck_assert_ptr_null(pd_image_load(svg, "templates", 64, "car", "t", 1, &e3));
        ck_assert_ptr_nonnull(strstr(e3.msg, "cannot be drawn"));
    }
    /* a well-formed answer is taken as it is: 1 by 1, one opaque red pixel */
    pd_image_set_svg_program(S_drawer("P\\0\\0\\0\\1\\0\\0\\0\\1\\377\\0\\0\\377"));
    pd_image *red = pd_image_load(svg, "templates", 64, "car", "t", 1, &err);
    ck_assert_ptr_nonnull(red);
    ck_assert_int_eq(red->width, 1);
    ck_assert_int_eq(red->rgba[0], 255);
    ck_assert_int_eq(red->rgba[1], 0);
    pd_image_set_svg_program(NULL);
    pd_image_free(red);
    pd_image_free(fallback);
    pd_image_free(here);
    unsetenv("XDG_CACHE_HOME");
}
END_TEST

TCase *pd_test_subproc_tcase(void)
{
    TCase *tc = tcase_create("subproc");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, subproc_gives_input_and_takes_output);
    tcase_add_test(tc, subproc_reports_failures_and_programs_not_run);
    tcase_add_test(tc, subproc_bounds_time_and_size);
    tcase_add_test(tc, subproc_child_starts_with_default_signals);
    tcase_add_test(tc, image_svg_drawn_by_a_process_of_its_own);
    return tc;
}
