# A fleet DaemonSet on three agents (sourced by test-cluster.sh once node1..node3 run, after
# lib.sh and lib-cluster.sh): a set applied to node1 runs one pod on every node and every agent
# counts the fleet (desiredNumberScheduled 3, numberReady 3); a template change applied to node2
# rolls out with maxUnavailable 1 across the fleet, never more than one node without a Ready
# pod of the set at a time (sampled every 0.2 s from node1, whose pod list shows every node's
# pods); the set deleted through node3 takes every node's pod with it.

CDS=cds

cds_manifest() { # VERSION
        cat <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $CDS}
spec:
  selector: {matchLabels: {app: $CDS}}
  minReadySeconds: 2
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: $CDS}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        env: [{name: VERSION, value: "$1"}]
        command: ["/bin/sleep", "600"]
        readinessProbe:
          exec: {command: ["/bin/true"]}
          periodSeconds: 1
YAML
}

# cds_status N FIELD: the field of the set's status as node N reports it (empty when unknown)
cds_status() {
        bn "$1" get ds "$CDS" -o json 2>/dev/null |
                python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", {}).get(sys.argv[1], 0))' "$2" 2>/dev/null
}

cds_status_is() { # N FIELD VALUE
        [ "$(cds_status "$1" "$2")" = "$3" ]
}

# cds_pods N: the set's pods node N lists (every node's, in cluster mode) as
# "name node ready|not-ready deleting|live version" lines
cds_pods() {
        bn "$1" get pods -o json 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    refs = p["metadata"].get("ownerReferences", [])
    if not any(r.get("kind") == "DaemonSet" and r.get("name") == sys.argv[1] for r in refs):
        continue
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    env = {e["name"]: e.get("value", "") for e in p["spec"]["containers"][0].get("env", [])}
    print(p["metadata"]["name"], p["spec"].get("nodeName", "-"), "ready" if ready else "not-ready",
          "deleting" if p["metadata"].get("deletionTimestamp") else "live", env.get("VERSION", "-"))' "$CDS"
}

# cds_ready_nodes N: how many nodes have a live Ready pod of the set, as node N sees them
cds_ready_nodes() {
        local out
        out=$(bn "$1" get pods -o json 2>/dev/null) || return 1
        printf '%s' "$out" | python3 -c '
import json, sys
nodes = set()
for p in json.load(sys.stdin)["items"]:
    refs = p["metadata"].get("ownerReferences", [])
    if not any(r.get("kind") == "DaemonSet" and r.get("name") == sys.argv[1] for r in refs):
        continue
    if p["metadata"].get("deletionTimestamp"):
        continue
    if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", [])):
        nodes.add(p["spec"].get("nodeName", ""))
print(len(nodes))' "$CDS"
}

cds_none_left() {
        local n
        for n in 1 2 3; do
                [ -z "$(cds_pods "$n")" ] || return 1
        done
}

cluster_ds_test() {
        local n ready worst=0 deadline pods

        # --- applied to node1: one pod on every node, counted fleet-wide by every agent
        cds_manifest 1 | bn 1 apply -f - >/dev/null || fail "apply DaemonSet $CDS to node1"
        for n in 2 3; do
                wait_for 20 "DaemonSet $CDS on node$n" bn "$n" get ds "$CDS"
        done
        for n in 1 2 3; do
                wait_for 60 "node$n: desiredNumberScheduled 3" cds_status_is "$n" desiredNumberScheduled 3
                wait_for 60 "node$n: numberReady 3" cds_status_is "$n" numberReady 3
        done
        pods=$(cds_pods 1)
        for n in 1 2 3; do
                printf '%s\n' "$pods" | grep -q " node$n ready live 1$" ||
                        fail "no ready pod of $CDS on node$n: $(printf '%s' "$pods" | tr '\n' ';')"
        done
        echo "PASS: a DaemonSet applied to node1 runs on every node, each agent counts 3 desired and 3 ready"

        # --- a template change through node2 rolls one node at a time
        wait_for 60 "node1: numberAvailable 3" cds_status_is 1 numberAvailable 3
        cds_manifest 2 | bn 2 apply -f - >/dev/null || fail "apply the new template of $CDS to node2"
        deadline=$((SECONDS + 180))
        while :; do
                if ready=$(cds_ready_nodes 1) && [ -n "$ready" ]; then
                        [ $((3 - ready)) -gt "$worst" ] && worst=$((3 - ready))
                        [ $((3 - ready)) -le 1 ] ||
                                fail "$((3 - ready)) nodes without a ready pod of $CDS at once: $(cds_pods 1 | tr '\n' ';')"
                fi
                if cds_status_is 1 updatedNumberScheduled 3 && cds_status_is 1 numberAvailable 3; then
                        break
                fi
                [ "$SECONDS" -lt "$deadline" ] ||
                        fail "the roll-out of $CDS did not finish: $(cds_pods 1 | tr '\n' ';')"
                sleep 0.2
        done
        for n in 1 2 3; do
                wait_for 30 "node$n: updatedNumberScheduled 3" cds_status_is "$n" updatedNumberScheduled 3
                wait_for 30 "node$n: numberAvailable 3" cds_status_is "$n" numberAvailable 3
        done
        pods=$(cds_pods 1)
        for n in 1 2 3; do
                printf '%s\n' "$pods" | grep -q " node$n ready live 2$" ||
                        fail "node$n runs no pod of the new template: $(printf '%s' "$pods" | tr '\n' ';')"
        done
        echo "PASS: the roll-out of $CDS kept at most 1 node without a ready pod (at worst $worst)"

        # --- deleted through node3: every node's pod goes
        bn 3 delete ds "$CDS" >/dev/null || fail "delete DaemonSet $CDS through node3"
        wait_for 60 "no pod of $CDS on any node" cds_none_left
        for n in 1 2; do
                wait_for 20 "DaemonSet $CDS gone from node$n" sh -c "! BERTH_SOCKET=$T/n$n/berth.sock $BERTH get ds $CDS"
        done
        echo "PASS: deleting $CDS through node3 removes its pods from every node"
}
