# Shared helpers of the integration tests: start a real berth agent as root on a private
# state dir, socket, manifests dir and log dir; drive it through the CLI; clean up and
# check that no process or cgroup is left behind.
# Exit 77 skips (meson's convention); under CI=true a skip is a failure.

set -u

BERTH=${BERTH:?BERTH must point at the berth binary}
T=$(mktemp -d /tmp/berth-it.XXXXXX)
SOCK=$T/berth.sock
NODE=it-node
AGENT_PID=
CGROOT=berth-it-$(basename "$T" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
export BERTH_SOCKET=$SOCK

skip() {
        if [ "${CI:-}" = true ]; then
                echo "FAIL (would skip, but CI=true): $*" >&2
                exit 1
        fi
        echo "SKIP: $*" >&2
        exit 77
}

fail() {
        echo "FAIL: $*" >&2
        if [ -f "$T/agent.log" ]; then
                echo "--- agent log (last 40 lines) ---" >&2
                grep -v "^api: " "$T/agent.log" | tail -n 40 >&2
        fi
        exit 1
}

require_root() {
        [ "$(id -u)" = 0 ] || skip "needs root (cgroups, users, the agent's socket)"
        [ -w /sys/fs/cgroup ] || [ -w /sys/fs/cgroup/memory ] || skip "cgroup file system is not writable"
}

b() { "$BERTH" "$@"; }

start_agent() {
        mkdir -p "$T/state" "$T/manifests" "$T/logs"
        printf 'cgroupRoot: %s\nlogLevel: debug\n%s' "$CGROOT" "${AGENT_CONFIG_EXTRA:-}" >"$T/config.yaml"
        "$BERTH" agent --config "$T/config.yaml" --state-dir "$T/state" --socket "$SOCK" --manifests-dir "$T/manifests" \
                --log-dir "$T/logs" --node-name "$NODE" "$@" >>"$T/agent.log" 2>&1 &
        AGENT_PID=$!
        for _ in $(seq 1 100); do
                [ -S "$SOCK" ] && b version >/dev/null 2>&1 && return 0
                kill -0 "$AGENT_PID" 2>/dev/null || fail "agent exited at start"
                sleep 0.1
        done
        fail "agent did not answer on $SOCK"
}

stop_agent() { # signal (default TERM)
        [ -n "$AGENT_PID" ] || return 0
        kill -"${1:-TERM}" "$AGENT_PID" 2>/dev/null
        for _ in $(seq 1 300); do
                kill -0 "$AGENT_PID" 2>/dev/null || break
                sleep 0.1
        done
        wait "$AGENT_PID" 2>/dev/null
        AGENT_PID=
}

# Polls a command until it succeeds: wait_for SECONDS DESCRIPTION CMD...
wait_for() {
        local secs=$1 what=$2
        shift 2
        for _ in $(seq 1 $((secs * 10))); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        fail "timed out after ${secs}s waiting for: $what"
}

# jq-free JSON field read: json_get FILE-OR-STDIN PYTHON-EXPR
jget() {
        python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

pod_field() { # pod expr
        b get pod "$1" -o json | jget "$2"
}

pod_phase_is() { [ "$(pod_field "$1" 'd["status"]["phase"]')" = "$2" ]; }

# Everything the test started must be gone: processes under the state dir's shims and
# the cgroups of its pods.
CLEANUP_HOOKS=() # functions run first at exit (components a test started: containerd, ...)
CLEANUP_DRAIN_HOOKS=() # run once the pods are deleted, before the agent stops (wait for a runtime)
cleanup() {
        local rc=$? h
        # delete every pod through the agent (started again if the test stopped it), so
        # that it stops and removes their containers, then stop it
        if [ -z "$AGENT_PID" ] && [ -d "$T/state" ]; then
                start_agent >/dev/null 2>&1
        fi
        if [ -n "$AGENT_PID" ]; then
                # the controllers first, or they make their pods again (a test that failed
                # half-way leaves them)
                b delete statefulsets,daemonsets,cronjobs,jobs --all --timeout=20s >/dev/null 2>&1
                b delete pods --all --grace-period=1 --timeout=20s >/dev/null 2>&1
                for h in "${CLEANUP_DRAIN_HOOKS[@]}"; do
                        "$h"
                done
                stop_agent TERM
        fi
        for h in "${CLEANUP_HOOKS[@]}"; do
                "$h" || rc=1
        done
        # shims and containers of this test carry the state dir in their command line
        if pgrep -f "shim $T/" >/dev/null; then
                echo "FAIL: shim processes left behind:" >&2
                pgrep -af "shim $T/" >&2
                pkill -9 -f "shim $T/"
                rc=1
        fi
        for d in /sys/fs/cgroup/*/"$CGROOT" /sys/fs/cgroup/"$CGROOT"; do
                [ -d "$d" ] || continue
                if [ -n "$(find "$d" -mindepth 1 -type d)" ]; then
                        echo "FAIL: cgroups left behind under $d:" >&2
                        find "$d" -mindepth 1 -type d >&2
                        rc=1
                fi
                find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        # mounts and loop devices of the test (volumes) must be gone too
        if grep -q " $T/" /proc/self/mountinfo; then
                echo "FAIL: mounts left behind:" >&2
                grep " $T/" /proc/self/mountinfo >&2
                grep " $T/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
                rc=1
        fi
        if losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -q " $T/"; then
                echo "FAIL: loop devices left behind:" >&2
                losetup -l -n -O NAME,BACK-FILE | grep " $T/" >&2
                losetup -l -n -O NAME,BACK-FILE | grep " $T/" | awk '{print $1}' | xargs -r -n1 losetup -d
                rc=1
        fi
        rm -rf "$T"
        exit $rc
}
trap cleanup EXIT

pod_manifest() { # name, shell command, [restartPolicy]
        cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: ${3:-Always}
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "$2"]
YAML
}
