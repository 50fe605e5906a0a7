#!/usr/bin/env bash
# Unattended runs you can trust (issue 10, run side): a worker killed
# mid-run, many cores, output collisions, planted symbolic links, shards
# sharing a PID, device outputs, manifest I/O errors, overlapping runs, a
# FIFO job file, a folder swapped for a link, SIGHUP and a killed master,
# strict --shard, control characters, long names, file modes, and
# --resume after a run killed at random points. Small job counts: this
# runs in make check. Prints "robustness: N passed, N failed".
set -u
[ -n "${PILDOC_TRACE:-}" ] && { PS4='+ $EPOCHREALTIME '; set -x; }
cd "$(dirname "$0")/.."
. tests/lib.sh
PILDOC=$(realpath "${PILDOC:-./pildoc}")
T=$(mktemp -d /tmp/pildoc-robust.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600
python3 tests/make-jobs.py 40 "$T/j40.csv"
head -4 "$T/j40.csv" > "$T/j3.csv"

# run_bounded SECONDS CMD...: runs CMD, killing it (status 137) if it has
# not ended in time, so that a hang fails the test instead of stalling it.
run_bounded() {
  local secs=$1
  shift
  timeout -s KILL "$secs" "$@"
}

# gone PID...: waits (up to 10 s) until none of the processes runs (an
# orphan that has ended may stay a zombie for a while).
gone() {
  for _ in $(seq 200); do
    local alive=0
    for p in "$@"; do
      case $(ps -o stat= -p "$p" 2>/dev/null) in ''|Z*) ;; *) alive=1 ;; esac
    done
    [ $alive = 0 ] && return 0
    sleep 0.05
  done
  return 1
}

# --- 1: a worker killed mid-run: the run ends, its jobs fail, a new worker goes on -------
# run_killing_worker DIR ARGS...: batch ARGS into DIR (stderr in DIR.err),
# SIGKILL its first worker once a file is written; rc is the run's status
run_killing_worker() {
  local dir=$1 pid master worker=
  shift
  mkdir -p "$dir"
  timeout -s KILL 60 "$PILDOC" batch "$@" --out "$dir" --quiet 2> "$dir.err" &
  pid=$!
  for _ in $(seq 400); do
    master=$(pgrep -P $pid | head -1)
    [ -n "$master" ] && worker=$(pgrep -P "$master" | head -1)
    [ -n "$worker" ] && [ -n "$(find "$dir" -name '*.pdf' | head -1)" ] && break
    sleep 0.02
  done
  [ -n "$worker" ] && kill -KILL "$worker"
  wait $pid; rc=$?
}
run_killing_worker "$T/k" "$T/j40.csv" --jobs 1
M=$T/k/manifest.csv
check "worker killed: the run ends with exit 1 (not a hang)" test $rc = 1
check "worker killed: every job in the manifest (40 rows)" test "$(($(wc -l < "$M") - 1))" = 40
check "worker killed: its unfinished jobs fail with the reason" grep -q '"failed",.*worker process rendering this job ended (killed by signal 9 (SIGKILL))' "$M"
check "worker killed: said on stderr" grep -q 'pildoc: worker 1 (process [0-9]*) ended: killed by signal 9' "$T/k.err"
check "worker killed: at most 4 jobs lost (those it held), a new worker renders the rest" test "$(grep -c '"ok"' "$M")" -ge 36
check "worker killed: the last job was rendered by the new worker" grep -q '^"40",.*"ok"' "$M"
left=$(find "$T/k" -name '.*' -printf '%f ')
check "worker killed: no temporary file left ($left)" test -z "$left"

# --- 1b: a worker killed in a run with a warm-up (--jobs 2): the one that --------------
#     replaces it inherits the master's warmed renderer, and writes the same bytes
python3 tests/make-jobs.py 300 "$T/j300k.csv"
"$PILDOC" batch "$T/j300k.csv" --out "$T/k2ref" --jobs 1 --quiet 2>/dev/null
run_killing_worker "$T/k2" "$T/j300k.csv" --jobs 2
M=$T/k2/manifest.csv
check "worker killed, --jobs 2: the run ends with exit 1" test $rc = 1
check "worker killed, --jobs 2: said on stderr" grep -q 'pildoc: worker [12] (process [0-9]*) ended: killed by signal 9' "$T/k2.err"
check "worker killed, --jobs 2: every job in the manifest, at most 4 lost" \
  test "$(($(wc -l < "$M") - 1))" = 300 -a "$(grep -c '"ok"' "$M")" -ge 296
differ=$(cd "$T/k2" && for f in *.pdf; do cmp -s "$f" "$T/k2ref/$f" || echo "$f"; done)
check "worker killed, --jobs 2: every file written is the one --jobs 1 writes ($differ)" test -z "$differ"

# --- 2: default --jobs on a machine with more than 64 cores --------------------------------
if [ -z "${PILDOC_SANITIZED:-}" ] && command -v gcc >/dev/null; then
  make_cores_shim "$T/cores.so"
  check "96-core shim works" test "$(LD_PRELOAD=$T/cores.so getconf _NPROCESSORS_ONLN)" = 96
  LD_PRELOAD=$T/cores.so run_bounded 120 "$PILDOC" batch "$T/j3.csv" --out "$T/cores" --quiet 2> "$T/cores.err"; rc=$?
  check "96 cores: default --jobs is capped, the run succeeds" test $rc = 0
  check "96 cores: three jobs written" test "$(grep -c '"ok"' "$T/cores/manifest.csv")" = 3
  check "96 cores: no worker ended abnormally" bash -c "! grep -q abnormally '$T/cores.err'"
fi

