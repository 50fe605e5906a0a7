/* pildoc: XML templates -> printable, multilingual patient-information PDFs.
 * The command line: parses arguments, runs load -> bind -> layout -> paint,
 * prints the one error line and chooses the exit code. */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <libxml/parser.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "catalog.h"
#include "data.h"
#include "error.h"
#include "formats.h"
#include "image.h"
#include "lang.h"
#include "layout.h"
#include "output.h"
#include "paths.h"
#include "renderer.h"
#include "serve.h"
#include "strbuf.h"
#include "template.h"
#include "vars.h"
#include "xmlsafe.h"

#ifndef PILDOC_VERSION
#define PILDOC_VERSION "0.1.0"
#endif

static void S_usage(FILE *f)
{
    fprintf(
        f,
        "Usage: pildoc render TEMPLATE [--lang LANG] [--data FILE] [--set NAME=VALUE]...\n"
        "                     [--paper a4|letter] [--clinic FILE]\n"
        "                     [--large-print] [--plain] [--form] [-o FILE|-] [--format "
        "pdf|png|text] "
        "[--page N]\n"
        "                     [--dpi N] [--also LANG]\n"
        "       pildoc batch JOBS [--out DIR] [--jobs N] ... (pildoc batch --help)\n"
        "       pildoc langs\n"
        "       pildoc templates\n"
        "       pildoc serve [--listen ADDR:PORT] [--workers N] ... (pildoc serve --help)\n"
        "       pildoc --help | --version\n"
        "\n"
        "Renders a patient-information document from an XML template into a PDF.\n"
        "\n"
        "  TEMPLATE           a name from templates/ (leaflet) or a path to a template file\n"
        "  -l, --lang LANG    language: en (default), fr, zh_CN; fr-FR, zh-Hans ... accepted\n"
        "      --also LANG    bilingual: every block also in LANG, after --lang's (both complete)\n"
        "  -d, --data FILE    the patient's values, an XML data file (see\n"
        "                     templates/data/sample-patient.xml)\n"
        "  -s, --set N=V      give variable N the value V (e.g. treatment.condition=crps);\n"
        "                     after --data, so it overrides the file\n"
        "  -p, --paper P      a4 (default) or letter\n"
        "      --large-print  body text 16 pt, everything scaled and re-paginated\n"
        "      --form         a fillable, signable PDF form (consent sheets)\n"
        "      --plain        the smallest PDF: untagged (no structure for screen readers),\n"
        "                     not PDF/A-1b (no XMP, colour profile, CIDSets)\n"
        "  -o, --output FILE  where to write (default out/TEMPLATE-LANG.pdf; - for stdout)\n"
        "  -f, --format F     pdf (default), png (one page, see --page), text (laid-out lines)\n"
        "      --page N       the page for --format png (default 1)\n"
        "      --dpi N        resolution for --format png (default 100)\n"
        "      --clinic FILE  the clinic's profile (default templates/clinics/default.xml)\n"
        "\n"
        "  langs              list the languages with a catalog\n"
        "  templates          list the templates\n"
        "\n"
        "With SOURCE_DATE_EPOCH set, the PDF's dates come from it and the same input\n"
        "gives a byte-identical file. Exit status: 0 done, 1 bad input, 2 usage error.\n");
}

__attribute__((format(printf, 1, 2))) static int S_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pildoc: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'pildoc --help'.\n", stderr);
    return PD_EXIT_USAGE;
}

/* What went to standard output (a list, the help) must have arrived:
 * `pildoc templates > /dev/full` is an error, not exit 0. */
static int S_finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        fprintf(stderr, "pildoc: cannot write to standard output: %s\n",
                e ? strerror(e) : "write error");
        return status == PD_EXIT_OK ? PD_EXIT_INPUT : status;
    }
    return status;
}

/* Below this much address space (ulimit -v, ulimit -d) fontconfig, Pango
 * and cairo fail in ways no caller can catch (a crash in a fontconfig
 * thread, fonts silently not made): one clear line instead. A render or a
 * batch worker reserves about 370 MB (thread stacks and malloc arenas
 * included) and touches far less. */
