/* batch: thousands of documents in one unattended run (`pildoc batch`).
 * The master reads the job file as a stream, refuses jobs whose output
 * would collide with an earlier one's, and hands each job to one of N
 * forked worker processes (workpool.h's asynchronous pool: started as
 * needed, two jobs each at a time, replaced when one dies);
 * each worker keeps its fonts, catalogs and templates across jobs,
 * renders, and writes its output atomically below the output folder's
 * handle. Results come back over socket pairs and go to the manifest in job
 * order: DIR/manifest.csv when the run finished, DIR/manifest.csv.partial
 * when it stopped early. One run per folder (flock). SIGINT, SIGTERM and
 * SIGHUP stop the hand-out: workers finish their documents and end.
 * --resume keeps the outputs an earlier manifest vouches for. */
#ifndef PILDOC_BATCH_H
#define PILDOC_BATCH_H

#include "renderer.h"

/* argv[0] is "batch". Returns the exit status. */
int pd_batch_main(int argc, char **argv, const pd_env *env);

#endif
