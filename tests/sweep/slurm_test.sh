#!/usr/bin/env bash
# The cluster path of `stcsim sweep` end to end against a real single-node Slurm started here (munge,
# slurmctld and slurmd from Debian's slurm-wlm, configured in a temporary folder on private ports, run
# as root as CI runs): --emit slurm, sbatch --wait on the job array, --collect; the collected
# results.csv must equal a local run's byte for byte. Usage: slurm_test.sh STCSIM_BINARY SOURCE_DIR
set -u
STCSIM=$1
SRC=$2
TMP=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
stop() {
  for f in "$TMP/slurmd.pid" "$TMP/slurmctld.pid" "$TMP/munge/munged.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  sleep 0.5
  rm -rf "$TMP"
}
trap stop EXIT
for tool in munged slurmctld slurmd sbatch; do
  command -v "$tool" >/dev/null || fail "$tool is missing: scripts/install-deps.sh installs slurm-wlm and munge"
done
[ "$(id -u)" -eq 0 ] || fail "the Slurm test starts slurmd, which runs jobs as root here: run it as root (CI does)"
cd "$SRC" || exit 1

mkdir -p "$TMP/munge" "$TMP/state" "$TMP/spool" "$TMP/sweep"
chmod 755 "$TMP" "$TMP/munge"
dd if=/dev/urandom of="$TMP/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$TMP/munge/munge.key"
munged -f --socket="$TMP/munge/munge.sock" --key-file="$TMP/munge/munge.key" --log-file="$TMP/munge/munged.log" \
  --pid-file="$TMP/munge/munged.pid" --seed-file="$TMP/munge/munged.seed" || fail "munged did not start"

node=$(hostname -s)
base=$((20000 + $$ % 20000))
cat > "$TMP/slurm.conf" <<CONF
ClusterName=stcsimtest
SlurmctldHost=$node
AuthType=auth/munge
AuthInfo=socket=$TMP/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/slurmctld.log
SlurmdLogFile=$TMP/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$TMP/slurm.conf"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start: $(tail -3 "$TMP/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" -N "$node" || fail "slurmd did not start: $(tail -3 "$TMP/slurmd.log" 2>/dev/null)"
for _ in $(seq 1 100); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 0.2
done
sinfo -h -o %t | grep -q idle || fail "the node did not come up: $(tail -3 "$TMP/slurmd.log")"

# A small sweep: 3 points of the test grid on the small trace, under hostile names: the script must
# run none of the commands in them (slurmd runs it with bash).
sweep="$TMP/x\$(touch\${IFS}PWNED1).yaml"
sed "s/range: {from: 44, to: 132, step: 44}/values: [132]/; s/values: \\[3900, 7800\\]/values: [3900]/;
     s|../../../configs/h100.yaml|$SRC/configs/h100.yaml|; s|\\[small.trace\\]|[$SRC/tests/sweep/fixtures/small.trace]|" \
  tests/sweep/fixtures/grid.yaml > "$sweep"
out="$TMP/sweep\$(touch\${IFS}PWNED2)"
"$STCSIM" sweep "$sweep" --out "$out" --emit slurm >"$TMP/emit.txt" || fail "--emit slurm failed"
grep -q "#SBATCH --array=0-2" "$out/sweep.slurm" || fail "array size: $(grep array "$out/sweep.slurm")"
# --collect before the array has run names the missing jobs.
"$STCSIM" sweep "$sweep" --out "$out" --collect 2>"$TMP/err" && fail "--collect with no jobs done succeeded"
grep -q "3 of 3 jobs have no results" "$TMP/err" || fail "collect error: $(cat "$TMP/err")"
timeout 300 sbatch --wait "$out/sweep.slurm" >"$TMP/sbatch.txt" 2>&1 || fail "sbatch --wait: $(cat "$TMP/sbatch.txt"; tail -5 "$TMP/slurmd.log")"
"$STCSIM" sweep "$sweep" --out "$out" --collect >/dev/null || fail "--collect failed after the array ran"
"$STCSIM" sweep "$sweep" --out "$TMP/local" --jobs 2 >/dev/null 2>&1 || fail "local run failed"
cmp "$TMP/local/results.csv" "$out/results.csv" || fail "the cluster's results differ from a local run's"
[ -z "$(find "$TMP" / -maxdepth 1 -name 'PWNED*' 2>/dev/null; find "$SRC" "$TMP" -maxdepth 2 -name 'PWNED*' 2>/dev/null)" ] ||
  fail "a command in a file name ran"
echo "slurm: 3 array tasks ran and were collected; results equal a local run's"
