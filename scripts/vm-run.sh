#!/usr/bin/env bash
# Boot the test VM (Debian's kernel, with WireGuard) and run a command in it on
# a fresh copy of this checkout; exit with the command's exit code.
#
#   scripts/vm-run.sh [--results DIR] [--timeout SECONDS] [-- COMMAND [ARG...]]
#
# Without a command it runs the kernel-backend tests: pytest over tests/vm.
# The command runs as root in the checkout's copy, in the VM's root network
# namespace, with WGNET_IN_VM=1 and WGNET_VM_RESULTS (a folder the host gets
# back). The VM has no NIC at all. Its disk is the cached image
# (scripts/vm-build.sh), used read-only; the checkout and the results go
# through one 9p share. DIR receives rc, output.log, console.log, timings and
# whatever the command wrote to WGNET_VM_RESULTS. Exit codes: the command's;
# 124 when the VM ran out of time; 125 when it reported nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
repo=$(cd "$here/.." && pwd)
export LC_ALL=C # EPOCHREALTIME and awk with a decimal point

results=$repo/.cache/vm/results
timeout=${WGNET_VM_TIMEOUT:-900}
while (($#)); do
  case $1 in
  --results) results=$2; shift 2 ;;
  --timeout) timeout=$2; shift 2 ;;
  --) shift; break ;;
  *) die "unknown argument $1 (usage: ${0##*/} [--results DIR] [--timeout SECONDS] [-- COMMAND...])" ;;
  esac
done
command=("$@")
if ((${#command[@]} == 0)); then
  command=(python3 -m pytest tests/vm -p no:cacheprovider -rA --junitxml=/mnt/wgnet/results/junit.xml)
fi

build_start=$SECONDS
image=$("$here/vm-build.sh")
build_time=$((SECONDS - build_start))

stage=$(mktemp -d /tmp/wgnet-vm-run.XXXXXX)
trap 'rm -rf --one-file-system "$stage"' EXIT
trap 'exit 130' INT TERM # so that the EXIT trap runs on these too
mkdir -p "$stage/results"
# The checkout as it is now, committed or not, without what git ignores (.venv,
# .cache), as one tar file: one read over 9p instead of one per file.
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$repo" ls-files -co --exclude-standard -z |
    (cd "$repo" && tar --null -T - --ignore-failed-read -cf "$stage/src.tar" 2>/dev/null)
else
  tar -C "$repo" --exclude=./.git --exclude=./.venv --exclude=./.cache -cf "$stage/src.tar" .
fi
cp "$repo/tests/vm/run-in-vm.sh" "$stage/run-in-vm.sh"
printf '%s\n' "${command[@]}" >"$stage/command"

# console LOG TIMES: copy the serial console to LOG and stdout, and note in
# TIMES when the guest kernel powers off (its "sysrq: Power Off" line).
console() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s\n' "$line"
    [[ $line == *"sysrq: Power Off"* ]] && echo "host_poweroff $EPOCHREALTIME" >>"$2"
  done | tee "$1"
}

rm -rf "$results"
mkdir -p "$results"
log "booting $image (timeout ${timeout}s): ${command[*]}"
start=$(date +%s.%N)
set +e
# -nographic: the serial console is qemu's stdio; no stdin, so nothing to type into it.
timeout -k 10 "$timeout" qemu-system-x86_64 \
  -accel "${WGNET_VM_ACCEL:-tcg}" -m 2048 -smp 2 -nographic -no-reboot -nic none \
  -kernel "$image/kernel" -initrd "$image/initrd.img" \
  -append "console=ttyS0 root=/dev/vda rw init=/usr/local/sbin/wgnet-vm-init panic=-1 quiet loglevel=3" \
  -drive "file=$image/rootfs.ext4,format=raw,if=virtio,snapshot=on" \
  -device virtio-rng-pci \
  -virtfs "local,path=$stage,mount_tag=wgnet,security_model=none,id=wgnet" \
  </dev/null 2>&1 | console "$results/console.log" "$results/host-times"
qemu_rc=${PIPESTATUS[0]}
set -e
end=$(date +%s.%N)

cp -a "$stage/results/." "$results/"
rc=$(cat "$results/rc" 2>/dev/null || true)
if ((qemu_rc == 124)); then
  log "ERROR: the VM did not power off within ${timeout}s"
  rc=124
elif [[ ! $rc =~ ^[0-9]+$ ]]; then
  log "ERROR: the VM reported no exit code (qemu exit code $qemu_rc); see $results/console.log"
  rc=125
fi
# From the guest's uptime stamps (timings) and the host's clock: firmware and
# kernel loading (until the guest's clock starts), the kernel and initrd up to
# our init, the command, and the power off (from the guest's request to qemu's exit).
awk -v build="$build_time" -v start="$start" -v end="$end" '
  { t[$1] = $2 }
  END {
    total = end - start
    printf "image build or cache lookup: %ds\n", build
    printf "qemu wall time: %.1fs\n", total
    if ("host_poweroff" in t && "poweroff" in t) {
      printf "firmware and kernel loading: %.1fs\n", t["host_poweroff"] - start - t["poweroff"]
      printf "power off (guest request to qemu exit): %.1fs\n", end - t["host_poweroff"]
    }
    if ("init" in t) printf "boot (kernel start to init): %.1fs\n", t["init"]
    if ("copied" in t) printf "checkout unpacked: %.1fs\n", t["copied"] - t["init"]
    if ("copied" in t && "finished" in t) printf "command: %.1fs\n", t["finished"] - t["copied"]
  }' "$results/timings" "$results/host-times" 2>/dev/null | tee "$results/timings.txt" >&2 || true
exit "$rc"
