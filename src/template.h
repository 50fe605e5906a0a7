/* template: loading a document template with its included fragments.
 * Every file is parsed safely, validated against templates/pildoc.rng, and
 * every variable it names is checked against the data schema, before any
 * rendering starts.
 * Ownership: a pd_template owns its XML documents and strings;
 * pd_template_free releases them. Node pointers handed out stay valid until
 * then. */
#ifndef PILDOC_TEMPLATE_H
#define PILDOC_TEMPLATE_H

#include <libxml/tree.h>

#include "error.h"
#include "vars.h"

typedef struct pd_fragment {
    char *path; /* as displayed in errors */
    xmlDocPtr doc;
} pd_fragment;

typedef struct pd_template {
    char *name; /* "leaflet" */
    char *path; /* as displayed in errors: "templates/leaflet.xml" */
    xmlDocPtr doc;
    pd_fragment *fragments;
    size_t n_fragments;
} pd_template;

/* name_or_path: a name from templates_dir ("leaflet") or a path to a file.
 * rng: the schema file. */
pd_template *pd_template_load(const char *name_or_path, const char *templates_dir, const char *rng,
                              const pd_schema *schema, pd_error *err);
/* The same from len bytes in memory (a template sent to a service): path
 * names it in errors and is where it would live, the folder its includes
 * are read from. */
pd_template *pd_template_load_memory(const char *buf, size_t len, const char *path, const char *rng,
                                     const pd_schema *schema, pd_error *err);
void pd_template_free(pd_template *t);

/* The root element of the fragment an <include> names (loaded already). */
xmlNodePtr pd_template_included(const pd_template *t, xmlNodePtr include);

/* The display path of the file a node belongs to. */
const char *pd_template_file_of(const pd_template *t, xmlNodePtr node);

/* Lists the template names found in templates_dir (NULL-terminated,
 * caller frees each and the array). */
char **pd_template_list(const char *templates_dir);

#endif
