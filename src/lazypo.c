/* libgettextpo, opened when `pildoc langs` first reads a catalog (see
 * lazylib.h): the functions catalog.c calls, forwarded. */
#include <gettext-po.h>
#include <stddef.h>

#include "lazylib.h"

#ifndef PD_GETTEXTPO_SONAME
#define PD_GETTEXTPO_SONAME "libgettextpo.so.0"
#endif

enum {
    FILE_READ,
    FILE_FREE,
    ITERATOR,
    ITERATOR_FREE,
    NEXT_MESSAGE,
    MSGCTXT,
    MSGID,
    MSGSTR,
    IS_OBSOLETE,
    IS_FUZZY
};
static const char *const S_names[] = {"po_file_read_v3",
                                      "po_file_free",
                                      "po_message_iterator",
                                      "po_message_iterator_free",
                                      "po_next_message",
                                      "po_message_msgctxt",
                                      "po_message_msgid",
                                      "po_message_msgstr",
                                      "po_message_is_obsolete",
                                      "po_message_is_fuzzy",
                                      NULL};
static void *S_fns[sizeof S_names / sizeof *S_names];
static pd_lazylib S_lib = PD_LAZYLIB_INIT(PD_GETTEXTPO_SONAME, S_names, S_fns);

/* po_file_read is po_file_read_v3 (gettext-po.h) */
po_file_t po_file_read(const char *filename, po_xerror_handler_t handler)
{
    if (!pd_lazylib_open(&S_lib)) {
        handler->xerror(PO_SEVERITY_ERROR, NULL, filename, (size_t)-1, (size_t)-1, 0, S_lib.why);
        return NULL;
    }
    po_file_t (*fn)(const char *, po_xerror_handler_t) = S_fns[FILE_READ];
    return fn(filename, handler);
}

void po_file_free(po_file_t file)
{
    void (*fn)(po_file_t) = pd_lazylib_fn(&S_lib, FILE_FREE);
    fn(file);
}

po_message_iterator_t po_message_iterator(po_file_t file, const char *domain)
{
    po_message_iterator_t (*fn)(po_file_t, const char *) = pd_lazylib_fn(&S_lib, ITERATOR);
    return fn(file, domain);
}

void po_message_iterator_free(po_message_iterator_t iterator)
{
    void (*fn)(po_message_iterator_t) = pd_lazylib_fn(&S_lib, ITERATOR_FREE);
    fn(iterator);
}

po_message_t po_next_message(po_message_iterator_t iterator)
{
    po_message_t (*fn)(po_message_iterator_t) = pd_lazylib_fn(&S_lib, NEXT_MESSAGE);
    return fn(iterator);
}

const char *po_message_msgctxt(po_message_t message)
{
    const char *(*fn)(po_message_t) = pd_lazylib_fn(&S_lib, MSGCTXT);
    return fn(message);
}

const char *po_message_msgid(po_message_t message)
{
    const char *(*fn)(po_message_t) = pd_lazylib_fn(&S_lib, MSGID);
    return fn(message);
}

const char *po_message_msgstr(po_message_t message)
{
    const char *(*fn)(po_message_t) = pd_lazylib_fn(&S_lib, MSGSTR);
    return fn(message);
}

int po_message_is_obsolete(po_message_t message)
{
    int (*fn)(po_message_t) = pd_lazylib_fn(&S_lib, IS_OBSOLETE);
    return fn(message);
}

int po_message_is_fuzzy(po_message_t message)
{
    int (*fn)(po_message_t) = pd_lazylib_fn(&S_lib, IS_FUZZY);
    return fn(message);
}
