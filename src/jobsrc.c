#include "jobsrc.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/xmlreader.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

#define CSV_CHUNK 65536
/* One CSV record at most (the batch hands no larger job to a worker): a
   quote never closed in a big or endless job file must not take all the
   memory before the end of the file says so. */
#define CSV_MAX_RECORD ((size_t)64 * 1024 * 1024)
/* Start tags read for one XML job at most: its <data> is bounded like a
   --data file (XMLSAFE_MAX_ELEMENTS), plus the reader's look-ahead. A job
   is expanded into a tree whole, about 30 times its size in memory. */
#define XML_MAX_JOB_TAGS (XMLSAFE_MAX_ELEMENTS + 4096)

typedef struct S_row {
    char **cells;
    size_t n;
    long line;       /* the physical line the record starts on */
    size_t nul_cell; /* 1-based column of a cell holding a NUL byte, or 0 */
} S_row;

struct pd_jobsrc {
    const pd_schema *schema;
    char *path;     /* as displayed */
    char *dir;      /* for data="FILE" */
    char *real_dir; /* the job file's folder, resolved: data files stay below it */
    size_t count;
    /* XML */
    xmlTextReaderPtr reader;
    /* CSV */
    struct csv_parser csv;
    S_row cur;   /* the row being parsed */
    S_row *rows; /* complete rows not yet handed out */
    size_t n_rows, first_row;
    S_row header;
    long line;        /* physical line being fed to the parser */
    long row_line;    /* where the record being parsed started */
    size_t row_bytes; /* bytes of that record fed so far */
    pd_error broken;  /* the file cannot be read on; reported after the rows before it */
    int fd;
    bool positioned; /* XML: the reader already stands on the next node */
    size_t tags;     /* XML: start tags read since the last job was handed out */
    bool lt;         /* XML: the last byte read was '<' */
    bool too_big;    /* XML: a job went over XML_MAX_JOB_TAGS */
    bool csv_open;
    bool have_header, eof, started;
    bool in_row; /* a record has started and not yet ended */
};

static void S_row_free(S_row *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->cells[i]);
    free(r->cells);
    r->cells = NULL;
    r->n = 0;
}

void pd_jobspec_clear(pd_jobspec *job)
{
    free(job->template_name);
    free(job->lang);
    free(job->output);
    free(job->data_file);
    free(job->clinic);
    free(job->clinic_name);
    free(job->also);
    free(job->id);
    free(job->error);
    pd_values_free(&job->values);
    memset(job, 0, sizeof *job);
}

static void S_cb_field(void *s, size_t len, void *data)
{
    pd_jobsrc *src = data;
    src->cur.cells = xrealloc(src->cur.cells, (src->cur.n + 1) * sizeof *src->cur.cells);
    if (s && memchr(s, '\0', len) && !src->cur.nul_cell)
        src->cur.nul_cell = src->cur.n + 1;
    src->cur.cells[src->cur.n++] = xstrndup(s ? s : "", s ? len : 0);
}

static void S_cb_row(int c, void *data)
{
    (void)c;
    pd_jobsrc *src = data;
    src->cur.line = src->in_row ? src->row_line : src->line;
    src->in_row = false;
    src->rows = xrealloc(src->rows, (src->n_rows + 1) * sizeof *src->rows);
    src->rows[src->n_rows++] = src->cur;
    memset(&src->cur, 0, sizeof src->cur);
}

/* Opens the job file for reading: a regular file, or a pipe (a FIFO,
 * `<(command)`) read as a stream; a folder or a device is refused at once
 * instead of reading as an empty job file or blocking. */
