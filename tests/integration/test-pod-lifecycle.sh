#!/bin/bash
# A host pod from YAML: apply, Running and Ready, logs, get -o json/yaml/name, describe,
# events, exit code of a finished pod, delete (graceful), and nothing left behind.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

pod_manifest web 'echo hello from $(POD_NAME); trap \"exit 0\" TERM; while :; do sleep 0.2; done' >"$T/web.yaml"
# expose the pod name through the downward API and use $(VAR) expansion in the command
python3 - "$T/web.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read().replace("    command:", "    env:\n    - name: POD_NAME\n      valueFrom:\n        fieldRef:\n          fieldPath: metadata.name\n    command:")
open(p, "w").write(s)
PY
out=$(b apply -f "$T/web.yaml") || fail "apply failed: $out"
[ "$out" = "pod/web created" ] || fail "apply printed '$out'"
[ "$(b apply -f "$T/web.yaml")" = "pod/web unchanged" ] || fail "re-apply is not unchanged"

wait_for 10 "pod web Running" pod_phase_is web Running
b wait --for=condition=Ready pod/web --timeout=10s >/dev/null || fail "wait for Ready failed"
[ "$(pod_field web 'd["status"]["containerStatuses"][0]["ready"]')" = True ] || fail "container not ready"
[ "$(pod_field web 'd["spec"]["nodeName"]')" = "$NODE" ] || fail "pod not bound to $NODE"
b get pods | grep -Eq '^web +1/1 +Running +0 ' || fail "get pods table: $(b get pods)"
[ "$(b get pod web -o name)" = "pod/web" ] || fail "-o name"
b get pod web -o yaml | grep -q '^kind: Pod$' || fail "-o yaml"
wait_for 5 "log line" sh -c "$BERTH logs web | grep -qx 'hello from web'"
b describe pod/web | grep -q 'Started container main' || fail "describe shows no Started event"
b get events | grep -q 'Scheduled' || fail "no Scheduled event"

# a pod that exits 7 with restartPolicy Never ends Failed with the exit code kept
pod_manifest seven 'exit 7' Never | b apply -f - >/dev/null || fail "apply seven"
wait_for 10 "pod seven Failed" pod_phase_is seven Failed
[ "$(pod_field seven 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]')" = 7 ] ||
        fail "exit code 7 not reported"

# graceful delete: SIGTERM reaches the container, which exits 0, and the pod disappears
pid=$(pgrep -f "while :; do sleep 0.2" | head -1)
[ -n "$pid" ] || fail "container process not found"
b delete pod web --timeout=20s | grep -q 'pod "web" deleted' || fail "delete"
b get pod web >/dev/null 2>&1 && fail "pod still there after delete"
kill -0 "$pid" 2>/dev/null && fail "container process $pid still alive"
[ -d "$T/logs" ] && ls "$T/logs" | grep -q '_web_' && fail "logs of the deleted pod were kept"
echo "ok"
