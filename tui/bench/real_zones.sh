#!/usr/bin/env bash
# The console-cost benchmark on real zones (issue 7 "Benchmark"), by hand,
# as root: N sparse zones (default 100), each running PROCS processes
# (default 5: zsched and four sleeps, so 100 zones make 500 processes),
# booted by a release zoned on a private state directory, socket, jail.conf
# and relative cgroup root; then console_cost.sh runs ztop attached to that
# zoned at a 1 s refresh against `htop -d 10` in the same run, and the
# zones are halted and everything removed on the way out.
#
#   cargo build --release -p zones-tools -p zones-linux -p zoned -p ztop --bins
#   tui/bench/real_zones.sh [SECONDS] [ZONES]
#
# Needs tmux and htop (apt-get install tmux htop).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
n=${2:-100}
rel=$PWD/target/release
for b in zoned zoneadm zsched ztop; do
    [[ -x $rel/$b ]] || { echo "$0: $rel/$b is not built (cargo build --release ...)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "$0: boots zones: run as root" >&2; exit 2; }

dir=$(mktemp -d /tmp/ztop-bench-XXXXXX)
export ZONES_STATE_DIR=$dir/state ZONED_SOCKET=$dir/zoned.sock \
    ZONES_CGROUP_ROOT=zones-bench-$(basename "$dir") ZONES_CONFIG=$dir/jail.conf \
    ZONES_ZSCHED=$rel/zsched
zoned_pid=
cleanup() {
    set +e
    for i in $(seq "$n" -1 1); do "$rel/zoneadm" -z "zb$i" halt >/dev/null 2>&1; done
    [[ -n $zoned_pid ]] && kill "$zoned_pid" && wait "$zoned_pid" 2>/dev/null
    find /sys/fs/cgroup -maxdepth 2 -depth -type d -name "$ZONES_CGROUP_ROOT" -exec rmdir {} \; 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

{
    echo 'brand = sparse; path = "'"$dir"'/roots/$name"; persist;'
    echo 'exec.start = "sleep 1000000 & sleep 1000000 & sleep 1000000 & exec sleep 1000000";'
    for i in $(seq 1 "$n"); do echo "zb$i { }"; done
} >"$ZONES_CONFIG"

"$rel/zoned" >"$dir/zoned.log" 2>&1 &
zoned_pid=$!
for _ in $(seq 100); do [[ -S $ZONED_SOCKET ]] && break; sleep 0.1; done
t0=$(date +%s.%N)
for i in $(seq 1 "$n"); do
    "$rel/zoneadm" -z "zb$i" install >/dev/null
    "$rel/zoneadm" -z "zb$i" boot >/dev/null
done
t1=$(date +%s.%N)
sleep 3
procs=$(COLUMNS=200 "$rel/ztop" -b -n 1 | awk '$2 ~ /^zb/ && $3 == "running" {z++; p += $4} END {print z " zones running, " p " processes"}')
echo "installed and booted $n zones in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s: $procs"
tui/bench/console_cost.sh "$secs" -- "$rel/ztop" --socket "$ZONED_SOCKET" -d 1
