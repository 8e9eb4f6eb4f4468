#!/bin/bash
# sd_notify as systemd sees it: READY=1 once serving, STATUS= following the pods, WATCHDOG=1
# while healthy, RELOADING=1 and READY=1 around a SIGHUP that re-reads the config, and
# STOPPING=1 on SIGTERM, read from a NOTIFY_SOCKET datagram socket like systemd's.
. "$(dirname "$0")/lib.sh"
require_root

python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 60
with open(sys.argv[2], "a", buffering=1) as f:
    while time.time() < end:
        try:
            f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        except socket.timeout:
            pass
PY
LISTENER=$!
wait_for 5 "notify socket" test -S "$T/notify.sock"
AGENT_CONFIG_EXTRA="labels: {zone: a}
"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 start_agent

wait_for 5 "READY=1" grep -q "READY=1" "$T/notify.log"
pod_manifest n1 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' | b apply -f - >/dev/null || fail "apply"
wait_for 10 "n1 Running" pod_phase_is n1 Running
wait_for 5 "STATUS with the pod" grep -q "STATUS=1 pods, 1 containers running" "$T/notify.log"
b delete pod n1 --timeout=20s >/dev/null || fail "delete"

# the watchdog is fed while the agent is healthy (every WATCHDOG_USEC / 2)
sleep 1
[ "$(grep -c "WATCHDOG=1" "$T/notify.log")" -ge 3 ] || fail "WATCHDOG=1 sent $(grep -c "WATCHDOG=1" "$T/notify.log") times in 1 s"

# SIGHUP re-reads the config: the node's labels follow, a setting that needs a restart is named
node_zone() { b get node "$NODE" -o json | jget 'd["metadata"]["labels"].get("zone","")'; }
[ "$(node_zone)" = a ] || fail "zone label: $(node_zone)"
sed -i 's/zone: a/zone: b/' "$T/config.yaml"
sed -i 's/^cgroupRoot: .*/cgroupRoot: elsewhere/' "$T/config.yaml"
kill -HUP "$AGENT_PID"
wait_for 5 "RELOADING=1" grep -q "RELOADING=1" "$T/notify.log"
wait_for 5 "zone b after the reload" sh -c "[ \"\$($BERTH get node $NODE -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"metadata\"][\"labels\"].get(\"zone\",\"\"))')\" = b ]"
[ "$(grep -c "READY=1" "$T/notify.log")" -ge 2 ] || fail "no READY=1 after the reload"
grep -q "The config's cgroupRoot changed: it takes effect when the agent restarts." "$T/agent.log" ||
        fail "no word about a setting that needs a restart"
# a config that does not load changes nothing
echo "bogus: 1" >>"$T/config.yaml"
kill -HUP "$AGENT_PID"
wait_for 5 "the reload refused" grep -q 'The config was not reloaded: .*bogus: Unknown field' "$T/agent.log"
[ "$(node_zone)" = b ] || fail "a bad config changed the node"
stop_agent TERM
wait_for 5 "STOPPING=1" grep -q "STOPPING=1" "$T/notify.log"
kill "$LISTENER" 2>/dev/null
echo "ok"
