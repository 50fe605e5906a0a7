#include "serve.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "formats.h"
#include "lang.h"
#include "layout.h"
#include "paths.h"
#include "strbuf.h"
#include "template.h"
#include "workpool.h"
#include "xmlsafe.h"

/* A request to a worker: template, lang, paper, large print ("1" or "0"), form ("1" or "0"), plain
 * ("1" or "0"), also (or ""), kind ("xml", "form" or
 * "none"), each NUL-terminated; then for "xml" the body, for "form" name
 * and value pairs, each NUL-terminated. The answer: status, field, message,
 * each NUL-terminated, then the PDF for status 200. */

/* --- JSON and small helpers ------------------------------------------------------- */

static double S_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void S_json_string(strbuf *out, const char *s)
{
    strbuf_append_char(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            strbuf_append_char(out, '\\');
            strbuf_append_char(out, (char)*p);
        } else if (*p < 0x20 || *p == 0x7f) {
            strbuf_printf(out, "\\u%04x", *p);
        } else {
            strbuf_append_char(out, (char)*p);
        }
    }
    strbuf_append_char(out, '"');
}

static void S_json_list(strbuf *out, const char *key, char *const *items)
{
    strbuf_append(out, "{");
    S_json_string(out, key);
    strbuf_append(out, ":[");
    for (size_t i = 0; items[i]; i++) {
        if (i)
            strbuf_append_char(out, ',');
        S_json_string(out, items[i]);
    }
    strbuf_append(out, "]}\n");
}

/* --- the worker ------------------------------------------------------------------ */

static void *S_worker_start(void *arg, char *why, size_t why_len)
{
    const pd_env *env = arg;
    pd_error err = {0};
    pd_renderer *r = pd_renderer_new(env, &err);
    if (!r) {
        snprintf(why, why_len, "%s", err.msg);
        return NULL;
    }
    /* load the fonts and the first template now, not during a request; a
       worker that cannot render reports it here, at start */
    char **names = pd_template_list(env->templates_dir);
    if (names[0]) {
        pd_values none;
        pd_values_init(&none);
        pd_job job = {.template_name = names[0],
                      .lang = "en",
                      .paper = pd_paper_find("a4"),
                      .values = &none,
                      .format = PD_FORMAT_TEXT,
                      .page = 1,
                      .dpi = 100};
        pd_job_result res;
        if (!pd_renderer_render(r, &job, &res, &err)) {
            snprintf(why, why_len, "%s", err.msg);
            pd_renderer_free(r);
            r = NULL;
        }
        pd_job_result_free(&res);
    }
    for (size_t i = 0; names[i]; i++)
        free(names[i]);
    free(names);
    return r;
}

static void S_worker_stop(void *state)
{
    pd_renderer_free(state);
}

static void S_answer(strbuf *out, int status, const char *field, const char *msg)
{
    strbuf_printf(out, "%d", status);
    strbuf_append_len(out, "", 1);
    strbuf_append_len(out, field ? field : "", strlen(field ? field : "") + 1);
    strbuf_append_len(out, msg ? msg : "", strlen(msg ? msg : "") + 1);
}

/* Next NUL-terminated field of [*p, end), or NULL. */
static const char *S_next_field(const char **p, const char *end)
{
    const char *nul = *p < end ? memchr(*p, '\0', (size_t)(end - *p)) : NULL;
    if (!nul)
        return NULL;
    const char *f = *p;
    *p = nul + 1;
    return f;
}