# --- 3: output collisions -------------------------------------------------------------
mkdir -p "$T/col"
cafe_nfc=$(printf 'caf\xc3\xa9.pdf')    # é as one code point
cafe_nfd=$(printf 'cafe\xcc\x81.pdf')   # e + combining acute
{
  printf 'template,lang,output,patient.id\n'
  printf 'consent,en,alice.pdf,A1\n'            # 1
  printf 'consent,en,alice.pdf,B2\n'            # 2: Bob over Alice
  printf 'leaflet,en,manifest.csv,\n'           # 3
  printf 'leaflet,en,Manifest-1-of-2.csv,\n'    # 4
  printf 'consent,en,ALICE.PDF,C3\n'            # 5: case-insensitive share
  printf 'leaflet,en,%s,\n' "$cafe_nfc"          # 6
  printf 'leaflet,en,%s,\n' "$cafe_nfd"          # 7: NFC-equal to 6
  printf 'leaflet,en,jobs.csv,\n'               # 8: the job file itself
  printf 'leaflet,en,sub/x.pdf,\n'              # 9
  printf 'leaflet,en,Sub/X.pdf,\n'              # 10
} > "$T/col/jobs.csv"
cp "$T/col/jobs.csv" "$T/col-jobs.orig"
"$PILDOC" batch "$T/col/jobs.csv" --out "$T/col" --jobs 2 --quiet 2> "$T/col.err"; rc=$?
M=$T/col/manifest.csv
row() { grep "^\"$1\"," "$M"; }
check "collisions: exit 1" test $rc = 1
check "collisions: the first alice.pdf is written" bash -c "row() { grep \"^\\\"\$1\\\",\" '$M'; }; row 1 | grep -q '\"ok\"'"
for n in 2 5; do
  check "collisions: job $n fails naming job 1" bash -c "grep '^\"$n\",' '$M' | grep -q 'failed.*same output as job 1'"
done
check "collisions: alice.pdf is Alice's (A1)" bash -c "pdftotext '$T/col/alice.pdf' - | grep -q A1"
for n in 3 4; do
  check "collisions: job $n (a manifest's name) fails" bash -c "grep '^\"$n\",' '$M' | grep -q 'failed.*name is that of a manifest'"
done
check "collisions: NFD name fails naming job 6" bash -c "grep '^\"7\",' '$M' | grep -q 'same output as job 6'"
check "collisions: the job file itself is refused" bash -c "grep '^\"8\",' '$M' | grep -q 'the job file itself'"
check "collisions: the job file is untouched" cmp -s "$T/col/jobs.csv" "$T/col-jobs.orig"
check "collisions: sub/x.pdf vs Sub/X.pdf" bash -c "grep '^\"10\",' '$M' | grep -q 'same output as job 9'"
check "collisions: the manifest is a manifest" grep -qx 'job,output,status,pages,bytes,sha256,error,input_sha256' "$M"
check "collisions: stderr names the earlier job" grep -q '^pildoc: job 2 (B2, alice.pdf): the same output as job 1' "$T/col.err"

# --- 4: a symbolic link planted where the manifest's temporary file goes -------------------
mkdir -p "$T/plant"
echo precious > "$T/victim"
echo precious > "$T/victim2"
ln -s "$T/victim2" "$T/plant/manifest.csv"
# the old name was .manifest.<pid>.tmp: bash's pid is pildoc's after exec
( sleep 0.3; exec "$PILDOC" batch "$T/j3.csv" --out "$T/plant" --jobs 1 --quiet 2>/dev/null ) &
pid=$!
ln -s "$T/victim" "$T/plant/.manifest.$pid.tmp"
wait $pid
check "planted link: the file it points to is untouched" grep -qx precious "$T/victim"
check "planted link at manifest.csv: its target untouched" grep -qx precious "$T/victim2"
check "planted link at manifest.csv: replaced by the manifest" bash -c "test -f '$T/plant/manifest.csv' -a ! -L '$T/plant/manifest.csv'"

# ... and at the temporary names themselves, made predictable (getrandom gives zeros): a
# planted link there is never written through (O_EXCL | O_NOFOLLOW), whatever the name
if [ -z "${PILDOC_SANITIZED:-}" ] && command -v gcc >/dev/null; then
  cat > "$T/zeros.c" <<'C'
#define _GNU_SOURCE
#include <string.h>
#include <sys/types.h>
/* getrandom as an attacker would like it: every temporary name known in advance */
ssize_t getrandom(void *buf, size_t len, unsigned flags)
{
    (void)flags;
    memset(buf, 0, len);
    return (ssize_t)len;
}
C
  gcc -shared -fPIC -o "$T/zeros.so" "$T/zeros.c"
  mkdir -p "$T/plant2"
  echo precious > "$T/victim3"
  echo precious > "$T/victim4"
  ln -s "$T/victim3" "$T/plant2/.manifest.csv.aaaaaaaa.part"
  ln -s "$T/victim4" "$T/plant2/.pd-aaaaaa-aaaaaaaa.tmp"
  # (--resume: a run without it would first remove the planted .part as an old manifest)
  LD_PRELOAD=$T/zeros.so run_bounded 60 "$PILDOC" batch "$T/j3.csv" --out "$T/plant2" --jobs 1 --quiet --resume 2>/dev/null
  check "planted link at the (predictable) manifest temporary name: its target untouched" grep -qx precious "$T/victim3"
  check "planted link at the (predictable) PDF temporary name: its target untouched" grep -qx precious "$T/victim4"
fi

# --- 5: shards in containers sharing a PID ------------------------------------------------
if unshare --pid --fork true 2>/dev/null; then
  head -21 "$T/j40.csv" > "$T/j20.csv"
  for k in 1 2; do
    unshare --pid --fork "$PILDOC" batch "$T/j20.csv" --out "$T/pidns" --shard $k/2 --jobs 1 --quiet 2>/dev/null &
  done
  wait
  for k in 1 2; do
    check "same PID: shard $k/2's manifest complete (10 rows)" bash -c "test \$(grep -c '\"ok\"' '$T/pidns/manifest-$k-of-2.csv') = 10"
  done
  check "same PID: shard 2's manifest holds only its jobs" bash -c "cut -d, -f1 '$T/pidns/manifest-2-of-2.csv' | tail -n +2 | tr -d '\"' | awk '\$1 % 2 == 1 {bad=1} END {exit bad}'"
fi

