#!/bin/bash
# restartPolicy: Always restarts a crashing container (first at once, then with back-off
# shown as CrashLoopBackOff); OnFailure leaves a successful one alone; init containers run
# first and in order.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

pod_manifest crash 'echo run; exit 1' Always | b apply -f - >/dev/null || fail "apply crash"
wait_for 10 "one restart" sh -c "[ \"\$($BERTH get pod crash -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"containerStatuses\"][0][\"restartCount\"])')\" -ge 1 ]"
wait_for 10 "CrashLoopBackOff" sh -c "$BERTH get pods crash | grep -q CrashLoopBackOff"
b logs crash --previous | grep -qx run || fail "logs --previous"
# the second restart waits out the 10 s back-off (a lower bound: a slow machine only adds)
first=$(date +%s)
wait_for 25 "second restart after the back-off" sh -c "[ \"\$($BERTH get pod crash -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"containerStatuses\"][0][\"restartCount\"])')\" -ge 2 ]"
[ $(($(date +%s) - first)) -ge 8 ] || fail "the second restart did not wait for the back-off"
kill -0 "$AGENT_PID" || fail "the agent died while restarting a crash-looping container"

pod_manifest ok 'exit 0' OnFailure | b apply -f - >/dev/null || fail "apply ok"
wait_for 10 "ok Succeeded" pod_phase_is ok Succeeded
[ "$(pod_field ok 'd["status"]["containerStatuses"][0]["restartCount"]')" = 0 ] || fail "OnFailure restarted a success"

cat >"$T/init.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: init
spec:
  restartPolicy: Never
  initContainers:
  - name: one
    image: busybox
    command: ["/bin/sh", "-c", "echo one >> $T/order"]
  - name: two
    image: busybox
    command: ["/bin/sh", "-c", "echo two >> $T/order"]
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "echo main >> $T/order"]
YAML
b apply -f "$T/init.yaml" >/dev/null || fail "apply init"
wait_for 10 "init Succeeded" pod_phase_is init Succeeded
[ "$(tr '\n' ' ' <"$T/order")" = "one two main " ] || fail "order was: $(cat "$T/order")"
echo "ok"