static void S_worker_handle(void *state, const char *req, size_t len, strbuf *out, void **later)
{
    (void)later; /* answers are made here: no finishing step */
    pd_renderer *r = state;
    const char *p = req, *end = req + len;
    const char *tpl = S_next_field(&p, end), *lang = S_next_field(&p, end);
    const char *paper = S_next_field(&p, end), *large = S_next_field(&p, end);
    const char *form = S_next_field(&p, end), *plain = S_next_field(&p, end);
    const char *also = S_next_field(&p, end);
    const char *kind = S_next_field(&p, end);
    if (!kind) {
        S_answer(out, 500, NULL, "internal: a short request to the worker");
        return;
    }
    pd_error err = {0};
    pd_values values;
    pd_values_init(&values);
    pd_job_result res = {0};
    const char *bad_field = NULL;
    if (strcmp(kind, "xml") == 0) {
        if (!pd_data_load_memory(p, (size_t)(end - p), "request body", pd_renderer_schema(r),
                                 &values, &err))
            bad_field = "body";
    } else if (strcmp(kind, "form") == 0) {
        /* a field given twice is two values for one line of the document:
           refused, as in a data file or a job file (never one of them silently) */
        GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
        const char *name, *value;
        while (!bad_field && (name = S_next_field(&p, end)) && (value = S_next_field(&p, end))) {
            const pd_var_def *def = pd_schema_find(pd_renderer_schema(r), name);
            if (!g_hash_table_add(seen, (gpointer)name)) {
                pd_error_set(&err, "form field", 0, "'%s' is given twice", name);
                bad_field = name;
            } else if (def && def->why_set) { /* computed: as in a data file */
                pd_error_set(&err, "form field", 0, "'%s' %s and cannot be set", name,
                             def->why_set);
                bad_field = name;
            } else if (!pd_values_set(&values, pd_renderer_schema(r), name, value, "form field", 0,
                                      &err)) {
                bad_field = name;
            }
        }
        g_hash_table_destroy(seen);
    }
    if (bad_field) {
        S_answer(out, 400, bad_field, err.msg);
        goto done;
    }
    pd_job job = {.template_name = tpl,
                  .lang = lang,
                  .paper = pd_paper_find(paper),
                  .strict = -1,
                  .values = &values,
                  .format = PD_FORMAT_PDF,
                  .page = 1,
                  .dpi = 100};
    job.large_print = strcmp(large, "1") == 0;
    job.form = strcmp(form, "1") == 0;
    job.plain = strcmp(plain, "1") == 0;
    if (!job.paper) {
        S_answer(out, 400, "paper", "unknown paper size (a4 or letter)");
        goto done;
    }
    if (*also) {
        /* bilingual: both languages strict, whatever the catalogs allow */
        if (!pd_renderer_render_also(r, &job, also, &res, &err)) {
            pd_job_result_free(&res);
            pd_error again = {0};
            /* the document renders in its first language alone: the
               second language is what is refused (an incomplete catalog) */
            if (pd_renderer_render(r, &job, &res, &again))
                S_answer(out, 422, "also", err.msg);
            else if (values.n)
                S_answer(out, 400, strcmp(kind, "xml") == 0 ? "body" : "form", err.msg);
            else
                S_answer(out, 500, NULL, err.msg);
            goto done;
        }
    } else if (!pd_renderer_render(r, &job, &res, &err)) {
        /* refused only because the template (a consent sheet) must not be
           half-translated? Then it renders when incomplete ones are allowed */
        pd_job_result_free(&res);
        pd_error again = {0};
        job.strict = 0;
        bool renders = pd_renderer_render(r, &job, &res, &again);
        /* refused only because the document has no line to sign on
           (form=1 for the leaflet)? */
        bool form_only = false;
        if (!renders && job.form) {
            pd_job_result_free(&res);
            job.form = 0;
            pd_error third = {0};
            form_only = pd_renderer_render(r, &job, &res, &third);
        }
        if (renders && res.warning)
            S_answer(out, 422, "lang", err.msg);
        else if (form_only)
            S_answer(out, 400, "form", err.msg);
        else if (values.n)
            S_answer(out, 400, strcmp(kind, "xml") == 0 ? "body" : "form", err.msg);
        else
            S_answer(out, 500, NULL, err.msg);
        goto done;
    }
    char pages[32];
    snprintf(pages, sizeof pages, "%zu", res.pages);
    S_answer(out, 200, NULL, pages);
    strbuf_append_len(out, res.bytes.data ? res.bytes.data : "", res.bytes.len);
done:
    pd_job_result_free(&res);
    pd_values_free(&values);
}

int pd_serve_worker_main(const pd_env *env)
{
    pd_workpool_handler h = {S_worker_start, S_worker_handle, NULL,
                             S_worker_stop,  (void *)env,     NULL};
    return pd_workpool_worker_main(PD_WORKPOOL_FD, &h);
}

/* --- the server ------------------------------------------------------------------ */

typedef struct S_options {
    const char *listen;
    int workers;
    size_t max_body;
    unsigned timeout; /* seconds: reading a request, and rendering it */
    unsigned max_connections;
    unsigned max_per_ip;     /* connections from one address at most (0: no limit) */
    unsigned header_timeout; /* seconds: the request line and headers, whole */
    size_t queue;
} S_options;

/* One open connection, from libmicrohttpd's notice that it started to the
 * one that it closed (the socket is closed after that notice). */
typedef struct S_conn {
    struct S_conn *prev, *next;
    MHD_socket fd;
    double waiting_since; /* waiting for a request's headers since then; 0: not waiting */
    bool cut;             /* shut down for taking too long over its headers */
} S_conn;

typedef struct S_server {
    S_options opt;
    pd_workpool *pool;
    char **templates;
    char **langs;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    size_t in_flight; /* requests begun and not yet completed */
    unsigned long counter;
    volatile sig_atomic_t stopping;
    S_conn *conns; /* under lock */
    pthread_t reaper;
    bool reaper_started;
    bool reaper_stop;      /* under lock */
    pthread_cond_t wakeup; /* stops the reaper */
} S_server;

