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

# manifest_files_whole DIR MANIFEST: succeeds when MANIFEST has "ok" rows
# and every one names a file in DIR whose SHA-256 is the row's
manifest_files_whole() {
  local dir=$1 n=0 num out status pages bytes sha err
  while IFS=, read -r num out status pages bytes sha err; do
    out=${out//\"/}; sha=${sha//\"/}
    [ "$(sha256sum "$dir/$out" | cut -d' ' -f1)" = "$sha" ] || return 1
    n=$((n + 1))
  done < <(grep '"ok"' "$2")
  [ $n -gt 0 ]
}

# serve_port LOG PID: waits for `pildoc serve --listen 127.0.0.1:0` (PID,
# stderr in LOG) to say which port it listens on, and prints it (nothing if
# the server exits first); a few seconds, up to 2 minutes under valgrind
serve_port() {
  local port=
  for _ in $(seq 2400); do
    port=$(sed -n 's/^pildoc serve: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$1")
    [ -n "$port" ] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  echo "$port"
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
