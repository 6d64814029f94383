#!/usr/bin/env bash
# Puts the collections that Molecule's docker driver needs (community.docker,
# its dependency community.library_inventory_filtering_v1, and ansible.posix)
# under .cache/collections, next to the wgnet.containers link, without Galaxy:
# they are taken from the `ansible` package on PyPI, which bundles them. Only
# those collections are extracted from the wheel, pinned by version and hash.
# Re-running it is a no-op (a stamp records what was extracted).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=env.sh source-path=SCRIPTDIR
. "$repo/scripts/env.sh" # the collection path, with the checkout linked in it
# ansible 12.x is the community package built on ansible-core 2.19.
ANSIBLE_VERSION=12.3.0
ANSIBLE_SHA256=cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414
COLLECTIONS=(community.docker community.library_inventory_filtering_v1 ansible.posix)

dest=$ANSIBLE_COLLECTIONS_PATH
stamp="$dest/.molecule-deps"
wanted="ansible==$ANSIBLE_VERSION ${COLLECTIONS[*]}"
python="$repo/.venv/bin/python"
[[ -x $python ]] || python=python3

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }

all_there() {
  local c
  for c in "${COLLECTIONS[@]}"; do
    [[ -s "$dest/ansible_collections/${c/.//}/MANIFEST.json" ]] || return 1
  done
}
# One at a time: two scenarios that start at once (scripts/test.sh runs two streams) would
# otherwise both extract, and one would remove what the other's Molecule is reading.
mkdir -p "$dest"
exec 9>"$dest/.molecule-deps.lock"
flock 9
if [[ "$(cat "$stamp" 2>/dev/null)" == "$wanted" ]] && all_there; then
  exit 0
fi

start=$SECONDS
tmp=$(mktemp -d "$dest/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "downloading ansible==$ANSIBLE_VERSION (only to extract ${COLLECTIONS[*]})"
printf 'ansible==%s --hash=sha256:%s\n' "$ANSIBLE_VERSION" "$ANSIBLE_SHA256" >"$tmp/req.txt"
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
  --only-binary=:all: -d "$tmp/dl" -r "$tmp/req.txt"

"$python" - "$tmp/dl/ansible-$ANSIBLE_VERSION-py3-none-any.whl" "$tmp/out" "${COLLECTIONS[@]}" <<'EOF'
import os, sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
prefixes = tuple("ansible_collections/%s/" % n.replace(".", "/", 1) for n in names)
with zipfile.ZipFile(wheel) as z:
    members = [m for m in z.namelist() if m.startswith(prefixes)]
    for p in prefixes:
        if not any(m.startswith(p) for m in members):
            sys.exit("%s is not in %s" % (p, os.path.basename(wheel)))
    z.extractall(out, members)
EOF

for c in "${COLLECTIONS[@]}"; do
  rel="ansible_collections/${c/.//}"
  mkdir -p "$(dirname "$dest/$rel")"
  rm -rf "${dest:?}/${rel:?}"
  mv "$tmp/out/$rel" "$dest/$rel"
done
echo "$wanted" >"$stamp"
log "extracted ${COLLECTIONS[*]} into $dest in $((SECONDS - start))s"
