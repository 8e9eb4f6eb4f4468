#!/bin/bash
# Cluster mode with a real etcd and three agents on this machine: each registers its node
# under a lease; CronJobs applied to node1 reach the other two through etcd; the fleet CronJob
# launches once per minute in total, the one annotated berth.dev/cron-scope: node once per
# minute on each node, for CLUSTER_CRON_MINUTES consecutive minutes (2 here; the closing
# figures ran 5); an agent that loses etcd stops claiming (its CronJob runs are skipped, never
# doubled) and comes back when etcd returns. Meanwhile a DaemonSet runs on every node and rolls
# out with maxUnavailable 1 across the fleet (cluster-ds.sh). StatefulSets: test-cluster-sts.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-cluster.sh"
. "$(dirname "$0")/cluster-ds.sh"
require_root
MINUTES=${CLUSTER_CRON_MINUTES:-2}

start_etcd
for n in 1 2 3; do start_node $n; done

etcd_keys() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get --prefix "$1" --keys-only | grep -c .; }
wait_for 20 "three nodes registered" sh -c "[ \$(ETCDCTL_API=3 etcdctl --endpoints $ETCD_URL get --prefix /berth/nodes/ --keys-only | grep -c .) = 3 ]"
echo "PASS: three nodes registered in etcd"

cron() { # name scope log
        cat <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: $1
  annotations: {berth.dev/cron-scope: "$2"}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox
            env:
            - name: NODE
              valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
            command: ["/bin/sh", "-c", "echo \$((\$(date +%s) / 60)) \$NODE >>$3"]
YAML
}
start_min=$(($(date +%s) / 60))
cron tick fleet "$T/fleet.log" | bn 1 apply -f - >/dev/null || fail "apply the fleet CronJob to node1"
cron every node "$T/pernode.log" | bn 1 apply -f - >/dev/null || fail "apply the per-node CronJob to node1"
for n in 2 3; do
        wait_for 20 "the CronJobs on node$n" bn $n get cronjob tick every
done
echo "PASS: CronJobs applied to node1 are on node2 and node3"

# while the CronJobs' minutes pass: a DaemonSet across the fleet, rolled out one node at a time
cluster_ds_test


# the minutes after the one they were applied in, all of them, and a margin for the last runs
end_min=$((start_min + MINUTES))
until [ $(($(date +%s) / 60)) -gt "$end_min" ]; do sleep 5; done
sleep 15
for m in $(seq $((start_min + 1)) "$end_min"); do
        f=$(grep -c "^$m " "$T/fleet.log" 2>/dev/null)
        [ "${f:-0}" = 1 ] || fail "minute $m: the fleet CronJob ran ${f:-0} times: $(cat "$T/fleet.log" 2>/dev/null | tr '\n' ';')"
        for n in 1 2 3; do
                p=$(grep -c "^$m node$n\$" "$T/pernode.log" 2>/dev/null)
                [ "${p:-0}" = 1 ] || fail "minute $m: the per-node CronJob ran ${p:-0} times on node$n: $(cat "$T/pernode.log" 2>/dev/null | tr '\n' ';') $(bn $n get cronjobs,jobs,pods 2>&1; bn $n get events 2>&1 | tail -12)"
        done
done
echo "PASS: $MINUTES consecutive minutes: the fleet CronJob once in all, the per-node one once on each node"
[ "$(etcd_keys /berth/cron/default/tick/)" -ge "$MINUTES" ] || fail "no claims recorded in etcd"

# --- etcd goes away: no claim can be made, nothing runs twice; it comes back
kill -STOP "$ETCD_PID"
wait_for 15 "node1 sees its lease at risk" grep -q "cannot be renewed" "$T/n1/agent.log"
kill -CONT "$ETCD_PID"
wait_for 30 "node1 registered again" sh -c "[ \$(grep -c 'Registered in etcd' $T/n1/agent.log) -ge 2 ]"
echo "PASS: losing etcd stops claims, and the node registers again"

bn 2 delete cronjobs --all >/dev/null 2>&1 || fail "delete the CronJobs through node2"
wait_for 20 "the CronJobs gone from node1 and node3" sh -c "! BERTH_SOCKET=$T/n1/berth.sock $BERTH get cronjobs 2>&1 | grep -q '^tick' && ! BERTH_SOCKET=$T/n3/berth.sock $BERTH get cronjobs 2>&1 | grep -q '^tick'"
echo "PASS: deleting on node2 deletes on every node"
echo "PASS: test-cluster"
