#include "jobsrc.h"

#include <csv.h>
#include <errno.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

#define CSV_CHUNK 65536

typedef struct S_row {
    char **cells;
    size_t n;
} S_row;

struct pd_jobsrc {
    const pd_schema *schema;
    char *path; /* as displayed */
    char *dir;  /* for data="FILE" */
    size_t count;
    /* XML */
    xmlTextReaderPtr reader;
    /* CSV */
    FILE *csv_file;
    struct csv_parser csv;
    S_row cur;   /* the row being parsed */
    S_row *rows; /* complete rows not yet handed out */
    size_t n_rows, first_row;
    S_row header;
    bool have_header, eof;
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
    free(job->id);
    free(job->error);
    pd_values_free(&job->values);
    memset(job, 0, sizeof *job);
}

static void S_cb_field(void *s, size_t len, void *data)
{
    pd_jobsrc *src = data;
    src->cur.cells = xrealloc(src->cur.cells, (src->cur.n + 1) * sizeof *src->cur.cells);
    src->cur.cells[src->cur.n++] = xstrndup(s ? s : "", s ? len : 0);
}

static void S_cb_row(int c, void *data)
{
    (void)c;
    pd_jobsrc *src = data;
    src->rows = xrealloc(src->rows, (src->n_rows + 1) * sizeof *src->rows);
    src->rows[src->n_rows++] = src->cur;
    memset(&src->cur, 0, sizeof src->cur);
}

