# Cluster-mode tests, sourced after lib.sh: a real etcd (Debian etcd-server) on loopback ports
# chosen here, and several agents on this machine with distinct node names, state dirs,
# sockets, manifests and log dirs and cgroup roots. At exit every agent deletes its pods and
# stops, etcd stops and its data goes; a cgroup left under a node's root fails the test.

ETCD_PID=
ETCD_URL=
NODE_PIDS=()

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_etcd() {
        local client peer
        command -v etcd >/dev/null || skip "etcd is not installed (scripts/install-deps.sh --test: etcd-server)"
        client=$(free_port)
        peer=$(free_port)
        ETCD_URL=http://127.0.0.1:$client
        ETCD_PORT=$client
        mkdir -p "$T/etcd"
        # ETCD_EXTRA_HOST: also listen there (the host's end of a test's veth pair)
        etcd --name t --data-dir "$T/etcd/data" \
                --listen-client-urls "$ETCD_URL${ETCD_EXTRA_HOST:+,http://$ETCD_EXTRA_HOST:$client}" \
                --advertise-client-urls "$ETCD_URL" --listen-peer-urls "http://127.0.0.1:$peer" \
                --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
                --initial-cluster "t=http://127.0.0.1:$peer" >"$T/etcd/etcd.log" 2>&1 &
        ETCD_PID=$!
        CLEANUP_HOOKS+=(stop_cluster)
        for _ in $(seq 1 100); do
                curl -fsS "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"' && return 0
                kill -0 "$ETCD_PID" 2>/dev/null || fail "etcd exited: $(tail -5 "$T/etcd/etcd.log")"
                sleep 0.1
        done
        fail "etcd does not answer on $ETCD_URL"
}

# start_node N [extra config]: agent node$N on $T/n$N; NODE_NETNS (a network namespace to run
# it in) and NODE_ETCD_URL (the etcd address it uses) for that one call
start_node() {
        local n=$1 d=$T/n$1 wrap=()
        mkdir -p "$d/state" "$d/manifests" "$d/logs"
        printf 'cgroupRoot: %s-n%s\nlogLevel: debug\ncoordinator: {type: etcd, endpoints: ["%s"], leaseTTLSeconds: %s}\n%s' \
                "$CGROOT" "$n" "${NODE_ETCD_URL:-$ETCD_URL}" "${LEASE_TTL:-5}" "${2:-}" >"$d/config.yaml"
        # nsenter, not `ip netns exec`: that one mounts a sysfs of its own, without cgroups
        [ -z "${NODE_NETNS:-}" ] || wrap=(nsenter --net="/run/netns/$NODE_NETNS")
        "${wrap[@]}" "$BERTH" agent --config "$d/config.yaml" --state-dir "$d/state" --socket "$d/berth.sock" \
                --manifests-dir "$d/manifests" --log-dir "$d/logs" --node-name "node$n" >>"$d/agent.log" 2>&1 &
        NODE_PIDS[$n]=$!
        disown # no "Killed" line from the shell when a test SIGKILLs it
        for _ in $(seq 1 100); do
                [ -S "$d/berth.sock" ] && bn "$n" version >/dev/null 2>&1 && return 0
                kill -0 "${NODE_PIDS[$n]}" 2>/dev/null || fail "node$n exited at start: $(tail -5 "$d/agent.log")"
                sleep 0.1
        done
        fail "node$n did not answer"
}

# bn N ARGS: the CLI against node N
bn() {
        local n=$1
        shift
        BERTH_SOCKET=$T/n$n/berth.sock "$BERTH" "$@"
}

stop_node() { # N [signal]
        local pid=${NODE_PIDS[$1]:-}
        [ -n "$pid" ] || return 0
        kill -"${2:-TERM}" "$pid" 2>/dev/null
        for _ in $(seq 1 300); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        wait "$pid" 2>/dev/null
        NODE_PIDS[$1]=
}

stop_cluster() {
        local n rc=0 d
        # the sets first (on every node: a node cut off may not have seen a deletion), or
        # their pods come back
        for n in "${!NODE_PIDS[@]}"; do
                [ -n "${NODE_PIDS[$n]}" ] || continue
                bn "$n" delete statefulsets,daemonsets,cronjobs,jobs --all --timeout=20s >/dev/null 2>&1
        done
        for n in "${!NODE_PIDS[@]}"; do
                [ -n "${NODE_PIDS[$n]}" ] || continue
                bn "$n" delete pods --all --grace-period=1 --timeout=20s >/dev/null 2>&1
                stop_node "$n" TERM
        done
        if [ -n "$ETCD_PID" ]; then
                kill -TERM "$ETCD_PID" 2>/dev/null
                wait "$ETCD_PID" 2>/dev/null
                ETCD_PID=
        fi
        for d in /sys/fs/cgroup/*/"$CGROOT"-n* /sys/fs/cgroup/"$CGROOT"-n*; do
                [ -d "$d" ] || continue
                if [ -n "$(find "$d" -mindepth 1 -type d)" ]; then
                        echo "FAIL: cgroups left behind under $d" >&2
                        rc=1
                fi
                find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        if pgrep -f "shim $T/" >/dev/null; then
                echo "FAIL: shim processes left behind" >&2
                pkill -9 -f "shim $T/"
                rc=1
        fi
        return $rc
}

# a failure shows the end of every node's log
fail() {
        local d
        echo "FAIL: $*" >&2
        for d in "$T"/n*/; do
                [ -f "$d/agent.log" ] || continue
                echo "--- $(basename "$d") agent log (last 25 lines) ---" >&2
                grep -v "^api: " "$d/agent.log" | tail -n 25 >&2
        done
        exit 1
}
