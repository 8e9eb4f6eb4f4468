#!/bin/bash
# The berth OCI image: built by scripts/build-image.sh from this build's binary, imported into
# a real containerd (lib-containerd.sh) under its full name, and run there: `berth version`,
# then the agent itself, privileged as the DaemonSet runs it, answering `berth get nodes`
# through ctr exec. packaging/daemonset.yaml validates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-containerd.sh"
require_root
start_containerd
SRC=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$SRC/meson.build")

"$SRC/scripts/build-image.sh" "$BERTH" "$T/berth.tar" >/dev/null || fail "build-image.sh"
CTR images import --base-name berth.local/berth "$T/berth.tar" >/dev/null || fail "import the image"
CTR images ls -q | grep -qx "berth.local/berth:$version" || fail "no berth.local/berth:$version: $(CTR images ls -q)"
size=$(stat -c %s "$T/berth.tar")
echo "image tar: $size bytes"

out=$(timeout 60 ctr -a "$CTD_SOCK" -n k8s.io run --rm "berth.local/berth:$version" berth-version \
        /usr/bin/berth version 2>&1)
echo "$out" | grep -q "Client Version: v$version" || fail "berth version in the image: $out"

# the agent in the image, privileged as the DaemonSet runs it
CTR run -d --privileged "berth.local/berth:$version" berth-agent /usr/bin/berth agent \
        --state-dir /var/lib/berth --socket /run/berth/berth.sock --node-name image-node \
        --manifests-dir /etc/berth/manifests.d --log-dir /tmp/pods >/dev/null || fail "run the agent"
got=
for _ in $(seq 1 100); do
        got=$(CTR tasks exec --exec-id q1 berth-agent /usr/bin/berth get nodes 2>&1) && break
        sleep 0.2
done
echo "$got" | grep -q "^image-node " || fail "the agent in the image: $got"
CTR tasks kill -s TERM berth-agent >/dev/null
for _ in $(seq 1 50); do
        CTR tasks ls -q | grep -qx berth-agent || break
        sleep 0.2
done
CTR tasks delete -f berth-agent >/dev/null 2>&1
CTR containers delete berth-agent >/dev/null || fail "remove the agent's container"
"$BERTH" validate -f "$SRC/packaging/daemonset.yaml" >/dev/null || fail "packaging/daemonset.yaml"
echo "ok"
