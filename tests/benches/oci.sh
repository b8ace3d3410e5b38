#!/usr/bin/env bash
# zones-oci (issue 19): `podman run --rm --rootfs ROOT /bin/true` with
# zones-oci as the runtime, against the same command with crun and with
# runc, in the same run, on the same busybox-static root (a whole zone:
# the root as it is). Prints the median wall time of RUNS runs of each and
# the ratios zones-oci/crun and zones-oci/runc. Podman's own cost (it
# starts conmon, writes the bundle, cleans up) is in every figure alike.
#
#   tests/benches/oci.sh            # as root; RUNS=10 BIN=target/release
#
# Needs podman, crun, runc, busybox-static (.ci/run installs them) and
# zones-oci and zsched built (cargo build -p zones --bin zones-oci --bin
# zsched; BIN defaults to target/debug). Podman's storage, the OCI roots
# of all three runtimes, the zones state directory and the cgroup root
# are private to the run and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-10}
BIN=$(realpath "${BIN:-target/debug}")
[ "$(id -u)" = 0 ] || { echo "oci.sh: run as root" >&2; exit 1; }
for t in podman crun runc busybox; do
  command -v "$t" >/dev/null || { echo "oci.sh: $t is not installed" >&2; exit 1; }
done
for b in zones-oci zsched; do
  [ -x "$BIN/$b" ] || { echo "oci.sh: $BIN/$b missing (cargo build -p zones --bin $b)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/zones-bench-oci.XXXXXX)
: "${W:?}"
chmod 700 "$W"
CG=zones-bench-oci-$$

# Each runtime through a wrapper that gives it a private root.
printf '#!/bin/sh\nexport ZONES_STATE_DIR=%s ZONED_SOCKET=%s ZONES_CGROUP_ROOT=%s ZONES_ZSCHED=%s\nexec %s --root %s "$@"\n' \
  "$W/state" "$W/no.sock" "$CG" "$BIN/zsched" "$BIN/zones-oci" "$W/oci-zones" > "$W/zones-oci"
printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$(command -v crun)" "$W/oci-crun" > "$W/crun"
printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$(command -v runc)" "$W/oci-runc" > "$W/runc"
chmod 755 "$W/zones-oci" "$W/crun" "$W/runc"

R=$W/rootfs
mkdir -p "$R/bin" "$R/proc" "$R/dev" "$R/sys" "$R/etc"
cp "$(command -v busybox)" "$R/bin/busybox"
for a in sh true; do ln -s busybox "$R/bin/$a"; done

P=(podman --root "$W/podman/root" --runroot "$W/podman/run" --tmpdir "$W/podman/tmp"
   --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
cleanup() {
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  # Mounts podman left beneath the private directory, and nothing else:
  # the fifth field of mountinfo, only when it starts with "$W/".
  awk -v w="$W/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    for n in "$CG" "$CG-podman"; do
      [ -d "$h$n" ] && find "$h$n" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done
  rm -rf "${W:?}"
  for d in /run/crun /run/runc; do
    case " ${PRE[*]} " in *" $d "*) ;; *) rmdir "$d" 2>/dev/null || true ;; esac
  done
}
# Podman gives crun and runc a --root of its own under /run: removed at
# the end when this run made it and it is empty.
PRE=()
for d in /run/crun /run/runc; do [ -e "$d" ] && PRE+=("$d"); done
trap cleanup EXIT

# One run: wall time in ms of `podman run --rm` with runtime $1.
one() {
  local t0 t1
  t0=$(date +%s%N)
  "${P[@]}" --runtime "$1" run --rm --network none --cgroup-parent "/$CG-podman" \
    --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
    --rootfs "$R" /bin/true || return 1
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Warm-up (podman's storage, the page cache), and which baselines run
# here: crun refuses a hybrid cgroup host ("cgroups in hybrid mode not
# supported"); a runtime that fails is named and left out.
RTS=()
for rt in zones-oci crun runc; do
  if err=$(one "$W/$rt" 2>&1 >/dev/null); then
    RTS+=("$rt")
  else
    [ "$rt" = zones-oci ] && { echo "oci.sh: zones-oci failed: $err" >&2; exit 1; }
    printf '%-10s does not run on this host: %s\n' "$rt" "$(echo "$err" | tail -1)"
  fi
done
[ ${#RTS[@]} -gt 1 ] || { echo "oci.sh: neither crun nor runc runs here: no baseline" >&2; exit 1; }
declare -A MED
for rt in "${RTS[@]}"; do
  MED[$rt]=$(for _ in $(seq "$RUNS"); do one "$W/$rt" || exit 1; done | median)
  printf '%-10s podman run --rm /bin/true: median %5d ms of %d runs\n' "$rt" "${MED[$rt]}" "$RUNS"
done
for rt in "${RTS[@]:1}"; do
  awk -v z="${MED[zones-oci]}" -v b="${MED[$rt]}" -v n="$rt" \
    'BEGIN { printf "ratio zones-oci/%s %.2f\n", n, z/b }'
done