# --- 7: -o to standard output, a device, /proc/self/fd/N ------------------------------------
"$PILDOC" render leaflet -o /proc/self/fd/1 > "$T/fd1.pdf" 2>/dev/null; rc=$?
check "-o /proc/self/fd/1: exit 0" test $rc = 0
check "-o /proc/self/fd/1: the PDF went to standard output" bash -c "head -c 5 '$T/fd1.pdf' | grep -q '%PDF-'"
"$PILDOC" render leaflet -o /dev/stdout > "$T/stdout.pdf" 2>/dev/null; rc=$?
check "-o /dev/stdout: exit 0 and the PDF in the redirect target" bash -c "test $rc = 0 && head -c 5 '$T/stdout.pdf' | grep -q '%PDF-'"
check "-o /dev/stdout: /dev/stdout is still a link" test -L /dev/stdout
"$PILDOC" render leaflet -o /proc/self/fd/1 | head -c 5 > "$T/pipe.txt"
check "-o /proc/self/fd/1 into a pipe" grep -q '%PDF-' "$T/pipe.txt"
"$PILDOC" render leaflet -o /dev/null 2> "$T/null.err"; rc=$?
check "-o /dev/null: refused as a device, still a device" bash -c "test $rc = 1 -a -c /dev/null && grep -q 'is a device' '$T/null.err'"
"$PILDOC" render leaflet -o /dev/pildoc-test-nonexistent 2> "$T/dev.err"; rc=$?
check "-o /dev/NEW: refused, nothing created" bash -c "test $rc = 1 -a ! -e /dev/pildoc-test-nonexistent && grep -q 'system path' '$T/dev.err'"

# --- 12: manifest I/O errors ----------------------------------------------------------------
mkdir -p "$T/mdir/manifest.csv"
"$PILDOC" batch "$T/j3.csv" --out "$T/mdir" --quiet 2> "$T/mdir.err"; rc=$?
check "manifest path is a folder: exit 1" test $rc = 1
check "manifest path is a folder: said" grep -q 'manifest.csv: is not a regular file: the manifest cannot be written' "$T/mdir.err"
python3 -c "
print('template,lang,output')
for i in range(300): print('leaflet,en,../refused-%d.pdf' % i)" > "$T/refused.csv"
# (stderr through a pipe: a file would be cut by the limit too)
( ulimit -f 8; "$PILDOC" batch "$T/refused.csv" --out "$T/fsize" --quiet 2>&1 >/dev/null; echo "rc=$?" ) | tail -4 > "$T/fsize.err"
rc=$(sed -n 's/^rc=//p' "$T/fsize.err")
check "ulimit -f: exit 1 (not killed by SIGXFSZ)" test $rc = 1
check "ulimit -f: says the manifest cannot be written" grep -q 'cannot write the manifest: File too large' "$T/fsize.err"
check "ulimit -f: no manifest that looks complete" test ! -e "$T/fsize/manifest.csv"

# --- 16: two batches into one folder at once ----------------------------------------------
python3 tests/make-jobs.py 600 "$T/j600.csv"
"$PILDOC" batch "$T/j600.csv" --out "$T/both" --jobs 1 --quiet 2>/dev/null &
first=$!
for _ in $(seq 200); do [ -n "$(find "$T/both" -name '*.pdf' 2>/dev/null | head -1)" ] && break; sleep 0.02; done
start=$(date +%s%N)
"$PILDOC" batch "$T/j3.csv" --out "$T/both" --quiet 2> "$T/both.err"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -TERM $first; wait $first
check "second run into the same folder: exit 1" test $rc = 1
check "second run: fails at once (${ms} ms)" test $ms -lt 3000
check "second run: one clear line" grep -q 'another pildoc batch is writing into this folder' "$T/both.err"
# a master killed while a worker still runs (here: stopped): the lock dies with the
# master, so a run started at once to resume it is not refused
"$PILDOC" batch "$T/j600.csv" --out "$T/orphan" --jobs 1 --quiet 2>/dev/null &
first=$!
for _ in $(seq 400); do [ -n "$(find "$T/orphan" -name '*.pdf' 2>/dev/null | head -1)" ] && break; sleep 0.02; done
orphan=$(pgrep -P $first)
kill -STOP $orphan
{ kill -KILL $first; wait $first; } 2>/dev/null
"$PILDOC" batch "$T/j3.csv" --out "$T/orphan" --quiet --resume 2> "$T/orphan.err"; rc=$?
kill -KILL $orphan 2>/dev/null; kill -CONT $orphan 2>/dev/null
check "killed master, its worker still alive: a new run is not locked out" test $rc = 0
flock "$T/both/.manifest-1-of-2.lock" "$PILDOC" batch "$T/j3.csv" --out "$T/both" --shard 1/2 --quiet 2> "$T/shard.err"; rc=$?
check "the same shard twice at once: refused" bash -c "test $rc = 1 && grep -q 'of the same shard' '$T/shard.err'"

# --- 19: a FIFO job file with progress on (a terminal) -------------------------------------
if command -v script >/dev/null; then
  mkfifo "$T/fifo.csv"
  head -11 "$T/j40.csv" > "$T/j10.csv"
  ( cat "$T/j10.csv" > "$T/fifo.csv" ) &
  run_bounded 60 script -qec "'$PILDOC' batch '$T/fifo.csv' --out '$T/fifo' --jobs 2" /dev/null > "$T/fifo.txt" 2>&1
  check "FIFO job file on a terminal: all 10 jobs rendered" test "$(grep -c '"ok"' "$T/fifo/manifest.csv" 2>/dev/null)" = 10
  check "FIFO job file: progress without a total" grep -qE 'pildoc batch: [0-9]+ done, [0-9]+ documents/s' "$T/fifo.txt"
fi

# --- 20: an output folder swapped for a symbolic link mid-run -----------------------------
if command -v gcc >/dev/null; then
  cat > "$T/swap.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
/* swap DIR/sub (a folder) and DIR/alt (a link to elsewhere) atomically, again and again */
int main(int argc, char **argv)
{
    (void)argc;
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/sub", argv[1]);
    snprintf(b, sizeof b, "%s/alt", argv[1]);
    time_t end = time(NULL) + 30;
    while (time(NULL) < end)
        renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
    return 0;
}
C
  gcc -O2 -o "$T/swap" "$T/swap.c"
  mkdir -p "$T/race/sub" "$T/outside"
  ln -s "$T/outside" "$T/race/alt"
  python3 -c "
print('template,lang,output')
for i in range(100): print('leaflet,en,sub/%d.pdf' % i)" > "$T/race.csv"
  "$T/swap" "$T/race" &
  swapper=$!
  "$PILDOC" batch "$T/race.csv" --out "$T/race" --jobs 2 --quiet 2>/dev/null
  kill $swapper; wait $swapper 2>/dev/null
  check "folder swapped for a link: nothing written outside --out" test -z "$(ls -A "$T/outside")"
fi

