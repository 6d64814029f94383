#!/usr/bin/env bash
# Start dockerd in the background unless it already answers. There is no
# systemd here, so nothing else would start it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

LOG=${WGNET_DOCKERD_LOG:-/var/log/wgnet-dockerd.log}
PIDFILE=/var/run/docker.pid
TIMEOUT=${WGNET_DOCKERD_TIMEOUT:-60}
# overlay2: / is ext4 and the kernel has overlayfs (checked by mounting one);
# vfs would copy every layer in full. iptables stays on (the default):
# iptables-nft works on this kernel, and bridge networks need its NAT rules.
DOCKERD_ARGS=(--storage-driver=overlay2 --pidfile="$PIDFILE")

docker info >/dev/null 2>&1 && exit 0

# dockerd refuses to start while its pid file names a live process; a file
# left by a dead dockerd (or a reused pid) is stale and can go.
pid=$(cat "$PIDFILE" 2>/dev/null || true)
if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
  log "dockerd $pid is running but not answering yet; waiting"
else
  rm -f "$PIDFILE"
  log "starting dockerd (log: $LOG)"
  echo "--- $(date -Is) ${0##*/}" >>"$LOG"
  # New session, no stdin, output to a file: it outlives the calling shell.
  setsid nohup dockerd "${DOCKERD_ARGS[@]}" </dev/null >>"$LOG" 2>&1 &
  pid=$!
fi

for ((i = 0; i < TIMEOUT; i++)); do
  docker info >/dev/null 2>&1 && { log "dockerd up after ${i}s"; exit 0; }
  kill -0 "$pid" 2>/dev/null || break # died: no point in waiting
  sleep 1
done
tail -n 30 "$LOG" >&2
die "dockerd did not answer on /var/run/docker.sock (see $LOG)"
