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

# make_cores_shim FILE.so: builds an LD_PRELOAD library whose sysconf says
# the machine has 96 cores (more than pildoc's 64 workers at most)
make_cores_shim() {
  local src="${1%.so}.c"
  cat > "$src" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <unistd.h>
long sysconf(int name)
{
    static long (*real)(int);
    if (name == _SC_NPROCESSORS_ONLN)
        return 96;
    if (!real)
        real = (long (*)(int))dlsym(RTLD_NEXT, "sysconf");
    return real(name);
}
C
  gcc -shared -fPIC -o "$1" "$src" -ldl
}
