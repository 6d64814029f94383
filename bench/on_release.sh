#!/usr/bin/env bash
# Run one of bench/*.py on a Debian release's Docker host: a Docker-in-Docker container made from
# wgnet/host:<release> (scripts/build-images.sh), set up as molecule/default/prepare.yml sets up its
# hosts (cgroup and /proc/sys writable, an inner dockerd, wgnet/app:bookworm loaded from this machine's
# dockerd), with that release's wireguard-go and wireguard-tools from its mirror and a venv of
# requirements.txt and ansible-core from PyPI. The checkout, as it is on disk, is copied in.
# Prints the versions, the load, then the bench's own output; the container and its tmpfs are removed
# on any exit.
#
# Usage (as root, from anywhere): bench/on_release.sh bookworm|trixie BENCH.py [ARGS...]
#   e.g. bench/on_release.sh trixie attach_containers.py --count 50 --no-naive
#        bench/on_release.sh bookworm driver_restart.py --count 5 --rounds 20
# The container is named bench-rel-<release>-<pid>. fs.inotify.max_user_instances is shared with the
# whole machine (the containers have no user namespace of their own): raise it outside first when a
# run starts more than about 128 wireguard-go processes.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
[[ $EUID -eq 0 ]] || die "must run as root"

usage="usage: ${0##*/} bookworm|trixie BENCH.py [ARGS...]"
[[ $# -ge 2 && -f $repo/bench/$2 ]] || die "$usage"
case $1 in
  bookworm | trixie) ;;
  *) die "$usage" ;;
esac
release=$1 bench=$2
shift 2
name=bench-rel-$release-$$
app=wgnet/app:bookworm

remove_host() { docker rm -f -v "$name" >/dev/null 2>&1 || true; }
trap remove_host EXIT
trap 'exit 130' INT TERM # so that the EXIT trap runs on these too

log "$name: starting wgnet/host:$release"
docker run -d --name "$name" --cap-add NET_ADMIN --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
  --security-opt apparmor=unconfined --device /dev/net/tun --tmpfs /var/lib/docker:exec \
  "wgnet/host:$release" >/dev/null
# The registries may be reached through a TLS-intercepting proxy: trust what this machine trusts.
docker cp /etc/ssl/certs/ca-certificates.crt "$name:/etc/wgnet-bench-ca.crt" >/dev/null
tar -C "$repo" --exclude=./.git --exclude=./.venv --exclude=./.cache -cf - . |
  docker exec -i "$name" sh -c 'mkdir /wgnet && tar -C /wgnet -xf -'

log "$name: packages, venv and dockerd"
docker exec -i "$name" bash -s >/dev/null <<'END'
set -euo pipefail
# Docker mounts these read-only without --privileged; dockerd and sysctl need them writable.
awk 'index("," $4 ",", ",ro,") && ($3 ~ /^cgroup2?$/ || $2 == "/proc/sys") {print $2}' /proc/mounts |
  while read -r m; do mount -o remount,bind,rw "$m"; done
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -qq --no-install-recommends wireguard-go wireguard-tools \
  python3-venv ca-certificates
python3 -m venv /wgnet/.venv
PIP_CERT=/etc/wgnet-bench-ca.crt /wgnet/.venv/bin/pip install -q --disable-pip-version-check \
  -r /wgnet/requirements.txt 'ansible-core>=2.16,<2.20'
setsid nohup dockerd --storage-driver=overlay2 </dev/null >/var/log/dockerd.log 2>&1 &
for _ in $(seq 150); do docker info >/dev/null 2>&1 && exit 0; sleep 0.2; done
tail -n 20 /var/log/dockerd.log >&2
exit 1
END
docker save "$app" | docker exec -i "$name" docker load >/dev/null

docker exec -i "$name" bash -s <<'END'
echo "release: $(. /etc/os-release && echo "$PRETTY_NAME"), Docker $(docker version --format '{{.Server.Version}}')," \
  "wireguard-go $(dpkg-query -W -f '${Version}' wireguard-go) (it says $(wireguard-go --version | head -n 1))," \
  "Python $(/wgnet/.venv/bin/python -V | cut -d' ' -f2)"
END
echo "load before the bench: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %T UTC')"
docker exec -w /wgnet "$name" .venv/bin/python "bench/$bench" "$@"
