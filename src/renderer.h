/* renderer: one document from a template name, a language and values to
 * finished bytes (PDF, PNG or text), keeping what is costly to load
 * (data schema, templates, fonts) across documents. `pildoc render` makes
 * one document with it; each batch worker makes thousands.
 * Each renderer holds its own languages (catalogs): renderers with
 * different languages may live in one process, and one renderer may make
 * documents in any order of languages, each as a fresh renderer would.
 * Ownership: a pd_renderer owns its caches; results own their bytes. */
#ifndef PILDOC_RENDERER_H
#define PILDOC_RENDERER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "glyphwarm.h"
#include "lang.h"
#include "layout.h"
#include "layoutplan.h"
#include "strbuf.h"
#include "vars.h"

/* Where pildoc's data lives (all paths relative to the current folder
 * where possible, so that errors read "templates/leaflet.xml:12"). */
typedef struct pd_env {
    char *datadir, *templates_dir, *rng, *variables, *localedir, *linguas, *fonts_dir, *font_cache;
} pd_env;

void pd_env_init(pd_env *e);
void pd_env_free(pd_env *e);

typedef enum pd_format { PD_FORMAT_PDF, PD_FORMAT_PNG, PD_FORMAT_TEXT } pd_format;

typedef struct pd_job {
    const char *template_name; /* a name from templates/ or a path */
    const char *lang;          /* as the user wrote it: "fr-FR" is fine */
    const pd_paper *paper;
    int strict;              /* -1 as the template says, 0 allow incomplete, 1 strict */
    const pd_values *values; /* data and --set values (computed ones are added) */
    pd_format format;
    size_t page;     /* PNG: which page */
    double dpi;      /* PNG: resolution */
    int large_print; /* 1: large print (body 16 pt, re-paginated) */
    /* a clinic profile (--clinic), or NULL: templates/clinics/default.xml
     * when it exists; the data and --set values override its values */
    const char *clinic;
    /* 1: clinic is a real path checked earlier (a batch job's profile file):
     * opened following no symbolic link, so one swapped in since is refused */
    int clinic_nofollow;
    /* PDF: 1 for the smallest file, without PDF/A (XMP, OutputIntent,
     * CIDSets) or tags; 0: PDF/A-1b (render.h, pd_pdf_info.plain) */
    int plain;
    int form; /* 1: a fillable, signable PDF form (refused for a document without a line to
                 sign on) */
} pd_job;

/* The document a job makes, named for what a fresh process keeps of it
 * in the cache folder (glyphwarm.h, layoutplan.h): template, languages
 * (also: the second one, or NULL), paper, print size and clinic profile,
 * as the job gives them. The caller frees. */
char *pd_job_describe(const pd_job *job, const char *also);

typedef struct pd_job_result {
    strbuf bytes;
    size_t pages;
    char *template_name; /* resolved: "leaflet" */
    char *lang;          /* resolved: "zh_CN" */
    char *also;          /* resolved second language, or NULL */
    char *warning;       /* one line (untranslated messages), or NULL */
    /* has_sha256: sha256 is the SHA-256 of bytes, known without hashing
       them again (a PDF from the renderer's document cache, doccache.h) */
    int has_sha256;
    unsigned char sha256[32];
} pd_job_result;

typedef struct pd_renderer pd_renderer;

pd_renderer *pd_renderer_new(const pd_env *env, pd_error *err);
void pd_renderer_free(pd_renderer *r);
/* r will not be used again and the process ends next (`render`, a batch
 * worker about to _exit): frees it when pd_renderer_free_at_exit() says
 * so, else keeps it reachable (one renderer per process) and frees
 * nothing: the end of the process does it at no cost. */
void pd_renderer_end_of_process(pd_renderer *r);
/* Whether a process frees everything before it ends: in a sanitized
 * build, or when PILDOC_FREE_AT_EXIT is set to anything but 0 (make
 * memcheck, for valgrind's leak check). */
bool pd_renderer_free_at_exit(void);
const pd_schema *pd_renderer_schema(const pd_renderer *r);
/* The language codes available (en + LINGUAS), NULL-terminated. */
char *const *pd_renderer_langs(const pd_renderer *r);

/* The language CODE (resolved: "fr", "zh_CN") with its catalog, loaded at
 * the first use and kept by the renderer; NULL with err set when its
 * catalog is missing or broken. */
const pd_lang *pd_renderer_lang(pd_renderer *r, const char *code, pd_error *err);

/* Makes the fonts now rather than at the first layout (`render`, before it
 * starts its glyph warm-up). False when they cannot be made: the first
 * render that needs them fails saying why. */
bool pd_renderer_load_fonts(pd_renderer *r);
/* The glyph warm-up of a fresh `render` (glyphwarm.h), borrowed: told after
 * each layout which glyphs it showed. NULL (the default): none. */
void pd_renderer_set_glyphwarm(pd_renderer *r, pd_glyphwarm *w);
/* The renderer's fonts, made by pd_renderer_load_fonts (NULL before, or
 * when they could not be made); borrowed. */
pd_fonts *pd_renderer_fonts(pd_renderer *r);
/* The layout plan of a fresh `render` (layoutplan.h), borrowed: it helps
 * each layout and hears what it shaped. NULL (the default): none. */
void pd_renderer_set_layoutplan(pd_renderer *r, pd_layoutplan *plan);

bool pd_renderer_render(pd_renderer *r, const pd_job *job, pd_job_result *res, pd_error *err);
/* A bilingual document (`--also`, bilingual.h): job->lang first (the
 * patient's), then `also` (as the user wrote it; the clinician's). Both
 * languages must be complete whatever job->strict says, and differ. */
bool pd_renderer_render_also(pd_renderer *r, const pd_job *job, const char *also,
                             pd_job_result *res, pd_error *err);
void pd_job_result_free(pd_job_result *res);

#endif
