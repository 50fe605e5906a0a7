/* serve: `pildoc serve`, documents over HTTP (libmicrohttpd).
 * POST /render/TEMPLATE?lang=LL[&paper=letter] with a data XML body (as
 * --data) or form fields (as --set) answers the PDF; GET /health,
 * /templates and /langs answer JSON. Rendering happens in a pool of
 * pre-started worker processes (workpool.h), each with its own
 * pd_renderer; errors are one line of JSON naming the field. One log line
 * per request on stderr (method, path, status, bytes, ms, request id),
 * never patient data. SIGTERM or SIGINT: stop accepting, finish the
 * requests in progress, exit 0. */
#ifndef PILDOC_SERVE_H
#define PILDOC_SERVE_H

#include "renderer.h"

/* argv[0] is "serve". Returns the exit status. */
int pd_serve_main(int argc, char **argv, const pd_env *env);

/* A worker process of the server (`pildoc serve-worker`, started by the
 * server itself with its channel on PD_WORKPOOL_FD). */
int pd_serve_worker_main(const pd_env *env);

#endif
