#include "xmlsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

#define PARSE_OPTIONS                                                                              \
    (XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR | XML_PARSE_NOCDATA)

static void S_silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void S_silent_structured(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e;
}

void xmlsafe_init(void)
{
    xmlInitParser();
    /* nothing of libxml2's own reporting reaches stderr: errors are ours */
    xmlSetGenericErrorFunc(NULL, S_silent);
    xmlSetStructuredErrorFunc(NULL, S_silent_structured);
    xmlSubstituteEntitiesDefault(0);
    xmlLoadExtDtdDefaultValue = 0;
}

static const char *S_trim_msg(const char *msg, char *buf, size_t size)
{
    snprintf(buf, size, "%s", msg ? msg : "malformed XML");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

/* Walks the tree without recursion to bound nesting and reject what the
 * parser let through but we never accept (DTDs, entity references,
 * processing instructions are ignored). */
static bool S_check_tree(xmlDocPtr doc, const char *file, pd_error *err)
{
    if (doc->intSubset || doc->extSubset) {
        xmlDtdPtr dtd = doc->intSubset ? doc->intSubset : doc->extSubset;
        return pd_error_set(err, file,
                            xmlGetLineNo((xmlNodePtr)dtd) > 0 ? xmlGetLineNo((xmlNodePtr)dtd) : 1,
                            "a DOCTYPE is not allowed");
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root)
        return pd_error_set(err, file, 1, "no root element");
    int depth = 0;
    xmlNodePtr n = root;
    while (n) {
        if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE)
            return pd_error_set(err, file, xmlGetLineNo(n), "entity references are not allowed");
        if (n->children && n->type == XML_ELEMENT_NODE) {
            if (++depth > XMLSAFE_MAX_DEPTH)
                return pd_error_set(err, file, xmlGetLineNo(n), "elements nested deeper than %d",
                                    XMLSAFE_MAX_DEPTH);
            n = n->children;
            continue;
        }
        while (n && !n->next) {
            n = n->parent;
            depth--;
            if (n == root || (n && n->type == XML_DOCUMENT_NODE)) {
                n = NULL;
                break;
            }
        }
        if (n)
            n = n->next;
    }
    return true;
}

/* The first error libxml2 reports is the cause; later ones are echoes. */
typedef struct {
    bool set;
    int line, code;
    char msg[300];
} S_first_error;

static void S_record_first(void *ctx, xmlErrorPtr e)
{
    S_first_error *first = ctx;
    if (first->set || !e || e->level < XML_ERR_ERROR)
        return;
    first->set = true;
    first->line = e->line;
    first->code = e->code;
    S_trim_msg(e->message, first->msg, sizeof first->msg);
}

long xmlsafe_doctype_line(const char *buf, size_t len)
{
    /* the prolog: XML declaration, comments, processing instructions and
       white space, up to the root element; a DOCTYPE can only stand here */
    long line = 1;
    size_t i = 0;
    while (i < len) {
        char c = buf[i];
        if (c == '\n') {
            line++;
            i++;
        } else if (c == ' ' || c == '\t' || c == '\r' || (unsigned char)c == 0xEF ||
                   (unsigned char)c == 0xBB || (unsigned char)c == 0xBF) {
            i++;
        } else if (c == '<' && i + 1 < len && (buf[i + 1] == '?' || buf[i + 1] == '!')) {
            if (len - i >= 9 && memcmp(buf + i, "<!DOCTYPE", 9) == 0)
                return line;
            const char *end = buf[i + 1] == '?'                                   ? "?>"
                              : (len - i >= 4 && memcmp(buf + i, "<!--", 4) == 0) ? "-->"
                                                                                  : ">";
            size_t el = strlen(end), j = i + 2;
            while (j + el <= len && memcmp(buf + j, end, el) != 0) {
                if (buf[j] == '\n')
                    line++;
                j++;
            }
            i = j + el;
        } else {
            break; /* the root element (or garbage the parser will name) */
        }
    }
    return 0;
}

/* The line of the first start tag past XMLSAFE_MAX_ELEMENTS, or 0. Start
 * tags are counted in the text, skipping comments, CDATA sections and
 * processing instructions (the only places a bare '<' may stand). */