# --- 21: SIGHUP, and a killed master -------------------------------------------------------
# 6,000 jobs: a run must still be going at 0.8 s (600 took under 0.8 s once
# repeated documents came from the worker's document cache)
python3 tests/make-jobs.py 6000 "$T/j6000.csv"
"$PILDOC" batch "$T/j3.csv" --out "$T/hup" --jobs 2 --quiet 2>/dev/null   # a finished earlier run
"$PILDOC" batch "$T/j6000.csv" --out "$T/hup" --jobs 2 --quiet 2> "$T/hup.err" &
pid=$!
sleep 0.8
kill -HUP $pid
wait $pid; rc=$?
check "SIGHUP: exit 1 (a clean stop, not killed)" test $rc = 1
check "SIGHUP: said" grep -q '(interrupted)' "$T/hup.err"
check "SIGHUP: no manifest.csv (the run did not finish)" test ! -e "$T/hup/manifest.csv"
check "SIGHUP: manifest.csv.partial lists what was done" test "$(grep -c '"ok"' "$T/hup/manifest.csv.partial")" -ge 1
check "SIGHUP: no temporary file left" bash -c "! find '$T/hup' -name '.*' | grep -q ."
"$PILDOC" batch "$T/j3.csv" --out "$T/killed" --jobs 2 --quiet 2>/dev/null  # a finished earlier run
"$PILDOC" batch "$T/j6000.csv" --out "$T/killed" --jobs 2 --quiet 2>/dev/null &
pid=$!
sleep 0.8
workers=$(pgrep -P $pid)
{ kill -KILL $pid; wait $pid; } 2>/dev/null
gone $workers
check "killed master: the earlier run's manifest.csv is gone (it would contradict the files)" test ! -e "$T/killed/manifest.csv"
check "killed master: its workers left no temporary PDF" bash -c "! find '$T/killed' -name '.pd-*' | grep -q ."

# --- 22: --shard parsed strictly -----------------------------------------------------------
for s in 1/-4 -1/-1 0/2 ' 1/2' +1/2 1/2x 1/ /2 1//2 2/1 1/2/3 99999999999999999999/1; do
  check "--shard '$s' refused (usage, exit 2)" bash -c "'$PILDOC' batch '$T/j3.csv' --out '$T/sh' --shard '$s' 2>/dev/null; test \$? = 2"
done

# --- 26: control characters from the job file never reach the terminal raw ------------------
{
  printf 'template,lang,output,patient.id\n'
  printf 'leaflet,en,a\033[31mred.pdf,E1\n'
  printf 'leaflet,en,x\xc2\x85y.pdf,E2\n'
  printf 'leaflet,en,\xe2\x80\xaefdp.exe,E3\n'
  printf 'leaflet,en,ok.pdf,E4\n'
} > "$T/ctl.csv"
"$PILDOC" batch "$T/ctl.csv" --out "$T/ctl" --quiet 2> "$T/ctl.err"; rc=$?
check "controls: exit 1" test $rc = 1
check "controls: no ESC on stderr" bash -c "! grep -q \$'\\033' '$T/ctl.err'"
check "controls: ESC shown escaped" grep -qF 'a\x1b[31mred.pdf' "$T/ctl.err"
check "controls: no ESC in the manifest" bash -c "! grep -q \$'\\033' '$T/ctl/manifest.csv'"
check "controls: a C1 control in an output name refused" bash -c "grep '^\"2\",' '$T/ctl/manifest.csv' | grep -q 'failed'"
check "controls: a bidi override in an output name refused" bash -c "grep '^\"3\",' '$T/ctl/manifest.csv' | grep -q 'failed'"
check "controls: the bidi override shown escaped" grep -qF '\u202efdp.exe' "$T/ctl.err"
check "controls: no C1 or bidi control on stderr" bash -c "! grep -qP '\\xc2[\\x80-\\x9f]|\\xe2\\x80\\xae' '$T/ctl.err'"
check "controls: nothing written for them" test "$(find "$T/ctl" -name '*.pdf' | wc -l)" = 1

# --- 30: a 250-byte file name ---------------------------------------------------------------
long=$(printf 'a%.0s' $(seq 246)).pdf
printf 'template,lang,output\nleaflet,en,%s\n' "$long" > "$T/long.csv"
"$PILDOC" batch "$T/long.csv" --out "$T/long" --quiet 2>/dev/null; rc=$?
check "250-byte output name: written by batch" bash -c "test $rc = 0 -a -s '$T/long/$long'"
"$PILDOC" render leaflet -o "$T/long/r$long" 2>/dev/null; rc=$?
check "251-byte output name: written by render" bash -c "test $rc = 0 -a -s '$T/long/r$long'"

# --- 31: re-rendering keeps a file's mode; new files follow the umask ---------------------
mkdir -p "$T/mode"
printf 'template,lang,output\nleaflet,en,p.pdf\nleaflet,en,q.pdf\n' > "$T/mode.csv"
( umask 027; "$PILDOC" batch "$T/mode.csv" --out "$T/mode" --quiet 2>/dev/null )
check "new file follows the umask (027 -> 640)" test "$(stat -c %a "$T/mode/q.pdf")" = 640
chmod 600 "$T/mode/p.pdf"
"$PILDOC" batch "$T/mode.csv" --out "$T/mode" --quiet 2>/dev/null
check "batch: a 0600 file stays 0600" test "$(stat -c %a "$T/mode/p.pdf")" = 600
"$PILDOC" render leaflet -o "$T/mode/p.pdf" 2>/dev/null
check "render: a 0600 file stays 0600" test "$(stat -c %a "$T/mode/p.pdf")" = 600
chmod 4640 "$T/mode/p.pdf"
"$PILDOC" batch "$T/mode.csv" --out "$T/mode" --quiet 2>/dev/null
check "a kept mode is permissions only (04640 -> 640)" test "$(stat -c %a "$T/mode/p.pdf")" = 640
if [ "$(id -u)" = 0 ]; then
  # a file planted by another user, open to all: the patient's document gets the umask
  chown nobody "$T/mode/q.pdf"
  chmod 0666 "$T/mode/q.pdf"
  ( umask 077; "$PILDOC" batch "$T/mode.csv" --out "$T/mode" --quiet 2>/dev/null )
  check "another user's 0666 file: re-rendered with the umask (077 -> 600), not world-readable" test "$(stat -c %a "$T/mode/q.pdf")" = 600
fi

