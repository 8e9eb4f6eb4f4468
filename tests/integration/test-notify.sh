#!/bin/bash
# sd_notify as systemd sees it: READY=1 once serving, STATUS= following the pods, and
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
NOTIFY_SOCKET=$T/notify.sock start_agent

wait_for 5 "READY=1" grep -q "READY=1" "$T/notify.log"
pod_manifest n1 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' | b apply -f - >/dev/null || fail "apply"
wait_for 10 "n1 Running" pod_phase_is n1 Running
wait_for 5 "STATUS with the pod" grep -q "STATUS=1 pods, 1 containers running" "$T/notify.log"
b delete pod n1 --timeout=20s >/dev/null || fail "delete"
stop_agent TERM
wait_for 5 "STOPPING=1" grep -q "STOPPING=1" "$T/notify.log"
kill "$LISTENER" 2>/dev/null
echo "ok"
