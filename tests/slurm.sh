#!/usr/bin/env bash
# make check-slurm: a one-node Slurm on 127.0.0.1, started here by hand (as
# root, no systemd: munged, slurmctld, slurmd with a private key, socket,
# configuration and state in a temporary folder), runs the README's job
# array script over a few hundred jobs with the installed pildoc. Checks the
# outputs and manifests against one unsharded run, and that the shard with a
# bad job ends FAILED while the others complete. Every daemon it started is
# stopped on exit. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
[ "$(id -u)" = 0 ] || { echo "slurm: must run as root (it starts munged, slurmctld, slurmd)" >&2; exit 1; }
for c in munged mungekey slurmctld slurmd sbatch sinfo squeue scontrol scancel; do
  command -v $c > /dev/null || { echo "slurm: $c missing: make check-slurm installs slurm-wlm and munge" >&2; exit 1; }
done
SRC=$PWD
T=$(mktemp -d /tmp/pildoc-slurm.XXXXXX)
chmod 755 "$T"
export SOURCE_DATE_EPOCH=1795305600
NJOBS=${SLURM_TEST_JOBS:-300}
WAIT=${SLURM_TEST_WAIT:-300} # seconds the array may take at most

pids=()
# our processes: the daemons, and any job step (slurmstepd outlives slurmd),
# which carries SLURM_CONF=$T/slurm.conf in its environment
ours() {
  for p in "${pids[@]}"; do kill -0 "$p" 2> /dev/null && echo "$p"; done
  for e in /proc/[0-9]*/environ; do
    { tr '\0' '\n' < "$e" | grep -qx "SLURM_CONF=$T/slurm.conf"; } 2> /dev/null && echo "${e//[!0-9]/}"
  done
}
stop_daemons() {
  [ -n "${jobid:-}" ] && scancel "$jobid" 2> /dev/null && sleep 1
  # in reverse order: slurmd, slurmctld, munged
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2> /dev/null; done
  for _ in $(seq 50); do
    [ -z "$(ours)" ] && break
    sleep 0.2
  done
  for p in $(ours); do kill -9 "$p" 2> /dev/null; done
  wait 2> /dev/null
}
stop() {
  set +e
  stop_daemons
  rm -rf "$T"
}
trap stop EXIT
trap 'exit 1' INT TERM

# --- pildoc installed as on the cluster's nodes; jobs; one unsharded run -----------
make -s --no-print-directory install DESTDIR="$T/root" > "$T/install.log" 2>&1 ||
  { cat "$T/install.log" >&2; exit 1; }
export PATH=$(dirname "$(find "$T/root" -path '*/bin/pildoc')"):$PATH
check "pildoc on PATH is the installed one" test "$(command -v pildoc)" != "$SRC/pildoc"
mkdir -p "$T/work" "$T/one"
python3 tests/make-jobs.py "$NJOBS" "$T/gen.csv"
# job 11 has a language nobody has: shard 3 of 8 fails
awk -F, -v OFS=, 'NR == 12 { $2 = "xx" } { print }' "$T/gen.csv" > "$T/work/jobs.csv"
(cd "$T/one" && pildoc batch ../work/jobs.csv --out out --jobs 2 --quiet 2> /dev/null)
check "unsharded run: every good job written" test "$(find "$T/one/out" -name '*.pdf' | wc -l)" = $((NJOBS - 1))

# --- munge and a one-node Slurm --------------------------------------------------------
mkdir -p "$T/munge" "$T/state" "$T/spool"
chmod 700 "$T/munge"
mungekey --create --keyfile="$T/munge/munge.key" 2> "$T/mungekey.log" || { cat "$T/mungekey.log" >&2; exit 1; }
munged --foreground --force --key-file="$T/munge/munge.key" --socket="$T/munge/munge.socket" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed" \
  > /dev/null 2>&1 &
pids+=($!)

