#!/bin/bash
# Prometheus metrics from the real agent: metricsAddress on loopback and /metrics on the API
# socket serve the same families; object metrics follow the objects (kube-state-metrics
# names), and the agent's own (RSS, loop utilisation) are there.
. "$(dirname "$0")/lib.sh"
require_root
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AGENT_CONFIG_EXTRA="metricsAddress: 127.0.0.1:$port
"
start_agent

cat <<YAML | b apply -f - >/dev/null || fail "apply job"
apiVersion: batch/v1
kind: Job
metadata: {name: m1}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, command: ["/bin/sh", "-c", "exit 0"]}
YAML
wait_for 20 "m1 complete" sh -c "$BERTH get job m1 -o json | grep -q '\"succeeded\": *1'"
tcp() { curl -sf "http://127.0.0.1:$port/metrics"; }
sock() { curl -sf --unix-socket "$SOCK" http://localhost/metrics; }
wait_for 5 "the Job's metrics" sh -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'kube_job_status_succeeded{namespace=\"default\",job_name=\"m1\"} 1'"
tcp >"$T/tcp.txt" || fail "scrape over TCP"
sock >"$T/sock.txt" || fail "scrape over the API socket"
for f in kube_pod_info kube_pod_status_phase kube_job_complete kube_node_info process_resident_memory_bytes \
        berth_event_loop_utilisation berth_cri_call_duration_seconds; do
        grep -q "^# TYPE $f " "$T/tcp.txt" || fail "no $f family over TCP"
done
[ "$(grep '^# TYPE' "$T/tcp.txt")" = "$(grep '^# TYPE' "$T/sock.txt")" ] || fail "the two endpoints differ in families"
grep -q "^kube_node_info{node=\"$NODE\"" "$T/tcp.txt" || fail "no kube_node_info for $NODE"
rss=$(awk '/^process_resident_memory_bytes / {print $2}' "$T/tcp.txt")
[ "${rss%%.*}" -gt 1000000 ] 2>/dev/null || fail "RSS $rss"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other" | grep -q 404 || fail "a path other than /metrics"
echo "ok"
