#!/bin/bash
# SIGTERM leaves workloads running; SIGTERM with --drain stops them first.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

pod_manifest keep 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' | b apply -f - >/dev/null || fail "apply"
wait_for 10 "keep Running" pod_phase_is keep Running
pid=$(pgrep -f "shim $T/" | head -1)
[ -n "$pid" ] || fail "no shim found"
stop_agent TERM
kill -0 "$pid" 2>/dev/null || fail "SIGTERM stopped the workload"

start_agent --drain
wait_for 10 "keep Running again" pod_phase_is keep Running
stop_agent TERM
sleep 0.5
pgrep -f "shim $T/" >/dev/null && fail "--drain left workloads running"
grep -q "Drained" "$T/agent.log" || fail "no drain message"
echo "ok"
