#!/bin/bash
# Builds the berth .deb for Debian 12 from the working tree: copies the files git knows
# (tracked and new, not ignored) to a temporary tree with packaging/debian as ./debian,
# runs dpkg-buildpackage -us -uc -b there and moves the packages to OUTDIR (default
# build-packages/). DEB_BUILD_OPTIONS passes through, e.g. "nocheck parallel=2".
# Prints the path of each .deb built on stdout; the build's output goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build-packages}
mkdir -p "$out"
out=$(cd "$out" && pwd)

meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
deb_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "${deb_version%%-*}" != "$meson_version" ]; then
        echo "build-deb: packaging/debian/changelog is at $deb_version but meson.build at" \
                "$meson_version: add a changelog entry (dch -c packaging/debian/changelog)" >&2
        exit 1
fi

work=$(mktemp -d /tmp/berth-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
src=$work/berth-$meson_version
mkdir "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # files deleted but not yet committed are left out
        git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
                tar -c --null -T - -f - | tar -x -C "$src" -f -
else
        tar -c --exclude='./build*' --exclude=./.git -f - . | tar -x -C "$src" -f -
fi
rm -rf "$src/debian"
cp -a packaging/debian "$src/debian"

(cd "$src" && dpkg-buildpackage -us -uc -b) >&2

shopt -s nullglob
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
        mv -f "$f" "$out/"
done
ls -1 "$out"/*_"$deb_version"_*.deb