free_ports=$(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
read -r ctld_port d_port <<< "$free_ports"
cpus=$(nproc)
[ "$cpus" -lt 2 ] && cpus=2
export SLURM_CONF=$T/slurm.conf
cat > "$SLURM_CONF" << EOF
ClusterName=pildoc-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
MinJobAge=600
SchedulerParameters=sched_interval=1
NodeName=node1 NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=node1 Default=YES MaxTime=INFINITE State=UP
EOF
# slurmd 22.05 loads a cgroup plugin whatever the other plugins are, and its
# "autodetect" fails where no cgroup filesystem is mounted (a chroot); the v1
# plugin loads anyway, and nothing here uses cgroups.
cat > "$T/cgroup.conf" << 'EOF'
CgroupPlugin=cgroup/v1
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
for _ in $(seq 50); do [ -S "$T/munge/munge.socket" ] && break; sleep 0.1; done
slurmctld -D -i -f "$SLURM_CONF" > "$T/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N node1 -f "$SLURM_CONF" > "$T/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 300); do
  [ "$(sinfo -h -n node1 -o '%t' 2> /dev/null)" = idle ] && { up=1; break; }
  sleep 0.1
done
check "Slurm: node1 idle" test $up = 1
if [ $up = 0 ]; then
  for f in munge/munged.log slurmctld.log slurmd.log slurmctld.out slurmd.out; do
    [ -s "$T/$f" ] && { echo "--- $f" && tail -n 8 "$T/$f"; } >&2
  done
  sinfo -N >&2
  summary slurm
  exit 1
fi

# --- the README's job array script, word for word ---------------------------------------
awk '/^#!\/bin\/sh$/ { on = 1 } on && /^```/ { exit } on { print }' "$SRC/README.md" > "$T/work/pildoc-array.sh"
check "README has the job array script" grep -q '^#SBATCH --array=1-8' "$T/work/pildoc-array.sh"
cd "$T/work"
jobid=$(sbatch --parsable pildoc-array.sh 2> "$T/sbatch.err")
check "sbatch accepts the script" test -n "$jobid"
cd "$SRC"
done_=0
for _ in $(seq $((WAIT * 2))); do
  [ -n "$jobid" ] && [ -z "$(squeue -h -j "$jobid" 2> /dev/null)" ] && { done_=1; break; }
  sleep 0.5
done
check "the array finishes within ${WAIT} s" test $done_ = 1
scontrol -o show job "$jobid" > "$T/jobs.state" 2>&1
state() { grep " ArrayTaskId=$1 " "$T/jobs.state" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
check "eight array tasks" test "$(grep -c ' ArrayTaskId=' "$T/jobs.state")" = 8
check "task 3 (the bad job's shard) FAILED" test "$(state 3)" = FAILED
check "task 3 exit code 1" bash -c "grep ' ArrayTaskId=3 ' '$T/jobs.state' | grep -q 'ExitCode=1:0'"
for k in 1 2 4 5 6 7 8; do check "task $k COMPLETED" test "$(state $k)" = COMPLETED; done

rows() { cat "$@" | grep -v '^job,' | sort -t, -k1.2,1n; }
rows "$T/one/out/manifest.csv" > "$T/one.rows"
rows "$T"/work/out/manifest-*-of-8.csv > "$T/array.rows" 2> /dev/null
check "eight manifests" test "$(ls "$T"/work/out/manifest-*-of-8.csv 2> /dev/null | wc -l)" = 8
check "manifests together = the unsharded manifest" cmp -s "$T/one.rows" "$T/array.rows"
check "outputs byte-identical to the unsharded run" diff -r -x 'manifest*.csv' -x '.manifest-*.lock' "$T/one/out" "$T/work/out"
check "no temporary file left" test -z "$(find "$T/work/out" -name '.*' ! -name '.manifest-*-of-*.lock')"
check "task 3's log names the failed job" grep -q 'job 11 (P00011' "$T/work/slurm-${jobid}_3.out"

stop_daemons
check "every daemon and job step stopped" test -z "$(ours)"
summary slurm