# --- Resume: kill the master at random points, resume, compare with one whole run -----------
python3 tests/make-jobs.py 60 "$T/j60.csv"
"$PILDOC" batch "$T/j60.csv" --out "$T/whole" --jobs 2 --quiet 2>/dev/null
# Waits (at most 20 s) until the batch run PID has recorded a job in DIR's
# manifest being written, or has ended.
wait_recorded() {
  for _ in $(seq 400); do
    grep -qs '"ok"' "$1"/.manifest.csv.*.part && return
    kill -0 "$2" 2>/dev/null || return
    sleep 0.05
  done
}
for attempt in 1 2 3; do
  rm -rf "$T/res"
  # two kills at random points, then a resume that finishes
  for kill_at in $(python3 -c "import random; print(random.uniform(0, 0.3), random.uniform(0, 0.3))"); do
    resume=
    [ -d "$T/res" ] && resume=--resume
    "$PILDOC" batch "$T/j60.csv" --out "$T/res" --jobs 2 --quiet $resume 2>/dev/null &
    pid=$!
    # the kill lands at a random point after the first job is recorded in
    # a manifest (.manifest.csv.*.part; a file on disk may not be recorded
    # yet, and then there is nothing to keep); slow builds, such as the
    # sanitizers', take longer to get there
    wait_recorded "$T/res" $pid
    sleep "$kill_at"
    workers=$(pgrep -P $pid)
    { kill -KILL $pid; wait $pid; } 2>/dev/null
    gone $workers
  done
  "$PILDOC" batch "$T/j60.csv" --out "$T/res" --jobs 2 --quiet --resume 2> "$T/res.err"; rc=$?
  check "resume $attempt: exit 0" test $rc = 0
  check "resume $attempt: kept work from the killed runs" grep -qE 'written, [1-9][0-9]* kept from an earlier run' "$T/res.err"
  check "resume $attempt: manifest byte-identical to one whole run" cmp -s "$T/whole/manifest.csv" "$T/res/manifest.csv"
  same=1
  for f in "$T"/whole/*.pdf; do cmp -s "$f" "$T/res/$(basename "$f")" || same=0; done
  check "resume $attempt: every PDF byte-identical to one whole run" test $same = 1
  check "resume $attempt: the same files, nothing more" test "$(ls "$T/res" | wc -l)" = "$(ls "$T/whole" | wc -l)"
  check "resume $attempt: no partial manifest or temporary file left" bash -c "! find '$T/res' -name '.*' | grep -q . && test ! -e '$T/res/manifest.csv.partial'"
done
# an output changed since, or a job changed since: rendered again
f=$(ls "$T/res" | grep -m1 '\.pdf$')
echo tampered > "$T/res/$f"
sed 's/Dr Durand/Dr Other/' "$T/j60.csv" | head -3 > "$T/j2.csv"
"$PILDOC" batch "$T/j60.csv" --out "$T/res" --jobs 2 --quiet --resume 2> "$T/res.err"
check "resume: a changed output is rendered again" cmp -s "$T/whole/$f" "$T/res/$f"
check "resume: only that one" grep -q ': 60 jobs: 1 written, 59 kept' "$T/res.err"
"$PILDOC" batch "$T/j2.csv" --out "$T/res" --jobs 2 --quiet --resume 2> "$T/res.err"
check "resume: jobs whose input changed are rendered again" grep -q ': 2 jobs: 2 written, 0 kept' "$T/res.err"

# a resumed run stopped by a signal: the jobs it had read ahead of the
# workers (up to 16, sent to whichever worker has laid out their template
# and language) and never started keep the rows an earlier run left for
# them, like the jobs after them
python3 tests/make-jobs.py 300 "$T/j300.csv"
"$PILDOC" batch "$T/j300.csv" --out "$T/ahead" --jobs 2 --quiet 2>/dev/null
sed 's/Dr Durand/Dr Other/' "$T/j300.csv" > "$T/j300b.csv"
"$PILDOC" batch "$T/j300b.csv" --out "$T/ahead" --jobs 2 --quiet --resume 2> "$T/ahead.err" &
pid=$!
wait_recorded "$T/ahead" $pid
kill -TERM $pid; wait $pid
check "stopped resume: it stopped early" grep -q '(interrupted)' "$T/ahead.err"
check "stopped resume: every job keeps one row" \
  test "$(tail -n +2 "$T/ahead/manifest.csv.partial" | cut -d, -f1 | sort -u | wc -l)" = 300 -a \
  "$(tail -n +2 "$T/ahead/manifest.csv.partial" | wc -l)" = 300
check "stopped resume: every row names its file as it is (sha256)" manifest_files_whole "$T/ahead" "$T/ahead/manifest.csv.partial"
"$PILDOC" batch "$T/j300b.csv" --out "$T/ahead" --jobs 2 --quiet --resume 2> "$T/ahead.err"
check "stopped resume: a second resume finishes" grep -q ': 300 jobs: .* 0 failed' "$T/ahead.err"

# a FIFO planted under a manifest's name in the folder must not hang --resume
for name in manifest.csv.partial .manifest.csv.ABCDEFGH.part; do
  rm -rf "$T/rfifo"
  mkdir -p "$T/rfifo"
  mkfifo "$T/rfifo/$name"
  run_bounded 30 "$PILDOC" batch "$T/j3.csv" --out "$T/rfifo" --resume --quiet 2>/dev/null; rc=$?
  check "resume: a FIFO named $name is not waited on (exit $rc)" test $rc = 0
  check "resume: ... every job written" test "$(grep -c '"ok"' "$T/rfifo/manifest.csv" 2>/dev/null)" = 3
done

# an output replaced by a FIFO since the run (its manifest row intact) is not waited on
rm -rf "$T/ofifo"
"$PILDOC" batch "$T/j3.csv" --out "$T/ofifo" --quiet 2>/dev/null
f=$(ls "$T/ofifo" | grep -m1 '\.pdf$')
rm "$T/ofifo/$f"
mkfifo "$T/ofifo/$f"
run_bounded 30 "$PILDOC" batch "$T/j3.csv" --out "$T/ofifo" --resume --quiet 2> "$T/ofifo.err"; rc=$?
check "resume: an output replaced by a FIFO: the run ends (exit $rc, not killed)" test $rc = 1
check "resume: ... that job fails, the others are kept" grep -q ': 3 jobs: 0 written, 2 kept from an earlier run, 1 failed' "$T/ofifo.err"

# --- data= checked, then swapped for a link before the worker opens it ------------------
# A shim (LD_PRELOAD) replaces the folder sub/ by a link to another folder
# right after the job file's reader has checked data="sub/p.xml": the worker
# must not follow the link and print the other folder's patient.
if [ -z "${PILDOC_SANITIZED:-}" ] && command -v gcc >/dev/null; then
  cat > "$T/swaplink.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
char *realpath(const char *path, char *resolved)
{
    static char *(*real)(const char *, char *);
    if (!real)
        real = (char *(*)(const char *, char *))dlsym(RTLD_NEXT, "realpath");
    char *r = real(path, resolved);
    const char *dir = getenv("SWAP_DIR"), *to = getenv("SWAP_TO");
    size_t n = strlen(path);
    if (r && dir && to && n > 10 && strcmp(path + n - 10, "/sub/p.xml") == 0) {
        char sub[PATH_MAX], moved[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/sub", dir);
        snprintf(moved, sizeof moved, "%s/sub.moved", dir);
        if (rename(sub, moved) == 0)
            symlink(to, sub);
    }
    return r;
}
C
  gcc -shared -fPIC -o "$T/swaplink.so" "$T/swaplink.c" -ldl
  # swap_after_check NAME COLUMN TEMPLATE INSIDE OTHER WANTED WHAT: a job's
  # COLUMN=sub/p.xml file holds INSIDE, the folder the shim swaps in holds
  # OTHER; the job must fail rather than print OTHER, and a link that stays
  # inside the job file's folder must still work (WANTED printed)
  swap_after_check() {
    local d=$T/$1 col=$2 tpl=$3 inside=$4 other=$5 wanted=$6 what=$7 rc
    mkdir -p "$d/jobs/sub" "$d/other"
    printf '%s' "$inside" > "$d/jobs/sub/p.xml"
    printf '%s' "$other" > "$d/other/p.xml"
    printf 'template,lang,output,%s\n%s,en,a.pdf,sub/p.xml\n' "$col" "$tpl" > "$d/jobs/jobs.csv"
    SWAP_DIR=$d/jobs SWAP_TO=$d/other LD_PRELOAD=$T/swaplink.so \
      run_bounded 60 "$PILDOC" batch "$d/jobs/jobs.csv" --out "$d/out" --jobs 1 --quiet 2> "$d.err"; rc=$?
    check "$col= swapped for a link after the check: the link was swapped in (test set-up)" test -L "$d/jobs/sub"
    check "$col= swapped for a link after the check: the job fails (exit $rc)" test $rc = 1
    check "$col= swapped for a link after the check: no document with $what" test ! -e "$d/out/a.pdf"
    check "$col= swapped for a link after the check: the manifest says why" grep -q 'symbolic link is in its path' "$d/out/manifest.csv"
    # without the swap, the same job renders, and a link inside the folder is still fine
    rm "$d/jobs/sub"; mv "$d/jobs/sub.moved" "$d/jobs/sub"
    ln -s sub "$d/jobs/inner"
    printf 'template,lang,output,%s\n%s,en,a.pdf,sub/p.xml\n%s,en,b.pdf,inner/p.xml\n' "$col" "$tpl" "$tpl" > "$d/jobs/jobs.csv"
    "$PILDOC" batch "$d/jobs/jobs.csv" --out "$d/out" --jobs 1 --quiet 2> "$d.err"; rc=$?
    check "$col=: a link that stays inside the job file's folder is still followed (exit $rc)" test $rc = 0
    check "$col=: ... and the right one printed" bash -c "pdftotext '$d/out/b.pdf' - | grep -q '$wanted'"
  }
  swap_after_check toctou data consent '<data><patient><name>Here Inside</name></patient></data>' \
    '<data><patient><name>Someone Else</name></patient></data>' 'Here Inside' "the other folder's patient"
  # the worker must not print the other folder's clinic (its name and phone
  # number) on the patient's leaflet
  swap_after_check toctou2 clinic leaflet '<clinic><name>Clinic Inside</name><phone>0100</phone></clinic>' \
    '<clinic><name>Clinic Elsewhere</name><phone>0999</phone></clinic>' 'Clinic Inside' 'the other clinic'
fi

# --- a logo swapped for a FIFO after it was checked -------------------------------------
# The shim swaps logo.png for a FIFO when the profile's folder is resolved
# (the confinement check): pildoc must not open it again by name and wait
# on the FIFO for ever.
if [ -z "${PILDOC_SANITIZED:-}" ] && command -v gcc >/dev/null; then
  cat > "$T/swapfifo.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
char *realpath(const char *path, char *resolved)
{
    static char *(*real)(const char *, char *);
    if (!real)
        real = (char *(*)(const char *, char *))dlsym(RTLD_NEXT, "realpath");
    const char *root = getenv("SWAP_ROOT");
    if (root && strcmp(path, root) == 0) {
        char logo[PATH_MAX], moved[PATH_MAX];
        snprintf(logo, sizeof logo, "%s/logo.png", root);
        snprintf(moved, sizeof moved, "%s/logo.moved", root);
        if (rename(logo, moved) == 0)
            mkfifo(logo, 0600);
    }
    return real(path, resolved);
}
C
  gcc -shared -fPIC -o "$T/swapfifo.so" "$T/swapfifo.c" -ldl
  mkdir -p "$T/fifologo"
  cp templates/clinics/logo-montreal.png "$T/fifologo/logo.png"
  printf '<clinic country="CA"><name>Test</name>\n<logo>logo.png</logo></clinic>' > "$T/fifologo/p.xml"
  SWAP_ROOT=$T/fifologo LD_PRELOAD=$T/swapfifo.so run_bounded 60 "$PILDOC" render leaflet --clinic "$T/fifologo/p.xml" -o "$T/fifologo/out.pdf" 2> "$T/fifologo.err"; rc=$?
  check "logo swapped for a FIFO after the check: the FIFO was swapped in (test set-up)" test -p "$T/fifologo/logo.png"
  check "logo swapped for a FIFO after the check: not waited on (exit $rc, not killed)" test $rc = 1
  check "logo swapped for a FIFO after the check: one line naming the profile and the logo" bash -c "test \$(wc -l < '$T/fifologo.err') = 1 && grep -q 'p.xml:2: image .*logo.png. was replaced while it was read' '$T/fifologo.err'"
  check "logo swapped for a FIFO after the check: no file" test ! -e "$T/fifologo/out.pdf"
fi

# --- pathological SVG logos: refused before drawing, not drawn for seconds or minutes -----
# Each of these took 1.4 s to over a minute (and up to 1.8 GB; 60 embedded
# 4096-pixel PNGs, 7 s; 1,900 masked translucent rectangles, 46 s at 1,666
# pixels) to draw at a
# logo's 512 pixels; each must now be refused at once: exit 1 within 20 s
# of CPU (ulimit -t: a count, not a clock), one line naming the profile's
# line, the file and what is wrong, no output file.
mkdir -p "$T/svg"
python3 - "$T/svg" <<'PY'
import base64, random, struct, sys, zlib
d = sys.argv[1]
random.seed(7)
sys.path.insert(0, 'tests')
from testpng import png
big = base64.b64encode(png(4096, 4096)).decode()
svg = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">%s</svg>'
cases = {
    'blur': '<filter id="f" x="-10" y="-10" width="30" height="30"><feGaussianBlur stdDeviation="100000"/></filter><rect width="100" height="100" filter="url(#f)"/>',
    'chain': '<filter id="f">%s</filter><rect width="100" height="100" style="fill: red; filter : url(#f)"/>' % ''.join('<feGaussianBlur stdDeviation="50" result="r%d"/>' % i for i in range(600)),
    'cssfilter': '<style>rect { filter: blur(500px) }</style><rect width="100" height="100"/>',
    'use': '<rect id="a0" width="100" height="100" fill-opacity="0.01"/>' + ''.join('<g id="a%d"><use href="#a%d"/><use xlink:href="#a%d"/></g>' % (i, i - 1, i - 1) for i in range(1, 17)),
    'marker': '<marker id="m" markerWidth="100" markerHeight="100"><rect width="100" height="100"/></marker><path marker-mid="url(#m)" d="M0 0' + ' l0.001 0' * 200000 + '"/>',
    'path': '<path stroke="black" stroke-width="3" stroke-linejoin="round" d="M0 0' + ''.join(' L%d %d' % (random.randrange(100), random.randrange(100)) for _ in range(15000)) + '"/>',
    'text': '<text y="50" font-size="1">' + 'ab ' * 1000000 + '</text>',
    'pngs': '<image width="100" height="100" href="data:image/png;base64,%s"/>' % big * 60,
    'masks': '<mask id="m"><rect width="100" height="100" fill="#888"/></mask>' + ''.join('<rect x="%d" width="100" height="100" opacity=".5" mask="url(#m)"/>' % (i % 50) for i in range(1900)),
    'cssopacity': '<style>rect { opacity: 0.5 }</style>' + '<rect width="100" height="100"/>' * 300,
}
for name, body in cases.items():
    open('%s/%s.svg' % (d, name), 'w').write(svg % body)
    open('%s/p-%s.xml' % (d, name), 'w').write('<clinic country="FR"><name>Test</name>\n<logo>%s.svg</logo></clinic>' % name)
PY
declare -A svg_why=([blur]='a filter effect' [chain]='a filter effect' [cssfilter]='a filter effect'
  [use]='draws more than 2000 elements' [marker]='markers' [path]='a path of more than 2000 points'
  [text]='more than 1000 bytes of text' [pngs]='embeds PNG pictures of more than 4096 x 4096 pixels in all'
  [masks]='too many masked or translucent elements for the size it is drawn at'
  [cssopacity]='too many masked or translucent elements for the size it is drawn at')
for n in blur chain cssfilter use marker path text pngs masks cssopacity; do
  (ulimit -t 20; exec "$PILDOC" render leaflet --clinic "$T/svg/p-$n.xml" -o "$T/svg/$n.pdf") 2> "$T/svg/$n.err"; rc=$?
  check "svg $n: refused (exit 1, not killed by 20 s of CPU: $rc)" test $rc = 1
  check "svg $n: one line: profile:line, file, ${svg_why[$n]}" bash -c "test \$(wc -l < '$T/svg/$n.err') = 1 && grep -q '^.*p-$n.xml:2: image .*/$n.svg.: an SVG file .*${svg_why[$n]}' '$T/svg/$n.err'"
  check "svg $n: no output file" test ! -e "$T/svg/$n.pdf"
