/* vars: the data schema (templates/variables.xml: every name a template may
 * use, with its type) and the values given for one document.
 * Ownership: a pd_schema owns its variables; a pd_values owns its copies of
 * names and values. Values are plain text: nothing in them is ever read as
 * markup or as a format. */
#ifndef PILDOC_VARS_H
#define PILDOC_VARS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef enum pd_var_type {
    PD_VAR_TEXT,
    PD_VAR_CHOICE,
    PD_VAR_DATE,
    PD_VAR_COUNT,
    PD_VAR_LANGUAGE, /* a language: its code ("ta", "ar-EG") prints as its name, or a name as given
                      */
} pd_var_type;

typedef struct pd_choice {
    char *value; /* what --set gives: "crps" */
    char *label; /* English label, a translatable message */
} pd_choice;

typedef struct pd_var_def {
    char *name;
    pd_var_type type;
    pd_choice *choices;
    size_t n_choices;
    double blank_em; /* width of the blank line printed when no value */
    long line;       /* in the schema file */
    char *unit;      /* counts: the unit whose plural forms print the number */
    char *from;      /* computed: the template whose root attribute gives it */
    char *attribute; /* computed: that attribute ("version", "revised"); NULL for a
                        variable pildoc sets itself (from="--also": the bilingual ones) */
    char *why_set;   /* computed: why it cannot be set, "comes from the leaflet template",
                        "is set by --also"; NULL otherwise */
} pd_var_def;

typedef struct pd_schema {
    char *file;
    pd_var_def *defs;
    size_t n_defs;
} pd_schema;

/* Loads and checks the schema file; NULL with err set on failure. */
pd_schema *pd_schema_load(const char *path, pd_error *err);
void pd_schema_free(pd_schema *schema);
const pd_var_def *pd_schema_find(const pd_schema *schema, const char *name);
const pd_choice *pd_var_def_choice(const pd_var_def *def, const char *value);

typedef struct pd_values {
    char **names;
    char **values;
    size_t n;
} pd_values;

void pd_values_init(pd_values *v);
void pd_values_free(pd_values *v);
/* Checks name and value against the schema and stores them (a later set of
 * the same name replaces the earlier one). An empty or blank value means
 * "no value": it removes the name. `where` names the source for
 * errors ("--set", "data.xml"), line its line or 0. Error messages name
 * the variable but never quote a text value (it may be patient data). */
bool pd_values_set(pd_values *v, const pd_schema *schema, const char *name, const char *value,
                   const char *where, long line, pd_error *err);
/* Sets every computed variable (from="leaflet" attribute="version") from
 * the root element of templates_dir/NAME.xml; a missing template leaves it
 * unset. */
bool pd_values_compute(pd_values *v, const pd_schema *schema, const char *templates_dir,
                       pd_error *err);
/* Parses "NAME=VALUE" and sets it. */
bool pd_values_set_assignment(pd_values *v, const pd_schema *schema, const char *assignment,
                              pd_error *err);
/* The value or NULL when not given. */
const char *pd_values_get(const pd_values *v, const char *name);

#endif
