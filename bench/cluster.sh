#!/bin/bash
# Cluster mode with a real etcd and three agents on this machine (tests/integration/lib-cluster.sh),
# against a single agent (coordinator local) measured in the same run:
#  1. apply to all 3 ordinals of an OrderedReady StatefulSet Ready, median of ROUNDS (5); and the
#     same with the containers' start excluded: the sum of the waits between one ordinal being
#     Ready and the next one's pod existing (the first: from the apply), which is what the
#     coordination costs (a claim in etcd, the fleet's pod records) against the single
#     agent's own controller (the host runtime starts a process in a few ms, which the 20 ms
#     poll may not see)
#  2. failover after the loss of an agent (SIGKILL: its pods die by the shim's dead man's
#     switch) for a set without node-local volumes: from the kill until the ordinal is Ready
#     on the spare node, median of FAILOVERS (3), against the lease TTL (LEASE_TTL, 5 s)
# Pods are polled every 20 ms through an agent's API socket (it lists every node's pods).
# Needs root. Prints figures; asserts nothing about time.
# Usage: bench/cluster.sh [BERTH]
set -u
BERTH=$(readlink -f "${1:-build/agent/berth}")
export BERTH
ROUNDS=${ROUNDS:-5}
FAILOVERS=${FAILOVERS:-3}
LEASE_TTL=${LEASE_TTL:-5}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/lib-cluster.sh"

set_yaml() { # name replicas
        cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1}
spec: {clusterIP: None, selector: {app: $1}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: $1}
spec:
  serviceName: $1
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: busybox, command: ["/bin/sleep", "600"]}]
YAML
}

# watch SOCKET SET N: applies nothing; polls the pods of SET through SOCKET until N are Ready and
# prints, per ordinal, "created ready" (CLOCK_REALTIME seconds, as first seen)
cat >"$T/watch.py" <<'PY'
import http.client, json, socket, sys, time
sock, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock)
seen, ready = {}, {}
deadline = time.time() + 120
while len(ready) < n and time.time() < deadline:
    c = Unix("localhost")
    c.request("GET", "/api/v1/namespaces/default/pods")
    items = json.loads(c.getresponse().read())["items"]
    c.close()
    now = time.time()
    for p in items:
        pn = p["metadata"]["name"]
        if not pn.startswith(name + "-") or p["metadata"].get("deletionTimestamp"):
            continue
        seen.setdefault(pn, now)
        if any(x["type"] == "Ready" and x["status"] == "True" for x in p.get("status", {}).get("conditions", [])):
            ready.setdefault(pn, (now, p["spec"].get("nodeName", "")))
    time.sleep(0.02)
for i in range(n):
    pn = "%s-%d" % (name, i)
    if pn not in ready:
        sys.exit("%s not ready" % pn)
    print(seen[pn], ready[pn][0], ready[pn][1])
PY

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# one round: apply through APPLY_SOCK, watch through WATCH_SOCK; prints "total coordination"
round() { # apply-sock watch-sock name
        local t0 out
        t0=$(date +%s.%N)
        set_yaml "$3" 3 | BERTH_SOCKET=$1 "$BERTH" apply -f - >/dev/null || fail "apply $3"
        out=$(python3 "$T/watch.py" "$2" "$3" 3) || fail "$3: $out"
        echo "$out" | awk -v t0="$t0" '{c[NR] = $1; r[NR] = $2} END {
                prev = t0; coord = 0; start = 0
                for (i = 1; i <= NR; i++) { coord += c[i] - prev; start += r[i] - c[i]; prev = r[i] }
                printf "%.3f %.3f %.3f\n", r[NR] - t0, coord, start }'
        BERTH_SOCKET=$1 "$BERTH" delete statefulset,service "$3" --timeout=60s >/dev/null
        wait_for 30 "$3's pods gone" sh -c "! BERTH_SOCKET=$2 $BERTH get pods 2>/dev/null | grep -q '^$3-'"
}

