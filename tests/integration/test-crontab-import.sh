#!/bin/bash
# berth import crontab with the real agent: a crontab with an @reboot line and an every-minute
# line is imported (no agent needed) and applied. The @reboot Job runs once, as the crontab's
# user in its home, and its output is in berth logs; an agent restart within the same boot
# does not run it again, a new boot id (a faked reboot) runs it once more. The every-minute
# CronJob is stored with cron's schedule and command. A bad line fails the import.
. "$(dirname "$0")/lib.sh"
require_root

cat >"$T/crontab" <<EOF
# a user crontab as crontab -l prints it
MAILTO=""
@reboot echo "boot as \$LOGNAME in \$PWD" >>$T/boot.runs; echo hello from reboot; cat%stdin from cron
* * * * * date +\%s >>$T/minute.runs
EOF

# the import needs no agent; a line cron refuses fails it, and prints nothing
printf '5/10 * * * * x\n' | b import crontab - --user root >"$T/bad.yaml" 2>"$T/err" && fail "a bad line was imported"
[ -s "$T/bad.yaml" ] && fail "a failed import printed: $(cat "$T/bad.yaml")"
grep -q '^crontab:1: error: bad minute "5/10"' "$T/err" || fail "bad line message: $(cat "$T/err")"

b import crontab "$T/crontab" --user root >"$T/cronjobs.yaml" 2>"$T/err" || fail "import: $(cat "$T/err")"
grep -q "$T/crontab:3: warning: @reboot runs once per boot" "$T/err" || fail "no @reboot warning: $(cat "$T/err")"
[ "$(grep -c '^kind: CronJob$' "$T/cronjobs.yaml")" = 2 ] || fail "not 2 CronJobs: $(cat "$T/cronjobs.yaml")"
b validate -f "$T/cronjobs.yaml" >/dev/null || fail "the import is not valid"

reboot_runs() { [ -f "$T/boot.runs" ] && wc -l <"$T/boot.runs" || echo 0; }
reboot_jobs() { b get jobs -o json | jget 'sum(1 for j in d["items"] if j["metadata"]["name"].startswith("root-1-"))'; }

start_agent
b apply -f "$T/cronjobs.yaml" >/dev/null || fail "apply"
wait_for 30 "the @reboot job ran" test -s "$T/boot.runs"
[ "$(cat "$T/boot.runs")" = "boot as root in /root" ] || fail "ran as: $(cat "$T/boot.runs")"
job=$(b get jobs -o json | jget '[j["metadata"]["name"] for j in d["items"] if j["metadata"]["name"].startswith("root-1-")][0]')
b wait --for=condition=Complete "job/$job" --timeout=30s >/dev/null || fail "job $job did not complete: $(b get jobs)"
pod=$(b get pods -l "job-name=$job" -o name)
[ -n "$pod" ] || fail "no pod of $job"
[ "$(b logs "$pod")" = "hello from reboot
stdin from cron" ] || fail "logs of $pod: $(b logs "$pod")"

# the every-minute job: cron's schedule and command, as root, no catch-up beyond 5 minutes
cj=$(b get cronjob root-2 -o json) || fail "no CronJob root-2"
[ "$(echo "$cj" | jget 'd["spec"]["schedule"]')" = "* * * * *" ] || fail "schedule: $cj"
[ "$(echo "$cj" | jget 'd["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]')" = \
  "['/bin/sh', '-c', 'date +%s >>$T/minute.runs']" ] || fail "command: $cj"
[ "$(echo "$cj" | jget 'd["spec"]["startingDeadlineSeconds"]')" = 300 ] || fail "startingDeadlineSeconds: $cj"
[ "$(echo "$cj" | jget 'd["spec"]["concurrencyPolicy"]')" = Allow ] || fail "concurrencyPolicy: $cj"
[ "$(b get cronjob root-1 -o json | jget 'd["spec"]["schedule"]')" = "@reboot" ] || fail "no @reboot schedule"

# an agent restart in the same boot: not again
stop_agent TERM
start_agent
sleep 3
[ "$(reboot_runs)" = 1 ] || fail "the @reboot job ran $(reboot_runs) times in one boot"
[ "$(reboot_jobs)" = 1 ] || fail "$(reboot_jobs) @reboot jobs in one boot"

# a new boot (faked through the boot id file): once more, and not again after a restart
stop_agent TERM
echo "11111111-2222-4333-8444-555555555555" >"$T/boot_id"
BERTH_BOOT_ID_FILE="$T/boot_id" start_agent
wait_for 30 "the @reboot job ran in the new boot" sh -c "[ \"\$(wc -l <$T/boot.runs)\" = 2 ]"
stop_agent TERM
BERTH_BOOT_ID_FILE="$T/boot_id" start_agent
sleep 3
[ "$(reboot_runs)" = 2 ] || fail "the @reboot job ran $(reboot_runs) times in two boots"
[ "$(reboot_jobs)" = 2 ] || fail "$(reboot_jobs) @reboot jobs in two boots"
echo "ok"
