#!/bin/bash
# CronJobs with the real agent: a "* * * * *" CronJob launches <name>-<unix minutes> at the
# minute with the scheduled-time annotation; SIGKILL right after a launch commits, then a
# restart, runs that minute exactly once; berth cron next needs no agent; bad schedules,
# zones and long names are refused.
. "$(dirname "$0")/lib.sh"
require_root

# berth cron next: DST in New York (2 am skipped on 2012-03-11)
out=$(b cron next '0 2 * * *' --tz America/New_York --from 2012-03-10T12:00:00-05:00 -n 2) || fail "cron next"
[ "$out" = "2012-03-12T02:00:00-04:00
2012-03-13T02:00:00-04:00" ] || fail "cron next printed: $out"
b cron next '0 0 * * 7' 2>"$T/err" && fail "dow 7 accepted"
grep -q 'end of range (7) above maximum (6)' "$T/err" || fail "dow 7 message: $(cat "$T/err")"
b cron next '* * * * *' --tz Mars/Base 2>"$T/err" && fail "unknown zone accepted"
grep -q 'unknown time zone Mars/Base' "$T/err" || fail "zone message: $(cat "$T/err")"

start_agent
cronjob() { # name schedule [extra spec]
        cat <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: $1
spec:
  schedule: "$2"
${3:-}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: busybox
            command: ["/bin/sh", "-c", "date +%s >> $T/$1.runs"]
YAML
}

# bad input is refused with the Kubernetes message and stores nothing
cronjob bad 'TZ=UTC * * * * *' | b apply -f - 2>"$T/err" && fail "TZ= accepted"
grep -q 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead' "$T/err" || fail "TZ message: $(cat "$T/err")"
cronjob "$(printf 'a%.0s' $(seq 53))" '* * * * *' | b apply -f - 2>"$T/err" && fail "a 53-character name accepted"
grep -q 'must be no more than 52 characters' "$T/err" || fail "name message: $(cat "$T/err")"
cronjob zone '* * * * *' '  timeZone: Mars/Base' | b apply -f - 2>"$T/err" && fail "unknown timeZone accepted"
[ -z "$(b get cronjobs -o name)" ] || fail "refused CronJobs were stored"

# a per-minute CronJob: wait for the next minute's run
cronjob tick '* * * * *' | b apply -f - >/dev/null || fail "apply tick"
wait_for 75 "tick ran" test -s "$T/tick.runs"
ran=$(head -1 "$T/tick.runs")
minute=$((ran / 60))
b get job "tick-$minute" >/dev/null || fail "no Job tick-$minute: $(b get jobs)"
b get job "tick-$minute" -o json | grep -q '"batch.kubernetes.io/cronjob-scheduled-timestamp"' ||
        fail "no scheduled-timestamp annotation"
[ "$(b get cronjob tick -o json | jget 'd["status"]["lastScheduleTime"]')" = \
  "$(date -u -d "@$((minute * 60))" +%Y-%m-%dT%H:%M:%SZ)" ] || fail "lastScheduleTime"
b delete cronjob tick >/dev/null || fail "delete tick"

# exactly once across SIGKILL right after the launch commits
stop_agent TERM
cronjob crash '* * * * *' >"$T/manifests/crash.yaml"
BERTH_FAULT=cronjob-after-commit start_agent
wait_for 75 "the agent killing itself after the launch commit" sh -c "! kill -0 $AGENT_PID 2>/dev/null"
AGENT_PID=
# suspended from now on: no further launches, the committed one still runs
cronjob crash '* * * * *' '  suspend: true' >"$T/manifests/crash.yaml"
start_agent
wait_for 30 "the crashed launch running after the restart" test -s "$T/crash.runs"
sleep 3
[ "$(wc -l <"$T/crash.runs")" = 1 ] || fail "the launch ran $(wc -l <"$T/crash.runs") times"
echo "ok"