typedef enum S_route { R_NONE, R_RENDER, R_HEALTH, R_TEMPLATES, R_LANGS } S_route;

typedef struct S_request {
    double started;
    char id[72];
    char method[16];
    char path[128]; /* for the log: printable, shortened */
    S_route route;
    bool responded;
    bool too_big; /* the body went over --max-body: the rest is dropped */
    int status;
    size_t bytes;
    /* render */
    const char *tpl; /* from srv->templates */
    char *lang;
    char *also; /* also=: a bilingual document's second language, or NULL */
    const char *paper;
    int large_print;
    int form;  /* form=1: a fillable form */
    int plain; /* plain=1: the smallest PDF, untagged, not PDF/A */
    enum { BODY_NONE, BODY_XML, BODY_FORM } kind;
    strbuf body;
} S_request;

static void S_log_path(char *out, size_t size, const char *url)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)url; *p && n + 4 < size; p++)
        out[n++] = (*p < 0x21 || *p >= 0x7f || *p == '"') ? '?' : (char)*p;
    if (strlen(url) > n && n + 4 >= size)
        memcpy(out + n, "...", 3), n += 3;
    out[n] = '\0';
}

/* A request id given by the proxy is kept when it is plain. */
static void S_request_id(S_server *srv, struct MHD_Connection *c, char *out, size_t size)
{
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (given && *given && strlen(given) < 64 &&
        strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") ==
            strlen(given)) {
        snprintf(out, size, "%s", given);
        return;
    }
    pthread_mutex_lock(&srv->lock);
    unsigned long n = ++srv->counter;
    pthread_mutex_unlock(&srv->lock);
    snprintf(out, size, "%lx-%lu", (unsigned long)getpid(), n);
}

static enum MHD_Result S_respond(struct MHD_Connection *c, S_request *rq, int status,
                                 const char *type, const char *data, size_t len,
                                 const char *disposition)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "X-Request-Id", rq->id);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (disposition)
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, "Allow", rq->route == R_RENDER ? "POST" : "GET");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE || status == MHD_HTTP_CONTENT_TOO_LARGE ||
        status == MHD_HTTP_REQUEST_TIMEOUT)
        MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    rq->responded = true;
    rq->status = status;
    rq->bytes = len;
    return ret;
}

static enum MHD_Result S_error(struct MHD_Connection *c, S_request *rq, int status,
                               const char *field, const char *msg)
{
    strbuf j = STRBUF_INIT;
    strbuf_append(&j, "{\"error\":");
    S_json_string(&j, msg);
    if (field) {
        strbuf_append(&j, ",\"field\":");
        S_json_string(&j, field);
    }
    strbuf_append(&j, "}\n");
    enum MHD_Result ret = S_respond(c, rq, status, "application/json", j.data, j.len, NULL);
    strbuf_free(&j);
    return ret;
}

static enum MHD_Result S_json(struct MHD_Connection *c, S_request *rq, int status, const strbuf *j)
{
    return S_respond(c, rq, status, "application/json", j->data, j->len, NULL);
}

static enum MHD_Result S_health(S_server *srv, struct MHD_Connection *c, S_request *rq)
{
    pd_workpool_worker_info info[PD_WORKPOOL_MAX_WORKERS];
    size_t n = pd_workpool_snapshot(srv->pool, info, PD_WORKPOOL_MAX_WORKERS), alive = 0;
    strbuf j = STRBUF_INIT;
    strbuf_append(&j, "{\"workers\":[");
    for (size_t i = 0; i < n; i++) {
        alive += strcmp(info[i].state, "idle") == 0 || strcmp(info[i].state, "busy") == 0;
        strbuf_printf(&j, "%s{\"pid\":%ld,\"state\":\"%s\",\"served\":%lu}", i ? "," : "",
                      (long)info[i].pid, info[i].state, info[i].served);
    }
    bool ok = alive == n && !srv->stopping;
    strbuf_printf(&j, "],\"alive\":%zu,\"status\":\"%s\"}\n", alive,
                  srv->stopping ? "stopping"
                  : ok          ? "ok"
                                : "degraded");
    enum MHD_Result ret = S_json(c, rq, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, &j);
    strbuf_free(&j);
    return ret;
}

typedef struct S_args {
    S_server *srv;
    S_request *rq;
    const char *bad_field;
    char why[1100];
} S_args;

