#!/bin/bash
# Builds the berth OCI image locally (no registry, no base image): the berth binary and its
# shim, every shared library they load (as ldd finds them on this Debian 12 machine), the
# tools the agent runs (mkfs.ext4, mkfs.xfs, resize2fs, e2fsck, xfs_growfs, wipefs) with
# theirs, and the packaged default config; entrypoint `berth agent`. The result is an OCI
# image layout in a tar file, for `ctr -n k8s.io images import --base-name NAME FILE`.
# Usage: scripts/build-image.sh BERTH_BINARY OUT.tar [TAG]   (TAG: the version by default)
set -eu
BERTH=$(readlink -f "${1:?usage: build-image.sh BERTH_BINARY OUT.tar [TAG]}")
OUT=$(readlink -f "${2:?usage: build-image.sh BERTH_BINARY OUT.tar [TAG]}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
TAG=${3:-$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$SRC/meson.build")}
SHIM=$(dirname "$BERTH")/berth-shim
command -v umoci >/dev/null || { echo "build-image: umoci is not installed" >&2; exit 1; }
[ -x "$SHIM" ] || { echo "build-image: no berth-shim next to $BERTH" >&2; exit 1; }
W=$(mktemp -d /tmp/berth-image.XXXXXX)
trap 'rm -rf "$W"' EXIT

umoci init --layout "$W/layout"
umoci new --image "$W/layout:$TAG"
umoci unpack --image "$W/layout:$TAG" "$W/bundle" >/dev/null
R=$W/bundle/rootfs
mkdir -p "$R/usr/bin" "$R/etc/berth/manifests.d" "$R/var/lib/berth" "$R/run/berth" "$R/tmp" "$R/proc" \
        "$R/sys" "$R/dev"
chmod 1777 "$R/tmp"

# a program and the libraries it loads, at their paths on this machine
add() {
        local f lib
        f=$(readlink -f "$1")
        install -D -m 0755 "$f" "$R$2"
        for lib in $(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\t\// {print $1}'); do
                [ -e "$R$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$R$lib"
        done
}
add "$BERTH" /usr/bin/berth
add "$SHIM" /usr/bin/berth-shim # found beside berth
for t in mkfs.ext4 mkfs.xfs resize2fs e2fsck xfs_growfs wipefs; do
        p=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin command -v "$t" || true)
        [ -n "$p" ] && add "$p" "/usr/sbin/$t"
done
install -m 0644 "$SRC/packaging/config.yaml" "$R/etc/berth/config.yaml"
printf 'root:x:0:0:root:/root:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nberth:x:999:\n' >"$R/etc/group"

umoci repack --image "$W/layout:$TAG" "$W/bundle"
umoci config --image "$W/layout:$TAG" --config.entrypoint /usr/bin/berth --config.entrypoint agent \
        --config.env PATH=/usr/sbin:/usr/bin --config.workingdir / \
        --config.label org.opencontainers.image.title=berth \
        --config.label org.opencontainers.image.version="$TAG"
umoci gc --layout "$W/layout"
tar -C "$W/layout" -cf "$OUT" .
echo "build-image: $OUT (tag $TAG)"
