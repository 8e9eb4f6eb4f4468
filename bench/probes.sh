#!/bin/bash
# Probes under load, side by side with the naive way on the same machine:
#  1. 1,000 containers with an httpGet readiness probe every second (1,000 probes/s)
#     against a loopback HTTP server, for DURATION seconds (default 60): the agent's CPU
#     (from /proc) and the probes' p50/p99 latency (from its own histogram)
#  2. the same target hit by curl in a shell loop for as long: its CPU (the loop and its
#     curl children), the rate it reaches and its p50/p99 latency
#  3. the agent's RSS with the 1,000 probed containers
# Needs root. Prints figures; asserts nothing about time.
set -u
BERTH=$(readlink -f "${1:-build/agent/berth}")
DURATION=${DURATION:-60}
N=${N:-1000}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench: needs curl" >&2; exit 1; }
T=$(mktemp -d /tmp/berth-probe-bench.XXXXXX)
chmod 755 "$T"
export BERTH_SOCKET=$T/berth.sock
AGENT= SERVER=
cleanup() {
        if [ -n "$AGENT" ]; then
                "$BERTH" delete pods --all --grace-period=1 --timeout=180s >/dev/null 2>&1
                kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null
        fi
        [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
        for d in /sys/fs/cgroup/*/berth-probebench; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
metrics() { curl -s --unix-socket "$BERTH_SOCKET" http://localhost/metrics; }

# the target: a small HTTP server on loopback answering 200 "ok"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
class S(http.server.HTTPServer):
    request_queue_size = 1024
    def handle_error(self, request, client_address): pass  # a probe's reset after a timeout
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
SERVER=$!

mkdir -p "$T/state" "$T/manifests" "$T/logs"
printf 'cgroupRoot: berth-probebench\nlogLevel: warning\n' >"$T/config.yaml"
"$BERTH" agent --config "$T/config.yaml" --state-dir "$T/state" --socket "$BERTH_SOCKET" \
        --manifests-dir "$T/manifests" --log-dir "$T/logs" --node-name bench >"$T/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 100); do "$BERTH" version >/dev/null 2>&1 && break; sleep 0.1; done

for i in $(seq 1 "$N"); do cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: p$i}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["/bin/sleep", "3600"]
    readinessProbe:
      httpGet: {path: /healthz, port: $port}
      periodSeconds: 1
---
YAML
done >"$T/pods.yaml"
echo "bench: starting $N probed containers..." >&2
"$BERTH" apply -f "$T/pods.yaml" >/dev/null || { echo "bench: apply failed" >&2; exit 1; }
for _ in $(seq 600); do
        ready=$("$BERTH" get pods -o json | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["items"] if any(c["type"]=="Ready" and c["status"]=="True" for c in p.get("status",{}).get("conditions",[]))))')
        [ "$ready" -ge "$N" ] && break
        sleep 1
done
echo "bench: $ready of $N ready; measuring for $DURATION s..." >&2
sleep 5
hz=$(getconf CLK_TCK)
metrics >"$T/m0"
c0=$(cpu_ticks "$AGENT")
sleep "$DURATION"
c1=$(cpu_ticks "$AGENT")
metrics >"$T/m1"
rss=$(rss_kb "$AGENT")

read -r probes failed b50 b99 < <(python3 - "$T/m0" "$T/m1" <<'PY'
import re, sys
def load(f):
    b, n, bad = {}, 0, 0
    for l in open(f):
        m = re.match(r'berth_probe_duration_seconds_bucket\{le="([^"]+)"\} (\d+)', l)
        if m: b[m.group(1)] = int(m.group(2))
        m = re.match(r'berth_probe_total\{probe_type="Readiness",result="(\w+)",[^}]*\} (\d+)', l)
        if m:
            n += int(m.group(2))
            if m.group(1) != "successful": bad += int(m.group(2))
    return b, n, bad
b0, n0, f0 = load(sys.argv[1]); b1, n1, f1 = load(sys.argv[2])
les = sorted((float(k), k) for k in b1 if k != "+Inf")
total = b1["+Inf"] - b0.get("+Inf", 0)
def q(p):
    for v, k in les:
        if b1[k] - b0.get(k, 0) >= p * total: return v * 1000
    return float("inf")
print(n1 - n0, f1 - f0, "%.2f" % q(0.5), "%.2f" % q(0.99))
PY
)
berth_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v d="$DURATION" 'BEGIN{printf "%.1f", (b-a)/hz/d*100}')

# the naive baseline: curl in a shell loop, as fast as it goes, for as long
echo "bench: curl in a shell loop for $DURATION s..." >&2
read -r curl_n curl_cpu c50 c99 < <(python3 - "$port" "$DURATION" "$T/curl-times" <<'PY'
import resource, subprocess, sys
port, dur, out = sys.argv[1], sys.argv[2], sys.argv[3]
loop = ('end=$((SECONDS+%s)); while [ $SECONDS -lt $end ]; do '
        'curl -s -o /dev/null -w "%%{time_total}\\n" http://127.0.0.1:%s/healthz; done > %s') % (dur, port, out)
subprocess.run(["bash", "-c", loop])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
t = sorted(float(x) * 1000 for x in open(out) if x.strip())
n = len(t)
pc = lambda p: t[min(n - 1, int(n * p))] if n else float("nan")
print(n, "%.1f" % ((ru.ru_utime + ru.ru_stime) / float(dur) * 100), "%.2f" % pc(0.5), "%.2f" % pc(0.99))
PY
)

echo "berth probe bench ($(nproc) cores, $(uname -r)), $N containers, $DURATION s"
awk -v n="$probes" -v f="$failed" -v d="$DURATION" -v cpu="$berth_cpu" -v b50="$b50" -v b99="$b99" \
        'BEGIN{printf "berth:  %d probes (%.0f/s, %d not successful), agent CPU %s%% of one core, latency p50 %s ms p99 %s ms\n", n, n/d, f, cpu, b50, b99}'
awk -v n="$curl_n" -v d="$DURATION" -v cpu="$curl_cpu" -v c50="$c50" -v c99="$c99" \
        'BEGIN{printf "curl loop: %d probes (%.0f/s), CPU %s%% of one core, latency p50 %s ms p99 %s ms\n", n, n/d, cpu, c50, c99}'
awk -v bn="$probes" -v bc="$berth_cpu" -v cn="$curl_n" -v cc="$curl_cpu" \
        'BEGIN{ if (bn > 0 && cn > 0 && bc > 0) printf "CPU per probe: berth %.1f us, curl loop %.1f us (curl/berth %.1fx)\n", bc*10000*'"$DURATION"'/bn, cc*10000*'"$DURATION"'/cn, (cc/cn)/(bc/bn) }'
echo "agent RSS with $N probed containers: $rss KiB"