done
# what a logo does use still draws: shapes, <use>, a short text, style without effects
cat > "$T/svg/fine.svg" <<'SVG'
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><style>.b { fill: #08c; filter: none }</style>
<defs><circle id="dot" r="4"/></defs><rect class="b" width="30" height="30"/><use href="#dot" x="40" y="15"/>
<path d="M50 5 L60 30 L70 5 Z" marker-end="none" opacity=".8"/><text x="75" y="25" font-size="10">Clinic</text></svg>
SVG
printf '<clinic country="FR"><name>Test</name>\n<logo>fine.svg</logo></clinic>' > "$T/svg/p-fine.xml"
"$PILDOC" render leaflet --clinic "$T/svg/p-fine.xml" -o "$T/svg/fine.pdf" 2> "$T/svg/fine.err"
check "svg: shapes, <use>, a short text, 'filter: none' and a translucent path still draw" test -s "$T/svg/fine.pdf"
# Ctrl-C (SIGINT to the whole process group) while a batch worker's logo
# is being drawn by its own process: the worker finishes the job, logo
# included (the drawing process ignores SIGINT as the worker does; it
# used to die of it, and the job failed with "cannot be drawn")
python3 - "$T/svg" <<'PY'
import sys
d = sys.argv[1]
r = ''.join('<rect x="%d" width="100" height="100" opacity=".5" mask="url(#m)"/>' % (i % 50) for i in range(190))
open(d + '/slow.svg', 'w').write('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
                                 '<mask id="m"><rect width="100" height="100" fill="#888"/></mask>%s</svg>' % r)
open(d + '/p-slow.xml', 'w').write('<clinic country="FR"><name>Test</name>\n<logo>slow.svg</logo></clinic>')
open(d + '/slow-jobs.csv', 'w').write('template,lang,output,clinic\nleaflet,fr,a.pdf,p-slow.xml\n')
PY
mkdir -m 700 "$T/svg/cache"
XDG_CACHE_HOME="$T/svg/cache" setsid "$PILDOC" batch "$T/svg/slow-jobs.csv" --out "$T/svg/int" --jobs 1 --quiet 2> /dev/null &
batch=$!
for _ in $(seq 500); do pgrep -f 'draw-sv[g] 512' > "$T/svg/alive" && break; sleep 0.02; done
kill -INT -- -$batch
wait $batch
check "Ctrl-C while a logo is drawn: it was being drawn then (test set-up)" test -s "$T/svg/alive"
check "Ctrl-C while a logo is drawn: the job is written, logo included" \
  bash -c "grep -q '^\"1\",\"a.pdf\",\"ok\"' '$T/svg/int/manifest.csv.partial' && test -s '$T/svg/int/a.pdf'"

# --- nothing lost, flushed together: every PDF is flushed to disk whole before it is renamed
# into place, and a worker whose flushes are slow flushes the files waiting together ---------
# A shim (LD_PRELOAD) logs fsync (with the file's size then), sync_file_range and renameat,
# and makes each flush of a PDF's temporary file take 15 ms (a busy disk), so that the
# worker's next documents wait for its writer thread.
if [ -z "${PILDOC_SANITIZED:-}" ] && command -v gcc >/dev/null; then
  cat > "$T/synclog.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static int S_log = -1;
__attribute__((constructor)) static void S_open(void)
{
    S_log = open(getenv("SYNC_LOG"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}
/* one line, written at once (O_APPEND): thread, what, the file, its size or the new name */
static void S_note(const char *what, int fd, const char *name, const char *to)
{
    char path[600] = "";
    long long size = -1;
    if (fd >= 0) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        path[n > 0 ? n : 0] = '\0';
        struct stat st;
        if (fstat(fd, &st) == 0)
            size = (long long)st.st_size;
    }
    char line[1400];
    int n = snprintf(line, sizeof line, "%ld %s %s %s %lld\n", (long)syscall(SYS_gettid), what,
                     name ? name : path, to ? to : "-", size);
    if (S_log >= 0 && n > 0)
        (void)!write(S_log, line, (size_t)n);
}
int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    S_note("F", fd, NULL, NULL);
    char link[64], path[600];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    if (strstr(path, "/.pd-") && strstr(path, ".tmp")) {
        struct timespec ts = {0, 15000000L};
        nanosleep(&ts, NULL);
    }
    return real(fd);
}
int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags)
{
    static int (*real)(int, off64_t, off64_t, unsigned int);
    if (!real)
        real = (int (*)(int, off64_t, off64_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
    S_note("S", fd, NULL, NULL);
    return real(fd, offset, nbytes, flags);
}
int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
    static int (*real)(int, const char *, int, const char *);
    if (!real)
        real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
    S_note("R", -1, oldpath, newpath);
    return real(olddirfd, oldpath, newdirfd, newpath);
}
C
  gcc -shared -fPIC -o "$T/synclog.so" "$T/synclog.c" -ldl
  head -25 "$T/j40.csv" > "$T/j24.csv"
  "$PILDOC" batch "$T/j24.csv" --out "$T/sync_ref" --jobs 1 --quiet 2>/dev/null
  for j in 1 2; do
    rm -f "$T/sync$j.log"
    SYNC_LOG=$T/sync$j.log LD_PRELOAD=$T/synclog.so run_bounded 120 "$PILDOC" batch "$T/j24.csv" --out "$T/sync$j" --jobs $j --quiet 2>/dev/null
    check "slow flushes, --jobs $j: every job written" test "$(ls "$T/sync$j"/*.pdf | wc -l)" = 24
    check "slow flushes, --jobs $j: the same bytes as a run without the shim" \
      bash -c "for f in '$T/sync$j'/*.pdf; do cmp -s \"\$f\" '$T/sync_ref'/\$(basename \"\$f\") || exit 1; done"
    # every PDF renamed into place was flushed whole (its final size) before the rename,
    # and so was the manifest
    check "slow flushes, --jobs $j: each file flushed whole before its rename" python3 - "$T/sync$j.log" "$T/sync$j" <<'P'
import os, sys
flushed, renamed = {}, 0
for line in open(sys.argv[1]):
    tid, what, name, to, size = line.split()
    if what == 'F':
        flushed[os.path.basename(name)] = int(size)
    elif what == 'R' and (to.endswith('.pdf') or to == 'manifest.csv'):
        tmp = os.path.basename(name)
        assert tmp in flushed, f'{to} renamed from {tmp} without a flush'
        final = os.path.join(sys.argv[2], to)
        assert flushed[tmp] == os.path.getsize(final), f'{to}: flushed {flushed[tmp]} bytes of {os.path.getsize(final)}'
        renamed += 1
assert renamed == 25, renamed   # 24 PDFs and the manifest
P
    # the writer thread begins every file waiting before it flushes the first of them:
    # some thread starts a second file's flush (S) before it ends the first (F)
    check "slow flushes, --jobs $j: the files waiting are flushed together" python3 - "$T/sync$j.log" <<'P'
import sys
started = {}
together = 0
for line in open(sys.argv[1]):
    tid, what, name, to, size = line.split()
    if what == 'S':
        started.setdefault(tid, set()).add(name)
        together = max(together, len(started[tid]))
    elif what == 'F':
        started.get(tid, set()).discard(name)
assert together >= 2, together
P
  done
fi

# --- the font cache: never through a link or in a folder others can write ---------------
mkdir -p "$T/xdg1/pildoc" "$T/xdg2" "$T/fcvictim"
chmod 777 "$T/xdg1/pildoc"
XDG_CACHE_HOME=$T/xdg1 "$PILDOC" render leaflet -o "$T/fc1.pdf" 2>/dev/null; rc=$?
check "font cache: a world-writable cache folder: the document is still made" test $rc = 0
check "font cache: ... but no cache is written (or read) there" test -z "$(ls -A "$T/xdg1/pildoc")"
chmod 1777 "$T/xdg2"
ln -s "$T/fcvictim" "$T/xdg2/pildoc"
[ "$(id -u)" = 0 ] && chown -h nobody "$T/xdg2/pildoc"   # planted by another user
XDG_CACHE_HOME=$T/xdg2 "$PILDOC" render leaflet -o "$T/fc2.pdf" 2>/dev/null; rc=$?
check "font cache: a link planted as the cache folder: the document is still made" test $rc = 0
check "font cache: ... nothing written where the link points" test -z "$(ls -A "$T/fcvictim")"
XDG_CACHE_HOME=$T/xdg3 "$PILDOC" render leaflet -o "$T/fc3.pdf" 2>/dev/null
check "font cache: a folder of our own is still used" bash -c "ls '$T/xdg3/pildoc' | grep -q 'cache-'"

summary robustness
