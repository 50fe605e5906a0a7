/* libmicrohttpd, opened when `pildoc serve` starts its daemon (see
 * lazylib.h): the functions serve.c calls, forwarded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "lazylib.h"

#ifndef PD_MHD_SONAME
#define PD_MHD_SONAME "libmicrohttpd.so.12"
#endif

enum {
    START_DAEMON_VA,
    STOP_DAEMON,
    QUIESCE_DAEMON,
    GET_DAEMON_INFO,
    GET_CONNECTION_INFO,
    LOOKUP_VALUE,
    GET_VALUES,
    RESPONSE_FROM_BUFFER,
    ADD_HEADER,
    QUEUE_RESPONSE,
    DESTROY_RESPONSE,
    CREATE_POST_PROCESSOR,
    POST_PROCESS,
    DESTROY_POST_PROCESSOR
};
static const char *const S_names[] = {"MHD_start_daemon_va",
                                      "MHD_stop_daemon",
                                      "MHD_quiesce_daemon",
                                      "MHD_get_daemon_info",
                                      "MHD_get_connection_info",
                                      "MHD_lookup_connection_value",
                                      "MHD_get_connection_values",
                                      "MHD_create_response_from_buffer",
                                      "MHD_add_response_header",
                                      "MHD_queue_response",
                                      "MHD_destroy_response",
                                      "MHD_create_post_processor",
                                      "MHD_post_process",
                                      "MHD_destroy_post_processor",
                                      NULL};
static void *S_fns[sizeof S_names / sizeof *S_names];
static pd_lazylib S_lib = PD_LAZYLIB_INIT(PD_MHD_SONAME, S_names, S_fns);

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    if (!pd_lazylib_open(&S_lib)) {
        fprintf(stderr, "pildoc: %s\n", S_lib.why);
        return NULL;
    }
    struct MHD_Daemon *(*fn)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                             MHD_AccessHandlerCallback, void *, va_list) = S_fns[START_DAEMON_VA];
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = fn(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    void (*fn)(struct MHD_Daemon *) = pd_lazylib_fn(&S_lib, STOP_DAEMON);
    fn(daemon);
}

MHD_socket MHD_quiesce_daemon(struct MHD_Daemon *daemon)
{
    MHD_socket (*fn)(struct MHD_Daemon *) = pd_lazylib_fn(&S_lib, QUIESCE_DAEMON);
    return fn(daemon);
}

/* serve.c asks only for what takes no further argument (the bound port) */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
                                                enum MHD_DaemonInfoType info_type, ...)
{
    const union MHD_DaemonInfo *(*fn)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...) =
        pd_lazylib_fn(&S_lib, GET_DAEMON_INFO);
    return fn(daemon, info_type);
}

/* serve.c asks only for what takes no further argument (the connection's
 * socket and its socket context) */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
                                                        enum MHD_ConnectionInfoType info_type, ...)
{
    const union MHD_ConnectionInfo *(*fn)(struct MHD_Connection *, enum MHD_ConnectionInfoType,
                                          ...) = pd_lazylib_fn(&S_lib, GET_CONNECTION_INFO);
    return fn(connection, info_type);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    const char *(*fn)(struct MHD_Connection *, enum MHD_ValueKind, const char *) =
        pd_lazylib_fn(&S_lib, LOOKUP_VALUE);
    return fn(connection, kind, key);
}

int MHD_get_connection_values(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator iterator, void *iterator_cls)
{
    int (*fn)(struct MHD_Connection *, enum MHD_ValueKind, MHD_KeyValueIterator, void *) =
        pd_lazylib_fn(&S_lib, GET_VALUES);
    return fn(connection, kind, iterator, iterator_cls);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *(*fn)(size_t, void *, enum MHD_ResponseMemoryMode) =
        pd_lazylib_fn(&S_lib, RESPONSE_FROM_BUFFER);
    return fn(size, buffer, mode);
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response, const char *header,
                                        const char *content)
{
    enum MHD_Result (*fn)(struct MHD_Response *, const char *, const char *) =
        pd_lazylib_fn(&S_lib, ADD_HEADER);
    return fn(response, header, content);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    enum MHD_Result (*fn)(struct MHD_Connection *, unsigned int, struct MHD_Response *) =
        pd_lazylib_fn(&S_lib, QUEUE_RESPONSE);
    return fn(connection, status_code, response);
}

void MHD_destroy_response(struct MHD_Response *response)
{
    void (*fn)(struct MHD_Response *) = pd_lazylib_fn(&S_lib, DESTROY_RESPONSE);
    fn(response);
}

struct MHD_PostProcessor *MHD_create_post_processor(struct MHD_Connection *connection,
                                                    size_t buffer_size, MHD_PostDataIterator iter,
                                                    void *iter_cls)
{
    struct MHD_PostProcessor *(*fn)(struct MHD_Connection *, size_t, MHD_PostDataIterator, void *) =
        pd_lazylib_fn(&S_lib, CREATE_POST_PROCESSOR);
    return fn(connection, buffer_size, iter, iter_cls);
}

enum MHD_Result MHD_post_process(struct MHD_PostProcessor *pp, const char *post_data,
                                 size_t post_data_len)
{
    enum MHD_Result (*fn)(struct MHD_PostProcessor *, const char *, size_t) =
        pd_lazylib_fn(&S_lib, POST_PROCESS);
    return fn(pp, post_data, post_data_len);
}

enum MHD_Result MHD_destroy_post_processor(struct MHD_PostProcessor *pp)
{
    enum MHD_Result (*fn)(struct MHD_PostProcessor *) =
        pd_lazylib_fn(&S_lib, DESTROY_POST_PROCESSOR);
    return fn(pp);
}
