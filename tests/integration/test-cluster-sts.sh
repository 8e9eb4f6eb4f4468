#!/bin/bash
# Cluster-mode StatefulSets with a real etcd and three agents on this machine, node3 in a network
# namespace of its own that reaches etcd over a veth pair (cutting the pair partitions it):
# - objects applied to one agent reach the others (a late joiner too) and `berth get pods` on
#   any agent shows every node's pods with their NODE; a pod's /etc/hosts names the set's pods
#   on other nodes (node3's at its own address);
# - a set's ordinals land one per node, in order across nodes (OrderedReady), three on three;
#   scaled down, the ordinal is given back;
# - a partition: the cut-off node stops its ordinal's pod before its lease can expire, and
#   another node takes the ordinal (no local data); healed, the node does not take it back;
# - a set with claim templates: SIGKILL of the agent holding an ordinal, whose pods then die by
#   the shim's dead man's switch: no other node runs that ordinal while the data binding holds;
#   the node restarted takes it back; restarted at once, it resumes its lease and the pod runs
#   on untouched; `berth release` lets another node run it;
# - continuously, from heartbeats every pod writes: never two pods of one ordinal at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-cluster.sh"
require_root
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
LEASE_TTL=5

# --- node3's network namespace: 10.231.X.1 (host) <-> 10.231.X.2 (node3)
NETNS=berth-t$$
VH=bvh$$
VN=bvn$$
X=$(($$ % 250 + 1))
teardown_netns() {
        ip netns del "$NETNS" 2>/dev/null
        ip link del "$VH" 2>/dev/null
        return 0
}
CLEANUP_HOOKS+=(teardown_netns)
ip netns add "$NETNS" || fail "ip netns add"
ip link add "$VH" type veth peer name "$VN" || fail "ip link add veth"
ip link set "$VN" netns "$NETNS"
ip addr add "10.231.$X.1/30" dev "$VH"
ip link set "$VH" up
ip -n "$NETNS" addr add "10.231.$X.2/30" dev "$VN"
ip -n "$NETNS" link set "$VN" up
ip -n "$NETNS" link set lo up

ETCD_EXTRA_HOST=10.231.$X.1 start_etcd
start_node 1
NODE_NETNS=$NETNS NODE_ETCD_URL=http://10.231.$X.1:$ETCD_PORT start_node 3
wait_for 20 "node1 and node3 registered" sh -c "grep -q 'Registered in etcd' $T/n1/agent.log && grep -q 'Registered in etcd' $T/n3/agent.log"

mkdir -p "$T/beats"
sts() { # name replicas [claim templates yaml]
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
      containers:
      - name: main
        image: busybox
        env:
        - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        command: ["/bin/sh", "-c", "while :; do echo \$(date +%s.%N) \$NODE >>$T/beats/\$POD; sleep 0.2; done"]
        readinessProbe:
          exec: {command: ["/bin/sh", "-c", "test -s $T/beats/\$POD"]}
          periodSeconds: 1
${3:-}
YAML
}
# pods of a set as "name node ready" lines, read through node N
pods_of() { # N set
        bn "$1" get pods -o json 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    if not p["metadata"]["name"].startswith(sys.argv[1] + "-") or p["metadata"].get("deletionTimestamp"):
        continue
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    print(p["metadata"]["name"], p["spec"].get("nodeName", ""), "ready" if ready else "not-ready")' "$2"
}
# a field of a set's status through node N (0 when not set)
sts_status() { # N set field
        bn "$1" get statefulset "$2" -o json 2>/dev/null | jget "d.get('status', {}).get('$3', 0)"
}
ready_count() { pods_of "$1" "$2" | grep -c " ready$"; }
node_of() { pods_of "$1" "$2" | awk -v p="$3" '$1 == p && $3 == "ready" {print $2}'; }

