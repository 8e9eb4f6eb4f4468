#!/bin/bash
# kill -9 the agent: running containers keep running and are re-adopted without a restart;
# a container that exited while the agent was away keeps its exit code.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

pod_manifest long 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' | b apply -f - >/dev/null || fail "apply long"
pod_manifest short 'sleep 2; exit 42' Never | b apply -f - >/dev/null || fail "apply short"
wait_for 10 "long Running" pod_phase_is long Running
wait_for 10 "short Running" pod_phase_is short Running
cid=$(pod_field long 'd["status"]["containerStatuses"][0]["containerID"]')

stop_agent KILL
sleep 3 # "short" exits while no agent is watching
start_agent

wait_for 10 "short Failed after re-adoption" pod_phase_is short Failed
[ "$(pod_field short 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]')" = 42 ] ||
        fail "exit code lost across the agent's restart"
[ "$(pod_field long 'd["status"]["containerStatuses"][0]["containerID"]')" = "$cid" ] ||
        fail "long was restarted instead of re-adopted"
[ "$(pod_field long 'd["status"]["containerStatuses"][0]["restartCount"]')" = 0 ] || fail "restartCount moved"
pod_phase_is long Running || fail "long not Running after re-adoption"
echo "ok"
