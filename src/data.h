/* data: patient and treatment values from an XML file (--data).
 * Nested elements give dotted names: <data><patient><name>Zoë</name>
 * </patient></data> sets patient.name. Every name must be in the data
 * schema, and every value is checked against its type; the first problem
 * is reported as "file:line: what is wrong", naming the field but never
 * quoting a value.
 * Ownership: values are copied into the caller's pd_values. */
#ifndef PILDOC_DATA_H
#define PILDOC_DATA_H

#include <libxml/tree.h>
#include <stdbool.h>

#include "error.h"
#include "vars.h"

bool pd_data_load(const char *path, const pd_schema *schema, pd_values *values, pd_error *err);
/* The same, following no symbolic link anywhere in path (a batch job's
 * data= file, resolved and confined when the job was read). */
bool pd_data_load_nofollow(const char *path, const pd_schema *schema, pd_values *values,
                           pd_error *err);

/* The same from len bytes in memory (a request body); `file` names them
 * in errors. */
bool pd_data_load_memory(const char *buf, size_t len, const char *file, const pd_schema *schema,
                         pd_values *values, pd_error *err);

/* The same from an element already parsed (a batch job's <data>); `file`
 * names it in errors. */
bool pd_data_from_node(xmlNodePtr data, const char *file, const pd_schema *schema,
                       pd_values *values, pd_error *err);

#endif