static int S_open_jobs(const char *path, const char *shown, pd_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        pd_error_set(err, shown, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        pd_error_set(err, shown, 0, "is a folder, not a job file");
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        pd_error_set(err, shown, 0, "not a regular file");
        return -1;
    }
    /* a FIFO is opened blocking: its writer is the one giving the jobs */
    int fd = open(path, O_RDONLY | O_CLOEXEC | (S_ISREG(st.st_mode) ? O_NONBLOCK : 0));
    if (fd < 0) {
        pd_error_set(err, shown, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))) {
        close(fd);
        pd_error_set(err, shown, 0, "not a regular file");
        return -1;
    }
    if (S_ISREG(st.st_mode))
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* libxml2's reader reads the job file through here: start tags are
 * counted on the way, and reading stops when one job holds too many. */
static int S_xml_read(void *ctx, char *buf, int len)
{
    pd_jobsrc *src = ctx;
    ssize_t got;
    do
        got = read(src->fd, buf, (size_t)len);
    while (got < 0 && errno == EINTR);
    for (ssize_t i = 0; i < got; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (src->lt &&
            (b == '_' || b == ':' || b >= 0x80 || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z')))
            src->tags++;
        src->lt = b == '<';
    }
    if (src->tags > XML_MAX_JOB_TAGS) {
        src->too_big = true;
        return -1;
    }
    return got < 0 ? -1 : (int)got;
}

static int S_xml_close(void *ctx)
{
    (void)ctx; /* the fd is closed with the source */
    return 0;
}

pd_jobsrc *pd_jobsrc_open(const char *path, const pd_schema *schema, pd_error *err)
{
    pd_jobsrc *src = xcalloc(1, sizeof *src);
    src->schema = schema;
    src->fd = -1;
    src->path = paths_display(path);
    src->dir = paths_dirname(src->path);
    src->real_dir = realpath(src->dir, NULL);
    src->fd = S_open_jobs(path, src->path, err);
    if (src->fd < 0 || !src->real_dir) {
        pd_error_set(err, src->path, 0, "cannot open: %s", strerror(errno));
        pd_jobsrc_close(src);
        return NULL;
    }
    if (paths_has_suffix(path, ".csv") || paths_has_suffix(path, ".CSV")) {
        csv_init(&src->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
        /* libcsv grows a field by this much at a time (128 bytes by
           default: a 64 MB field would be half a million reallocs, each a
           copy where realloc cannot remap) */
        csv_set_blk_size(&src->csv, (size_t)1024 * 1024);
        src->csv_open = true;
        src->line = 1;
        return src;
    }
    src->reader = xmlReaderForIO(S_xml_read, S_xml_close, src, src->path, "UTF-8",
                                 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!src->reader) {
        pd_error_set(err, src->path, 0, "cannot open");
        pd_jobsrc_close(src);
        return NULL;
    }
    return src;
}

void pd_jobsrc_close(pd_jobsrc *src)
{
    if (!src)
        return;
    if (src->reader)
        xmlFreeTextReader(src->reader);
    if (src->csv_open)
        csv_free(&src->csv);
    if (src->fd >= 0)
        close(src->fd);
    S_row_free(&src->cur);
    for (size_t i = src->first_row; i < src->n_rows; i++)
        S_row_free(&src->rows[i]);
    free(src->rows);
    S_row_free(&src->header);
    free(src->path);
    free(src->dir);
    free(src->real_dir);
    free(src);
}

/* Sets the job's error (the first one wins) as "file:line: what": the
 * job's place in the job file. file NULL when `what` names its own. */
static void S_job_error(pd_jobspec *job, const char *file, long line, const char *what,
                        const char *name)
{
    if (job->error)
        return;
    strbuf sb = STRBUF_INIT;
    if (file && line > 0)
        strbuf_printf(&sb, "%s:%ld: ", file, line);
    else if (file)
        strbuf_printf(&sb, "%s: ", file);
    strbuf_append(&sb, what);
    if (name)
        strbuf_printf(&sb, " <%s>", name);
    job->error = strbuf_take(&sb);
}

/* A job names a template of the installed set, never a file: a template
 * path is the operator's, on the command line. */
static void S_check_template(pd_jobsrc *src, pd_jobspec *job, long line)
{
    if (job->error || !job->template_name || !*job->template_name)
        return;
    for (const char *p = job->template_name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
            S_job_error(job, src->path, line,
                        "template must be the name of an installed template, not a path", NULL);
            return;
        }
}

/* data="FILE" and clinic="FILE.xml" are read from the job file's folder or
 * below it: no absolute path, no "..", no symbolic link leading out of it.
 * Returns the path (the caller owns it), or NULL after setting the job's
 * error. what: "a data file", "a clinic profile". */
static char *S_confined(pd_jobsrc *src, pd_jobspec *job, long line, const char *rel,
                        const char *what)
{
    char msg[160];
    if (rel[0] == '/') {
        snprintf(msg, sizeof msg, "%s must be relative to the job file's folder, not absolute",
                 what);
        S_job_error(job, src->path, line, msg, NULL);
        return NULL;
    }
    for (const char *p = rel; p; p = strchr(p, '/')) {
        if (*p == '/')
            p++;
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0')) {
            snprintf(msg, sizeof msg, "%s must be inside the job file's folder (no ..)", what);
            S_job_error(job, src->path, line, msg, NULL);
            return NULL;
        }
    }
    char *path = paths_join(src->dir, rel);
    char *real = realpath(path, NULL);
    if (!real) {
        snprintf(msg, sizeof msg, "%s '%s' cannot be opened: %s", what, rel, strerror(errno));
        free(path);
        S_job_error(job, src->path, line, msg, NULL);
        return NULL;
    }
    free(path);
    size_t dl = strlen(src->real_dir);
    bool inside = strncmp(real, src->real_dir, dl) == 0 &&
                  (real[dl] == '/' || (dl == 1 && src->real_dir[0] == '/'));
    /* the checked real path goes to the worker, which opens it following
       no link: one swapped in since this check is refused, not followed */
    if (inside)
        return real;
    free(real);
    snprintf(msg, sizeof msg, "%s must be inside the job file's folder (a link leads out)", what);
    S_job_error(job, src->path, line, msg, NULL);
    return NULL;
}

static void S_set_data_file(pd_jobsrc *src, pd_jobspec *job, long line, const char *rel)
{
    job->data_file = S_confined(src, job, line, rel, "a data file");
}

/* clinic=: the name of an installed profile ("paris": templates/clinics/
 * paris.xml, found by the caller), or a profile file ending in .xml in the
 * job file's folder, confined like a data file. */
static void S_set_clinic(pd_jobsrc *src, pd_jobspec *job, long line, const char *value)
{
    size_t len = strlen(value);
    if (len > 4 && strcmp(value + len - 4, ".xml") == 0) {
        job->clinic = S_confined(src, job, line, value, "a clinic profile");
        return;
    }
    for (const char *p = value; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
            S_job_error(job, src->path, line,
                        "clinic must be the name of an installed clinic profile or a .xml file "
                        "in the job file's folder",
                        NULL);
            return;
        }
    job->clinic_name = xstrdup(value);
}

/* large_print: 1 or 0 (an empty CSV cell, no XML attribute: 0) */
static void S_set_large_print(pd_jobsrc *src, pd_jobspec *job, long line, const char *value)
{
    if (strcmp(value, "1") == 0 || strcmp(value, "0") == 0 || !*value)
        job->large_print = strcmp(value, "1") == 0;
    else
        S_job_error(job, src->path, line, "large_print must be 1 or 0", NULL);
}

/* also: the second language of a bilingual document (an empty cell: none).
 * Only its spelling is checked here; the renderer resolves it and refuses
 * an unknown language or the job's own, as `pildoc render --also` does. */
static void S_set_also(pd_jobsrc *src, pd_jobspec *job, long line, const char *value)
{
    if (!*value)
        return;
    if (strlen(value) > 32 ||
        strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@") !=
            strlen(value)) {
        S_job_error(job, src->path, line, "also must be a language code such as fr or zh_CN", NULL);
        return;
    }
    job->also = xstrdup(value);
}

/* --- XML ---------------------------------------------------------------- */

static char *S_attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    char *s = v ? xstrdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

/* A yes/no column: yes or 1 sets *flag, no, 0 or empty leaves it; anything
 * else fails the job with "NAME must be yes or no (1 or 0), not VALUE". */
static void S_set_yes_no(pd_jobsrc *src, pd_jobspec *job, long line, const char *name,
                         const char *value, int *flag)
{
    if (!strcmp(value, "1") || !strcmp(value, "yes")) {
        *flag = 1;
    } else if (*value && strcmp(value, "0") != 0 && strcmp(value, "no") != 0) {
        char what[64];
        snprintf(what, sizeof what, "%s must be yes or no (1 or 0), not", name);
        S_job_error(job, src->path, line, what, value);
    }
}

/* form=: a fillable form */
static void S_set_form(pd_jobsrc *src, pd_jobspec *job, long line, const char *value)
{
    S_set_yes_no(src, job, line, "form", value, &job->form);
}

/* plain=: the smallest PDF (untagged, not PDF/A) */
static void S_set_plain(pd_jobsrc *src, pd_jobspec *job, long line, const char *value)
{
    S_set_yes_no(src, job, line, "plain", value, &job->plain);
}

/* The per-job options a CSV column or an XML attribute of the same name
 * gives, in the order they are read. */
typedef struct S_job_option_def {
    const char *name;
    void (*set)(pd_jobsrc *src, pd_jobspec *job, long line, const char *value);
} S_job_option_def;
static const S_job_option_def S_job_options[] = {
    {"large_print", S_set_large_print},
    {"form", S_set_form},
    {"plain", S_set_plain},
    {"also", S_set_also},
};

static const S_job_option_def *S_job_option(const char *name)
{
    for (size_t i = 0; i < sizeof S_job_options / sizeof *S_job_options; i++)
        if (strcmp(S_job_options[i].name, name) == 0)
            return &S_job_options[i];
    return NULL;
}

/* The element child of n called name, or NULL. */
static xmlNodePtr S_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
            return c;
    return NULL;
}

/* <data><patient><id> of a job whose values were not read (it failed
 * before): the id alone, so that the error still names the job by it. */
static char *S_xml_raw_id(xmlNodePtr job)
{
    xmlNodePtr id = S_child(S_child(S_child(job, "data"), "patient"), "id");
    xmlChar *text = id ? xmlNodeGetContent(id) : NULL;
    char *out = text && *text ? xstrdup((const char *)text) : NULL;
    xmlFree(text);
    return out;
}

static void S_xml_job(pd_jobsrc *src, xmlNodePtr n, pd_jobspec *job)
{
    long line = xmlGetLineNo(n);
    job->template_name = S_attr(n, "template");
    job->lang = S_attr(n, "lang");
    job->output = S_attr(n, "output");
    if (!job->template_name || !job->output)
        S_job_error(job, src->path, line, "a job needs template and output attributes", NULL);
    if (!job->lang)
        job->lang = xstrdup("en");
    S_check_template(src, job, line);
    char *data = S_attr(n, "data");
    if (data && !job->error)
        S_set_data_file(src, job, line, data);
    bool have_data = data != NULL;
    free(data);
    char *clinic = S_attr(n, "clinic");
    if (clinic && *clinic && !job->error)
        S_set_clinic(src, job, line, clinic);
    free(clinic);
    for (size_t i = 0; i < sizeof S_job_options / sizeof *S_job_options; i++) {
        char *value = S_attr(n, S_job_options[i].name);
        if (value && !job->error)
            S_job_options[i].set(src, job, line, value);
        free(value);
    }
    for (xmlNodePtr c = n->children; c && !job->error; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!xmlStrEqual(c->name, BAD_CAST "data")) {
            S_job_error(job, src->path, xmlGetLineNo(c), "a job holds only <data>, not",
                        (const char *)c->name);
            break;
        }
        if (have_data) {
            /* two sources of values would silently override each other */
            S_job_error(job, src->path, xmlGetLineNo(c),
                        "a job takes one source of values: one <data>, or a data attribute", NULL);
            break;
        }
        have_data = true;
        pd_error e = {0};
        if (!pd_data_from_node(c, src->path, src->schema, &job->values, &e))
            S_job_error(job, NULL, 0, e.msg, NULL);
    }
}

