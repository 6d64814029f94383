# shellcheck shell=bash
# Helpers shared by the scripts in this folder; source it, do not run it.

# Messages go to stderr so that stdout stays free for data.
log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Everything here installs packages, talks to dockerd or runs debootstrap.
[[ $EUID -eq 0 ]] || die "must run as root"
