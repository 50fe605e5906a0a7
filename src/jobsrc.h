/* jobsrc: the jobs of a batch, read as a stream from an XML or CSV file,
 * so a million-job file needs no more memory than a hundred-job one.
 *
 *   XML: <batch><job template="consent" lang="fr" output="P1.pdf">
 *          <data>...as a --data file...</data></job>...</batch>
 *        or data="FILE" instead of inline data (relative to the job file);
 *        clinic="paris" (an installed profile, templates/clinics/NAME.xml)
 *        or clinic="FILE.xml" (a profile in the job file's folder);
 *        large_print="1" for large print; form="yes" for a fillable form
 *        (pildoc render --form); plain="yes" for the smallest PDF
 *        (pildoc render --plain); also="fr" for a bilingual document
 *        (pildoc render --also fr).
 *   CSV: a header row
 *        template,lang,output[,data][,clinic][,large_print][,form][,plain][,also],
 *        NAME... then one job per row; an empty cell gives no value. Parsed by
 *        libcsv.
 *
 * A problem with one job (bad data, a missing attribute) is that job's
 * error: the job fails alone. A file that cannot be read on (malformed XML,
 * a bad CSV header) stops the batch.
 * Ownership: a pd_jobspec owns its strings and values; pd_jobspec_clear
 * releases them. */
#ifndef PILDOC_JOBSRC_H
#define PILDOC_JOBSRC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "vars.h"

typedef struct pd_jobspec {
    size_t number; /* 1-based position in the file */
    char *template_name, *lang, *output, *data_file;
    char *clinic;      /* a clinic profile in the job file's folder, or NULL */
    char *clinic_name; /* or an installed profile's name (templates/clinics/NAME.xml) */
    int large_print;   /* large_print="1" (XML) or a large_print column of 1 (CSV) */
    int form;          /* a fillable form (the `form` column: 1 or yes) */
    int plain;         /* the smallest PDF, untagged, not PDF/A (`plain`: 1 or yes) */
    char *also;        /* a bilingual document's second language (`also`), or NULL */
    pd_values values;
    char *id;    /* patient.id when given: names the job in messages */
    char *error; /* this job cannot run: why */
} pd_jobspec;

typedef struct pd_jobsrc pd_jobsrc;

pd_jobsrc *pd_jobsrc_open(const char *path, const pd_schema *schema, pd_error *err);
/* 1: a job (the caller clears it), 0: no more, -1: the file is broken (err). */
int pd_jobsrc_next(pd_jobsrc *src, pd_jobspec *job, pd_error *err);
void pd_jobsrc_close(pd_jobsrc *src);
void pd_jobspec_clear(pd_jobspec *job);

#endif
