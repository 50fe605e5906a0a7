# Shared by the shell test scripts: counters, assertions and the closing
# "NAME: N passed, N failed" line that CI reads.
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds
check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok; else ko "$what"; fi
}
# summary NAME: prints the closing line; the script's status follows
summary() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" = 0 ]
}
