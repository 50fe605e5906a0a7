#include "clinic.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "strbuf.h"
#include "xmlsafe.h"

/* Profile element -> variable. <emergency> may come twice (15 and 112):
 * the second fills clinic.emergency_alt. */
static const struct {
    const char *element, *variable;
} S_fields[] = {
    {"name", "clinic.name"},
    {"department", "clinic.department"},
    {"address", "clinic.address"},
    {"phone", "clinic.phone"},
    {"reporting", "clinic.reporting_contact"},
    {"monitoring", "clinic.monitoring"},
    {"approver", "clinic.approver"},
};

/* A phone number as people write it: digits, spaces, + ( ) . - ; at
 * least 4 digits. */
static bool S_phone_ok(const char *s)
{
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr(" +().-", *p))
            return false;
    }
    return digits >= 4 && digits <= 20;
}

/* An emergency number: 2 to 4 digits (15, 112, 911, 120, 999). */
static bool S_emergency_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 4)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool S_set(pd_values *values, const pd_schema *schema, const char *name, const char *value,
                  const char *path, long line, pd_error *err)
{
    return pd_values_set(values, schema, name, value, path, line, err);
}

/* A logo is a file beside the profile (or below it): relative, without
 * "..", and present. Returns the path to use, or NULL with err set. */
static char *S_logo(const char *path, const char *name, long line, pd_error *err)
{
    if (!paths_has_suffix(name, ".svg") && !paths_has_suffix(name, ".png")) {
        pd_error_set(err, path, line, "the logo must be an .svg or .png file");
        return NULL;
    }
    if (!*name || name[0] == '/' || strstr(name, "..") || strchr(name, '\\')) {
        pd_error_set(err, path, line,
                     "the logo must be a file in the profile's folder (no absolute path, no '..')");
        return NULL;
    }
    char *dir = paths_dirname(path);
    char *full = paths_join(dir, name);
    free(dir);
    if (!paths_exists(full)) {
        pd_error_set(err, path, line, "logo '%s' not found beside the profile", name);
        free(full);
        return NULL;
    }
    return full;
}

/* A parsed profile (taken and freed) named path. */
static bool S_load_doc(xmlDocPtr doc, const char *path, const char *rng, const pd_schema *schema,
                       pd_values *values, pd_image **logo, pd_error *err)
{
    char *logo_path = NULL;
    long logo_line = 0;
    bool ok = xmlsafe_validate(doc, rng, path, err);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (ok) {
        xmlChar *country = xmlGetProp(root, BAD_CAST "country");
        if (country)
            ok = S_set(values, schema, "clinic.country", (const char *)country, path,
                       xmlGetLineNo(root), err);
        xmlFree(country);
    }
    int emergencies = 0;
    for (xmlNodePtr n = root ? root->children : NULL; ok && n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        long line = xmlGetLineNo(n);
        xmlChar *raw = xmlNodeGetContent(n);
        char *value = xmlsafe_collapse_space(raw ? (const char *)raw : "");
        xmlFree(raw);
        const char *name = (const char *)n->name;
        if (strcmp(name, "emergency") == 0 && emergencies == 2) {
            ok = pd_error_set(err, path, line, "at most two emergency numbers");
        } else if (strcmp(name, "emergency") == 0 && !S_emergency_ok(value)) {
            ok = pd_error_set(err, path, line, "an emergency number is 2 to 4 digits");
        } else if (strcmp(name, "phone") == 0 && !S_phone_ok(value)) {
            ok = pd_error_set(err, path, line,
                              "a phone number has 4 to 20 digits, and only spaces, + ( ) . - "
                              "besides");
        } else if (strcmp(name, "emergency") == 0) {
            ok = S_set(values, schema, emergencies++ ? "clinic.emergency_alt" : "clinic.emergency",
                       value, path, line, err);
        } else if (strcmp(name, "logo") == 0) {
            free(logo_path);
            logo_path = S_logo(path, value, line, err);
            logo_line = line;
            ok = logo_path && S_set(values, schema, "clinic.logo", logo_path, path, line, err);
        } else {
            for (size_t i = 0; i < sizeof S_fields / sizeof S_fields[0]; i++)
                if (strcmp(name, S_fields[i].element) == 0)
                    ok = S_set(values, schema, S_fields[i].variable, value, path, line, err);
            if (ok && strcmp(name, "reporting") == 0) {
                xmlChar *scheme = xmlGetProp(n, BAD_CAST "scheme");
                ok = S_set(values, schema, "clinic.reporting", (const char *)scheme, path, line,
                           err);
                xmlFree(scheme);
            }
        }
        free(value);
    }
    xmlFreeDoc(doc);
    if (ok && logo_path) {
        const char *name = pd_values_get(values, "clinic.name");
        char *dir = paths_dirname(path);
        /* at most about 160 points wide on paper: 512 pixels is 230 dpi */
        *logo = pd_image_load(logo_path, dir, 512, name ? name : "logo", path, logo_line, err);
        free(dir);
        ok = *logo != NULL;
    }
    free(logo_path);
    return ok;
}

bool pd_clinic_load(const char *path, const char *rng, const pd_schema *schema, pd_values *values,
                    pd_image **logo, pd_error *err)
{
    *logo = NULL;
    xmlDocPtr doc = xmlsafe_read_file(path, err);
    return doc && S_load_doc(doc, path, rng, schema, values, logo, err);
}

bool pd_clinic_load_nofollow(const char *path, const char *rng, const pd_schema *schema,
                             pd_values *values, pd_image **logo, pd_error *err)
{
    *logo = NULL;
    xmlDocPtr doc = xmlsafe_read_file_nofollow(path, err);
    return doc && S_load_doc(doc, path, rng, schema, values, logo, err);
}

bool pd_clinic_load_memory(const char *buf, size_t len, const char *path, const char *rng,
                           const pd_schema *schema, pd_values *values, pd_image **logo,
                           pd_error *err)
{
    *logo = NULL;
    xmlDocPtr doc = xmlsafe_read_memory(buf, len, path, 0, err);
    return doc && S_load_doc(doc, path, rng, schema, values, logo, err);
}
