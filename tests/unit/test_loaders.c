/* The loaders that take memory as well as paths (a template, a data file, a
 * clinic profile sent to a service): the same result as from the file, and
 * errors that name what the caller called them. The table of output
 * formats. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "clinic.h"
#include "data.h"
#include "formats.h"
#include "template.h"
#include "vars.h"
#include "xmlsafe.h"

TCase *pd_test_loaders_tcase(void);

static char *S_slurp(const char *path, size_t *len)
{
    gchar *text = NULL;
    gsize n = 0;
    ck_assert_msg(g_file_get_contents(path, &text, &n, NULL), "cannot read %s", path);
    char *out = malloc(n + 1);
    memcpy(out, text, n + 1);
    g_free(text);
    *len = n;
    return out;
}

static pd_schema *S_schema(void)
{
    pd_error err = {0};
    pd_schema *s = pd_schema_load("templates/variables.xml", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

static void S_same_values(const pd_values *a, const pd_values *b)
{
    ck_assert_uint_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const char *v = pd_values_get(b, a->names[i]);
        ck_assert_msg(v && strcmp(v, a->values[i]) == 0, "%s differs", a->names[i]);
    }
}

START_TEST(template_from_memory_equals_file)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_template *f = pd_template_load("leaflet", "templates", "templates/pildoc.rng", schema, &err);
    ck_assert_msg(f != NULL, "%s", err.msg);
    size_t len;
    char *buf = S_slurp("templates/leaflet.xml", &len);
    /* includes are found beside the path it is given */
    pd_template *m = pd_template_load_memory(buf, len, "templates/leaflet.xml",
                                             "templates/pildoc.rng", schema, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_str_eq(m->name, f->name);
    ck_assert_str_eq(m->path, f->path);
    ck_assert_uint_eq(m->n_fragments, f->n_fragments);
    ck_assert_uint_gt(m->n_fragments, 0);
    pd_template_free(m);
    pd_template_free(f);
    free(buf);
    /* an unknown variable: the error names the given path and the line */
    static const char bad[] = "<document name=\"x\" version=\"1\">\n"
                              "<title>t</title>\n<p><var name=\"no.such\"/></p></document>\n";
    pd_error e2 = {0};
    m = pd_template_load_memory(bad, strlen(bad), "templates/sent.xml", "templates/pildoc.rng",
                                schema, &e2);
    ck_assert_ptr_null(m);
    ck_assert_msg(strncmp(e2.msg, "templates/sent.xml:", 19) == 0, "%s", e2.msg);
    /* malformed XML: named the same way */
    pd_error e3 = {0};
    m = pd_template_load_memory("<document", 9, "templates/sent.xml", "templates/pildoc.rng",
                                schema, &e3);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(e3.msg, "templates/sent.xml:1") && strstr(e3.msg, "malformed XML"), "%s",
                  e3.msg);
    pd_schema_free(schema);
}
END_TEST

START_TEST(data_from_memory_equals_file)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_values a, b;
    pd_values_init(&a);
    pd_values_init(&b);
    ck_assert_msg(pd_data_load("templates/data/sample-patient.xml", schema, &a, &err), "%s",
                  err.msg);
    size_t len;
    char *buf = S_slurp("templates/data/sample-patient.xml", &len);
    ck_assert_msg(pd_data_load_memory(buf, len, "request body", schema, &b, &err), "%s", err.msg);
    ck_assert_uint_gt(a.n, 3);
    S_same_values(&a, &b);
    free(buf);
    pd_values_free(&a);
    pd_values_free(&b);
    static const char bad[] = "<data>\n<patient><nmae>x</nmae></patient></data>";
    pd_values_init(&b);
    pd_error e2 = {0};
    ck_assert(!pd_data_load_memory(bad, strlen(bad), "request body", schema, &b, &e2));
    ck_assert_msg(strncmp(e2.msg, "request body:2:", 15) == 0, "%s", e2.msg);
    pd_values_free(&b);
    pd_schema_free(schema);
}
END_TEST

START_TEST(clinic_from_memory_equals_file)
{
    pd_schema *schema = S_schema();
    pd_error err = {0};
    pd_values a, b;
    pd_values_init(&a);
    pd_values_init(&b);
    pd_image *la = NULL, *lb = NULL;
    ck_assert_msg(pd_clinic_load("templates/clinics/paris.xml", "templates/clinic.rng", schema, &a,
                                 &la, &err),
                  "%s", err.msg);
    size_t len;
    char *buf = S_slurp("templates/clinics/paris.xml", &len);
    /* the logo is read beside the path it is given */
    ck_assert_msg(pd_clinic_load_memory(buf, len, "templates/clinics/paris.xml",
                                        "templates/clinic.rng", schema, &b, &lb, &err),
                  "%s", err.msg);
    S_same_values(&a, &b);
    ck_assert_ptr_nonnull(la);
    ck_assert_ptr_nonnull(lb);
    pd_image_free(la);
    pd_image_free(lb);
    pd_values_free(&b);
    /* elsewhere, the logo beside it is missing: one error naming the path */
    pd_values_init(&b);
    pd_error e2 = {0};
    ck_assert(!pd_clinic_load_memory(buf, len, "templates/data/sent.xml", "templates/clinic.rng",
                                     schema, &b, &lb, &e2));
    ck_assert_msg(strstr(e2.msg, "templates/data/sent.xml:") && strstr(e2.msg, "logo"), "%s",
                  e2.msg);
    free(buf);
    pd_values_free(&a);
    pd_values_free(&b);
    pd_schema_free(schema);
}
END_TEST

START_TEST(formats_table_names_extension_and_mime)
{
    const pd_format_info *text = pd_format_by_name("text");
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(text->format, PD_FORMAT_TEXT);
    ck_assert_str_eq(text->extension, "txt");
    ck_assert_str_eq(pd_format_of(PD_FORMAT_PDF)->mime, "application/pdf");
    ck_assert_str_eq(pd_format_of(PD_FORMAT_PNG)->name, "png");
    ck_assert_ptr_null(pd_format_by_name("txt")); /* the extension is not a name */
    ck_assert_ptr_null(pd_format_by_name("PDF"));
    char names[64];
    pd_format_names(names, sizeof names);
    ck_assert_str_eq(names, "pdf, png or text");
    char cut[6];
    pd_format_names(cut, sizeof cut); /* cut, never overrun */
    ck_assert_str_eq(cut, "pdf, ");
}
END_TEST

TCase *pd_test_loaders_tcase(void)
{
    TCase *tc = tcase_create("loaders");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, template_from_memory_equals_file);
    tcase_add_test(tc, data_from_memory_equals_file);
    tcase_add_test(tc, clinic_from_memory_equals_file);
    tcase_add_test(tc, formats_table_names_extension_and_mime);
    return tc;
}
