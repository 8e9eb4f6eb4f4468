#!/bin/bash
# The manifests directory: a file dropped in is applied, a changed file re-applied (objects
# it no longer holds are deleted), a removed file's objects deleted, a broken file ignored.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

{ pod_manifest a 'trap \"exit 0\" TERM; while :; do sleep 0.2; done'; echo '---'
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: v\n'; } >"$T/manifests/.tmp"
mv "$T/manifests/.tmp" "$T/manifests/app.yaml"
wait_for 10 "pod a from the manifests dir" pod_phase_is a Running
b get cm cfg >/dev/null || fail "configmap not applied"

# the file now holds only the ConfigMap: pod a goes
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: v2\n' >"$T/manifests/app.yaml"
wait_for 15 "pod a deleted" sh -c "! $BERTH get pod a"
[ "$(b get cm cfg -o json | jget 'd["data"]["k"]')" = v2 ] || fail "configmap not updated"

# a broken file changes nothing
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata: [\n' >"$T/manifests/app.yaml"
sleep 1
[ "$(b get cm cfg -o json | jget 'd["data"]["k"]')" = v2 ] || fail "a broken file changed the object"
grep -q "app.yaml:" "$T/agent.log" || fail "the broken file was not reported with its name"

rm "$T/manifests/app.yaml"
wait_for 10 "configmap deleted with its file" sh -c "! $BERTH get cm cfg"
echo "ok"
