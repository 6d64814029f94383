#!/usr/bin/env bash
# Start dockerd in the background unless it already answers. There is no
# systemd here, so nothing else would start it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"

LOG=$WGNET_DOCKERD_LOG
PIDFILE=/var/run/docker.pid
TIMEOUT=${WGNET_DOCKERD_TIMEOUT:-60}
# overlay2: / is ext4 and the kernel has overlayfs (checked by mounting one);
# vfs would copy every layer in full. iptables stays on (the default):
# iptables-nft works on this kernel, and bridge networks need its NAT rules.
DOCKERD_ARGS=(--storage-driver=overlay2 --pidfile="$PIDFILE")

# The log is 0600 like every file under /run/wgnet (the secrets audit checks it),
# also when an older start left it readable.
mkdir -p "$(dirname "$LOG")"
(umask 077 && touch "$LOG")
chmod 600 "$LOG"

docker info >/dev/null 2>&1 && exit 0

wait_up() {
  local i
  for ((i = 0; i < TIMEOUT; i++)); do
    docker info >/dev/null 2>&1 && { log "dockerd up after ${i}s"; return 0; }
    alive "$1" dockerd || return 1 # died: no point in waiting
    sleep 1
  done
  return 1
}

pid=$(cat "$PIDFILE" 2>/dev/null || true)
if alive "$pid" dockerd; then
  log "dockerd $pid is running but not answering yet; waiting"
  wait_up "$pid" && exit 0
  alive "$pid" dockerd && { tail -n 30 "$LOG" >&2; die "dockerd $pid does not answer"; }
fi

# dockerd refuses to start while its pid file names a live process, and it
# waits for the containerd named in containerd.pid even if that is a zombie.
# After a crash or a restart of this machine both files are stale.
rm -f "$PIDFILE"
cpidfile=/var/run/docker/containerd/containerd.pid
alive "$(cat "$cpidfile" 2>/dev/null || true)" containerd || rm -f "$cpidfile"
log "starting dockerd (log: $LOG)"
echo "--- $(date -Is) ${0##*/}" >>"$LOG"
# New session, no stdin, output to a file: it outlives the calling shell.
setsid nohup dockerd "${DOCKERD_ARGS[@]}" </dev/null >>"$LOG" 2>&1 &
wait_up $! && exit 0
tail -n 30 "$LOG" >&2
die "dockerd did not answer on /var/run/docker.sock (see $LOG)"