static int S_xml_next(pd_jobsrc *src, pd_jobspec *job, pd_error *err)
{
    for (;;) {
        /* after skipping a job's subtree the reader already stands on the
           node that follows it: with no white space between jobs, that is
           the next <job>, which a further read would step into */
        int rc = src->positioned ? 1 : xmlTextReaderRead(src->reader);
        src->positioned = false;
        if (rc == 0)
            return 0;
        if (rc < 0 && src->too_big) {
            pd_error_set(err, src->path, xmlTextReaderGetParserLineNumber(src->reader),
                         "a job of more than %d elements (a --data file holds at most that)",
                         XMLSAFE_MAX_ELEMENTS);
            return -1;
        }
        if (rc < 0) {
            const xmlError *e = xmlGetLastError();
            if (e && e->code == XML_ERR_NO_MEMORY) {
                pd_error_set(err, src->path, 0, "out of memory while reading it");
                return -1;
            }
            pd_error_set(err, src->path,
                         e && e->line > 0 ? e->line : xmlTextReaderGetParserLineNumber(src->reader),
                         "malformed XML%s%s", e && e->message ? ": " : "",
                         e && e->message ? e->message : "");
            /* drop libxml2's trailing newline */
            size_t l = strlen(err->msg);
            while (l && (err->msg[l - 1] == '\n' || err->msg[l - 1] == ' '))
                err->msg[--l] = '\0';
            return -1;
        }
        int type = xmlTextReaderNodeType(src->reader);
        int depth = xmlTextReaderDepth(src->reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            pd_error_set(err, src->path, xmlTextReaderGetParserLineNumber(src->reader),
                         "a DOCTYPE is not allowed");
            return -1;
        }
        if (type != XML_READER_TYPE_ELEMENT)
            continue;
        const char *name = (const char *)xmlTextReaderConstName(src->reader);
        if (depth == 0) {
            if (strcmp(name, "batch") != 0) {
                pd_error_set(err, src->path, xmlTextReaderGetParserLineNumber(src->reader),
                             "the root element must be <batch>, not <%s>", name);
                return -1;
            }
            continue;
        }
        if (depth != 1)
            continue;
        memset(job, 0, sizeof *job);
        pd_values_init(&job->values);
        job->number = ++src->count;
        long job_line = xmlTextReaderGetParserLineNumber(src->reader);
        xmlNodePtr n = xmlTextReaderExpand(src->reader);
        if (!n && src->too_big) {
            pd_error_set(err, src->path, job_line,
                         "job %zu holds more than %d elements (a --data file holds at most "
                         "that)",
                         job->number, XMLSAFE_MAX_ELEMENTS);
            pd_jobspec_clear(job);
            return -1;
        }
        if (!n) {
            pd_error_set(err, src->path, xmlTextReaderGetParserLineNumber(src->reader),
                         "malformed XML in job %zu", job->number);
            pd_jobspec_clear(job);
            return -1;
        }
        if (strcmp(name, "job") != 0)
            S_job_error(job, src->path, xmlGetLineNo(n), "a <batch> holds only <job> elements, not",
                        name);
        else
            S_xml_job(src, n, job);
        const char *id = pd_values_get(&job->values, "patient.id");
        if (id)
            job->id = xstrdup(id);
        else if (job->error)
            job->id = S_xml_raw_id(n);
        /* skip the subtree: the reader frees what it expanded */
        src->positioned = xmlTextReaderNext(src->reader) == 1;
        src->tags = 0;
        return 1;
    }
}

