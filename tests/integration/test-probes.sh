#!/bin/bash
# Probes and lifecycle hooks with the real agent: readiness follows a file an exec probe
# checks; a liveness failure kills the container, which restarts with restartCount and the
# crash-loop back-off visible; a startup probe holds the other probes back; httpGet and
# tcpSocket probes against a loopback server; readiness survives an agent restart;
# postStart and preStop hooks run.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

ready_of() { pod_field "$1" '[c["status"] for c in d["status"]["conditions"] if c["type"]=="Ready"][0]'; }
cstatus() { pod_field "$1" "d['status']['containerStatuses'][0]$2"; }

# --- readiness follows a file
cat >"$T/ready.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
    readinessProbe:
      exec: {command: ["/bin/sh", "-c", "test -f $T/ready"]}
      periodSeconds: 1
      failureThreshold: 1
YAML
b apply -f "$T/ready.yaml" >/dev/null || fail "apply ready"
wait_for 10 "ready running" sh -c "[ \"\$($BERTH get pod ready -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"phase\"])')\" = Running ]"
sleep 2
[ "$(ready_of ready)" = False ] || fail "ready without its file"
[ "$(cstatus ready '["ready"]')" = False ] || fail "container ready without its file"
touch "$T/ready"
wait_for 10 "Ready=True after the file appeared" sh -c "[ \"\$($BERTH get pod ready -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([c[\"status\"] for c in d[\"status\"][\"conditions\"] if c[\"type\"]==\"Ready\"][0])')\" = True ]"
[ "$(cstatus ready '["ready"]')" = True ] || fail "containerStatuses.ready"
b describe pod ready >"$T/describe" || fail "describe"
grep -q "Readiness:.*exec \[/bin/sh -c test -f $T/ready\] delay=0s timeout=1s period=1s #success=1 #failure=1" "$T/describe" ||
        { cat "$T/describe" >&2; fail "describe: the Readiness line"; }
grep -q "Result:.*success, [0-9]* consecutive successes, 0 consecutive failures; last probe" "$T/describe" ||
        { cat "$T/describe" >&2; fail "describe: the probe's live state"; }

# --- readiness is carried over an agent restart (no flip to False)
stop_agent TERM
start_agent
for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ "$(ready_of ready)" = True ] || fail "readiness flipped to False after the agent restarted"
        sleep 0.2
done
rm -f "$T/ready"
wait_for 10 "Ready=False after the file went" sh -c "[ \"\$($BERTH get pod ready -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([c[\"status\"] for c in d[\"status\"][\"conditions\"] if c[\"type\"]==\"Ready\"][0])')\" = False ]"
b get events >"$T/ev" 2>&1
grep -q "Unhealthy.*pod/ready.*Readiness probe failed" "$T/ev" || { cat "$T/ev" >&2; fail "no Unhealthy event"; }
b delete pod ready --grace-period=1 >/dev/null

# --- liveness kills, restartPolicy restarts, the back-off shows
touch "$T/alive"
cat >"$T/live.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
    livenessProbe:
      exec: {command: ["/bin/sh", "-c", "test -f $T/alive"]}
      periodSeconds: 1
      failureThreshold: 2
      terminationGracePeriodSeconds: 1
YAML
b apply -f "$T/live.yaml" >/dev/null || fail "apply live"
wait_for 10 "live running" sh -c "$BERTH get pod live | grep -q Running"
sleep 3
[ "$(cstatus live '["restartCount"]')" = 0 ] || fail "restarted while its liveness probe passed"
rm -f "$T/alive"
wait_for 15 "restart after the liveness failure" sh -c "[ \"\$($BERTH get pod live -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"containerStatuses\"][0][\"restartCount\"])')\" -ge 1 ]"
[ "$(cstatus live '["lastState"]["terminated"]["exitCode"]')" = 137 ] || [ "$(cstatus live '["lastState"]["terminated"]["exitCode"]')" = 143 ] ||
        fail "lastState: $(cstatus live '["lastState"]')"
