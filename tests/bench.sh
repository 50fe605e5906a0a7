#!/usr/bin/env bash
# make bench: figures, not a timed test. 300 distinct jobs (leaflets and
# consent sheets, en/fr/zh_CN, different patients and conditions) with
# --jobs 1 and --jobs 2, then one Chinese and one English leaflet as a
# fresh process (median of 15 runs), and the leaflets' file sizes. The
# machine may be shared: compare builds with paired, alternating runs.
set -eu
cd "$(dirname "$0")/.."
T=$(mktemp -d /tmp/pildoc-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600
python3 tests/make-jobs.py 300 "$T/jobs.csv"
echo "machine: $(nproc) cores, $(uname -m); jobs: 300 (tests/make-jobs.py)"
for n in 1 2; do
  ./pildoc batch "$T/jobs.csv" --out "$T/out$n" --jobs $n --quiet 2>&1 | tail -1 | sed "s/^pildoc batch:/--jobs $n:/"
done
python3 - "$T" <<'PY'
import statistics, subprocess, sys, time
t = sys.argv[1]
for lang in ("zh_CN", "en"):
    runs = []
    for i in range(15):
        start = time.perf_counter()
        subprocess.run(["./pildoc", "render", "leaflet", "--lang", lang, "-o", t + "/fresh.pdf"], check=True)
        runs.append((time.perf_counter() - start) * 1000)
    print("fresh process, leaflet %-5s: median %.1f ms (min %.1f, max %.1f, 15 runs)"
          % (lang, statistics.median(runs), min(runs), max(runs)))
PY
for l in en fr zh_CN; do
  ./pildoc render leaflet --lang $l -o "$T/size-$l.pdf"
  echo "leaflet $l: $(stat -c %s "$T/size-$l.pdf") bytes"
done
