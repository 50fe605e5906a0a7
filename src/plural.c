#include "plural.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"

/* a Plural-Forms expression is a line of a header: real ones nest a few
   levels and hold a few dozen nodes (Arabic's, the longest, 30) */
#define MAX_NODES 256
#define MAX_DEPTH 64

typedef enum S_op {
    OP_N,
    OP_NUM,
    OP_NOT,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_ADD,
    OP_SUB,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_AND,
    OP_OR,
    OP_COND
} S_op;

typedef struct S_node {
    S_op op;
    unsigned long value;
    int a, b, c; /* operands: indices into nodes */
} S_node;

struct pd_plural {
    S_node nodes[MAX_NODES];
    int n_nodes;
    int root;
};

typedef struct S_parser {
    pd_plural *p;
    const char *s;
    int depth;
    char *why;
    size_t size;
    bool failed;
} S_parser;

static int S_fail(S_parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->why, ps->size, "%s", what);
    ps->failed = true;
    return -1;
}

static void S_skip(S_parser *ps)
{
    while (*ps->s == ' ' || *ps->s == '\t' || *ps->s == '\n' || *ps->s == '\r')
        ps->s++;
}

static bool S_accept(S_parser *ps, const char *tok)
{
    S_skip(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->s, tok, n) != 0)
        return false;
    /* "<" must not take the start of "<=", nor "!" that of "!=" */
    if (n == 1 && (tok[0] == '<' || tok[0] == '>' || tok[0] == '!' || tok[0] == '=') &&
        ps->s[1] == '=')
        return false;
    ps->s += n;
    return true;
}

static int S_add(S_parser *ps, S_op op, int a, int b, int c)
{
    if (ps->failed || a < -1 || b < -1 || c < -1)
        return -1;
    if (ps->p->n_nodes == MAX_NODES)
        return S_fail(ps, "the plural expression is too long");
    int i = ps->p->n_nodes++;
    ps->p->nodes[i] = (S_node){op, 0, a, b, c};
    return i;
}

static int S_expr(S_parser *ps);

static int S_primary(S_parser *ps)
{
    S_skip(ps);
    if (*ps->s == 'n' && !isalnum((unsigned char)ps->s[1]) && ps->s[1] != '_') {
        ps->s++;
        return S_add(ps, OP_N, -1, -1, -1);
    }
    if (isdigit((unsigned char)*ps->s)) {
        unsigned long v = 0;
        while (isdigit((unsigned char)*ps->s)) {
            unsigned d = (unsigned)(*ps->s++ - '0');
            if (v > (~0UL - d) / 10)
                return S_fail(ps, "a number in the plural expression is too large");
            v = v * 10 + d;
        }
        int i = S_add(ps, OP_NUM, -1, -1, -1);
        if (i >= 0)
            ps->p->nodes[i].value = v;
        return i;
    }
    if (S_accept(ps, "(")) {
        int e = S_expr(ps);
        if (e < 0)
            return -1;
        if (!S_accept(ps, ")"))
            return S_fail(ps, "a ')' is missing in the plural expression");
        return e;
    }
    return S_fail(ps, *ps->s ? "unexpected character in the plural expression"
                             : "the plural expression ends too early");
}

static int S_unary(S_parser *ps)
{
    if (S_accept(ps, "!")) {
        if (++ps->depth > MAX_DEPTH)
            return S_fail(ps, "the plural expression nests too deeply");
        int a = S_unary(ps);
        ps->depth--;
        return S_add(ps, OP_NOT, a, -1, -1);
    }
    return S_primary(ps);
}

/* One level of left-associative binary operators. */
typedef struct S_level {
    const char *tok[4];
    S_op op[4];
} S_level;

static const S_level S_levels[] = {
    {{"||"}, {OP_OR}},
    {{"&&"}, {OP_AND}},
    {{"==", "!="}, {OP_EQ, OP_NE}},
    {{"<=", ">=", "<", ">"}, {OP_LE, OP_GE, OP_LT, OP_GT}},
    {{"+", "-"}, {OP_ADD, OP_SUB}},
    {{"*", "/", "%"}, {OP_MUL, OP_DIV, OP_MOD}},
};
#define N_LEVELS (sizeof S_levels / sizeof S_levels[0])

