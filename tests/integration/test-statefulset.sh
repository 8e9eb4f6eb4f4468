#!/bin/bash
# StatefulSets on one node with the real agent (host runtime, dir volumes): ordinals created in
# order, each only once the previous one is Ready; claims <template>-<set>-<ordinal> bound and
# their data surviving the pod's deletion; scale-down from the highest ordinal, one at a time;
# a rolling update held by a partition; whenScaled Delete removing the claim of a removed
# ordinal; deleting the set removes its pods and keeps the claims (whenDeleted Retain).
. "$(dirname "$0")/lib.sh"
require_root

AGENT_CONFIG_EXTRA="storageClasses:
  local: {type: dir, path: $T/storage}
defaultStorageClass: local
"
start_agent

gone() { ! b get "$1" "$2" >/dev/null 2>&1; }
exists() { b get "$1" "$2" >/dev/null 2>&1; }
ready_of() { pod_field "$1" '[c["status"] for c in d["status"].get("conditions",[]) if c["type"]=="Ready"][0]' 2>/dev/null; }
is_ready() { [ "$(ready_of "$1")" = True ]; }
sts_field() { b get sts web -o json | jget "$1"; }
sts_is() { [ "$(sts_field "$1" 2>/dev/null)" = "$2" ]; }
hash_of() { pod_field "$1" 'd["metadata"]["labels"]["controller-revision-hash"]'; }

# $1 replicas, $2 VERSION env, $3 partition, $4 whenScaled
sts() {
        cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: $1
  selector: {matchLabels: {app: web}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: $3}}
  persistentVolumeClaimRetentionPolicy: {whenScaled: $4, whenDeleted: Retain}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        env:
        - {name: VERSION, value: "$2"}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        command: ["/bin/sh", "-c", "echo \$POD_NAME >>$T/mnt/data/boots; cat /etc/hosts >$T/hosts-\$POD_NAME; trap '' TERM; while :; do sleep 1; done"]
        volumeMounts: [{name: data, mountPath: $T/mnt/data}]
        readinessProbe:
          exec: {command: ["/bin/sh", "-c", "test -f $T/ready-\$POD_NAME"]}
          periodSeconds: 1
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 16Mi}}
YAML
}

# --- OrderedReady: web-1 only once web-0 is Ready
sts 3 1 0 Retain | b apply -f - >/dev/null || fail "apply the set"
wait_for 20 "web-0 Running" pod_phase_is web-0 Running
sleep 3
gone pod web-1 || fail "web-1 was created before web-0 was Ready"
[ "$(pod_field web-0 'd["spec"]["hostname"]+"."+d["spec"]["subdomain"]')" = web-0.web ] || fail "hostname/subdomain"
touch "$T/ready-web-0"
wait_for 20 "web-1 Running" pod_phase_is web-1 Running
sleep 2
gone pod web-2 || fail "web-2 was created before web-1 was Ready"
touch "$T/ready-web-1" "$T/ready-web-2"
wait_for 20 "web-2 Ready" is_ready web-2
wait_for 10 "readyReplicas 3" sts_is 'd["status"].get("readyReplicas",0)' 3
for i in 0 1 2; do
        [ "$(b get pvc data-web-$i -o json | jget 'd["status"]["phase"]')" = Bound ] || fail "data-web-$i not Bound"
done
echo "PASS: OrderedReady creation, claims bound"

# --- stable names: web-2 started seeing its elders in its /etc/hosts, and web-0's file
# (written before web-2 existed) has been brought up to date
grep -q "web-0.web.default.svc.cluster.local" "$T/hosts-web-2" || fail "web-2's /etc/hosts lacks web-0: $(cat "$T/hosts-web-2")"
grep -qw "web-1.web" "$T/hosts-web-2" || fail "web-2's /etc/hosts lacks web-1.web"
grep -q "web-2" "$T/hosts-web-0" && fail "web-0 started before web-2 existed, yet named it"
uid0=$(pod_field web-0 'd["metadata"]["uid"]')
wait_for 10 "web-0's hosts file names web-2" grep -q "web-2.web.default.svc.cluster.local" "$T/state/pods/$uid0/etc-hosts"
echo "PASS: /etc/hosts names the set's pods and follows them"

