#!/usr/bin/env bash
# Runs inside the test VM as its PID 1, exec'd by /usr/local/sbin/wgnet-vm-init
# (scripts/vm-build.sh) from the folder that scripts/vm-run.sh shares at
# /mnt/wgnet, with src.tar (the checkout) and command (the command to run, one
# argument a line). It unpacks the checkout on the VM's disk, loads WireGuard,
# runs the command there, leaves rc, output.log and timings in
# /mnt/wgnet/results, and powers the VM off whatever happens.
set -u
share=/mnt/wgnet
results=$share/results
work=/opt/wgnet
mkdir -p "$results"

stamp() { echo "$1 $(cut -d' ' -f1 /proc/uptime)" >>"$results/timings"; }
power_off() {
  stamp poweroff
  sync
  umount "$share" 2>/dev/null
  echo o >/proc/sysrq-trigger # ACPI power off: qemu exits
  sleep 60
}
trap power_off EXIT
stamp init

mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm # multiprocessing's semaphores
ip link set lo up
if ! modprobe wireguard; then
  echo "modprobe wireguard failed" | tee "$results/output.log"
  echo 126 >"$results/rc"
  exit
fi
echo "kernel $(uname -r), wireguard $(cat /sys/module/wireguard/version 2>/dev/null)" >"$results/kernel"
modprobe tun # /dev/net/tun, for wireguard-go (the userspace backend, for comparison)

rm -rf "$work"
mkdir -p "$work"
tar -C "$work" -xf "$share/src.tar"
stamp copied
cd "$work" || exit
mapfile -t command <"$share/command"
export WGNET_IN_VM=1 WGNET_VM_RESULTS=$results
"${command[@]}" 2>&1 | tee "$results/output.log"
rc=${PIPESTATUS[0]}
stamp finished
echo "$rc" >"$results/rc"
