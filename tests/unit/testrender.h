/* A unit test's PDF of one job: rendered by r (with a second language
 * `also`, or NULL), the test failing with the renderer's error otherwise;
 * the bytes are given to out (the caller frees them). */
#ifndef PILDOC_TESTRENDER_H
#define PILDOC_TESTRENDER_H

#include <check.h>

#include "renderer.h"
#include "strbuf.h"

static inline void pd_test_render(pd_renderer *r, const pd_job *job, const char *also, strbuf *out)
{
    pd_error err = {0};
    pd_job_result res;
    bool ok = also ? pd_renderer_render_also(r, job, also, &res, &err)
                   : pd_renderer_render(r, job, &res, &err);
    ck_assert_msg(ok, "%s %s: %s", job->template_name, job->lang, err.msg);
    *out = res.bytes;
    res.bytes = (strbuf)STRBUF_INIT;
    pd_job_result_free(&res);
}

#endif