# --- the peer: one agent, coordinator local
start_agent
for r in $(seq 1 "$ROUNDS"); do round "$SOCK" "$SOCK" "one$r"; done >"$T/one.txt"
stop_agent TERM

# --- three agents and etcd
start_etcd
for n in 1 2 3; do start_node $n; done
wait_for 20 "three nodes registered" sh -c "[ \$(grep -l 'Registered in etcd' $T/n*/agent.log | wc -l) = 3 ]"
for r in $(seq 1 "$ROUNDS"); do round "$T/n1/berth.sock" "$T/n1/berth.sock" "three$r"; done >"$T/three.txt"

# --- failover: two replicas on the three agents, one spare
set_yaml fo 2 | bn 1 apply -f - >/dev/null || fail "apply fo"
for r in $(seq 1 "$FAILOVERS"); do
        wait_for 60 "fo ready" sh -c "[ \$(BERTH_SOCKET=$T/n1/berth.sock $BERTH get statefulset fo -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get(\"status\",{}).get(\"readyReplicas\",0))') = 2 ]"
        holder=$(bn 1 get pod fo-1 -o json | jget 'd["spec"]["nodeName"]')
        n=${holder#node}
        watcher=$(for m in 1 2 3; do [ "$m" != "$n" ] && echo "$m"; done | head -1)
        t0=$(date +%s.%N)
        stop_node "$n" KILL
        out=$(python3 - "$T/n$watcher/berth.sock" "$holder" <<'PY'
import http.client, json, socket, sys, time
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
deadline = time.time() + 120
while time.time() < deadline:
    c = Unix("localhost")
    c.request("GET", "/api/v1/namespaces/default/pods/fo-1")
    r = c.getresponse()
    p = json.loads(r.read())
    c.close()
    if r.status == 200 and p["spec"].get("nodeName") not in ("", sys.argv[2]) and any(
            x["type"] == "Ready" and x["status"] == "True" for x in p.get("status", {}).get("conditions", [])):
        print(time.time())
        sys.exit(0)
    time.sleep(0.02)
sys.exit("fo-1 never Ready elsewhere")
PY
) || fail "$out"
        echo "$out $t0" | awk '{printf "%.3f\n", $1 - $2}' >>"$T/failover.txt"
        start_node "$n"
done
bn 1 delete statefulset,service fo --timeout=60s >/dev/null

one_total=$(awk '{print $1}' "$T/one.txt" | median)
one_coord=$(awk '{print $2}' "$T/one.txt" | median)
three_total=$(awk '{print $1}' "$T/three.txt" | median)
three_coord=$(awk '{print $2}' "$T/three.txt" | median)
one_start=$(awk '{print $3}' "$T/one.txt" | median)
three_start=$(awk '{print $3}' "$T/three.txt" | median)
fo=$(median <"$T/failover.txt")
echo "apply -> 3 ordinals Ready (median of $ROUNDS):"
printf '  3 agents + etcd  %.3f s   1 agent  %.3f s   ratio %.2f\n' "$three_total" "$one_total" \
        "$(echo "$three_total $one_total" | awk '{print $1 / $2}')"
echo "  container start excluded (waits between one ordinal Ready and the next pod made):"
printf '  3 agents + etcd  %.3f s   1 agent  %.3f s   ratio %.2f\n' "$three_coord" "$one_coord" \
        "$(echo "$three_coord $one_coord" | awk '{print $1 / $2}')"
printf '  (the excluded part, pod made -> Ready summed over the 3: %.3f s and %.3f s; 0 means below the poll)\n' \
        "$three_start" "$one_start"
printf 'failover after an agent is killed (no node-local volumes, median of %s): %.3f s = %.2f x lease TTL (%s s)\n' \
        "$FAILOVERS" "$fo" "$(echo "$fo $LEASE_TTL" | awk '{print $1 / $2}')" "$LEASE_TTL"
echo "  each: $(tr '\n' ' ' <"$T/failover.txt")"