/* --- CSV ---------------------------------------------------------------- */

/* Feeds the parser one physical line at a time so that every record knows
 * the line it starts on. */
static bool S_csv_feed(pd_jobsrc *src, const char *buf, size_t len)
{
    while (len) {
        const char *nl = memchr(buf, '\n', len);
        size_t seg = nl ? (size_t)(nl - buf) + 1 : len;
        if (!src->in_row)
            for (size_t i = 0; i < seg; i++)
                if (buf[i] != '\r' && buf[i] != '\n') {
                    src->in_row = true;
                    src->row_line = src->line;
                    src->row_bytes = 0;
                    break;
                }
        if (src->in_row && (src->row_bytes += seg) > CSV_MAX_RECORD) {
            pd_error_set(&src->broken, src->path, src->row_line,
                         "malformed CSV: a record longer than 64 MB (a quoted field never "
                         "closed?)");
            return false;
        }
        if (csv_parse(&src->csv, buf, seg, S_cb_field, S_cb_row, src) != seg) {
            pd_error_set(&src->broken, src->path, src->line, "malformed CSV: %s",
                         csv_error(&src->csv) == CSV_EPARSE
                             ? "a quote inside a field that is not quoted, or text after a "
                               "closing quote"
                             : csv_strerror(csv_error(&src->csv)));
            return false;
        }
        if (nl)
            src->line++;
        buf += seg;
        len -= seg;
    }
    return true;
}