static enum MHD_Result S_check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    S_args *a = cls;
    const char *v = value ? value : "";
    if (strcmp(key, "lang") == 0) {
        pd_error err = {0};
        free(a->rq->lang);
        a->rq->lang = lang_resolve(v, a->srv->langs, &err);
        if (!a->rq->lang) {
            a->bad_field = "lang";
            snprintf(a->why, sizeof a->why, "%s", err.msg);
        }
    } else if (strcmp(key, "also") == 0) {
        pd_error err = {0};
        free(a->rq->also);
        a->rq->also = lang_resolve(v, a->srv->langs, &err);
        if (!a->rq->also) {
            a->bad_field = "also";
            snprintf(a->why, sizeof a->why, "%s", err.msg);
        }
    } else if (strcmp(key, "paper") == 0) {
        const pd_paper *paper = pd_paper_find(v);
        if (!paper) {
            a->bad_field = "paper";
            snprintf(a->why, sizeof a->why, "unknown paper size (a4 or letter)");
        } else {
            a->rq->paper = strcasecmp(v, "letter") == 0 ? "letter" : "a4";
        }
    } else if (strcmp(key, "large_print") == 0) {
        a->rq->large_print = strcmp(v, "1") == 0;
        if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0) {
            a->bad_field = "large_print";
            snprintf(a->why, sizeof a->why, "large_print must be 1 or 0");
        }
    } else if (strcmp(key, "form") == 0) {
        a->rq->form = strcmp(v, "1") == 0;
        if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0) {
            a->bad_field = "form";
            snprintf(a->why, sizeof a->why, "form must be 1 (a fillable form) or 0");
        }
    } else if (strcmp(key, "plain") == 0) {
        a->rq->plain = strcmp(v, "1") == 0;
        if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0) {
            a->bad_field = "plain";
            snprintf(a->why, sizeof a->why, "plain must be 1 (the smallest PDF) or 0");
        }
    } else {
        a->bad_field = "query";
        snprintf(a->why, sizeof a->why,
                 "unknown parameter (lang, also, paper, large_print, form and plain are known)");
    }
    return a->bad_field ? MHD_NO : MHD_YES;
}

/* The media type of a Content-Type value, without parameters. */
static bool S_media_is(const char *content_type, const char *type)
{
    size_t n = strlen(type);
    if (strncasecmp(content_type, type, n) != 0)
        return false;
    const char *rest = content_type + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* The first call for a request: route it and check everything known from
 * the request line and the headers. */
static enum MHD_Result S_begin(S_server *srv, struct MHD_Connection *c, S_request *rq,
                               const char *url, const char *method)
{
    if (srv->stopping)
        return S_error(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "the server is shutting down");
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strncmp(url, "/render/", 8) == 0) {
        rq->route = R_RENDER;
        if (strcmp(method, "POST") != 0)
            return S_error(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "use POST to render");
        /* only names of the installed set: never a path */
        for (size_t i = 0; srv->templates[i] && !rq->tpl; i++)
            if (strcmp(srv->templates[i], url + 8) == 0)
                rq->tpl = srv->templates[i];
        if (!rq->tpl)
            return S_error(c, rq, MHD_HTTP_NOT_FOUND, "template",
                           "unknown template (GET /templates lists them)");
        S_args a = {srv, rq, NULL, ""};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, S_check_arg, &a);
        if (a.bad_field)
            return S_error(c, rq, MHD_HTTP_BAD_REQUEST, a.bad_field, a.why);
        if (!rq->lang)
            rq->lang = xstrdup("en");
        if (rq->also && strcmp(rq->also, rq->lang) == 0)
            return S_error(c, rq, MHD_HTTP_BAD_REQUEST, "also",
                           "also must differ from lang (the document's language already)");
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
        bool has_body = te || (cl && strtoull(cl, NULL, 10) > 0);
        if (ct && (S_media_is(ct, "application/xml") || S_media_is(ct, "text/xml")))
            rq->kind = BODY_XML;
        else if (ct && S_media_is(ct, "application/x-www-form-urlencoded"))
            rq->kind = BODY_FORM;
        else if (ct || has_body)
            return S_error(c, rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type",
                           "send application/xml (a data file) or "
                           "application/x-www-form-urlencoded (NAME=VALUE fields)");
        if (cl && strtoull(cl, NULL, 10) > srv->opt.max_body) {
            char why[120];
            snprintf(why, sizeof why, "the body is larger than the limit of %zu bytes",
                     srv->opt.max_body);
            return S_error(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "body", why);
        }
        return MHD_YES;
    }
    if (strcmp(url, "/health") == 0)
        rq->route = R_HEALTH;
    else if (strcmp(url, "/templates") == 0)
        rq->route = R_TEMPLATES;
    else if (strcmp(url, "/langs") == 0)
        rq->route = R_LANGS;
    else
        return S_error(c, rq, MHD_HTTP_NOT_FOUND, NULL,
                       "not found (POST /render/TEMPLATE, GET /health, /templates, /langs)");
    if (!get)
        return S_error(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, "use GET");
    if (rq->route == R_HEALTH)
        return S_health(srv, c, rq);
    strbuf j = STRBUF_INIT;
    if (rq->route == R_TEMPLATES)
        S_json_list(&j, "templates", srv->templates);
    else
        S_json_list(&j, "langs", srv->langs);
    enum MHD_Result ret = S_json(c, rq, MHD_HTTP_OK, &j);
    strbuf_free(&j);
    return ret;
}

