#!/usr/bin/env bash
# The cost of the console, against htop, in the same run on the same host
# (issue 7 "Benchmark"). Runs the given ztop command and `htop -d 10` (a 1 s
# refresh) side by side, each in its own tmux session of the same size,
# lets them settle, then counts each one's CPU time (utime+stime from
# /proc/PID/stat) over SECONDS and reads its RSS at the end.
#
#   tui/bench/console_cost.sh [SECONDS] -- ZTOP_COMMAND [ARGS...]
#   e.g. tui/bench/console_cost.sh 60 -- target/release/ztop --socket /run/zoned.sock
#        tui/bench/real_zones.sh 60 100   (100 real zones, 500 processes, zoned)
#        SYNTHETIC_ZONES=100 tui/bench/console_cost.sh 60 -- target/release/examples/synthetic
#
# Targets: ztop's CPU at most half of htop's; ztop's RSS at most 15 MiB.
# Needs tmux and htop (apt-get install tmux htop). Exit status 1 when a
# target is missed.
set -euo pipefail

secs=60
if [[ "${1:-}" != "--" ]]; then secs=$1; shift; fi
[[ "${1:-}" == "--" ]] || { echo "usage: $0 [SECONDS] -- ZTOP_COMMAND [ARGS...]" >&2; exit 2; }
shift
(( $# > 0 )) || { echo "usage: $0 [SECONDS] -- ZTOP_COMMAND [ARGS...]" >&2; exit 2; }
for tool in tmux htop; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is not installed" >&2; exit 2; }
done

tag="console-cost-$$"
cleanup() {
    tmux kill-session -t "$tag-ztop" 2>/dev/null || true
    tmux kill-session -t "$tag-htop" 2>/dev/null || true
}
trap cleanup EXIT

quoted=$(printf '%q ' "$@")
tmux new-session -d -s "$tag-ztop" -x 140 -y 45 "exec env $(env | grep -E '^(SYNTHETIC_ZONES|ZONED_SOCKET|ZONES_[A-Z_]+)=' | xargs -r printf '%q ') $quoted"
tmux new-session -d -s "$tag-htop" -x 140 -y 45 "exec htop -d 10"

pane_pid() { tmux list-panes -t "$1" -F '#{pane_pid}'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

sleep 3
zpid=$(pane_pid "$tag-ztop")
hpid=$(pane_pid "$tag-htop")
for p in "$zpid" "$hpid"; do
    [[ -r /proc/$p/stat ]] || { echo "$0: a console exited early (pid $p)" >&2; exit 2; }
done

hz=$(getconf CLK_TCK)
z0=$(ticks "$zpid"); h0=$(ticks "$hpid")
sleep "$secs"
z1=$(ticks "$zpid"); h1=$(ticks "$hpid")
zrss=$(rss_kib "$zpid"); hrss=$(rss_kib "$hpid")

zcpu=$(awk -v t=$((z1 - z0)) -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.2f", 100 * t / hz / s}')
hcpu=$(awk -v t=$((h1 - h0)) -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.2f", 100 * t / hz / s}')

printf '%-6s %8s %10s\n' "" "CPU %" "RSS MiB"
printf '%-6s %8s %10.1f\n' ztop "$zcpu" "$(awk -v k="$zrss" 'BEGIN {print k / 1024}')"
printf '%-6s %8s %10.1f\n' htop "$hcpu" "$(awk -v k="$hrss" 'BEGIN {print k / 1024}')"

ok=1
awk -v z="$zcpu" -v h="$hcpu" 'BEGIN {exit !(z <= h / 2)}' || { echo "MISSED: ztop CPU $zcpu% > half of htop's $hcpu%"; ok=0; }
(( zrss <= 15 * 1024 )) || { echo "MISSED: ztop RSS ${zrss} KiB > 15 MiB"; ok=0; }
(( ok )) && echo "targets met: CPU <= 1/2 htop, RSS <= 15 MiB"
(( ok ))
