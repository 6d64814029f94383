#!/usr/bin/env bash
# The anchor of bench/attach_containers.py: what wg_container_ifaces does, done by hand in a shell loop.
# For each container: start wireguard-go on the host, wait for its socket, give it its private key and
# the hub as its peer with wg(8), move its TUN into the container's namespace as wg0, then set the MTU,
# the address, the link up and the default route there with one ip(8) batch.
#
# Usage: attach_by_hand.sh TABLE PIDFILE
# TABLE has one line per container: NAME HOST_SIDE_NAME PRIVATE_KEY_FILE ADDRESS/PREFIX HUB_PUBLIC_KEY
# HUB_ENDPOINT HUB_ALLOWED_IPS (keys in 0600 files: wg(8) reads them from there, never from its
# arguments). The wireguard-go pids go to PIDFILE.
set -eu

table=$1 pidfile=$2

mapfile -t names < <(cut -d' ' -f1 "$table")
# One docker call for every container's pid, as anyone doing this by hand would.
mapfile -t pids < <(docker inspect --format '{{.State.Pid}}' "${names[@]}")

# Retries COMMAND every 5 ms for up to 10 s: a wireguard-go that died must stop the loop, not hang it.
retry() {
  local deadline=$((SECONDS + 10))
  until "$@"; do
    ((SECONDS < deadline)) || {
      echo "attach_by_hand.sh: gave up after 10 s: $*" >&2
      return 1
    }
    sleep 0.005
  done
}

quiet() { "$@" 2>/dev/null; }

i=0
while read -r _name host key address hub_key endpoint allowed_ips; do
  pid=${pids[i]}
  i=$((i + 1))
  wireguard-go -f "$host" </dev/null >/dev/null 2>&1 &
  echo $! >>"$pidfile"
  retry test -S "/var/run/wireguard/$host.sock"
  # The socket file appears just before wireguard-go listens on it.
  hub=(peer "$hub_key" persistent-keepalive 25 endpoint "$endpoint" allowed-ips "$allowed_ips")
  retry quiet wg set "$host" private-key "$key" "${hub[@]}"
  ip link set "$host" netns "$pid" name wg0
  nsenter -t "$pid" -n ip -batch - <<END
link set wg0 mtu 1420 up
address add $address dev wg0
route add default dev wg0
END
done <"$table"