/* Reads on until a complete row is waiting, the file ends or it cannot be
 * read on (src->broken, reported once the rows before it are handed out). */
static void S_csv_fill(pd_jobsrc *src)
{
    char buf[CSV_CHUNK];
    while (src->first_row == src->n_rows && !src->eof) {
        /* rows handed out: reuse the array */
        free(src->rows);
        src->rows = NULL;
        src->n_rows = src->first_row = 0;
        ssize_t got;
        do
            got = read(src->fd, buf, sizeof buf);
        while (got < 0 && errno == EINTR);
        if (got < 0) {
            pd_error_set(&src->broken, src->path, src->line, "read error: %s", strerror(errno));
            src->eof = true;
            break;
        }
        if (got == 0) {
            src->eof = true;
            if (csv_fini(&src->csv, S_cb_field, S_cb_row, src) != 0)
                pd_error_set(&src->broken, src->path, src->row_line,
                             "malformed CSV: a quoted field is never closed");
            break;
        }
        const char *p = buf;
        size_t len = (size_t)got;
        if (!src->started) {
            src->started = true;
            /* Excel's "CSV UTF-8" starts with a byte-order mark */
            if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
                p += 3;
                len -= 3;
            }
        }
        if (!S_csv_feed(src, p, len))
            src->eof = true;
    }
}