pd_jobsrc *pd_jobsrc_open(const char *path, const pd_schema *schema, pd_error *err)
{
    pd_jobsrc *src = xcalloc(1, sizeof *src);
    src->schema = schema;
    src->path = paths_display(path);
    src->dir = paths_dirname(src->path);
    if (paths_has_suffix(path, ".csv") || paths_has_suffix(path, ".CSV")) {
        src->csv_file = fopen(path, "rb");
        if (!src->csv_file) {
            pd_error_set(err, src->path, 0, "cannot open: %s", strerror(errno));
            pd_jobsrc_close(src);
            return NULL;
        }
        csv_init(&src->csv, CSV_STRICT | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
        return src;
    }
    src->reader =
        xmlReaderForFile(path, "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
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
    if (src->csv_file) {
        fclose(src->csv_file);
        csv_free(&src->csv);
    }
    S_row_free(&src->cur);
    for (size_t i = src->first_row; i < src->n_rows; i++)
        S_row_free(&src->rows[i]);
    free(src->rows);
    S_row_free(&src->header);
    free(src->path);
    free(src->dir);
    free(src);
}

static void S_job_error(pd_jobspec *job, const char *what, const char *name)
{
    if (job->error)
        return;
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, what);
    if (name)
        strbuf_printf(&sb, " <%s>", name);
    job->error = strbuf_take(&sb);
}

/* --- XML ---------------------------------------------------------------- */

static char *S_attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    char *s = v ? xstrdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static int S_xml_next(pd_jobsrc *src, pd_jobspec *job, pd_error *err)
{
    for (;;) {
        int rc = xmlTextReaderRead(src->reader);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            const xmlError *e = xmlGetLastError();
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
        xmlNodePtr n = xmlTextReaderExpand(src->reader);
        if (!n) {
            pd_error_set(err, src->path, xmlTextReaderGetParserLineNumber(src->reader),
                         "malformed XML in job %zu", job->number);
            return -1;
        }
        if (strcmp(name, "job") != 0) {
            S_job_error(job, "a <batch> holds only <job> elements, not", name);
        } else {
            job->template_name = S_attr(n, "template");
            job->lang = S_attr(n, "lang");
            job->output = S_attr(n, "output");
            char *data = S_attr(n, "data");
            if (data) {
                job->data_file = paths_join(src->dir, data);
                free(data);
            }
            if (!job->template_name || !job->output)
                S_job_error(job, "a job needs template and output attributes", NULL);
            if (!job->lang)
                job->lang = xstrdup("en");
            for (xmlNodePtr c = n->children; c && !job->error; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                    continue;
                if (!xmlStrEqual(c->name, BAD_CAST "data")) {
                    S_job_error(job, "a job holds only <data>, not", (const char *)c->name);
                    break;
                }
                pd_error e = {0};
                if (!pd_data_from_node(c, src->path, src->schema, &job->values, &e))
                    S_job_error(job, e.msg, NULL);
            }
        }
        const char *id = pd_values_get(&job->values, "patient.id");
        if (id)
            job->id = xstrdup(id);
        /* skip the subtree: the reader frees what it expanded */
        xmlTextReaderNext(src->reader);
        return 1;
    }
}

/* --- CSV ---------------------------------------------------------------- */

static bool S_csv_fill(pd_jobsrc *src, pd_error *err)
{
    char buf[CSV_CHUNK];
    while (src->first_row == src->n_rows && !src->eof) {
        /* rows handed out: reuse the array */
        free(src->rows);
        src->rows = NULL;
        src->n_rows = src->first_row = 0;
        size_t got = fread(buf, 1, sizeof buf, src->csv_file);
        if (got == 0) {
            src->eof = true;
            csv_fini(&src->csv, S_cb_field, S_cb_row, src);
            break;
        }
        if (csv_parse(&src->csv, buf, got, S_cb_field, S_cb_row, src) != got)
            return pd_error_set(err, src->path, 0, "malformed CSV after row %zu: %s",
                                src->count + 1, csv_strerror(csv_error(&src->csv)));
    }
    return true;
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

static int S_csv_next(pd_jobsrc *src, pd_jobspec *job, pd_error *err)
{
    for (;;) {
        if (!S_csv_fill(src, err))
            return -1;
        if (src->first_row == src->n_rows)
            return 0;
        S_row row = src->rows[src->first_row++];
        if (!src->have_header) {
            src->header = row;
            src->have_header = true;
            static const char *const want[] = {"template", "lang", "output"};
            for (size_t i = 0; i < 3; i++)
                if (row.n <= i || strcmp(row.cells[i], want[i]) != 0) {
                    pd_error_set(err, src->path, 1,
                                 "the header row must start with template,lang,output");
                    return -1;
                }
            for (size_t i = 3; i < row.n; i++)
                if (!S_valid_column(row.cells[i])) {
                    pd_error_set(err, src->path, 1,
                                 "column %zu of the header is not a variable name", i + 1);
                    return -1;
                }
            continue;
        }
        if (row.n == 1 && !*row.cells[0]) { /* a blank line */
            S_row_free(&row);
            continue;
        }
        memset(job, 0, sizeof *job);
        pd_values_init(&job->values);
        job->number = ++src->count;
        if (row.n != src->header.n) {
            strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "row %zu has %zu fields; the header has %zu", job->number + 1, row.n,
                          src->header.n);
            job->error = strbuf_take(&sb);
        }
        for (size_t i = 0; i < row.n && i < src->header.n && !job->error; i++) {
            const char *col = src->header.cells[i], *cell = row.cells[i];
            if (i == 0)
                job->template_name = xstrdup(cell);
            else if (i == 1)
                job->lang = xstrdup(*cell ? cell : "en");
            else if (i == 2)
                job->output = xstrdup(cell);
            else if (strcmp(col, "data") == 0) {
                if (*cell)
                    job->data_file = paths_join(src->dir, cell);
            } else if (*cell) {
                pd_error e = {0};
                strbuf where = STRBUF_INIT;
                strbuf_printf(&where, "%s: row %zu", src->path, job->number + 1);
                if (!pd_values_set(&job->values, src->schema, col, cell, where.data, 0, &e))
                    job->error = xstrdup(e.msg);
                strbuf_free(&where);
            }
        }
        if (!job->error &&
            (!job->template_name || !*job->template_name || !job->output || !*job->output))
            job->error = xstrdup("a job needs a template and an output");
        const char *id = pd_values_get(&job->values, "patient.id");
        if (id)
            job->id = xstrdup(id);
        S_row_free(&row);
        return 1;
    }
}

int pd_jobsrc_next(pd_jobsrc *src, pd_jobspec *job, pd_error *err)
{
    return src->reader ? S_xml_next(src, job, err) : S_csv_next(src, job, err);
}