static long S_too_many_elements(const char *buf, size_t len)
{
    size_t count = 0;
    long line = 1;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            line++;
            continue;
        }
        if (buf[i] != '<' || i + 1 >= len)
            continue;
        const char *end = NULL;
        if (len - i >= 4 && memcmp(buf + i, "<!--", 4) == 0)
            end = "-->";
        else if (len - i >= 9 && memcmp(buf + i, "<![CDATA[", 9) == 0)
            end = "]]>";
        else if (buf[i + 1] == '?')
            end = "?>";
        if (end) {
            size_t el = strlen(end), j = i + 2;
            while (j + el <= len && memcmp(buf + j, end, el) != 0) {
                if (buf[j] == '\n')
                    line++;
                j++;
            }
            i = j + el - 1;
        } else if (buf[i + 1] != '/' && buf[i + 1] != '!' && ++count > XMLSAFE_MAX_ELEMENTS) {
            return line;
        }
    }
    return 0;
}

static xmlDocPtr S_parse(const char *buf, int len, const char *file, long line0, pd_error *err)
{
    long many = S_too_many_elements(buf, (size_t)len);
    if (many) {
        pd_error_set(err, file, line0 > 0 ? line0 + many - 1 : many, "more than %d elements",
                     XMLSAFE_MAX_ELEMENTS);
        return NULL;
    }
    long dt = xmlsafe_doctype_line(buf, (size_t)len);
    if (dt) {
        pd_error_set(err, file, line0 > 0 ? line0 + dt - 1 : dt,
                     "a DOCTYPE is not allowed (no DTDs, no entities)");
        return NULL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        pd_error_set(err, file, 0, "cannot create an XML parser");
        return NULL;
    }
    S_first_error first = {0};
    xmlSetStructuredErrorFunc(&first, S_record_first);
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, len, file, "UTF-8", PARSE_OPTIONS);
    xmlSetStructuredErrorFunc(NULL, S_silent_structured);
    if (!doc || !ctxt->wellFormed) {
        char msg[300];
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        long line = first.set && first.line > 0 ? first.line : e && e->line > 0 ? e->line : 1;
        int code = first.set ? first.code : e ? e->code : 0;
        const char *what =
            first.set ? first.msg : S_trim_msg(e ? e->message : NULL, msg, sizeof msg);
        if (code == XML_ERR_INVALID_CHAR || code == XML_ERR_INVALID_ENCODING)
            what = "invalid UTF-8 or a character not allowed in XML";
        if (code == XML_ERR_NO_MEMORY) /* not the file's fault: say what it is */
            pd_error_set(err, file, 0, "out of memory while reading it");
        else
            pd_error_set(err, file, line0 > 0 ? line0 + line - 1 : line, "malformed XML: %s", what);
        if (doc)
            xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (!S_check_tree(doc, file, err)) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* Opens path to read, following no symbolic link in any of its parts
 * (each folder opened in turn with O_NOFOLLOW), or returns -1 with errno. */
static int S_open_nofollow(const char *path)
{
    char *copy = xstrdup(path);
    int dir = AT_FDCWD;
    char *part = copy;
    if (*part == '/') {
        dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        while (*part == '/')
            part++;
    }
    int fd = -1;
    while (dir != -1) {
        char *slash = strchr(part, '/');
        if (!slash) {
            fd = openat(dir, part, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
            break;
        }
        *slash = '\0';
        int next = *part ? openat(dir, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                         : fcntl(dir, F_DUPFD_CLOEXEC, 0);
        int saved = errno;
        if (dir != AT_FDCWD)
            close(dir);
        errno = saved;
        dir = next;
        part = slash + 1;
    }
    int saved = errno;
    if (dir != AT_FDCWD && dir != -1)
        close(dir);
    free(copy);
    errno = saved;
    return fd;
}

static xmlDocPtr S_read_fd(int fd, const char *path, pd_error *err);

xmlDocPtr xmlsafe_read_file(const char *path, pd_error *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; anything but
       a regular file (FIFO, device, folder) is refused before any read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        pd_error_set(err, path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    return S_read_fd(fd, path, err);
}

xmlDocPtr xmlsafe_read_file_nofollow(const char *path, pd_error *err)
{
    int fd = S_open_nofollow(path);
    if (fd < 0) {
        pd_error_set(err, path, 0, "cannot open: %s",
                     errno == ELOOP || errno == ENOTDIR
                         ? "a symbolic link is in its path (since the job was checked)"
                         : strerror(errno));
        return NULL;
    }
    return S_read_fd(fd, path, err);
}

/* Reads and parses the file open on fd (closed here): a regular file only. */
static xmlDocPtr S_read_fd(int fd, const char *path, pd_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        pd_error_set(err, path, 0, "not a regular file");
        return NULL;
    }
    if (st.st_size > XMLSAFE_MAX_BYTES) {
        close(fd);
        pd_error_set(err, path, 0, "larger than %ld bytes", XMLSAFE_MAX_BYTES);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = xmalloc(size + 1);
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        free(buf);
        pd_error_set(err, path, 0, "cannot read the whole file");
        return NULL;
    }
    buf[size] = '\0';
    if (memchr(buf, '\0', size)) {
        free(buf);
        pd_error_set(err, path, 0, "holds a NUL byte: not a text file");
        return NULL;
    }
    xmlDocPtr doc = S_parse(buf, (int)size, path, 0, err);
    free(buf);
    return doc;
}

xmlDocPtr xmlsafe_read_memory(const char *buf, size_t len, const char *file, long line,
                              pd_error *err)
{
    if (len > (size_t)XMLSAFE_MAX_BYTES) {
        pd_error_set(err, file, line, "text longer than %ld bytes", XMLSAFE_MAX_BYTES);
        return NULL;
    }
    return S_parse(buf, (int)len, file, line, err);
}

struct xmlsafe_schema {
    char *path;
    xmlRelaxNGPtr rng;
};

typedef struct {
    pd_error *err;
    const char *file;
} S_rng_ctx;

static void S_rng_error(void *data, xmlErrorPtr e)
{
    S_rng_ctx *ctx = data;
    char msg[300];
    pd_error_set(ctx->err, ctx->file, e->line > 0 ? e->line : 1, "%s",
                 S_trim_msg(e->message, msg, sizeof msg));
}

xmlsafe_schema *xmlsafe_schema_load(const char *schema_path, pd_error *err)
{
    xmlRelaxNGParserCtxtPtr pctx = xmlRelaxNGNewParserCtxt(schema_path);
    S_rng_ctx rc = {err, schema_path};
    xmlRelaxNGSetParserStructuredErrors(pctx, S_rng_error, &rc);
    xmlRelaxNGPtr rng = xmlRelaxNGParse(pctx);
    xmlRelaxNGFreeParserCtxt(pctx);
    if (!rng) {
        pd_error_set(err, schema_path, 0, "cannot load the RELAX NG schema");
        return NULL;
    }
    xmlsafe_schema *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(schema_path);
    s->rng = rng;
    return s;
}

void xmlsafe_schema_free(xmlsafe_schema *schema)
{
    if (!schema)
        return;
    xmlRelaxNGFree(schema->rng);
    free(schema->path);
    free(schema);
}

bool xmlsafe_validate_with(xmlDocPtr doc, const xmlsafe_schema *schema, const char *file,
                           pd_error *err)
{
    xmlRelaxNGValidCtxtPtr vctx = xmlRelaxNGNewValidCtxt(schema->rng);
    S_rng_ctx rc = {err, file};
    xmlRelaxNGSetValidStructuredErrors(vctx, S_rng_error, &rc);
    int rv = xmlRelaxNGValidateDoc(vctx, doc);
    xmlRelaxNGFreeValidCtxt(vctx);
    if (rv != 0)
        return pd_error_set(err, file, 0, "does not match the schema %s", schema->path);
    return true;
}

bool xmlsafe_validate(xmlDocPtr doc, const char *schema_path, const char *file, pd_error *err)
{
    xmlsafe_schema *schema = xmlsafe_schema_load(schema_path, err);
    if (!schema)
        return false;
    bool ok = xmlsafe_validate_with(doc, schema, file, err);
    xmlsafe_schema_free(schema);
    return ok;
}

char *xmlsafe_collapse_space(const char *s)
{
    strbuf sb = STRBUF_INIT;
    bool space = false;
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = true;
            continue;
        }
        if (space && sb.len)
            strbuf_append_char(&sb, ' ');
        space = false;
        strbuf_append_char(&sb, *p);
    }
    return strbuf_take(&sb);
}

bool xmlsafe_valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int extra;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (int i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += extra + 1;
    }
    return true;
}

unsigned xmlsafe_bidi_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (p[0] == 0xD8 && p[1] == 0x9C)
            return 0x061C;
        if (p[0] != 0xE2 || !p[1] || !p[2])
            continue;
        unsigned cp = ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        cp |= 0x2000;
        if (p[1] == 0x80 && (cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E)))
            return cp;
        if (p[1] == 0x81 && cp >= 0x2066 && cp <= 0x2069)
            return cp;
    }
    return 0;
}

xmlNodePtr xmlsafe_next(xmlNodePtr root, xmlNodePtr n, bool descend)
{
    if (descend && n->children && n->type == XML_ELEMENT_NODE)
        return n->children;
    while (n && n != root && !n->next)
        n = n->parent;
    return (n && n != root) ? n->next : NULL;
}