# --- apply to node1 only: both ordinals run, one per node, in order
sts web 2 | bn 1 apply -f - >/dev/null || fail "apply web to node1"
wait_for 20 "the set on node3" bn 3 get statefulset web
wait_ready() { # N set count
        local i
        for i in $(seq 1 $((${4:-40} * 5))); do
                [ "$(sts_status "$1" "$2" readyReplicas)" = "$3" ] && [ "$(ready_count "$1" "$2")" = "$3" ] && return 0
                sleep 0.2
        done
        fail "timed out waiting for $3 ready pods of $2 (through node$1): $(pods_of "$1" "$2" | tr '\n' ';')"
}
wait_ready 1 web 2
n0=$(node_of 1 web web-0)
n1=$(node_of 1 web web-1)
[ -n "$n0" ] && [ -n "$n1" ] && [ "$n0" != "$n1" ] || fail "web's ordinals are not one per node: $(pods_of 1 web | tr '\n' ';')"
# OrderedReady across nodes: web-1 was made only once web-0 was Ready
bn 1 get pods -o json | python3 -c '
import json, sys
p = {x["metadata"]["name"]: x for x in json.load(sys.stdin)["items"]}
ready0 = [c["lastTransitionTime"] for c in p["web-0"]["status"]["conditions"] if c["type"] == "Ready"][0]
made1 = p["web-1"]["metadata"]["creationTimestamp"]
sys.exit(0 if made1 >= ready0 else "web-1 made at %s, before web-0 was ready at %s" % (made1, ready0))' ||
        fail "web-1 was made before web-0 was Ready"
echo "PASS: a set applied to one agent runs one ordinal per node, in order ($n0, $n1)"

# --- a late joiner sees the objects and every node's pods
start_node 2
wait_for 20 "the set on node2" bn 2 get statefulset web
wait_for 20 "node2 lists both pods" sh -c "[ \$(BERTH_SOCKET=$T/n2/berth.sock $BERTH get pods 2>/dev/null | grep -c '^web-') = 2 ]"
bn 2 get pods | head -1 | grep -q NODE || fail "no NODE column in the fleet's pod list: $(bn 2 get pods 2>&1)"
echo "PASS: a node that joins later gets the objects and lists every node's pods with NODE"