# --- the data outlives the pod: web-1 comes back to the same claim
uid=$(pod_field web-1 'd["metadata"]["uid"]')
b delete pod web-1 --grace-period=1 >/dev/null || fail "delete web-1"
recreated() { [ "$(pod_field web-1 'd["metadata"]["uid"]' 2>/dev/null)" != "$uid" ] && pod_phase_is web-1 Running; }
wait_for 30 "web-1 recreated" recreated
vol=$(b get pvc data-web-1 -o json | jget 'd["spec"]["volumeName"]')
wait_for 10 "web-1 booted twice on its volume" sh -c "[ \$(grep -c web-1 $T/storage/$vol/boots 2>/dev/null) = 2 ]"
grep -q web-0 "$T/storage/$vol/boots" && fail "web-0 wrote into web-1's volume"
echo "PASS: data survives the pod's deletion"

# --- scale down from the highest ordinal, one at a time; the claims stay (whenScaled Retain)
# (the pods ignore SIGTERM: each takes its whole grace period to go, so the order shows)
b scale sts web --replicas=1 --current-replicas=3 | grep -qx "statefulset.apps/web scaled" || fail "scale to 1"
saw_order=no
for _ in $(seq 1 300); do
        e1=no e2=no
        exists pod web-1 && e1=yes
        exists pod web-2 && e2=yes
        [ $e1 = no ] && [ $e2 = yes ] && fail "web-1 went before web-2"
        [ $e1 = yes ] && [ $e2 = no ] && saw_order=yes
        [ $e1 = no ] && [ $e2 = no ] && break
        sleep 0.1
done
gone pod web-1 || fail "web-1 still there after scaling to 1"
b scale sts web --replicas=5 --current-replicas=2 2>&1 | grep -q "Expected replicas to be 2, was 1" ||
        fail "scale's precondition"
[ $saw_order = yes ] || fail "never saw web-2 gone while web-1 remained"
exists pvc data-web-2 || fail "whenScaled Retain deleted data-web-2"
echo "PASS: scale down 3 -> 1 from the highest ordinal, claims retained"

# --- rolling update with partition 2 on 3 replicas: only web-2 gets the new template
sts 3 1 0 Retain | b apply -f - >/dev/null || fail "scale to 3"
b rollout status sts/web --timeout=60s >"$T/rollout.log" 2>&1 || fail "rollout status: $(cat "$T/rollout.log")"
grep -q "Waiting for 2 pods to be ready\|Waiting for 1 pods to be ready" "$T/rollout.log" || fail "rollout status progress: $(cat "$T/rollout.log")"
tail -1 "$T/rollout.log" | grep -q "roll out complete: 3 new pods have been updated" || fail "rollout status end: $(cat "$T/rollout.log")"
wait_for 40 "3 ready" sts_is 'd["status"].get("readyReplicas",0)' 3
old=$(hash_of web-0)
sts 3 2 2 Retain | b apply -f - >/dev/null || fail "update with partition 2"
wait_for 40 "web-2 updated" sh -c "[ \"\$($BERTH get pod web-2 -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"metadata\"][\"labels\"][\"controller-revision-hash\"])')\" != $old ]"
wait_for 30 "web-2 Ready again" is_ready web-2
sleep 3
[ "$(hash_of web-0)" = "$old" ] && [ "$(hash_of web-1)" = "$old" ] || fail "the partition did not hold web-0/web-1"
wait_for 10 "updatedReplicas 1" sts_is 'd["status"].get("updatedReplicas",0)' 1
[ "$(sts_field 'd["status"]["currentRevision"]')" != "$(sts_field 'd["status"]["updateRevision"]')" ] ||
        fail "currentRevision should differ from updateRevision during a partitioned update"
echo "PASS: rolling update held by the partition"

# --- whenScaled Delete: scaling down removes the removed ordinal's claim
sts 2 2 2 Delete | b apply -f - >/dev/null || fail "scale to 2 with whenScaled Delete"
wait_for 30 "web-2 gone" gone pod web-2
wait_for 30 "data-web-2 deleted" gone pvc data-web-2
exists pvc data-web-1 || fail "data-web-1 should stay"
echo "PASS: whenScaled Delete"

# --- deleting the set: its pods go, the claims stay (whenDeleted Retain)
b delete sts web >/dev/null || fail "delete the set"
wait_for 30 "pods gone" sh -c "! $BERTH get pods 2>/dev/null | grep -q web-"
exists pvc data-web-0 && exists pvc data-web-1 || fail "whenDeleted Retain lost a claim"
b delete pvc --all --timeout=30s >/dev/null 2>&1
echo "PASS: test-statefulset"
