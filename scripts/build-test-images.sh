#!/bin/bash
# Builds the images the CRI tests run, from Debian's busybox-static, as OCI image layouts
# packed in tar files (nothing comes from a registry):
#   OUT/busybox.tar  docker.io/library/busybox:latest  busybox with its applets in /bin,
#                    /etc/passwd and /etc/group (root, nobody), /tmp; entrypoint /bin/sh
#   OUT/pause.tar    berth.local/pause:1  the sandbox image: waits for SIGTERM
# Import them with: ctr -n k8s.io images import --base-name NAME FILE (NAME without the tag).
# Usage: scripts/build-test-images.sh OUT
set -eu
OUT=${1:?usage: build-test-images.sh OUT}
BUSYBOX=/bin/busybox
command -v umoci >/dev/null || { echo "build-test-images: umoci is not installed" >&2; exit 1; }
file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" || [ -x "$BUSYBOX" ] ||
        { echo "build-test-images: $BUSYBOX (busybox-static) is missing" >&2; exit 1; }
mkdir -p "$OUT"
W=$(mktemp -d /tmp/berth-images.XXXXXX)
trap 'rm -rf "$W"' EXIT

# image NAME ENTRYPOINT...: a layout in $W/NAME with busybox unpacked into it
image() {
        local name=$1
        shift
        umoci init --layout "$W/$name"
        umoci new --image "$W/$name:latest"
        umoci unpack --image "$W/$name:latest" "$W/$name-bundle" >/dev/null
        local root=$W/$name-bundle/rootfs
        mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
        chmod 1777 "$root/tmp"
        cp "$BUSYBOX" "$root/bin/busybox"
        chroot "$root" /bin/busybox --install -s /bin
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
        printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
        umoci repack --image "$W/$name:latest" "$W/$name-bundle"
        local args=()
        for a in "$@"; do args+=(--config.entrypoint "$a"); done
        umoci config --image "$W/$name:latest" "${args[@]}" --config.env PATH=/bin
        umoci gc --layout "$W/$name"
        tar -C "$W/$name" -cf "$OUT/$name.tar" .
}

image busybox /bin/sh
image pause /bin/sh -c 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait; done'
echo "build-test-images: $OUT/busybox.tar $OUT/pause.tar"