static int S_binary(S_parser *ps, size_t level)
{
    if (level == N_LEVELS)
        return S_unary(ps);
    int left = S_binary(ps, level + 1);
    for (;;) {
        if (left < 0)
            return -1;
        size_t k;
        for (k = 0; k < 4 && S_levels[level].tok[k]; k++)
            if (S_accept(ps, S_levels[level].tok[k]))
                break;
        if (k == 4 || !S_levels[level].tok[k])
            return left;
        int right = S_binary(ps, level + 1);
        left = S_add(ps, S_levels[level].op[k], left, right, -1);
    }
}

static int S_expr(S_parser *ps)
{
    if (++ps->depth > MAX_DEPTH)
        return S_fail(ps, "the plural expression nests too deeply");
    int cond = S_binary(ps, 0);
    if (cond >= 0 && S_accept(ps, "?")) {
        int yes = S_expr(ps);
        if (yes >= 0 && !S_accept(ps, ":"))
            yes = S_fail(ps, "a ':' is missing in the plural expression");
        int no = yes >= 0 ? S_expr(ps) : -1;
        cond = S_add(ps, OP_COND, cond, yes, no);
    }
    ps->depth--;
    return cond;
}

pd_plural *pd_plural_parse(const char *expr, char *why, size_t size)
{
    pd_plural *p = xcalloc(1, sizeof *p);
    S_parser ps = {p, expr, 0, why, size, false};
    p->root = S_expr(&ps);
    S_skip(&ps);
    if (p->root >= 0 && *ps.s && *ps.s != ';')
        S_fail(&ps, "unexpected text after the plural expression");
    if (ps.failed || p->root < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void pd_plural_free(pd_plural *p)
{
    free(p);
}

/* Iterative would be longer; the depth is bounded by MAX_DEPTH per level
   of nesting and MAX_NODES in all. */
static unsigned long S_eval(const pd_plural *p, int i, unsigned long n)
{
    const S_node *x = &p->nodes[i];
    switch (x->op) {
    case OP_N: return n;
    case OP_NUM: return x->value;
    case OP_NOT: return !S_eval(p, x->a, n);
    case OP_COND: return S_eval(p, x->a, n) ? S_eval(p, x->b, n) : S_eval(p, x->c, n);
    case OP_AND: return S_eval(p, x->a, n) && S_eval(p, x->b, n);
    case OP_OR: return S_eval(p, x->a, n) || S_eval(p, x->b, n);
    default: break;
    }
    unsigned long a = S_eval(p, x->a, n), b = S_eval(p, x->b, n);
    switch (x->op) {
    case OP_MUL: return a * b;
    case OP_DIV: return b ? a / b : 0;
    case OP_MOD: return b ? a % b : 0;
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_LT: return a < b;
    case OP_GT: return a > b;
    case OP_LE: return a <= b;
    case OP_GE: return a >= b;
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    default: return 0;
    }
}

unsigned long pd_plural_eval(const pd_plural *p, unsigned long n)
{
    return S_eval(p, p->root, n);
}

bool pd_plural_from_header(const char *header, unsigned long *nplurals, pd_plural **plural,
                           char *why, size_t size)
{
    *plural = NULL;
    *nplurals = 2;
    const char *line = NULL;
    for (const char *p = header; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncasecmp(p, "Plural-Forms:", 13) == 0) {
            line = p + 13;
            break;
        }
    if (!line) {
        *plural = pd_plural_parse("n != 1", why, size);
        return true;
    }
    const char *np = strstr(line, "nplurals=");
    const char *ex = strstr(line, "plural=");
    /* "nplurals=" contains "plural=": take the one that is not part of it */
    while (ex && ex > line && ex[-1] == 'n')
        ex = strstr(ex + 1, "plural=");
    const char *eol = strchr(line, '\n');
    if (!np || !ex || (eol && (np > eol || ex > eol))) {
        snprintf(why, size, "the Plural-Forms header lacks nplurals= or plural=");
        return false;
    }
    np += 9;
    while (*np == ' ')
        np++;
    char *end = NULL;
    unsigned long count = isdigit((unsigned char)*np) ? strtoul(np, &end, 10) : 0;
    if (count < 1 || count > 100) {
        snprintf(why, size, "the Plural-Forms header's nplurals is not a number from 1 to 100");
        return false;
    }
    char *expr = xstrndup(ex + 7, eol ? (size_t)(eol - (ex + 7)) : strlen(ex + 7));
    *plural = pd_plural_parse(expr, why, size);
    free(expr);
    if (!*plural)
        return false;
    *nplurals = count;
    return true;
}
