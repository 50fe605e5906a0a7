#!/usr/bin/env bash
# Golden diagnostics, the way mandoc keeps them: every tests/bad-input/CASE
# is run (template-*: rendered as a template; data-*: as --data of the
# consent sheet; jobs-*: as a batch job file) and must exit 1 with exactly
# the line in CASE.expected on stderr, and leave no output file.
# `tests/bad-input.sh --update` rewrites the .expected files (review them!).
set -u
cd "$(dirname "$0")/.."
PILDOC=${PILDOC:-./pildoc}
T=$(mktemp -d /tmp/pildoc-bad.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
for input in tests/bad-input/*; do
  case $input in *.expected) continue ;; esac
  name=$(basename "$input")
  rm -rf "$T/out" "$T/out.pdf"
  case $name in
    template-*) timeout 60 $PILDOC render "$input" -o "$T/out.pdf" 2> "$T/err"; rc=$? ;;
    data-*) timeout 60 $PILDOC render consent --data "$input" -o "$T/out.pdf" 2> "$T/err"; rc=$? ;;
    jobs-*) timeout 60 $PILDOC batch "$input" --out "$T/out" --quiet 2> "$T/all"; rc=$?
            grep -v '^pildoc batch: ' "$T/all" > "$T/err" ;;
  esac
  if [ "${1:-}" = --update ]; then cp "$T/err" "$input.expected"; fi
  why=""
  [ $rc = 1 ] || why="exit status $rc, not 1"
  [ -z "$why" ] && ! cmp -s "$T/err" "$input.expected" && why="stderr differs: $(head -c 300 "$T/err")"
  [ -z "$why" ] && [ "$(wc -l < "$T/err")" != 1 ] && why="not exactly one line"
  [ -z "$why" ] && [ -e "$T/out.pdf" ] && why="an output file was left"
  [ -z "$why" ] && [ -d "$T/out" ] && [ -n "$(find "$T/out" -name '*.pdf' -o -name '.*' | head -1)" ] && why="an output file was left"
  if [ -z "$why" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name: $why" >&2; fi
done
echo "bad-input: $pass passed, $fail failed"
[ $fail = 0 ]
