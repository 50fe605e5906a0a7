#!/usr/bin/env bash
# Sharding as the README runs it: its GNU parallel example over a few dozen
# jobs (one of them bad), checked file by file and manifest row by manifest
# row against one unsharded run; then its Kubernetes Indexed Job's command,
# each index in a PID namespace of its own as containers run them, writing
# into one shared folder.
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
  diff -r -x 'manifest*.csv' -x '.manifest-*.lock' "$T/one/out" "$T/par/out"
check "parallel: no temporary file left" test -z "$(find "$T/par/out" -name '.*' ! -name '.manifest-*-of-*.lock')"

# --- the README's Kubernetes Indexed Job: its command for each index 0..7, each
# in a PID namespace of its own as in a container (so every shard's pildoc has
# the same PID), all at once into one folder; /shared is $T/k8s here
awk '/^```yaml$/ { on = 1; next } on && /^```/ { exit } on { print }' README.md > "$T/job.yaml"
python3 - "$T/job.yaml" > "$T/k8s.cmd" << 'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))["spec"]
assert spec["completionMode"] == "Indexed" and spec["completions"] == 8, spec
command = spec["template"]["spec"]["containers"][0]["command"]
assert command[:2] == ["sh", "-c"], command
print(command[2])
PY
check "README's Kubernetes Job: Indexed, 8 completions, a shell command" test -s "$T/k8s.cmd"
if unshare --pid --fork true 2> /dev/null; then
  mkdir "$T/k8s"
  cp "$T/jobs.csv" "$T/k8s/jobs.csv"
  cmd=$(sed "s|/shared|$T/k8s|g" "$T/k8s.cmd")
  for i in 0 1 2 3 4 5 6 7; do
    JOB_COMPLETION_INDEX=$i unshare --pid --fork --kill-child sh -c "$cmd" 2> /dev/null &
  done
  wait
  rows "$T"/k8s/out/manifest-*-of-8.csv > "$T/k8s.rows"
  check "Kubernetes, same PIDs: eight manifests" test "$(ls "$T/k8s/out"/manifest-*-of-8.csv 2> /dev/null | wc -l)" = 8
  check "Kubernetes, same PIDs: manifests together = the unsharded manifest" cmp -s "$T/one.rows" "$T/k8s.rows"
  check "Kubernetes, same PIDs: outputs byte-identical" diff -r -x 'manifest*.csv' -x '.manifest-*.lock' "$T/one/out" "$T/k8s/out"
  check "Kubernetes, same PIDs: no temporary file left" test -z "$(find "$T/k8s/out" -name '.*' ! -name '.manifest-*-of-*.lock')"
else
  echo "shards: unshare --pid not permitted here; the Kubernetes case was not run" >&2
fi

# --- with two workers the master warms a renderer the workers inherit (one
# render without values per template, language, print size, clinic profile
# and second language of the first jobs): the files must not change. Each
# job against a single render and against --jobs 1, in both orders of the
# combinations (the first job of one is warmed, the other is not)
cat > "$T/warm.csv" << 'CSV'
template,lang,output,patient.name,clinic,large_print,also,form
consent,fr,w1.pdf,Jean Dupont,paris,,,
leaflet,zh_CN,w2.pdf,李安,,1,,
consent,en,w3.pdf,Ann Lee,beijing,,zh_CN,
consent,fr,w4.pdf,Marie Curie,paris,,,yes
leaflet,en,w5.pdf,Bob Smith,montreal,,,
consent,fr,w6.pdf,Paul Martin,paris,,,
CSV
(head -1 "$T/warm.csv"; tail -n +2 "$T/warm.csv" | tac) > "$T/warm-rev.csv"
for f in warm warm-rev; do
  pildoc batch "$T/$f.csv" --out "$T/$f-1" --jobs 1 --quiet 2> /dev/null
  pildoc batch "$T/$f.csv" --out "$T/$f-2" --jobs 2 --quiet 2> /dev/null
  check "warmed workers ($f): 6 outputs" test "$(ls "$T/$f-2"/w*.pdf | wc -l)" = 6
  check "warmed workers ($f): --jobs 2 = --jobs 1" diff -r "$T/$f-1" "$T/$f-2"
done
pildoc render consent --lang en --also zh_CN --clinic templates/clinics/beijing.xml --set patient.name='Ann Lee' -o "$T/w3.pdf" 2> /dev/null
check "warmed workers: a bilingual job = its single render" cmp -s "$T/w3.pdf" "$T/warm-2/w3.pdf"
pildoc render leaflet --lang zh_CN --large-print --set patient.name=李安 -o "$T/w2.pdf" 2> /dev/null
check "warmed workers: a large-print job = its single render" cmp -s "$T/w2.pdf" "$T/warm-2/w2.pdf"
pildoc render consent --lang fr --clinic templates/clinics/paris.xml --form --set patient.name='Marie Curie' -o "$T/w4.pdf" 2> /dev/null
check "warmed workers: a form job = its single render" cmp -s "$T/w4.pdf" "$T/warm-2/w4.pdf"

summary shards
