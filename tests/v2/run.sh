#!/usr/bin/env bash
# Prove the cgroup v2 paths on a real cgroup v2 kernel: boot Debian's own
# kernel in qemu with a tiny busybox initramfs that mounts this host's
# root read-only over 9p, gives it a private /tmp, /run, /proc, /sys, /dev
# and *only* cgroup2 at /sys/fs/cgroup, chroots into it and runs the
# ignored tests of tests/tests/v2_guest.rs (the cgroup module's v2 files,
# a real sparse zone booted by the Linux runtime under v2 controllers, the
# memory and CPU caps holding under load in a zone, and
# zoned in a delegated cgroup autobooting a zone).
#
#   tests/v2/run.sh            # as root; needs qemu-system-x86 busybox-static
#                              # linux-image-amd64 (apt-get install them)
#
# Uses software emulation (slow: minutes), or KVM with V2_KVM=1. Not part of
# CI. Exits with the guest test binary's status.
set -euo pipefail
cd "$(dirname "$0")/../.."
WT=$(pwd)

KVER=${KVER:-$(ls /lib/modules | grep -- '-amd64$' | sort -V | tail -1)}
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || { echo "run.sh: no Debian kernel (apt-get install linux-image-amd64)" >&2; exit 1; }
BUSYBOX=$(command -v busybox) || { echo "run.sh: apt-get install busybox-static" >&2; exit 1; }
file -L "$BUSYBOX" 2>/dev/null | grep -q static || ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic" \
  || { echo "run.sh: $BUSYBOX is not static (apt-get install busybox-static)" >&2; exit 1; }

# The test binary (with zones-zsched, zenter beside it in target/debug),
# and zoned.
cargo build -p zoned
TEST=$(cargo test -p zones-e2e --test v2_guest --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import sys,json
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["name"]=="v2_guest":
        print(m["executable"])' | tail -1)
[ -x "$TEST" ] || { echo "run.sh: cannot build the v2_guest test" >&2; exit 1; }

WORK=$(mktemp -d /tmp/zones-v2-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
IR=$WORK/initramfs
mkdir -p "$IR"/{bin,proc,sys,dev,host,mods}
cp "$BUSYBOX" "$IR/bin/busybox"
for m in kernel/drivers/virtio/virtio_ring kernel/drivers/virtio/virtio \
         kernel/drivers/virtio/virtio_pci_modern_dev kernel/drivers/virtio/virtio_pci_legacy_dev \
         kernel/drivers/virtio/virtio_pci kernel/fs/netfs/netfs kernel/fs/fscache/fscache \
         kernel/net/9p/9pnet kernel/net/9p/9pnet_virtio kernel/fs/9p/9p; do
  src=/lib/modules/$KVER/$m.ko
  [ -e "$src" ] || src=$src.xz
  [ -e "$src" ] || continue   # built in
  case $src in *.xz) xz -dc "$src" > "$IR/mods/$(basename "$m").ko" ;; *) cp "$src" "$IR/mods/" ;; esac
  echo "$(basename "$m").ko" >> "$IR/mods/order"
done
cat > "$IR/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in \$(cat /mods/order); do insmod /mods/\$m || echo "insmod \$m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host || { echo V2-RESULT: 9p-failed; poweroff -f; }
mount -t tmpfs tmp /host/tmp
mount -t tmpfs run /host/run
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs shm /host/dev/shm
echo "guest: \$(uname -r); /sys/fs/cgroup: \$(cat /host/sys/fs/cgroup/cgroup.controllers)"
chroot /host /bin/sh -c 'cd $WT/tests && RUST_BACKTRACE=1 $TEST --ignored --test-threads=1'
echo "V2-RESULT: \$?"
poweroff -f
INIT
chmod +x "$IR/init"
(cd "$IR" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initrd.gz"

# KVM when asked (V2_KVM=1): nested KVM hung this VM's guest at boot.
ACCEL=(-machine accel=tcg -cpu max)
[ "${V2_KVM:-0}" = 1 ] && [ -e /dev/kvm ] && ACCEL=(-enable-kvm)
LOG=${V2_LOG:-$WORK/console.log}
timeout 900 qemu-system-x86_64 "${ACCEL[@]}" -m 1536 -smp 2 -nographic -no-reboot \
  -kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
  -append "console=ttyS0 panic=-1 loglevel=4" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  < /dev/null | tee "$LOG"
rc=$(grep -a -o 'V2-RESULT: [0-9a-z-]*' "$LOG" | tail -1 | cut -d' ' -f2)
echo "run.sh: guest tests exited ${rc:-?}"
[ "$rc" = 0 ]
