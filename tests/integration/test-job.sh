#!/bin/bash
# Jobs with the real agent: completions and parallelism, Indexed jobs, backoffLimit,
# activeDeadlineSeconds, podFailurePolicy, suspend/resume, ttlSecondsAfterFinished and
# delete --cascade.
. "$(dirname "$0")/lib.sh"
require_root
start_agent

job() { # name, extra spec lines (indented 2), container command, [restartPolicy]
        cat <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
spec:
$2
  template:
    spec:
      restartPolicy: ${4:-Never}
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: ["/bin/sh", "-c", "$3"]
YAML
}
jf() { b get job "$1" -o json | jget "$2"; }
cond_is() { # job type reason
        b get job "$1" -o json | python3 -c "
import json,sys
d=json.load(sys.stdin)
c=[c for c in d.get('status',{}).get('conditions',[]) if c['type']=='$2' and c['status']=='True']
sys.exit(0 if c and ('$3'=='' or c[0].get('reason')=='$3') else 1)"
}

# completions 3, parallelism 2
job three "  completions: 3
  parallelism: 2" "echo done" | b apply -f - >/dev/null || fail "apply three"
wait_for 30 "three Complete" cond_is three Complete ""
[ "$(jf three 'd["status"]["succeeded"]')" = 3 ] || fail "succeeded != 3"
[ "$(b get pods -l job-name=three -o name | wc -l)" = 3 ] || fail "not 3 pods"
b get pods -l batch.kubernetes.io/job-name=three -o json | jget 'd["items"][0]["metadata"]["ownerReferences"][0]["kind"]' |
        grep -qx Job || fail "pods have no Job owner"
b get jobs | grep -Eq '^three +Complete +3/3 ' || fail "get jobs: $(b get jobs)"

# Indexed: each pod sees its index and hostname
job idx "  completions: 3
  parallelism: 3
  completionMode: Indexed" 'echo index=$JOB_COMPLETION_INDEX' | b apply -f - >"$T/out" 2>&1 || fail "apply idx: $(cat $T/out)"
wait_for 30 "idx Complete" cond_is idx Complete ""
[ "$(jf idx 'd["status"]["completedIndexes"]')" = "0-2" ] || fail "completedIndexes: $(jf idx 'd["status"]')"
for p in $(b get pods -l job-name=idx -o name); do b logs "$p"; done | sort | tr '\n' ' ' | grep -qx "index=0 index=1 index=2 " ||
        fail "indexes seen: $(for p in $(b get pods -l job-name=idx -o name); do b logs "$p"; done)"

# backoffLimit 0: the first failure fails the Job
job fails "  backoffLimit: 0" "exit 3" | b apply -f - >/dev/null || fail "apply fails"
wait_for 30 "fails Failed/BackoffLimitExceeded" cond_is fails Failed BackoffLimitExceeded

# activeDeadlineSeconds: the running pod is killed
job slow "  activeDeadlineSeconds: 2" "sleep 300" | b apply -f - >/dev/null || fail "apply slow"
wait_for 30 "slow Failed/DeadlineExceeded" cond_is slow Failed DeadlineExceeded
wait_for 20 "slow's pod gone" sh -c "[ -z \"\$($BERTH get pods -l job-name=slow -o name)\" ]"

# podFailurePolicy FailJob on exit code 42
job policy "  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes:
        operator: In
        values: [42]" "exit 42" | b apply -f - >/dev/null || fail "apply policy"
wait_for 30 "policy Failed/PodFailurePolicy" cond_is policy Failed PodFailurePolicy

# suspend, then resume
job later "  suspend: true" "echo resumed" | b apply -f - >/dev/null || fail "apply later"
sleep 2
[ "$(b get pods -l job-name=later -o name | wc -l)" = 0 ] || fail "a suspended job created pods"
cond_is later Suspended JobSuspended || fail "no Suspended condition"
job later "  suspend: false" "echo resumed" | b apply -f - >/dev/null || fail "resume later"
wait_for 30 "later Complete" cond_is later Complete ""

# ttlSecondsAfterFinished: 0 deletes the finished Job and its pods
job brief "  ttlSecondsAfterFinished: 0" "true" | b apply -f - >/dev/null || fail "apply brief"
wait_for 30 "brief deleted" sh -c "! $BERTH get job brief"
wait_for 20 "brief's pods deleted" sh -c "[ -z \"\$($BERTH get pods -l job-name=brief -o name)\" ]"

# delete --cascade=orphan keeps the pods; the default removes them
b delete job three --cascade=orphan >/dev/null || fail "delete orphan"
[ "$(b get pods -l job-name=three -o name | wc -l)" = 3 ] || fail "orphan delete removed pods"
b delete job idx >/dev/null || fail "delete idx"
wait_for 20 "idx pods deleted" sh -c "[ -z \"\$($BERTH get pods -l job-name=idx -o name)\" ]"

# Indexed with backoffLimitPerIndex: index 1 fails twice and is given up, the others succeed
job perindex "  completions: 3
  parallelism: 3
  completionMode: Indexed
  backoffLimitPerIndex: 1
  maxFailedIndexes: 1" '[ \"$JOB_COMPLETION_INDEX\" != 1 ]' | b apply -f - >"$T/out" 2>&1 || fail "apply perindex: $(cat "$T/out")"
wait_for 60 "perindex Failed/FailedIndexes" cond_is perindex Failed FailedIndexes
[ "$(jf perindex 'd["status"]["failedIndexes"]')" = 1 ] || fail "failedIndexes: $(jf perindex 'd["status"]')"
[ "$(jf perindex 'd["status"]["completedIndexes"]')" = "0,2" ] || fail "completedIndexes: $(jf perindex 'd["status"]')"

# OnFailure: the container restarts in place; the restart count reaching backoffLimit fails the Job
job restarts "  backoffLimit: 1" "exit 1" OnFailure | b apply -f - >/dev/null || fail "apply restarts"
wait_for 60 "restarts Failed/BackoffLimitExceeded" cond_is restarts Failed BackoffLimitExceeded
[ "$(b get pods -l job-name=restarts -o name | wc -l)" = 0 ] || [ "$(jf restarts 'd["status"]["failed"]')" -ge 1 ] ||
        fail "restarts: $(jf restarts 'd["status"]')"

# successPolicy: index 0 succeeding is enough
job policy2 "  completions: 3
  parallelism: 3
  completionMode: Indexed
  successPolicy:
    rules:
    - succeededIndexes: \"0\"" 'if [ \"$JOB_COMPLETION_INDEX\" = 0 ]; then exit 0; fi; sleep 300' | b apply -f - >"$T/out" 2>&1 ||
        fail "apply policy2: $(cat "$T/out")"
wait_for 60 "policy2 Complete" cond_is policy2 Complete ""
cond_is policy2 SuccessCriteriaMet SuccessPolicy || fail "no SuccessCriteriaMet/SuccessPolicy"
wait_for 30 "policy2's other pods gone" sh -c "[ \"\$($BERTH get pods -l job-name=policy2 -o json | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)[\"items\"] if p[\"status\"].get(\"phase\")==\"Running\"))')\" = 0 ]"

# a Job with restartPolicy Always is refused with the Kubernetes message
job always "" "true" Always | b apply -f - 2>"$T/err" && fail "restartPolicy Always accepted"
grep -q 'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"' "$T/err" ||
        fail "message: $(cat "$T/err")"
b get job always >/dev/null 2>&1 && fail "the refused Job was stored"
echo "ok"