#define MIN_ADDRESS_SPACE_MB 512

static bool S_check_memory_limit(void)
{
    static const int which[] = {RLIMIT_AS, RLIMIT_DATA};
    static const char *const name[] = {"ulimit -v", "ulimit -d"};
    for (size_t i = 0; i < 2; i++) {
        struct rlimit rl;
        if (getrlimit(which[i], &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
            continue;
        if (rl.rlim_cur < (rlim_t)MIN_ADDRESS_SPACE_MB * 1024 * 1024) {
            fprintf(stderr, "pildoc: needs at least %d MB of memory; %s allows %lu MB\n",
                    MIN_ADDRESS_SPACE_MB, name[i], (unsigned long)(rl.rlim_cur >> 20));
            return false;
        }
    }
    return true;
}

/* A whole number from start to end: "1abc" and "" are not numbers. */
static bool S_parse_long(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

/* A finite number from start to end: "nan", "inf" and "100dpi" are not. */
static bool S_parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* SOURCE_DATE_EPOCH promises a byte-identical file: a value that cannot
 * keep the promise is an error, not silently the current time. Empty
 * counts as unset. */
static bool S_check_source_date_epoch(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde)
        return true;
    bool digits = true;
    for (const char *p = sde; *p; p++)
        digits = digits && *p >= '0' && *p <= '9';
    errno = 0;
    long long v = digits && strlen(sde) <= 12 ? strtoll(sde, NULL, 10) : -1;
    if (digits && !errno && v >= 0 && v <= 253402300799LL)
        return true;
    fprintf(stderr,
            "pildoc: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970 up to "
            "253402300799 (year 9999), not '%.40s'\n",
            sde);
    return false;
}

static int S_render(int argc, char **argv, const pd_env *env)
{
    static const struct option opts[] = {
        {"lang", required_argument, NULL, 'l'},
        {"set", required_argument, NULL, 's'},
        {"paper", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"page", required_argument, NULL, 'P'},
        {"dpi", required_argument, NULL, 'D'},
        {"data", required_argument, NULL, 'd'},
        {"strict", no_argument, NULL, 'S'},
        {"allow-incomplete", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {"clinic", required_argument, NULL, 'c'},
        {"large-print", no_argument, NULL, 'L'},
        {"also", required_argument, NULL, 'a'},
        {"plain", no_argument, NULL, 'N'},
        {"form", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *lang_arg = "en", *paper_arg = "a4", *output = NULL, *data_file = NULL;
    const char *also = NULL;
    pd_job job = {0};
    job.strict = -1;
    job.format = PD_FORMAT_PDF;
    job.page = 1;
    job.dpi = 100;
    long page = 1;
    bool strict_given = false, allow_given = false;
    char **sets = xcalloc((size_t)argc + 1, sizeof *sets);
    size_t n_sets = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:s:p:o:f:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': lang_arg = optarg; break;
        case 's': sets[n_sets++] = optarg; break;
        case 'p': paper_arg = optarg; break;
        case 'o': output = optarg; break;
        case 'd': data_file = optarg; break;
        case 'c': job.clinic = optarg; break;
        case 'S':
            job.strict = 1;
            strict_given = true;
            break;
        case 'A':
            job.strict = 0;
            allow_given = true;
            break;
        case 'L': job.large_print = 1; break;
        case 'a': also = optarg; break;
        case 'N': job.plain = 1; break;
        case 'F': job.form = 1; break;
        case 'f':
            if (pd_format_by_name(optarg)) {
                job.format = pd_format_by_name(optarg)->format;
            } else {
                char names[64];
                pd_format_names(names, sizeof names);
                free(sets);
                return S_usage_error("unknown format '%s' (%s)", optarg, names);
            }
            break;
        case 'P':
            if (!S_parse_long(optarg, &page)) {
                free(sets);
                return S_usage_error("--page takes a page number, not '%.40s'", optarg);
            }
            break;
        case 'D':
            if (!S_parse_double(optarg, &job.dpi)) {
                free(sets);
                return S_usage_error("--dpi takes a number, not '%.40s'", optarg);
            }
            break;
        case 'h':
            S_usage(stdout);
            free(sets);
            return S_finish_stdout(PD_EXIT_OK);
        default:
            free(sets);
            fputs("Try 'pildoc --help'.\n", stderr);
            return PD_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        free(sets);
        return S_usage_error("%s", optind >= argc ? "render needs one TEMPLATE"
                                                  : "render takes one TEMPLATE");
    }
    if (strict_given && allow_given) {
        free(sets);
        return S_usage_error("%s", "--strict and --allow-incomplete contradict each other");
    }
    job.template_name = argv[optind];
    job.lang = lang_arg;
    job.paper = pd_paper_find(paper_arg);
    if (!job.paper) {
        free(sets);
        return S_usage_error("unknown paper size '%s' (a4 or letter)", paper_arg);
    }
    if (page < 1 || job.dpi < 10 || job.dpi > 1200) {
        free(sets);
        return S_usage_error("%s", "--page must be 1 or more and --dpi between 10 and 1200");
    }
    job.page = (size_t)page;

    int status = PD_EXIT_INPUT;
    pd_error err = {0};
    pd_values values;
    pd_values_init(&values);
    pd_job_result res = {0};
    char *out_path = NULL;
    pd_glyphwarm *warm = NULL;
    pd_layoutplan *plan = NULL;
    pd_renderer *r = pd_renderer_new(env, &err);
    if (!r)
        goto done;
    /* the glyphs the last render of this document measured, measured on a
       second core while this one reads and binds the template
       (glyphwarm.h); after the fonts, which change the environment for a
       moment (fonts.c). If they cannot be made, the render says why. */
    if (pd_renderer_load_fonts(r)) {
        char *what = pd_job_describe(&job, also);
        warm = pd_glyphwarm_start(env->font_cache, what, true);
        /* and the paragraphs it shaped, shaped from the last one back on a
           thread of their own (layoutplan.h) */
        plan = pd_layoutplan_start(env->font_cache, what, pd_renderer_fonts(r), true);
        free(what);
        pd_renderer_set_glyphwarm(r, warm);
        pd_renderer_set_layoutplan(r, plan);
    }
    /* the data file first; --set overrides what it gives */
    if (data_file && !pd_data_load(data_file, pd_renderer_schema(r), &values, &err))
        goto done;
    for (size_t i = 0; i < n_sets; i++)
        if (!pd_values_set_assignment(&values, pd_renderer_schema(r), sets[i], &err))
            goto done;
    job.values = &values;
    if (!(also ? pd_renderer_render_also(r, &job, also, &res, &err)
               : pd_renderer_render(r, &job, &res, &err)))
        goto done;
    if (res.warning)
        fprintf(stderr, "pildoc: warning: %s\n", res.warning);
    if (output) {
        out_path = xstrdup(output);
    } else {
        mkdir("out", 0755);
        strbuf sb = STRBUF_INIT;
        /* bilingual: out/consent-zh_CN+fr.pdf */
        strbuf_printf(&sb, "out/%s-%s%s%s.%s", res.template_name, res.lang, res.also ? "+" : "",
                      res.also ? res.also : "", pd_format_of(job.format)->extension);
        out_path = strbuf_take(&sb);
    }
    if (!pd_output_write(out_path, res.bytes.data ? res.bytes.data : "", res.bytes.len, &err))
        goto done;
    status = PD_EXIT_OK;
done:
    if (status != PD_EXIT_OK)
        fprintf(stderr, "%s%s\n", err.located ? "" : "pildoc: ", err.set ? err.msg : "failed");
    pd_job_result_free(&res);
    if (r) {
        pd_renderer_set_glyphwarm(r, NULL);
        pd_renderer_set_layoutplan(r, NULL);
    }
    pd_glyphwarm_free(warm);       /* stops and joins its thread */
    pd_layoutplan_free(plan);      /* the same; before the fonts */
    pd_renderer_end_of_process(r); /* no teardown unless checked (renderer.h) */
    pd_values_free(&values);
    free(out_path);
    free(sets);
    return status;
}

/* pildoc langs: per language and template, the state of the catalog. */
static int S_langs(const pd_env *env)
{
    pd_error err = {0};
    pd_schema *schema = pd_schema_load(env->variables, &err);
    if (!schema) {
        fprintf(stderr, "%s\n", err.msg);
        return PD_EXIT_INPUT;
    }
    char **names = pd_template_list(env->templates_dir);
    size_t n_tpl = 0;
    while (names[n_tpl])
        n_tpl++;
    pd_template **tpls = xcalloc(n_tpl ? n_tpl : 1, sizeof(pd_template *));
    catalog_messages *msgs = xcalloc(n_tpl ? n_tpl : 1, sizeof *msgs);
    int status = PD_EXIT_OK;
    for (size_t i = 0; i < n_tpl; i++) {
        pd_error e = {0};
        tpls[i] = pd_template_load(names[i], env->templates_dir, env->rng, schema, &e);
        if (!tpls[i]) {
            fprintf(stderr, "%s%s\n", e.located ? "" : "pildoc: ", e.msg);
            status = PD_EXIT_INPUT;
            continue;
        }
        catalog_template_messages(tpls[i], &msgs[i]);
    }
    printf("%-8s %-10s %10s %6s %12s\n", "LANG", "TEMPLATE", "TRANSLATED", "FUZZY", "UNTRANSLATED");
    char **langs = lang_available(env->linguas);
    for (char **l = langs; *l; l++) {
        for (size_t i = 0; i < n_tpl; i++) {
            if (!tpls[i])
                continue;
            if (strcmp(*l, "en") == 0) {
                printf("%-8s %-10s %10zu %6s %12s\n", *l, names[i], msgs[i].n, "-", "(source)");
                continue;
            }
            strbuf po = STRBUF_INIT;
            strbuf_printf(&po, "%s/po/%s.po", env->datadir, *l);
            catalog_counts c;
            pd_error e = {0};
            if (!paths_exists(po.data)) {
                printf("%-8s %-10s %10s %6s %12zu  (no %s)\n", *l, names[i], "0", "0", msgs[i].n,
                       po.data);
            } else if (catalog_count(po.data, &msgs[i], &c, &e)) {
                printf("%-8s %-10s %10zu %6zu %12zu\n", *l, names[i], c.translated, c.fuzzy,
                       c.untranslated);
            } else {
                /* a broken catalog is named once, and counts for nothing */
                fprintf(stderr, "%s\n", e.msg);
                status = PD_EXIT_INPUT;
                strbuf_free(&po);
                break;
            }
            strbuf_free(&po);
        }
    }
    lang_list_free(langs);
    for (size_t i = 0; i < n_tpl; i++) {
        pd_template_free(tpls[i]);
        catalog_messages_free(&msgs[i]);
        free(names[i]);
    }
    free(tpls);
    free(msgs);
    free(names);
    pd_schema_free(schema);
    return status;
}

/* pildoc check-message, run by msgexec for each message of a catalog:
 * MSGEXEC_MSGID, MSGEXEC_LOCATION in the environment, the translation on
 * standard input. Prints "po/fr.po:123: ..." and fails when a translation
 * breaks a placeholder. */
static int S_check_message(void)
{
    const char *msgid = getenv("MSGEXEC_MSGID");
    const char *where = getenv("MSGEXEC_LOCATION");
    const char *plural = getenv("MSGEXEC_MSGID_PLURAL");
    if (!msgid) {
        fputs("pildoc: check-message is run by msgexec: msgexec -i po/LL.po pildoc check-message\n",
              stderr);
        return PD_EXIT_USAGE;
    }
    strbuf in = STRBUF_INIT;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, stdin)) > 0)
        strbuf_append_len(&in, buf, got);
    char why[300] = "";
    /* a plural translation is checked against the plural original too */
    bool ok = catalog_check_translation(plural && *plural ? plural : msgid, strbuf_str(&in), why,
                                        sizeof why);
    if (!ok && plural && *plural)
        ok = catalog_check_translation(msgid, strbuf_str(&in), why, sizeof why);
    if (!ok)
        fprintf(stderr, "%s: %s (\"%.40s%s\")\n", where ? where : "catalog", why, msgid,
                strlen(msgid) > 40 ? "..." : "");
    strbuf_free(&in);
    return ok ? PD_EXIT_OK : PD_EXIT_INPUT;
}

/* GLib, Pango and cairo report memory exhaustion and broken fonts as log
 * messages: g_error (g_malloc failing, a thread not created) ends in
 * SIGTRAP, a warning ("failed to create cairo scaled font, expect ugly
 * output") lets a document with wrong glyphs through, in several lines.
 * Either is one line and exit 1 instead: a patient document is right or
 * not made. */
#define S_FATAL_LEVELS                                                                             \
    (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL)

static void S_library_failed(const char *domain, const char *msg)
{
    char line[400];
    snprintf(line, sizeof line, "pildoc: %s%s%s\n", domain ? domain : "", domain ? ": " : "",
             msg ? msg : "a fatal error in a library");
    for (char *p = line; p[1]; p++) /* one line */
        if (*p == '\n')
            *p = ' ';
    fputs(line, stderr);
    _exit(PD_EXIT_INPUT);
}

static GLogWriterOutput S_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                                     gpointer data)
{
    if (level & S_FATAL_LEVELS) {
        const char *msg = NULL, *domain = NULL;
        for (gsize i = 0; i < n; i++) {
            if (fields[i].length >= 0)
                continue;
            if (strcmp(fields[i].key, "MESSAGE") == 0)
                msg = fields[i].value;
            else if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
                domain = fields[i].value;
        }
        S_library_failed(domain, msg);
    }
    return g_log_writer_default(level, fields, n, data);
}