/* Form fields, collected by libmicrohttpd's post processor. */
typedef struct S_form {
    strbuf names;   /* NUL-terminated names and values, alternating */
    char last[256]; /* the key being read (values may come in pieces) */
    bool open;      /* a value is being read */
    bool bad;
} S_form;

static enum MHD_Result S_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    S_form *f = cls;
    if ((size && memchr(data, '\0', size)) || strlen(key) >= sizeof f->last) {
        f->bad = true;
        return MHD_NO;
    }
    if (off == 0 || strcmp(f->last, key) != 0) {
        if (f->open)
            strbuf_append_len(&f->names, "", 1); /* ends the previous value */
        f->open = true;
        strbuf_append_len(&f->names, key, strlen(key) + 1);
        snprintf(f->last, sizeof f->last, "%s", key);
    }
    if (size)
        strbuf_append_len(&f->names, data, size);
    return MHD_YES;
}

static enum MHD_Result S_render(S_server *srv, struct MHD_Connection *c, S_request *rq)
{
    strbuf msg = STRBUF_INIT;
    const char *kind = rq->kind == BODY_XML ? "xml" : rq->kind == BODY_FORM ? "form" : "none";
    if (rq->kind == BODY_XML && rq->body.len == 0)
        kind = "none";
    const char *fields[8] = {rq->tpl,
                             rq->lang,
                             rq->paper ? rq->paper : "a4",
                             rq->large_print ? "1" : "0",
                             rq->form ? "1" : "0",
                             rq->plain ? "1" : "0",
                             rq->also ? rq->also : "",
                             kind};
    for (size_t i = 0; i < 8; i++)
        strbuf_append_len(&msg, fields[i], strlen(fields[i]) + 1);
    if (strcmp(kind, "xml") == 0) {
        strbuf_append_len(&msg, rq->body.data, rq->body.len);
    } else if (strcmp(kind, "form") == 0 && rq->body.len) {
        S_form f = {STRBUF_INIT, "", false, false};
        struct MHD_PostProcessor *pp = MHD_create_post_processor(c, 16384, S_form_field, &f);
        bool ok = pp && MHD_post_process(pp, rq->body.data, rq->body.len) == MHD_YES;
        if (pp && MHD_destroy_post_processor(pp) != MHD_YES)
            ok = false;
        if (f.open)
            strbuf_append_len(&f.names, "", 1);
        if (!ok || f.bad) {
            strbuf_free(&f.names);
            strbuf_free(&msg);
            return S_error(c, rq, MHD_HTTP_BAD_REQUEST, "body",
                           "the form fields cannot be read (NAME=VALUE pairs joined by &, "
                           "percent-encoded, no NUL)");
        }
        strbuf_append_len(&msg, f.names.data ? f.names.data : "", f.names.len);
        strbuf_free(&f.names);
    }
    strbuf answer = STRBUF_INIT;
    char why[512] = "";
    pd_workpool_status st =
        pd_workpool_call(srv->pool, msg.data, msg.len, srv->opt.timeout, &answer, why, sizeof why);
    strbuf_free(&msg);
    enum MHD_Result ret;
    if (st == PD_WORKPOOL_BUSY || st == PD_WORKPOOL_CLOSED) {
        ret = S_error(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, why);
    } else if (st != PD_WORKPOOL_OK) {
        fprintf(stderr, "pildoc serve: request %s: %s\n", rq->id, why);
        ret = S_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, why);
    } else {
        const char *p = answer.data ? answer.data : "", *end = p + answer.len;
        const char *status = S_next_field(&p, end), *field = S_next_field(&p, end);
        const char *text = S_next_field(&p, end);
        int code = status ? atoi(status) : 0;
        if (!text || code < 200 || code > 599) {
            ret = S_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
                          "internal: a malformed answer from the worker");
        } else if (code != 200) {
            ret = S_error(c, rq, code, *field ? field : NULL, text);
        } else {
            const pd_format_info *pdf = pd_format_of(PD_FORMAT_PDF);
            char disp[160];
            /* both parts come from the installed sets: safe as a file name */
            snprintf(disp, sizeof disp, "attachment; filename=\"%s-%s%s%s.%s\"", rq->tpl, rq->lang,
                     rq->also ? "+" : "", rq->also ? rq->also : "", pdf->extension);
            ret = S_respond(c, rq, MHD_HTTP_OK, pdf->mime, p, (size_t)(end - p), disp);
        }
    }
    strbuf_free(&answer);
    return ret;
}