# --- three replicas on three agents: one ordinal per node; scaled back, the ordinal is given up
bn 2 scale statefulset web --replicas=3 >/dev/null || fail "scale web to 3 through node2"
wait_ready 3 web 3
[ "$(pods_of 3 web | awk '{print $2}' | sort -u | wc -l)" = 3 ] || fail "web's 3 ordinals are not on 3 nodes: $(pods_of 3 web | tr '\n' ';')"
[ "$(node_of 1 web web-2)" = node2 ] || fail "web-2 is not on node2, the only node without one: $(pods_of 1 web | tr '\n' ';')"
# stable names across the fleet: web-0's /etc/hosts names the other nodes' ordinals
h0=$(node_of 1 web web-0)
hosts=$T/n${h0#node}/state/pods/$(bn 1 get pod web-0 -o json | jget 'd["metadata"]["uid"]')/etc-hosts
wait_for 10 "web-1 and web-2 in web-0's /etc/hosts" sh -c "grep -q 'web-1.web.default.svc.cluster.local' $hosts && grep -q 'web-2.web.default.svc.cluster.local' $hosts"
grep -q "^10.231.$X.2[[:space:]].*web-1.web.default.svc.cluster.local\|^10.231.$X.2[[:space:]].*web-2.web.default.svc.cluster.local\|^10.231.$X.2[[:space:]].*web-0" "$hosts" ||
        [ "$h0" = node3 ] || fail "the ordinal on node3 is not named at node3's address in $hosts: $(cat "$hosts")"
echo "PASS: three replicas on three agents, one ordinal per node"
bn 1 scale statefulset web --replicas=2 >/dev/null || fail "scale web to 2"
wait_for 30 "web-2 gone and its ordinal free" sh -c "! BERTH_SOCKET=$T/n1/berth.sock $BERTH get pods 2>/dev/null | grep -q '^web-2 ' && [ -z \"\$(ETCDCTL_API=3 etcdctl --endpoints $ETCD_URL get /berth/ordinals/default/web/2 --print-value-only)\" ]"
echo "PASS: scaled back to 2, node2 gave ordinal 2 up"

# --- partition node3: its ordinal stops there and moves to node2
if [ "$n0" = node3 ]; then k=web-0; else k=web-1; fi
[ "$(node_of 1 web $k)" = node3 ] || fail "node3 holds no ordinal of web: $(pods_of 1 web | tr '\n' ';')"
t0=$(date +%s.%N)
ip link set "$VH" down
wait_for 30 "$k ready on node2" sh -c "BERTH_SOCKET=$T/n1/berth.sock $BERTH get pods -o json | python3 -c '
import json, sys
ok = [p for p in json.load(sys.stdin)[\"items\"] if p[\"metadata\"][\"name\"] == \"$k\" and p[\"spec\"].get(\"nodeName\") == \"node2\"
      and any(c[\"type\"] == \"Ready\" and c[\"status\"] == \"True\" for c in p[\"status\"].get(\"conditions\", []))]
sys.exit(0 if ok else 1)'"
t1=$(date +%s.%N)
grep -q "Stopping pod default/$k" "$T/n3/agent.log" || fail "node3 did not stop $k when cut off"
echo "PASS: partitioned node3 stopped $k, node2 runs it $(python3 -c "print('%.1f' % ($t1 - $t0))") s after the cut (lease TTL ${LEASE_TTL} s)"
ip link set "$VH" up
wait_for 30 "node3 registered again" sh -c "[ \$(grep -c 'Registered in etcd' $T/n3/agent.log) -ge 2 ]"
sleep 3
[ "$(node_of 1 web $k)" = node2 ] || fail "$k left node2 after the partition healed: $(pods_of 1 web | tr '\n' ';')"
pods_of 3 web | grep -q " node3 " && fail "node3 runs a web pod after the partition healed: $(pods_of 3 web | tr '\n' ';')"
echo "PASS: healed, node3 runs nothing of web; $k stays on node2"

# --- a pod deleted through an agent that does not run it: its node deletes it, the set makes it again
uid=$(bn 2 get pod "$k" -o json | jget 'd["metadata"]["uid"]')
bn 3 delete pod "$k" --timeout=30s >/dev/null || fail "delete $k (on node2) through node3"
wait_ready 1 web 2
[ "$(bn 1 get pod "$k" -o json | jget 'd["metadata"]["uid"]')" != "$uid" ] || fail "$k was not made again"
[ "$(node_of 1 web "$k")" = node2 ] || fail "$k moved off node2 when deleted: $(pods_of 1 web | tr '\n' ';')"
echo "PASS: $k deleted through node3 was deleted on node2 and made again there"

# --- data: node-local claims bind each ordinal to its node
claims='  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}'
sts data 2 "$claims" | bn 2 apply -f - >/dev/null || fail "apply data to node2"
wait_ready 1 data 2 60
d1=$(node_of 1 data data-1)
d1n=${d1#node}
[ -n "$d1" ] || fail "data-1 not ready: $(pods_of 1 data | tr '\n' ';')"
other=$(for n in 1 2 3; do [ "node$n" != "$d1" ] && echo "$n"; done | head -1)
spare=$(for n in 1 2 3; do [ "node$n" != "$d1" ] && [ "node$n" != "$(node_of 1 data data-0)" ] && echo "$n"; done)
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get /berth/sticky/default/data/1 --print-value-only | grep -qx "$d1" ||
        fail "no data binding of data-1 to $d1 in etcd"

stop_node "$d1n" KILL
sleep $((2 * LEASE_TTL + 2))
for n in 1 2 3; do
        [ "$n" = "$d1n" ] && continue
        pods_of "$n" data | grep "^data-1 " && fail "data-1 runs elsewhere while $d1's binding holds"
done
# the dead man's switch stopped the orphaned pod: no heartbeat for the last seconds
python3 - "$T/beats/data-1" <<'PY' || fail "data-1 still beats on $d1 after its agent died"
import sys, time
last = float(open(sys.argv[1]).read().split()[-2])
sys.exit(0 if time.time() - last > 2 else 1)
PY
echo "PASS: $d1's agent killed: data-1 stopped by its shim, and run nowhere else while bound"
start_node "$d1n"
wait_for 40 "data-1 back on $d1" sh -c "[ \"\$(BERTH_SOCKET=$T/n$other/berth.sock $BERTH get pods -o json | python3 -c '
import json, sys
for p in json.load(sys.stdin)[\"items\"]:
    if p[\"metadata\"][\"name\"] == \"data-1\" and any(c[\"type\"] == \"Ready\" and c[\"status\"] == \"True\" for c in p[\"status\"].get(\"conditions\", [])):
        print(p[\"spec\"][\"nodeName\"])')\" = $d1 ]"
echo "PASS: restarted, $d1 takes data-1 back"

# a quick restart (an upgrade, a crash): the agent resumes its lease and claims, data-1 runs on
uid=$(bn "$other" get pod data-1 -o json | jget 'd["metadata"]["uid"]')
tk=$(date +%s.%N)
stop_node "$d1n" KILL
start_node "$d1n"
wait_for 20 "$d1 resumed its lease" grep -q "resumed lease" "$T/n$d1n/agent.log"
sleep 3
[ "$(bn "$other" get pod data-1 -o json | jget 'd["metadata"]["uid"]')" = "$uid" ] ||
        fail "data-1 was made again after a quick restart of $d1's agent"
python3 - "$T/beats/data-1" "$tk" <<'PY' || fail "data-1 stopped beating across the quick restart of $d1's agent"
import sys
ts = [float(l.split()[0]) for l in open(sys.argv[1]) if len(l.split()) == 2]
after = [t for t in ts if t >= float(sys.argv[2]) - 1]
gaps = [b - a for a, b in zip(after, after[1:])]
print("data-1 across the restart: %d beats, longest gap %.2f s" % (len(after), max(gaps)))
sys.exit(0 if len(after) > 10 and max(gaps) < 1.0 else 1)
PY
echo "PASS: $d1's agent killed and restarted at once: it resumed its lease, data-1 ran on untouched"

stop_node "$d1n" KILL
sleep $((LEASE_TTL + 1))
bn "$other" release statefulset/data 1 || fail "berth release"
wait_for 40 "data-1 on node$spare" sh -c "[ \"\$(BERTH_SOCKET=$T/n$other/berth.sock $BERTH get pods -o json | python3 -c '
import json, sys
for p in json.load(sys.stdin)[\"items\"]:
    if p[\"metadata\"][\"name\"] == \"data-1\" and any(c[\"type\"] == \"Ready\" and c[\"status\"] == \"True\" for c in p[\"status\"].get(\"conditions\", [])):
        print(p[\"spec\"][\"nodeName\"])')\" = node$spare ]"
start_node "$d1n"
sleep 3
[ "$(node_of "$other" data data-1)" = "node$spare" ] || fail "data-1 left node$spare when $d1 came back"
echo "PASS: berth release: node$spare runs data-1; $d1 back does not take it"

# --- never two pods of one ordinal at once, from every heartbeat of the test
python3 - "$T/beats" <<'PY' || fail "two pods of one ordinal ran at once"
import os, sys
bad = 0
for pod in sorted(os.listdir(sys.argv[1])):
    beats = sorted((float(t), n) for t, n in (l.split() for l in open(os.path.join(sys.argv[1], pod)) if len(l.split()) == 2))
    runs = []  # [node, first, last]: a pod's life on a node, split at gaps of more than a second
    for t, n in beats:
        if runs and runs[-1][0] == n and t - runs[-1][2] <= 1.0:
            runs[-1][2] = t
        else:
            runs.append([n, t, t])
    for a in runs:
        for b in runs:
            if a[0] != b[0] and a[1] <= b[1] <= a[2]:
                print("%s: %s (%.2f-%.2f) and %s (%.2f-%.2f) overlap" % (pod, a[0], a[1], a[2], b[0], b[1], b[2]))
                bad += 1
    print("%s: %s" % (pod, " -> ".join("%s %.1fs" % (r[0], r[2] - r[1]) for r in runs)))
sys.exit(1 if bad else 0)
PY
echo "PASS: no two pods of one ordinal ran at once"

# --- deleting on one agent deletes everywhere
bn 3 delete statefulset web data --timeout=30s >/dev/null || fail "delete the sets through node3"
wait_for 30 "the sets gone from every node" sh -c "for n in 1 2 3; do BERTH_SOCKET=$T/n\$n/berth.sock $BERTH get statefulsets 2>&1 | grep -q '^web\|^data' && exit 1; done; exit 0"
wait_for 30 "their pods gone" sh -c "! BERTH_SOCKET=$T/n1/berth.sock $BERTH get pods 2>&1 | grep -q '^web-\|^data-'"
echo "PASS: test-cluster-sts"