b get events >"$T/ev" 2>&1
grep -q "Killing.*pod/live.*Container main failed liveness probe, will be restarted" "$T/ev" || { cat "$T/ev" >&2; fail "no Killing event"; }
grep -q "Unhealthy.*pod/live.*Liveness probe failed" "$T/ev" || { cat "$T/ev" >&2; fail "no Unhealthy event"; }
# still failing: killed again, and now it waits out the back-off
wait_for 20 "CrashLoopBackOff after the second kill" sh -c "$BERTH get pod live -o json | grep -q CrashLoopBackOff"
b delete pod live --grace-period=1 >/dev/null

# --- a startup probe holds liveness and readiness back
cat >"$T/startup.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
    startupProbe:
      exec: {command: ["/bin/sh", "-c", "test -f $T/started"]}
      periodSeconds: 1
      failureThreshold: 60
    readinessProbe:
      exec: {command: ["/bin/sh", "-c", "echo ran >> $T/readiness-runs"]}
      periodSeconds: 1
YAML
b apply -f "$T/startup.yaml" >/dev/null || fail "apply startup"
wait_for 10 "startup running" sh -c "$BERTH get pod startup | grep -q Running"
sleep 3
[ "$(cstatus startup '["started"]')" = False ] || fail "started before its startup probe passed"
[ ! -e "$T/readiness-runs" ] || fail "readiness ran before the startup probe passed"
touch "$T/started"
wait_for 10 "started and ready" sh -c "[ \"\$($BERTH get pod startup -o json | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"status\"][\"containerStatuses\"][0]; print(c[\"started\"], c[\"ready\"])')\" = 'True True' ]"
[ -s "$T/readiness-runs" ] || fail "readiness did not run after the start"
b delete pod startup --grace-period=1 >/dev/null

# --- httpGet and tcpSocket against a loopback server
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/www"
echo ok >"$T/www/healthz"
(cd "$T/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null; cleanup' EXIT
wait_for 10 "the loopback server" python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)"
cat >"$T/net.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: net}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 600"]
    ports: [{name: web, containerPort: $port}]
    readinessProbe:
      httpGet: {path: /healthz, port: web}
      periodSeconds: 1
    livenessProbe:
      tcpSocket: {port: $port}
      periodSeconds: 1
YAML
b apply -f "$T/net.yaml" >/dev/null || fail "apply net"
wait_for 10 "httpGet readiness" sh -c "[ \"\$($BERTH get pod net -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"containerStatuses\"][0][\"ready\"])')\" = True ]"
rm "$T/www/healthz"
wait_for 10 "unready on 404" sh -c "[ \"\$($BERTH get pod net -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"][\"containerStatuses\"][0][\"ready\"])')\" = False ]"
b get events 2>&1 | grep -q "pod/net.*HTTP probe failed with statuscode: 404" || fail "no 404 event"
[ "$(cstatus net '["restartCount"]')" = 0 ] || fail "the tcpSocket liveness probe failed against an open port"
b delete pod net --grace-period=1 >/dev/null

# --- lifecycle hooks
cat >"$T/hooks.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "trap 'echo term >> $T/hooks; exit 0' TERM; while :; do sleep 0.1; done"]
    lifecycle:
      postStart:
        exec: {command: ["/bin/sh", "-c", "echo post-start >> $T/hooks"]}
      preStop:
        exec: {command: ["/bin/sh", "-c", "echo pre-stop >> $T/hooks"]}
YAML
b apply -f "$T/hooks.yaml" >/dev/null || fail "apply hooks"
wait_for 10 "postStart ran" grep -q post-start "$T/hooks"
b delete pod hooks --timeout=20s >/dev/null || fail "delete hooks"
[ "$(tr '\n' ' ' <"$T/hooks")" = "post-start pre-stop term " ] || fail "hooks ran as: $(cat "$T/hooks")"
echo "ok"