/* --- slow headers ---------------------------------------------------------------
 * libmicrohttpd's --timeout is a silence limit: a client that sends its
 * headers a byte at a time keeps its connection for ever, and a few such
 * clients take every connection. Each connection is tracked from its start;
 * one still without a whole request line and headers --header-timeout
 * seconds after it opened (or after its previous answer) is shut down.
 * shutdown(), not close(): the socket stays libmicrohttpd's, which closes
 * it only after its closed notice has taken the connection off the list. */

static void S_notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                                enum MHD_ConnectionNotificationCode toe)
{
    S_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        S_conn *conn = xcalloc(1, sizeof *conn);
        conn->fd = fd ? fd->connect_fd : MHD_INVALID_SOCKET;
        conn->waiting_since = S_now();
        pthread_mutex_lock(&srv->lock);
        conn->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = conn;
        srv->conns = conn;
        pthread_mutex_unlock(&srv->lock);
        *socket_context = conn;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        S_conn *conn = *socket_context;
        pthread_mutex_lock(&srv->lock);
        if (conn->prev)
            conn->prev->next = conn->next;
        else
            srv->conns = conn->next;
        if (conn->next)
            conn->next->prev = conn->prev;
        pthread_mutex_unlock(&srv->lock);
        free(conn);
        *socket_context = NULL;
    }
}

/* Marks the connection of C as waiting for headers (since now) or not. */
static void S_conn_waiting(S_server *srv, struct MHD_Connection *c, bool waiting)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    S_conn *conn = info ? info->socket_context : NULL;
    if (!conn)
        return;
    pthread_mutex_lock(&srv->lock);
    conn->waiting_since = waiting ? S_now() : 0;
    pthread_mutex_unlock(&srv->lock);
}

static void *S_reaper(void *arg)
{
    S_server *srv = arg;
    pthread_mutex_lock(&srv->lock);
    while (!srv->reaper_stop) {
        double now = S_now();
        for (S_conn *conn = srv->conns; conn; conn = conn->next) {
            if (conn->cut || conn->waiting_since == 0 ||
                now - conn->waiting_since <= srv->opt.header_timeout ||
                conn->fd == MHD_INVALID_SOCKET)
                continue;
            shutdown(conn->fd, SHUT_RDWR);
            conn->cut = true;
            char when[32];
            time_t t = time(NULL);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            fprintf(stderr, "%s - - 408 0 %.1f ms (no whole request headers within %u s: closed)\n",
                    when, (now - conn->waiting_since) * 1000, srv->opt.header_timeout);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000L; /* a quarter of a second */
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->wakeup, &srv->lock, &until);
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

static enum MHD_Result S_handle(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    S_server *srv = cls;
    S_request *rq = *con_cls;
    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        rq->started = S_now();
        S_request_id(srv, c, rq->id, sizeof rq->id);
        snprintf(rq->method, sizeof rq->method, "%s", method);
        S_log_path(rq->path, sizeof rq->path, url);
        *con_cls = rq;
        S_conn_waiting(srv, c, false); /* the headers are in */
        pthread_mutex_lock(&srv->lock);
        srv->in_flight++;
        pthread_mutex_unlock(&srv->lock);
        return S_begin(srv, c, rq, url, method);
    }
    if (rq->responded) {
        /* answered early (413, 415 ...): the rest of the body is dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        /* libmicrohttpd cannot answer in the middle of a body: a slow
           client is cut off, a body over the limit is read to its end
           (within the time limit) and then answered 413 */
        if (S_now() - rq->started > srv->opt.timeout) {
            rq->status = MHD_HTTP_REQUEST_TIMEOUT;
            return MHD_NO;
        }
        if (rq->too_big || rq->body.len + n > srv->opt.max_body) {
            rq->too_big = true;
            strbuf_free(&rq->body);
            return MHD_YES;
        }
        strbuf_append_len(&rq->body, upload, n);
        return MHD_YES;
    }
    if (rq->too_big) {
        char why[120];
        snprintf(why, sizeof why, "the body is larger than the limit of %zu bytes",
                 srv->opt.max_body);
        return S_error(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "body", why);
    }
    return S_render(srv, c, rq);
}

static void S_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    S_server *srv = cls;
    S_request *rq = *con_cls;
    if (!rq)
        return;
    S_conn_waiting(srv, c, true); /* for the next request on a kept connection */
    double ms = (S_now() - rq->started) * 1000;
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* method, path (never the query), status, bytes, ms, id: no patient data */
    fprintf(stderr, "%s %s %s %d %zu %.1f ms id=%s%s\n", when, rq->method, rq->path, rq->status,
            rq->bytes, ms, rq->id,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK      ? ""
            : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? " (timed out)"
                                                            : " (connection closed)");
    free(rq->lang);
    free(rq->also);
    strbuf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
    pthread_mutex_lock(&srv->lock);
    srv->in_flight--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

static void S_usage(FILE *f)
{
    fputs("Usage: pildoc serve [--listen ADDR:PORT] [--workers N] [--max-body BYTES]\n"
          "                    [--timeout S] [--header-timeout S] [--max-connections N]\n"
          "                    [--max-per-ip N] [--queue N]\n"
          "\n"
          "Serves documents over HTTP: POST /render/TEMPLATE?lang=LL[&paper=letter] with\n"
          "a data XML body (application/xml, as --data) or form fields\n"
          "(application/x-www-form-urlencoded, as --set) answers the PDF; GET /health,\n"
          "/templates, /langs answer JSON.\n"
          "\n"
          "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8080; port 0: any free\n"
          "                       port, printed on stderr)\n"
          "  --workers N          rendering processes (default: the number of cores)\n"
          "  --max-body BYTES     largest request body (default 1048576)\n"
          "  --timeout S          longest time to read a request, and to render it (default 30)\n"
          "  --header-timeout S   longest time to send the request line and headers, whole\n"
          "                       (default 10; at most --timeout)\n"
          "  --max-connections N  open connections at most (default 64)\n"
          "  --max-per-ip N       open connections from one address at most (default 16;\n"
          "                       0: no limit, for a proxy on the same host)\n"
          "  --queue N            requests that may wait for a worker (default 32); more: 503\n"
          "\n"
          "SIGTERM or SIGINT stops accepting, finishes the requests in progress, exits 0.\n",
          f);
}

static bool S_number(const char *s, unsigned long long lo, unsigned long long hi,
                     unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/* "ADDR:PORT", "[V6]:PORT" or ":PORT" (all addresses) to a socket address. */
static struct addrinfo *S_address(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return NULL;
    char host[128];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return NULL;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *h = host;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res) != 0)
        return NULL;
    return res;
}

