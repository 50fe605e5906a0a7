/* pildoc: XML templates -> printable, multilingual patient-information PDFs.
 * The command line: parses arguments, runs load -> bind -> layout -> paint,
 * prints the one error line and chooses the exit code. */
#include <errno.h>
#include <getopt.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bind.h"
#include "catalog.h"
#include "data.h"
#include "error.h"
#include "fonts.h"
#include "lang.h"
#include "layout.h"
#include "output.h"
#include "paths.h"
#include "render.h"
#include "strbuf.h"
#include "template.h"
#include "vars.h"
#include "xmlsafe.h"

#ifndef PILDOC_VERSION
#define PILDOC_VERSION "0.1.0"
#endif

typedef struct S_env {
    char *datadir, *templates_dir, *rng, *variables, *localedir, *linguas, *fonts_dir, *font_cache;
} S_env;

static void S_env_init(S_env *e)
{
    /* relative to the current folder where possible: error messages then
       read "templates/leaflet.xml:12" */
    char *abs = paths_datadir();
    e->datadir = paths_display(abs);
    free(abs);
    if (!*e->datadir) {
        free(e->datadir);
        e->datadir = xstrdup(".");
    }
    e->templates_dir = paths_join(e->datadir, "templates");
    e->rng = paths_join(e->templates_dir, "pildoc.rng");
    e->variables = paths_join(e->templates_dir, "variables.xml");
    e->localedir = paths_join(e->datadir, "build/locale");
    e->linguas = paths_join(e->datadir, "po/LINGUAS");
    e->fonts_dir = paths_join(e->datadir, "fonts");
    e->font_cache = paths_join(e->datadir, "build/fontcache");
}

static void S_env_free(S_env *e)
{
    free(e->datadir);
    free(e->templates_dir);
    free(e->rng);
    free(e->variables);
    free(e->localedir);
    free(e->linguas);
    free(e->fonts_dir);
    free(e->font_cache);
}