static void S_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                          gpointer data)
{
    if (level & S_FATAL_LEVELS)
        S_library_failed(domain, msg);
    g_log_default_handler(domain, level, msg, data);
}

/* SVGs are drawn by this very program's `draw-svg` (image.h); without
 * /proc, in this process. */
static void S_name_svg_program(void)
{
    char *exe = paths_self_exe();
    if (exe)
        pd_image_set_svg_program(exe);
    free(exe);
}

int main(int argc, char **argv)
{
    g_log_set_writer_func(S_log_writer, NULL, NULL);
    g_log_set_default_handler(S_log_handler, NULL);
    if (argc < 2) {
        S_usage(stderr);
        return PD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        S_usage(stdout);
        return S_finish_stdout(PD_EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("pildoc %s\n", PILDOC_VERSION);
        return S_finish_stdout(PD_EXIT_OK);
    }
    /* a process of pildoc's own drawing one SVG (image.h): nothing else is set up */
    if (strcmp(argv[1], "draw-svg") == 0)
        return pd_image_draw_svg_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "render") == 0 || strcmp(argv[1], "batch") == 0) {
        if (!S_check_source_date_epoch())
            return PD_EXIT_USAGE;
        if (!S_check_memory_limit())
            return PD_EXIT_INPUT;
    }
    pd_env env;
    pd_env_init(&env);
    S_name_svg_program();
    lang_init();
    xmlsafe_init();
    int status;
    if (strcmp(argv[1], "render") == 0) {
        status = S_render(argc - 1, argv + 1, &env);
    } else if (strcmp(argv[1], "batch") == 0) {
        status = pd_batch_main(argc - 1, argv + 1, &env);
    } else if (strcmp(argv[1], "serve") == 0) {
        status = pd_serve_main(argc - 1, argv + 1, &env);
    } else if (strcmp(argv[1], "serve-worker") == 0) {
        status = pd_serve_worker_main(&env);
    } else if (strcmp(argv[1], "langs") == 0) {
        status = S_langs(&env);
    } else if (strcmp(argv[1], "check-message") == 0) {
        status = S_check_message();
    } else if (strcmp(argv[1], "templates") == 0) {
        char **names = pd_template_list(env.templates_dir);
        for (char **p = names; *p; p++) {
            printf("%s\n", *p);
            free(*p);
        }
        free(names);
        status = PD_EXIT_OK;
    } else {
        status =
            S_usage_error("unknown command '%s' (render, batch, serve, langs, templates)", argv[1]);
    }
    xmlCleanupParser();
    pd_env_free(&env);
    pd_image_set_svg_program(NULL);
    return S_finish_stdout(status);
}
