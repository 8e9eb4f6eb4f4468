#!/bin/bash
# The CRI client (cri/cri-client.c) against a real containerd: lib-containerd.sh starts one
# with the busybox and pause images, and tests/unit/cri/cri-client-live.c makes the calls
# (Version, Status, images, a failing pull, a pod sandbox with containers, ExecSync, stop and
# removal). Nothing may be left in containerd afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-containerd.sh"

CRI_CLIENT_LIVE=${CRI_CLIENT_LIVE:?CRI_CLIENT_LIVE must point at the cri-client-live binary}

require_root
start_containerd

# one test at a time: the durations it prints are those of a runtime doing nothing else
CRI_ENDPOINT="unix://$CTD_SOCK" CRI_TEST_DIR="$T" "$CRI_CLIENT_LIVE" --jobs 1 --verbose >"$T/live.log" 2>&1
rc=$?
grep -E "cri-client-live: |PullImage failed|ExecSync past|runtime containerd|Synthesis" "$T/live.log" | sed 's/^/  /'
if [ $rc != 0 ]; then
        cat "$T/live.log" >&2
        echo "--- containerd log (last 30 lines) ---" >&2
        tail -n 30 "$CTD/containerd.log" >&2
        fail "cri-client-live failed"
fi
# the sandbox and its containers are gone from containerd, not only from the CRI's view
[ -z "$(CTR containers ls -q)" ] || fail "containers left in containerd: $(CTR containers ls -q | tr '\n' ' ')"
echo "PASS: test-cri-client"
