#!/bin/bash
# berth as a cron replacement, measured side by side with Debian's cron on this machine:
#  1. start lateness of a per-minute job: process start minus the scheduled second, p50
#     and p99, over MINUTES minutes (default 10) — both run the same command at once
#  2. RSS with 1,000 CronJobs (berth) against 1,000 crontab lines (cron), idle
#  3. 1,000 CronJobs due in the same minute: how long until all 1,000 processes started
#     (against cron with 1,000 crontab lines due in the same minute)
# Needs root. Prints figures; asserts nothing about time.
set -u
BERTH=$(readlink -f "${1:-build/agent/berth}")
MINUTES=${MINUTES:-10}
ONLY=${ONLY:-}    # "lateness", "rss" or "burst" to run one part
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
command -v cron >/dev/null || apt-get install -y -qq cron >/dev/null 2>&1 || { echo "bench: needs Debian's cron" >&2; exit 1; }
T=$(mktemp -d /tmp/berth-cron-bench.XXXXXX)
chmod 755 "$T"
export BERTH_SOCKET=$T/berth.sock
AGENT= CRON_PID=
cleanup() {
        if [ -n "$AGENT" ]; then
                "$BERTH" delete cronjobs --all >/dev/null 2>&1
                "$BERTH" delete jobs --all >/dev/null 2>&1
                "$BERTH" delete pods --all --grace-period=1 --timeout=120s >/dev/null 2>&1
                kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null
        fi
        [ -n "$CRON_PID" ] && kill "$CRON_PID" 2>/dev/null
        rm -f /etc/cron.d/berth-bench
        for d in /sys/fs/cgroup/*/berth-cronbench; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

start_agent() {
        mkdir -p "$T/state" "$T/manifests" "$T/logs"
        printf 'cgroupRoot: berth-cronbench\nlogLevel: warning\n' >"$T/config.yaml"
        "$BERTH" agent --config "$T/config.yaml" --state-dir "$T/state" --socket "$BERTH_SOCKET" \
                --manifests-dir "$T/manifests" --log-dir "$T/logs" --node-name bench >"$T/agent.log" 2>&1 &
        AGENT=$!
        for _ in $(seq 100); do "$BERTH" version >/dev/null 2>&1 && return; sleep 0.1; done
        echo "bench: agent did not start" >&2; exit 1
}

cronjob() { # name schedule command
        cat <<YAML
apiVersion: batch/v1
kind: CronJob
metadata: {name: $1}
spec:
  schedule: "$2"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - {name: main, image: busybox, command: ["/bin/sh", "-c", "$3"]}
---
YAML
}

percentiles() { # file of lateness in ms -> "p50 p99 n"
        sort -n "$1" | awk '{a[NR]=$1} END {if (NR==0) {print "- - 0"; exit}
                i50=int(NR*0.50+0.5); if(i50<1)i50=1; i99=int(NR*0.99+0.5); if(i99<1)i99=1; if(i99>NR)i99=NR;
                printf "%.1f %.1f %d\n", a[i50], a[i99], NR}'
}

start_agent
b50=- b99=- bn=0 c50=- c99=- cn=0 berth_rss=0 cron_rss=1 burst_n=0 burst_last=
if [ -z "$ONLY" ] || [ "$ONLY" = lateness ]; then
# --- 1. lateness: both start "date +%s.%N" every minute
cronjob tick '* * * * *' "date +%s.%N >> $T/berth-starts" | "$BERTH" apply -f - >/dev/null
echo "* * * * * root date +\%s.\%N >> $T/cron-starts" >/etc/cron.d/berth-bench
cron -f >/dev/null 2>&1 &
CRON_PID=$!
echo "bench: measuring start lateness for $MINUTES minutes..." >&2
sleep $((MINUTES * 60 + 5))
"$BERTH" delete cronjob tick >/dev/null
kill "$CRON_PID"; wait "$CRON_PID" 2>/dev/null; CRON_PID=
rm -f /etc/cron.d/berth-bench
for who in berth cron; do
        awk '{s=$1; m=int(s/60)*60; printf "%.3f\n", (s-m)*1000}' "$T/$who-starts" 2>/dev/null >"$T/$who-late"
done
read -r b50 b99 bn < <(percentiles "$T/berth-late")
read -r c50 c99 cn < <(percentiles "$T/cron-late")
fi

if [ -z "$ONLY" ] || [ "$ONLY" = rss ]; then
# --- 2. RSS with 1,000 schedules (yearly, so nothing runs)
for i in $(seq 1 1000); do cronjob "y$i" "0 0 1 1 *" "true"; done >"$T/1000.yaml"
"$BERTH" apply -f "$T/1000.yaml" >/dev/null
sleep 3
berth_rss=$(rss_kb "$AGENT")
for i in $(seq 1 1000); do echo "0 0 1 1 * root true"; done >/etc/cron.d/berth-bench
cron -f >/dev/null 2>&1 &
CRON_PID=$!
sleep 2
cron_rss=$(rss_kb "$CRON_PID")
kill "$CRON_PID"; wait "$CRON_PID" 2>/dev/null; CRON_PID=
rm -f /etc/cron.d/berth-bench
"$BERTH" delete cronjobs --all >/dev/null
fi

if [ -z "$ONLY" ] || [ "$ONLY" = burst ]; then
# --- 3. 1,000 CronJobs due in the same minute
next=$(( ($(date +%s) / 60 + 2) * 60 ))
minute=$(date -d "@$next" +%M)
hour=$(date -d "@$next" +%H)
for i in $(seq 1 1000); do cronjob "m$i" "$((10#$minute)) $((10#$hour)) * * *" "date +%s.%N >> $T/burst"; done >"$T/burst.yaml"
"$BERTH" apply -f "$T/burst.yaml" >/dev/null
sleep $((next - $(date +%s) + 20))
burst_n=$(wc -l <"$T/burst" 2>/dev/null || echo 0)
burst_last=$(sort -n "$T/burst" 2>/dev/null | tail -1 | awk -v n="$next" '{printf "%.0f", ($1-n)*1000}')
burst_first=$(sort -n "$T/burst" 2>/dev/null | head -1 | awk -v n="$next" '{printf "%.0f", ($1-n)*1000}')
# when each container's process called execve(), recorded by the shim's child (microseconds)
read -r exec_n exec_first exec_last < <(python3 - "$T/state/containers" "$next" <<'PY'
import glob, json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
t = []
for f in glob.glob(os.path.join(d, "*", "state.json")):
    try:
        t.append(json.load(open(f))["startedAt"] / 1e6 - n)
    except Exception:
        pass
t.sort()
print(len(t), "%.0f" % (t[0] * 1000) if t else "-", "%.0f" % (t[-1] * 1000) if t else "-")
PY
)
# the peer: Debian's cron with 1,000 crontab lines due in the same minute
"$BERTH" delete cronjobs --all >/dev/null
next=$(( ($(date +%s) / 60 + 2) * 60 ))
for i in $(seq 1 1000); do
        echo "$(date -d "@$next" +%-M) $(date -d "@$next" +%-H) * * * root date +\%s.\%N >> $T/cron-burst"
done >/etc/cron.d/berth-bench
cron -f >/dev/null 2>&1 &
CRON_PID=$!
sleep $((next - $(date +%s) + 20))
kill "$CRON_PID"; wait "$CRON_PID" 2>/dev/null; CRON_PID=
rm -f /etc/cron.d/berth-bench
cron_burst_n=$(wc -l <"$T/cron-burst" 2>/dev/null || echo 0)
read -r cron_burst_first cron_burst_last < <(sort -n "$T/cron-burst" 2>/dev/null |
        awk -v n="$next" 'NR==1{f=$1} {l=$1} END {if (NR) printf "%.0f %.0f\n", (f-n)*1000, (l-n)*1000; else print "- -"}')
fi

echo "berth cron bench ($(nproc) cores, $(uname -r)), $MINUTES minutes"
printf 'per-minute start lateness:  berth p50 %s ms, p99 %s ms (n=%s)   cron p50 %s ms, p99 %s ms (n=%s)\n' \
        "$b50" "$b99" "$bn" "$c50" "$c99" "$cn"
printf 'RSS with 1,000 schedules:   berth %d KiB   cron %d KiB   (ratio %s)\n' "$berth_rss" "$cron_rss" \
        "$(awk "BEGIN{printf \"%.1fx\", $berth_rss / $cron_rss}")"
printf '1,000 CronJobs in one minute: %s of 1000 processes exec'"'"'d, the first %s ms and the last %s ms after the scheduled second\n' \
        "${exec_n:-0}" "${exec_first:--}" "${exec_last:--}"
printf '                              their first output (sh, then date): %s of 1000, from %s ms to %s ms\n' \
        "$burst_n" "${burst_first:--}" "${burst_last:--}"
printf '                              cron, 1,000 crontab lines: %s of 1000 ran, from %s ms to %s ms\n' \
        "${cron_burst_n:-0}" "${cron_burst_first:--}" "${cron_burst_last:--}"
