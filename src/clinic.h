/* clinic: a clinic profile (--clinic FILE.xml): the clinic's name,
 * department, address, phone, emergency numbers, country, side-effect
 * reporting scheme, monitoring protocol and logo. The profile is checked
 * against templates/clinic.rng and turned into clinic.* values that
 * templates print with <var> and test with <if>: the country (never the
 * language) selects the legal variants of the consent and the emergency
 * numbers. The first problem is reported as "file:line: what is wrong".
 * Ownership: values are copied into the caller's pd_values; the logo's
 * path is resolved against the profile's folder and must stay inside it. */
#ifndef PILDOC_CLINIC_H
#define PILDOC_CLINIC_H

#include <stdbool.h>

#include "error.h"
#include "image.h"
#include "vars.h"

/* Loads the profile at path, validated against the schema rng, into
 * values (through the data schema, so every value is type-checked), and
 * its logo, decoded, into *logo (NULL when it has none; the caller frees
 * it), with the clinic's name as its text alternative. */
bool pd_clinic_load(const char *path, const char *rng, const pd_schema *schema, pd_values *values,
                    pd_image **logo, pd_error *err);

/* The same, path opened following no symbolic link in any of its parts
 * (xmlsafe_read_file_nofollow): a batch job's profile, whose real path the
 * job file's reader checked; a link swapped in since is refused. */
bool pd_clinic_load_nofollow(const char *path, const char *rng, const pd_schema *schema,
                             pd_values *values, pd_image **logo, pd_error *err);

/* The same from len bytes in memory: path names the profile in errors and
 * is where it would live, the folder its logo is read from. */
bool pd_clinic_load_memory(const char *buf, size_t len, const char *path, const char *rng,
                           const pd_schema *schema, pd_values *values, pd_image **logo,
                           pd_error *err);

#endif
