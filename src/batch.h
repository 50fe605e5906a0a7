/* batch: thousands of documents in one unattended run (`pildoc batch`).
 * The master reads the job file as a stream and hands each job to one of N
 * forked worker processes; each worker keeps its fonts, catalogs and
 * templates across jobs, renders, and writes its output atomically. Results
 * come back through pipes and go to DIR/manifest.csv in job order. SIGINT
 * and SIGTERM stop the hand-out: workers finish their document and end, and
 * the manifest records what was finished. */
#ifndef PILDOC_BATCH_H
#define PILDOC_BATCH_H

#include "renderer.h"

/* argv[0] is "batch". Returns the exit status. */
int pd_batch_main(int argc, char **argv, const pd_env *env);

#endif
