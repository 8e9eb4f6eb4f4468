#!/bin/bash
# Builds the berth .rpm from the working tree: makes berth-VERSION.tar.gz from the files git
# knows (tracked and new, not ignored), runs rpmbuild -bb on packaging/rpm/berth.spec in a
# private _topdir under a temporary directory and moves the packages to OUTDIR (default
# build-packages/). Further arguments go to rpmbuild (e.g. --nocheck). Where rpm does not
# manage the system (Debian), the build dependencies cannot be checked: --nodeps is added.
# Prints the path of each .rpm built on stdout; the build's output goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build-packages}
shift || true
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
spec_version=$(sed -n 's/^Version: *//p' packaging/rpm/berth.spec)
if [ "$spec_version" != "$version" ]; then
        echo "build-rpm: packaging/rpm/berth.spec is at $spec_version but meson.build at" \
                "$version: update Version and %changelog" >&2
        exit 1
fi

work=$(mktemp -d /tmp/berth-rpm.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
top=$work/rpmbuild
mkdir -p "$top"/{BUILD,BUILDROOT,RPMS,SOURCES,SPECS,SRPMS}

tarball=$top/SOURCES/berth-$version.tar.gz
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # files deleted but not yet committed are left out
        git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
                tar -c -z --null -T - --transform "s,^,berth-$version/," -f "$tarball"
else
        tar -c -z --exclude='./build*' --exclude=./.git --transform "s,^\.,berth-$version," \
                -f "$tarball" .
fi
cp packaging/rpm/berth.spec "$top/SPECS/"

nodeps=()
rpm -qf /bin/sh >/dev/null 2>&1 || nodeps=(--nodeps)
rpmbuild -bb "${nodeps[@]}" --define "_topdir $top" "$@" "$top/SPECS/berth.spec" >&2

find "$top/RPMS" -name '*.rpm' -exec mv -f {} "$out/" \;
ls -1 "$out"/berth-*"$version"-*.rpm