static void S_usage(FILE *f)
{
    fprintf(
        f, "Usage: pildoc render TEMPLATE [--lang LANG] [--set NAME=VALUE]... [--paper a4|letter]\n"
           "                     [-o FILE|-] [--format pdf|png|text] [--page N] [--dpi N]\n"
           "       pildoc langs\n"
           "       pildoc templates\n"
           "       pildoc --help | --version\n"
           "\n"
           "Renders a patient-information document from an XML template into a PDF.\n"
           "\n"
           "  TEMPLATE           a name from templates/ (leaflet) or a path to a template file\n"
           "  -l, --lang LANG    language: en (default), fr, zh_CN; fr-FR, zh-Hans ... accepted\n"
           "  -s, --set N=V      give variable N the value V (e.g. treatment.condition=crps)\n"
           "  -p, --paper P      a4 (default) or letter\n"
           "  -o, --output FILE  where to write (default out/TEMPLATE-LANG.pdf; - for stdout)\n"
           "  -f, --format F     pdf (default), png (one page, see --page), text (laid-out lines)\n"
           "      --page N       the page for --format png (default 1)\n"
           "      --dpi N        resolution for --format png (default 100)\n"
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

static char *S_create_date(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde)
        return NULL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (errno || *end || v < 0 || v > 253402300799LL)
        return NULL;
    time_t t = (time_t)v;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(buf);
}

typedef enum { FMT_PDF, FMT_PNG, FMT_TEXT } S_format;

static int S_render(int argc, char **argv, const S_env *env)
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
        {"help", no_argument, NULL, 'h'},
        {"strict", no_argument, NULL, 'S'},
        {"allow-incomplete", no_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    const char *lang_arg = "en", *paper_arg = "a4", *output = NULL, *data_file = NULL;
    S_format format = FMT_PDF;
    int strict = -1; /* -1: as the template says; 0 allow incomplete; 1 strict */
    long page = 1;
    double dpi = 100;
    char **sets = xcalloc((size_t)argc + 1, sizeof *sets);
    size_t n_sets = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:s:p:o:f:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data_file = optarg; break;
        case 'S': strict = 1; break;
        case 'A': strict = 0; break;
        case 'l': lang_arg = optarg; break;
        case 's': sets[n_sets++] = optarg; break;
        case 'p': paper_arg = optarg; break;
        case 'o': output = optarg; break;
        case 'f':
            if (strcmp(optarg, "pdf") == 0)
                format = FMT_PDF;
            else if (strcmp(optarg, "png") == 0)
                format = FMT_PNG;
            else if (strcmp(optarg, "text") == 0)
                format = FMT_TEXT;
            else {
                free(sets);
                return S_usage_error("unknown format '%s' (pdf, png or text)", optarg);
            }
            break;
        case 'P': page = strtol(optarg, NULL, 10); break;
        case 'D': dpi = strtod(optarg, NULL); break;
        case 'h':
            S_usage(stdout);
            free(sets);
            return PD_EXIT_OK;
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
    const char *template_arg = argv[optind];
    const pd_paper *paper = pd_paper_find(paper_arg);
    if (!paper) {
        free(sets);
        return S_usage_error("unknown paper size '%s' (a4 or letter)", paper_arg);
    }
    if (page < 1 || dpi < 10 || dpi > 1200) {
        free(sets);
        return S_usage_error("%s", "--page must be 1 or more and --dpi between 10 and 1200");
    }

    int status = PD_EXIT_INPUT;
    pd_error err = {0};
    pd_schema *schema = NULL;
    pd_template *tpl = NULL;
    pd_doc *doc = NULL;
    pd_pages *pages = NULL;
    pd_fonts *fonts = NULL;
    char *lang = NULL, *out_path = NULL, *create_date = NULL;
    pd_values values;
    pd_values_init(&values);
    pd_bind_stats stats = {0};
    strbuf bytes = STRBUF_INIT;
    char **available = lang_available(env->linguas);

    lang = lang_resolve(lang_arg, available, &err);
    if (!lang)
        goto done;
    if (strcmp(lang, "en") != 0) {
        strbuf mo = STRBUF_INIT;
        strbuf_printf(&mo, "%s/%s/LC_MESSAGES/pildoc.mo", env->localedir, lang);
        bool have = paths_exists(mo.data);
        strbuf_free(&mo);
        if (!have) {
            pd_error_set(&err, NULL, 0,
                         "no compiled catalog for '%s': run make (po/%s.po -> build/locale)", lang,
                         lang);
            goto done;
        }
    }
    schema = pd_schema_load(env->variables, &err);
    if (!schema)
        goto done;
    if (!pd_values_compute(&values, schema, env->templates_dir, &err))
        goto done;
    /* the data file first; --set overrides what it gives */
    if (data_file && !pd_data_load(data_file, schema, &values, &err))
        goto done;
    for (size_t i = 0; i < n_sets; i++)
        if (!pd_values_set_assignment(&values, schema, sets[i], &err))
            goto done;
    tpl = pd_template_load(template_arg, env->templates_dir, env->rng, schema, &err);
    if (!tpl)
        goto done;
    doc = pd_bind(tpl, schema, &values, lang, &stats, &err);
    if (!doc)
        goto done;
    if (stats.untranslated) {
        xmlChar *tstrict = xmlGetProp(xmlDocGetRootElement(tpl->doc), BAD_CAST "strict");
        bool refuse =
            strict == 1 || (strict == -1 && tstrict && xmlStrEqual(tstrict, BAD_CAST "yes"));
        xmlFree(tstrict);
        strbuf w = STRBUF_INIT;
        strbuf_printf(&w, "%zu of %zu messages are not translated into %s", stats.untranslated,
                      stats.messages, lang);
        for (size_t i = 0; i < 3 && stats.first_untranslated[i]; i++)
            strbuf_printf(&w, "%s \"%.50s%s\"", i ? "," : ", e.g.", stats.first_untranslated[i],
                          strlen(stats.first_untranslated[i]) > 50 ? "..." : "");
        if (refuse) {
            pd_error_set(
                &err, tpl->path, 0,
                "%s; refusing a half-translated %s (--allow-incomplete prints them in English)",
                strbuf_str(&w), tpl->name);
            strbuf_free(&w);
            goto done;
        }
        fprintf(stderr, "pildoc: warning: %s: %s; they print in English\n", tpl->path,
                strbuf_str(&w));
        strbuf_free(&w);
    }
    fonts = pd_fonts_new(env->fonts_dir, env->font_cache, &err);
    if (!fonts)
        goto done;
    pages = pd_layout(doc, fonts, paper, &err);
    if (!pages)
        goto done;
    if (format == FMT_PDF) {
        create_date = S_create_date();
        char creator[64];
        snprintf(creator, sizeof creator, "pildoc %s", PILDOC_VERSION);
        pd_pdf_info info = {creator, create_date};
        if (!pd_render_pdf(pages, &info, &bytes, &err))
            goto done;
    } else if (format == FMT_PNG) {
        if (!pd_render_png(pages, (size_t)page, dpi, &bytes, &err))
            goto done;
    } else {
        pd_render_text(pages, &bytes);
    }
    if (output) {
        out_path = xstrdup(output);
    } else {
        mkdir("out", 0755);
        strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "out/%s-%s.%s", tpl->name, lang,
                      format == FMT_PDF   ? "pdf"
                      : format == FMT_PNG ? "png"
                                          : "txt");
        out_path = strbuf_take(&sb);
    }
    if (!pd_output_write(out_path, bytes.data ? bytes.data : "", bytes.len, &err))
        goto done;
    status = PD_EXIT_OK;
done:
    if (status != PD_EXIT_OK)
        fprintf(stderr, "%s%s\n", err.located ? "" : "pildoc: ", err.set ? err.msg : "failed");
    strbuf_free(&bytes);
    pd_pages_free(pages);
    pd_fonts_free(fonts);
    pd_doc_free(doc);
    pd_template_free(tpl);
    pd_schema_free(schema);
    pd_values_free(&values);
    pd_bind_stats_free(&stats);
    lang_list_free(available);
    free(lang);
    free(out_path);
    free(create_date);
    free(sets);
    return status;
}

/* pildoc langs: per language and template, the state of the catalog. */
static int S_langs(const S_env *env)
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
    pd_template **tpls = xcalloc(n_tpl ? n_tpl : 1, sizeof *tpls);
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
                fprintf(stderr, "%s\n", e.msg);
                status = PD_EXIT_INPUT;
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        S_usage(stderr);
        return PD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        S_usage(stdout);
        return PD_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("pildoc %s\n", PILDOC_VERSION);
        return PD_EXIT_OK;
    }
    S_env env;
    S_env_init(&env);
    lang_init(env.localedir);
    xmlsafe_init();
    int status;
    if (strcmp(argv[1], "render") == 0) {
        status = S_render(argc - 1, argv + 1, &env);
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
        status = S_usage_error("unknown command '%s' (render, langs, templates)", argv[1]);
    }
    xmlsafe_cleanup();
    xmlCleanupParser();
    S_env_free(&env);
    return status;
}