static void S_free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

int pd_serve_main(int argc, char **argv, const pd_env *env)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"max-body", required_argument, NULL, 'b'},
        {"timeout", required_argument, NULL, 't'},
        {"max-connections", required_argument, NULL, 'c'},
        {"header-timeout", required_argument, NULL, 'H'},
        {"max-per-ip", required_argument, NULL, 'p'},
        {"queue", required_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* one worker a core, at most the pool's limit (a 96-core machine) */
    int workers = cores < 1                         ? 1
                  : cores > PD_WORKPOOL_MAX_WORKERS ? PD_WORKPOOL_MAX_WORKERS
                                                    : (int)cores;
    S_options opt = {"127.0.0.1:8080", workers, (size_t)1024 * 1024, 30, 64, 16, 10, 32};
    bool header_timeout_given = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        unsigned long long v = 0;
        switch (c) {
        case 'l': opt.listen = optarg; break;
        case 'w':
            if (!S_number(optarg, 1, PD_WORKPOOL_MAX_WORKERS, &v)) {
                fprintf(stderr, "pildoc: --workers takes a number from 1 to %d\n",
                        PD_WORKPOOL_MAX_WORKERS);
                return PD_EXIT_USAGE;
            }
            opt.workers = (int)v;
            break;
        case 'b':
            if (!S_number(optarg, 1, XMLSAFE_MAX_BYTES, &v)) {
                fprintf(stderr, "pildoc: --max-body takes a number of bytes from 1 to %ld\n",
                        (long)XMLSAFE_MAX_BYTES);
                return PD_EXIT_USAGE;
            }
            opt.max_body = (size_t)v;
            break;
        case 't':
            if (!S_number(optarg, 1, 3600, &v)) {
                fputs("pildoc: --timeout takes seconds from 1 to 3600\n", stderr);
                return PD_EXIT_USAGE;
            }
            opt.timeout = (unsigned)v;
            break;
        case 'c':
            if (!S_number(optarg, 1, 10000, &v)) {
                fputs("pildoc: --max-connections takes a number from 1 to 10000\n", stderr);
                return PD_EXIT_USAGE;
            }
            opt.max_connections = (unsigned)v;
            break;
        case 'H':
            if (!S_number(optarg, 1, 3600, &v)) {
                fputs("pildoc: --header-timeout takes seconds from 1 to 3600\n", stderr);
                return PD_EXIT_USAGE;
            }
            opt.header_timeout = (unsigned)v;
            header_timeout_given = true;
            break;
        case 'p':
            if (!S_number(optarg, 0, 10000, &v)) {
                fputs("pildoc: --max-per-ip takes a number from 0 to 10000\n", stderr);
                return PD_EXIT_USAGE;
            }
            opt.max_per_ip = (unsigned)v;
            break;
        case 'q':
            if (!S_number(optarg, 0, 100000, &v)) {
                fputs("pildoc: --queue takes a number from 0 to 100000\n", stderr);
                return PD_EXIT_USAGE;
            }
            opt.queue = (size_t)v;
            break;
        case 'h': S_usage(stdout); return PD_EXIT_OK;
        default: fputs("Try 'pildoc serve --help'.\n", stderr); return PD_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs("pildoc: serve takes no other arguments\nTry 'pildoc serve --help'.\n", stderr);
        return PD_EXIT_USAGE;
    }
    if (opt.header_timeout > opt.timeout) {
        if (header_timeout_given) {
            fputs("pildoc: --header-timeout cannot be longer than --timeout\n", stderr);
            return PD_EXIT_USAGE;
        }
        opt.header_timeout = opt.timeout; /* a short --timeout bounds the headers too */
    }
    struct addrinfo *addr = S_address(opt.listen);
    if (!addr) {
        fprintf(stderr, "pildoc: --listen takes ADDR:PORT with a numeric address, e.g. "
                        "127.0.0.1:8080 or [::1]:8080\n");
        return PD_EXIT_USAGE;
    }

    /* SIGINT and SIGTERM are taken by sigwait below: blocked in every
       thread the server starts (workers unblock them before exec) */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    S_server srv;
    memset(&srv, 0, sizeof srv);
    srv.opt = opt;
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.idle, NULL);
    pthread_cond_init(&srv.wakeup, NULL);
    srv.templates = pd_template_list(env->templates_dir);
    srv.langs = lang_available(env->linguas);
    int status = PD_EXIT_INPUT;
    struct MHD_Daemon *d = NULL;

    char *exe = paths_self_exe(); /* in worker_argv, for the pool's life */
    if (!exe) {
        fprintf(stderr, "pildoc: cannot find the running program: %s\n", strerror(errno));
        goto done;
    }
    char *worker_argv[] = {exe, "serve-worker", NULL};
    pd_workpool_config pc = {opt.workers, opt.queue, (size_t)64 * 1024 * 1024, 60, worker_argv};
    pd_error err = {0};
    srv.pool = pd_workpool_new(&pc, &err);
    if (!srv.pool) {
        fprintf(stderr, "pildoc: the workers cannot start: %s\n", err.msg);
        goto done;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (addr->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    d = MHD_start_daemon(
        flags, 0, NULL, NULL, S_handle, &srv, MHD_OPTION_SOCK_ADDR, addr->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, opt.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        opt.max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, opt.timeout, MHD_OPTION_NOTIFY_COMPLETED,
        S_completed, &srv, MHD_OPTION_NOTIFY_CONNECTION, S_notify_connection, &srv, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "pildoc: cannot listen on %s: %s\n", opt.listen,
                errno ? strerror(errno) : "failed");
        goto done;
    }
    if (pthread_create(&srv.reaper, NULL, S_reaper, &srv) != 0) {
        fputs("pildoc: cannot start a thread\n", stderr);
        goto done;
    }
    srv.reaper_started = true;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[128] = "";
    getnameinfo(addr->ai_addr, addr->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST);
    fprintf(stderr, "pildoc serve: listening on %s%s%s:%u with %d workers\n",
            addr->ai_family == AF_INET6 ? "[" : "", host, addr->ai_family == AF_INET6 ? "]" : "",
            info ? (unsigned)info->port : 0, opt.workers);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    srv.stopping = 1;
    MHD_socket listen_fd = MHD_quiesce_daemon(d);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    pthread_mutex_lock(&srv.lock);
    fprintf(stderr, "pildoc serve: %s: no new connections, finishing %zu requests\n",
            strsignal(sig), srv.in_flight);
    /* in-flight requests end within their read and render limits */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2 * (time_t)opt.timeout + 5;
    while (srv.in_flight > 0)
        if (pthread_cond_timedwait(&srv.idle, &srv.lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&srv.lock);
    status = PD_EXIT_OK;
done:
    if (d)
        MHD_stop_daemon(d);
    if (srv.reaper_started) {
        pthread_mutex_lock(&srv.lock);
        srv.reaper_stop = true;
        pthread_cond_signal(&srv.wakeup);
        pthread_mutex_unlock(&srv.lock);
        pthread_join(srv.reaper, NULL);
    }
    pd_workpool_free(srv.pool);
    free(exe);
    freeaddrinfo(addr);
    S_free_list(srv.templates);
    lang_list_free(srv.langs);
    pthread_cond_destroy(&srv.idle);
    pthread_cond_destroy(&srv.wakeup);
    pthread_mutex_destroy(&srv.lock);
    if (status == PD_EXIT_OK)
        fputs("pildoc serve: stopped\n", stderr);
    return status;
}
