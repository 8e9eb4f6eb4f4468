# A real containerd for the CRI tests, sourced after lib.sh: its own config, root, state and
# socket under $T, runc, a CNI bridge of its own (a name and subnet derived from $T), and the
# busybox and pause images built by scripts/build-test-images.sh and imported under their full
# names. At exit every container, sandbox, shim, mount, network namespace, cgroup and the
# bridge it made are removed, and the test fails if any of them was left.
# DESIGN.md "Test environment facts" says why each setting is what it is.

CTD=$T/containerd
CTD_SOCK=$CTD/containerd.sock
CTD_PID=
CTD_BRIDGE=
CTD_NETNS_BEFORE=
CTR() { ctr -a "$CTD_SOCK" -n k8s.io "$@"; }

require_containerd() {
        local t
        for t in containerd ctr runc umoci; do
                command -v "$t" >/dev/null || skip "$t is not installed (scripts/install-deps.sh --test)"
        done
        [ -x /usr/lib/cni/bridge ] || skip "the CNI plugins are not installed (containernetworking-plugins)"
}

# Starts containerd and imports the images; CTD_SOCK then answers CRI.
start_containerd() {
        local id subnet
        require_containerd
        mkdir -p "$CTD/root" "$CTD/state" "$CTD/cni" "$CTD/images"
        id=$(printf '%s' "$T" | cksum | cut -d' ' -f1)
        CTD_BRIDGE=berth$((id % 100000))
        subnet="10.$((id % 200 + 20)).$((id / 200 % 250)).0/24"
        cat >"$CTD/cni/10-berth.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "berth-test", "plugins": [
  {"type": "bridge", "bridge": "$CTD_BRIDGE", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "dataDir": "$CTD/cni-ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": false}]}
JSON
        cat >"$CTD/config.toml" <<TOML
version = 2
root = "$CTD/root"
state = "$CTD/state"
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "berth.local/pause:1"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CTD/cni"
TOML
        CTD_NETNS_BEFORE=$(ls /var/run/netns 2>/dev/null)
        containerd --config "$CTD/config.toml" >>"$CTD/containerd.log" 2>&1 &
        CTD_PID=$!
        CLEANUP_HOOKS+=(stop_containerd)
        for _ in $(seq 1 100); do
                [ -S "$CTD_SOCK" ] && CTR version >/dev/null 2>&1 && break
                kill -0 "$CTD_PID" 2>/dev/null || fail "containerd exited: $(tail -5 "$CTD/containerd.log")"
                sleep 0.1
        done
        CTR version >/dev/null 2>&1 || fail "containerd does not answer on $CTD_SOCK"
        "$(dirname "${BASH_SOURCE[0]}")/../../scripts/build-test-images.sh" "$CTD/images" >/dev/null ||
                fail "building the test images"
        CTR images import --base-name docker.io/library/busybox "$CTD/images/busybox.tar" >/dev/null ||
                fail "importing busybox"
        CTR images import --base-name berth.local/pause "$CTD/images/pause.tar" >/dev/null ||
                fail "importing pause"
        # the layout is tagged "latest": the pause image goes by the tag the config names
        CTR images tag berth.local/pause:latest berth.local/pause:1 >/dev/null || fail "tagging pause"
}

# Restarts containerd on the same state (the "containerd restarts under the agent" tests).
restart_containerd() {
        kill -TERM "$CTD_PID" 2>/dev/null
        wait "$CTD_PID" 2>/dev/null
        containerd --config "$CTD/config.toml" >>"$CTD/containerd.log" 2>&1 &
        CTD_PID=$!
        for _ in $(seq 1 100); do
                CTR version >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        fail "containerd did not come back"
}

# Everything containerd made goes; 1 when something had been left behind by the test.
stop_containerd() {
        local left=0 c n
        [ -n "$CTD_PID" ] || return 0
        # containers and sandboxes the test did not remove
        for c in $(CTR containers ls -q 2>/dev/null); do
                echo "FAIL: container left in containerd: $c" >&2
                left=1
                CTR tasks kill -s KILL "$c" >/dev/null 2>&1
                sleep 0.2
                CTR tasks delete -f "$c" >/dev/null 2>&1
                CTR containers delete "$c" >/dev/null 2>&1
        done
        kill -TERM "$CTD_PID" 2>/dev/null
        wait "$CTD_PID" 2>/dev/null
        CTD_PID=
        pkill -9 -f "containerd-shim.*-address $CTD_SOCK" 2>/dev/null
        grep " $CTD/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
        for n in $(ls /var/run/netns 2>/dev/null); do
                printf '%s\n' $CTD_NETNS_BEFORE | grep -qx "$n" && continue
                case $n in cni-*) ip netns delete "$n" 2>/dev/null ;; esac
        done
        ip link delete "$CTD_BRIDGE" 2>/dev/null
        for d in /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io; do
                [ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
        done
        return $left
}