static bool S_valid_column(const char *c)
{
    if (!*c)
        return false;
    for (; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
            return false;
    return true;
}

static bool S_csv_header(pd_jobsrc *src, const S_row *row, pd_error *err)
{
    static const char *const want[] = {"template", "lang", "output"};
    for (size_t i = 0; i < 3; i++)
        if (row->n <= i || strcmp(row->cells[i], want[i]) != 0)
            return pd_error_set(err, src->path, row->line,
                                "the header row must start with template,lang,output");
    for (size_t i = 3; i < row->n; i++) {
        const char *col = row->cells[i];
        if (!S_valid_column(col))
            return pd_error_set(err, src->path, row->line,
                                "column %zu of the header is not a variable name", i + 1);
        for (size_t k = 0; k < i; k++)
            if (strcmp(row->cells[k], col) == 0)
                return pd_error_set(err, src->path, row->line,
                                    "column '%s' appears twice in the header", col);
        if (strcmp(col, "data") == 0 || strcmp(col, "clinic") == 0 || S_job_option(col))
            continue;
        const pd_var_def *def = pd_schema_find(src->schema, col);
        if (!def)
            return pd_error_set(err, src->path, row->line, "unknown variable '%s' (not in %s)", col,
                                src->schema->file);
        if (def->from)
            return pd_error_set(err, src->path, row->line, "'%s' %s and cannot be set", col,
                                def->why_set);
    }
    return true;
}

static void S_csv_job(pd_jobsrc *src, const S_row *row, pd_jobspec *job)
{
    /* template, lang and output first: a failing job is named by its output */
    if (row->n > 0)
        job->template_name = xstrdup(row->cells[0]);
    job->lang = xstrdup(row->n > 1 && *row->cells[1] ? row->cells[1] : "en");
    if (row->n > 2 && *row->cells[2])
        job->output = xstrdup(row->cells[2]);
    strbuf sb = STRBUF_INIT;
    if (row->n != src->header.n)
        strbuf_printf(&sb, "%s:%ld: the record has %zu fields; the header has %zu", src->path,
                      row->line, row->n, src->header.n);
    else if (row->nul_cell)
        strbuf_printf(&sb, "%s:%ld: the field of '%s' holds a NUL byte", src->path, row->line,
                      src->header.cells[row->nul_cell - 1]);
    if (sb.len) {
        job->error = strbuf_take(&sb);
        return;
    }
    strbuf_free(&sb);
    if (!job->template_name || !*job->template_name || !job->output) {
        S_job_error(job, src->path, row->line, "a job needs a template and an output", NULL);
        return;
    }
    S_check_template(src, job, row->line);
    for (size_t i = 3; i < row->n && !job->error; i++) {
        const char *col = src->header.cells[i], *cell = row->cells[i];
        const S_job_option_def *option;
        if (strcmp(col, "data") == 0) {
            if (*cell)
                S_set_data_file(src, job, row->line, cell);
        } else if (strcmp(col, "clinic") == 0) {
            if (*cell)
                S_set_clinic(src, job, row->line, cell);
        } else if ((option = S_job_option(col))) {
            option->set(src, job, row->line, cell);
        } else if (*cell) {
            pd_error e = {0};
            if (!pd_values_set(&job->values, src->schema, col, cell, src->path, row->line, &e))
                job->error = xstrdup(e.msg);
        }
    }
}

static int S_csv_next(pd_jobsrc *src, pd_jobspec *job, pd_error *err)
{
    for (;;) {
        S_csv_fill(src);
        if (src->first_row == src->n_rows) {
            if (src->broken.set) {
                *err = src->broken;
                return -1;
            }
            if (!src->have_header) {
                pd_error_set(err, src->path, 0, "an empty file: no header row, no jobs");
                return -1;
            }
            return 0;
        }
        S_row row = src->rows[src->first_row++];
        if (!src->have_header) {
            src->header = row;
            src->have_header = true;
            if (!S_csv_header(src, &src->header, err))
                return -1;
            continue;
        }
        if (row.n == 1 && !*row.cells[0]) { /* a blank line */
            S_row_free(&row);
            continue;
        }
        memset(job, 0, sizeof *job);
        pd_values_init(&job->values);
        job->number = ++src->count;
        S_csv_job(src, &row, job);
        const char *id = pd_values_get(&job->values, "patient.id");
        if (id)
            job->id = xstrdup(id);
        else if (job->error && row.n == src->header.n) /* failed before its values were read */
            for (size_t i = 3; i < row.n && !job->id; i++)
                if (strcmp(src->header.cells[i], "patient.id") == 0 && *row.cells[i])
                    job->id = xstrdup(row.cells[i]);
        S_row_free(&row);
        return 1;
    }
}

int pd_jobsrc_next(pd_jobsrc *src, pd_jobspec *job, pd_error *err)
{
    return src->reader ? S_xml_next(src, job, err) : S_csv_next(src, job, err);
}
