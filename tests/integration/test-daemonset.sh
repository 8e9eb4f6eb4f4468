#!/bin/bash
# DaemonSets on one node with the real agent: a pod runs while the node's labels (from the
# config) match the nodeSelector; a NoSchedule taint added later keeps it, a NoExecute taint
# not tolerated removes it, a toleration keeps it; a rolling update replaces the pod with the
# new template; the status counts; deleting the set removes its pod. Labels and taints change
# through `systemctl reload`'s SIGHUP re-reading the config.
. "$(dirname "$0")/lib.sh"
require_root

node_config() { # labels-yaml taints-yaml
        printf 'cgroupRoot: %s\nlogLevel: debug\nlabels: %s\ntaints: %s\n' "$CGROOT" "$1" "$2" >"$T/config.yaml"
}
AGENT_CONFIG_EXTRA="labels: {disk: ssd}
"
start_agent
reload() { node_config "$1" "$2"; kill -HUP "$AGENT_PID"; }

ds_pods() { b get pods -l app=agent -o name 2>/dev/null | wc -l; }
ds_pods_are() { [ "$(ds_pods)" = "$1" ]; }
ds_field() { b get ds agent -o json | jget "$1"; }
ds_is() { [ "$(ds_field "$1" 2>/dev/null)" = "$2" ]; }
the_pod() { b get pods -l app=agent -o name | head -1 | sed 's|^pod/||'; }

ds() { # $1 VERSION, [$2 tolerations yaml]
        cat <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {disk: ssd}
      tolerations: ${2:-[]}
      containers:
      - name: main
        image: busybox
        env: [{name: VERSION, value: "$1"}]
        command: ["/bin/sh", "-c", "exec sleep 600"]
YAML
}

ds 1 | b apply -f - >/dev/null || fail "apply the set"
wait_for 20 "one daemon pod" ds_pods_are 1
p=$(the_pod)
wait_for 20 "$p Running" pod_phase_is "$p" Running
[ "$(pod_field "$p" 'd["spec"]["nodeName"]')" = "$NODE" ] || fail "the pod is not bound to this node"
pod_field "$p" '[t["key"] for t in d["spec"]["tolerations"]]' | grep -q "node.kubernetes.io/unreachable" ||
        fail "the default tolerations are missing"
wait_for 10 "numberReady 1" ds_is 'd["status"].get("numberReady",0)' 1
[ "$(ds_field 'd["status"]["desiredNumberScheduled"]')" = 1 ] || fail "desiredNumberScheduled"
echo "PASS: one pod on an eligible node ($p)"

# --- NoSchedule added later keeps the running pod
reload "{disk: ssd}" "[{key: maint, value: 'yes', effect: NoSchedule}]"
sleep 3
[ "$(the_pod)" = "$p" ] || fail "a NoSchedule taint removed the pod"
# --- NoExecute not tolerated removes it
reload "{disk: ssd}" "[{key: maint, value: 'yes', effect: NoExecute}]"
wait_for 20 "the pod removed by NoExecute" ds_pods_are 0
# --- tolerated, it comes back
ds 1 "[{key: maint, operator: Exists, effect: NoExecute}]" | b apply -f - >/dev/null || fail "tolerate"
wait_for 20 "the pod back with a toleration" ds_pods_are 1
echo "PASS: NoSchedule keeps, NoExecute removes, a toleration brings it back"

# --- the node's labels stop matching: the pod goes
reload "{disk: hdd}" "[]"
wait_for 20 "the pod removed when the selector no longer matches" ds_pods_are 0
wait_for 10 "desiredNumberScheduled 0" ds_is 'd["status"].get("desiredNumberScheduled",0)' 0
reload "{disk: ssd}" "[]"
wait_for 20 "the pod back" ds_pods_are 1
echo "PASS: nodeSelector follows the node's labels"

# --- rolling update: the pod is replaced by one of the new template
p=$(the_pod)
wait_for 20 "$p Running" pod_phase_is "$p" Running
old=$(pod_field "$p" 'd["metadata"]["labels"]["controller-revision-hash"]')
ds 2 | b apply -f - >/dev/null || fail "update"
updated() {
        local q
        q=$(the_pod)
        [ -n "$q" ] && [ "$q" != "$p" ] &&
                [ "$(pod_field "$q" 'd["metadata"]["labels"]["controller-revision-hash"]')" != "$old" ] &&
                pod_phase_is "$q" Running
}
b rollout status ds/agent --timeout=60s >"$T/rollout.log" 2>&1 || fail "rollout status: $(cat "$T/rollout.log")"
tail -1 "$T/rollout.log" | grep -qx 'daemon set "agent" successfully rolled out' || fail "rollout status: $(cat "$T/rollout.log")"
wait_for 40 "the new revision running" updated
wait_for 20 "updatedNumberScheduled 1" ds_is 'd["status"].get("updatedNumberScheduled",0)' 1
q=$(the_pod)
pod_field "$q" '[e["value"] for e in d["spec"]["containers"][0]["env"] if e["name"]=="VERSION"][0]' | grep -qx 2 ||
        fail "the new pod does not run the new template"
echo "PASS: rolling update"

b delete ds agent >/dev/null || fail "delete the set"
wait_for 20 "the pod gone with the set" ds_pods_are 0
echo "PASS: test-daemonset"
