# shellcheck shell=bash
# Helpers shared by the scripts in this folder; source it, do not run it.
# shellcheck source=env.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Messages go to stderr so that stdout stays free for data.
log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Remove the debootstrap folder named by $rootfs (set by the caller), if any.
# debootstrap mounts proc/sys inside; never let rm walk into them.
# shellcheck disable=SC2154 # rootfs is the caller's
remove_rootfs() {
  [[ -n $rootfs ]] || return 0
  awk -v d="$rootfs/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l
  rm -rf --one-file-system "$rootfs" "$rootfs.log"
  rootfs=
}

# alive PID NAME: PID runs NAME and is no zombie (PID 1 here reaps late).
alive() { [[ -n $1 && $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# Everything here installs packages, talks to dockerd or runs debootstrap.
[[ $EUID -eq 0 ]] || die "must run as root"
