#!/usr/bin/env bash
# Sharding as the README runs it: its GNU parallel example over a few dozen
# jobs (one of them bad), checked file by file and manifest row by manifest
# row against one unsharded run; then shards in PID namespaces of their own,
# as containers run them, writing into one shared folder.
# Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
T=$(mktemp -d /tmp/pildoc-shards.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600
export PATH=$PWD:$PATH # `pildoc` as the README writes it

# 36 jobs, and job 11 (shard 3 of 8) in a language nobody has
python3 tests/make-jobs.py 36 "$T/gen.csv"
awk -F, -v OFS=, 'NR == 12 { $2 = "xx" } { print }' "$T/gen.csv" > "$T/jobs.csv"
check "job 11 is the bad one" grep -q '^consent,xx,P00011' "$T/jobs.csv"

(cd "$T" && mkdir one && cd one && pildoc batch ../jobs.csv --out out --jobs 2 --quiet 2>/dev/null)
check "unsharded run: 35 outputs" test "$(find "$T/one/out" -name '*.pdf' | wc -l)" = 35

# rows of a set of manifests, headers dropped, in job order
rows() { cat "$@" | grep -v '^job,' | sort -t, -k1.2,1n; }

# --- the README's GNU parallel example, word for word ----------------------------------
mkdir "$T/par"
cd "$T/par"
cp ../jobs.csv .
parallel -j 8 pildoc batch jobs.csv --out out --shard {}/8 --jobs 1 --quiet ::: $(seq 1 8) 2> ../par.err
rc=$?
cd - > /dev/null
check "parallel: exit status 1 (one shard had a failed job)" test $rc = 1
check "parallel: eight manifests" test "$(ls "$T/par/out"/manifest-*-of-8.csv | wc -l)" = 8
check "parallel: the failed job named on stderr" grep -q 'job 11 (P00011, P00011-consent-zh_CN.pdf): unknown language' "$T/par.err"
rows "$T/one/out/manifest.csv" > "$T/one.rows"
rows "$T"/par/out/manifest-*-of-8.csv > "$T/par.rows"
check "parallel: manifests together = the unsharded manifest" cmp -s "$T/one.rows" "$T/par.rows"
check "parallel: one row per job" test "$(wc -l < "$T/par.rows")" = 36
check "parallel: shard 3 holds job 11, failed" grep -q '^"11","P00011-consent-zh_CN.pdf","failed"' "$T/par/out/manifest-3-of-8.csv"
check "parallel: outputs byte-identical to the unsharded run" \
  diff -r -x 'manifest*.csv' "$T/one/out" "$T/par/out"
check "parallel: no temporary file left" test -z "$(find "$T/par/out" -name '.*')"

# --- shards whose processes share PIDs (containers: each its own PID namespace) ---------
if unshare --pid --fork true 2> /dev/null; then
  mkdir "$T/ns"
  for k in 1 2 3 4; do
    unshare --pid --fork --kill-child pildoc batch "$T/jobs.csv" --out "$T/ns/out" --shard $k/4 --jobs 1 --quiet \
      2> /dev/null &
  done
  wait
  rows "$T"/ns/out/manifest-*-of-4.csv > "$T/ns.rows"
  check "same PIDs: four manifests" test "$(ls "$T/ns/out"/manifest-*-of-4.csv 2> /dev/null | wc -l)" = 4
  check "same PIDs: manifests together = the unsharded manifest" cmp -s "$T/one.rows" "$T/ns.rows"
  check "same PIDs: outputs byte-identical" diff -r -x 'manifest*.csv' "$T/one/out" "$T/ns/out"
  check "same PIDs: no temporary file left" test -z "$(find "$T/ns/out" -name '.*')"
else
  echo "shards: unshare --pid not permitted here; PID-namespace case not run" >&2
fi

summary shards
