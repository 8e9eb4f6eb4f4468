#!/bin/bash
# Benchmarks of the foundation, printed as figures with a peer measured in the same run:
#  1. agent RSS idle, and with 100 running host pods (peer: Debian's cron daemon idle; and
#     the RSS of the 100 workload processes themselves, started by a plain shell)
#  2. apply-to-running latency of a host pod, median of 20 (peer: the same command started
#     with fork/exec by a shell, from request to the process running)
# Needs root. Nothing here asserts on time: it prints.
set -u
BERTH=$(readlink -f "${1:-build/agent/berth}")
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
T=$(mktemp -d /tmp/berth-bench.XXXXXX)
SOCK=$T/berth.sock
export BERTH_SOCKET=$SOCK
AGENT=
cleanup() {
        if [ -n "$AGENT" ]; then
                "$BERTH" delete pods --all --grace-period=1 --timeout=60s >/dev/null 2>&1
                kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null
        fi
        pkill -f "bench-peer-sleep" 2>/dev/null
        [ -n "${CRON_PID:-}" ] && kill "$CRON_PID" 2>/dev/null
        for d in /sys/fs/cgroup/*/berth-bench /sys/fs/cgroup/berth-bench; do
                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
sum_rss_kb() { local s=0 p; for p in "$@"; do s=$((s + $(rss_kb "$p" 2>/dev/null || echo 0))); done; echo $s; }

mkdir -p "$T/state" "$T/manifests" "$T/logs"
printf 'cgroupRoot: berth-bench\nlogLevel: warning\n' >"$T/config.yaml"
"$BERTH" agent --config "$T/config.yaml" --state-dir "$T/state" --socket "$SOCK" \
        --manifests-dir "$T/manifests" --log-dir "$T/logs" --node-name bench >"$T/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 100); do "$BERTH" version >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
idle=$(rss_kb "$AGENT")

# peer: cron, the daemon berth replaces on a single host
command -v cron >/dev/null || { apt-get install -y -qq cron >/dev/null 2>&1 || true; }
cron_rss=
if command -v cron >/dev/null; then
        cron -f -n >/dev/null 2>&1 &
        CRON_PID=$!
        sleep 1
        cron_rss=$(rss_kb "$CRON_PID")
fi

# 100 pods in one apply
for i in $(seq 1 100); do
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: p$i}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: busybox, command: ["/bin/sleep", "100000"]}
---
YAML
done >"$T/100.yaml"
"$BERTH" apply -f "$T/100.yaml" >/dev/null
for _ in $(seq 600); do
        n=$("$BERTH" get pods --no-headers 2>/dev/null | grep -c Running)
        [ "$n" = 100 ] && break
        sleep 0.1
done
sleep 2
busy=$(rss_kb "$AGENT")
shims=$(sum_rss_kb $(pgrep -f "shim $T/"))
workload=$(sum_rss_kb $(pgrep -f "^/bin/sleep 100000"))
# peer for the workload itself: the same 100 processes started by a shell
for i in $(seq 1 100); do (exec -a bench-peer-sleep /bin/sleep 100000 &); done
sleep 1
peer_workload=$(sum_rss_kb $(pgrep -f "bench-peer-sleep"))
pkill -f "bench-peer-sleep"
"$BERTH" delete pods --all --grace-period=1 --timeout=60s >/dev/null

# apply-to-running latency, median of 20, measured by polling the API every 2 ms
lat=$(python3 - "$BERTH" "$SOCK" <<'PY'
import json, socket, statistics, subprocess, sys, time
berth, sock = sys.argv[1], sys.argv[2]
def get(path):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b: break
        data += b
    s.close()
    return data.split(b"\r\n\r\n", 1)[1]
ours, peer = [], []
for i in range(20):
    doc = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"lat{i}"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "main", "image": "busybox",
        "command": ["/bin/sleep", "100000"]}]}})
    t0 = time.monotonic()
    subprocess.run([berth, "apply", "-f", "-"], input=doc.encode(), check=True, stdout=subprocess.DEVNULL)
    while True:
        try:
            st = json.loads(get(f"/api/v1/namespaces/default/pods/lat{i}")).get("status", {})
        except Exception:
            st = {}
        cs = st.get("containerStatuses") or [{}]
        if "running" in cs[0].get("state", {}):
            break
        time.sleep(0.002)
    ours.append(time.monotonic() - t0)
    subprocess.run([berth, "delete", "pod", f"lat{i}", "--grace-period=1", "--wait=false"], stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    p = subprocess.Popen(["/bin/sh", "-c", "exec /bin/sleep 100000"])
    while True:
        try:
            if open(f"/proc/{p.pid}/cmdline").read().startswith("/bin/sleep"):
                break
        except OSError:
            pass
        time.sleep(0.0005)
    peer.append(time.monotonic() - t0)
    p.kill(); p.wait()
print(f"{statistics.median(ours)*1000:.1f} {statistics.median(peer)*1000:.1f}")
PY
)
ours=${lat% *}
peer=${lat#* }

echo "berth bench ($(nproc) cores, $(uname -r))"
printf 'agent RSS idle:                 %6d KiB' "$idle"
[ -n "$cron_rss" ] && printf '   (cron idle %d KiB, ratio %.1fx)' "$cron_rss" "$(awk "BEGIN{print $idle / $cron_rss}")"
echo
printf 'agent RSS with 100 pods:        %6d KiB   (+%d KiB over idle)\n' "$busy" $((busy - idle))
printf 'shims of 100 pods, summed RSS:  %6d KiB   (%d KiB each)\n' "$shims" $((shims / 100))
printf '100 workload processes:         %6d KiB   (same processes from a shell: %d KiB)\n' "$workload" "$peer_workload"
printf 'apply-to-running, median of 20: %6.1f ms   (fork/exec from a shell: %.1f ms, ratio %.0fx)\n' \
        "$ours" "$peer" "$(awk "BEGIN{print $ours / $peer}")"
