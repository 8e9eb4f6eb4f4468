#!/bin/bash
# berth.service and berth.socket under a real systemd manager (a user manager of the test's
# own, lib-systemd.sh): the socket activates the agent on the first CLI call, Type=notify
# reaches active only once the agent is READY, `systemctl reload` re-reads the config, the
# watchdog kills an agent that stopped turning and Restart=on-failure brings it back, and a
# stop leaves the workloads running (KillMode=process). The units are the shipped ones with
# the test's paths put in (and shorter watchdog and abort times). Then runtime.type systemd:
# a pod's container is a transient unit of that manager, its output in `berth logs`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-systemd.sh"
require_root
SRC=$(cd "$(dirname "$0")/../.." && pwd)
systemd_user_start $$ || skip "${SYSTEMD_TEST_SKIP_REASON:-a systemd user manager cannot run here}"
CLEANUP_HOOKS+=(systemd_user_stop)

mkdir -p "$T/state" "$T/manifests" "$T/logs" "$T/units"
printf 'cgroupRoot: %s\nlogLevel: debug\nlabels: {zone: a}\n' "$CGROOT" >"$T/config.yaml"
args="--config $T/config.yaml --state-dir $T/state --socket $SOCK --manifests-dir $T/manifests --log-dir $T/logs --node-name $NODE"
sed -e "s|^ExecStart=.*|ExecStart=$BERTH agent $args|" -e 's|^WatchdogSec=.*|WatchdogSec=2s\nTimeoutAbortSec=2s\nRestartSec=200ms|' \
        -e '/^RuntimeDirectory/d' -e '/^StateDirectory/d' -e '/^Documentation/d' \
        "$SRC/units/berth.service" >"$T/units/berth.service"
sed -e "s|^ListenStream=.*|ListenStream=$SOCK|" -e '/^SocketGroup/d' -e '/^Documentation/d' \
        "$SRC/units/berth.socket" >"$T/units/berth.socket"
grep -q "^Type=notify" "$T/units/berth.service" || fail "berth.service is not Type=notify"
sd_user_ctl link "$T/units/berth.service" "$T/units/berth.socket" >/dev/null 2>&1 || fail "link the units"
sd_user_ctl daemon-reload || fail "daemon-reload"
prop() { sd_user_ctl show -p "$1" --value berth.service; }

# --- socket activation: nothing runs until the first CLI call
sd_user_ctl start berth.socket || fail "start berth.socket: $(sd_user_ctl status berth.socket 2>&1 | tail -5)"
[ "$(prop ActiveState)" = inactive ] || fail "the agent ran before anyone asked"
start=$(date +%s%N)
b get nodes >"$T/nodes" 2>&1 || fail "the first CLI call: $(cat "$T/nodes")"
grep -q "^$NODE " "$T/nodes" || fail "get nodes through the activated socket: $(cat "$T/nodes")"
[ "$(prop ActiveState)" = active ] || fail "berth.service is $(prop ActiveState) after the first call"
echo "activation to the first answer: $((($(date +%s%N) - start) / 1000000)) ms"
[ "$(prop StatusText)" != "" ] || fail "no STATUS= from the agent"

# --- Type=notify: a restart is active only once the agent said READY=1
sd_user_ctl restart berth.service || fail "restart"
[ "$(prop ActiveState)" = active ] || fail "not active after a restart"
ready_us=$(($(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic)))
echo "agent start to READY=1 (systemd's timestamps): $((ready_us / 1000)) ms"
b version >/dev/null 2>&1 || fail "the agent does not answer after systemctl restart (READY=1 came too early)"

# --- systemctl reload re-reads the config: the node's labels follow
sed -i 's/zone: a/zone: b/' "$T/config.yaml"
sd_user_ctl reload berth.service || fail "reload"
wait_for 5 "zone b after systemctl reload" sh -c "$BERTH get node $NODE -o json | grep -q '\"zone\": *\"b\"'"
[ "$(prop ActiveState)" = active ] || fail "not active after a reload"

# --- a workload survives a stop of the agent and is adopted by the next one
pod_manifest keep 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' | b apply -f - >/dev/null || fail "apply keep"
wait_for 15 "keep Running" pod_phase_is keep Running
pid=$(pgrep -f "shim $T/" | head -1)
[ -n "$pid" ] || fail "no shim for keep"
sd_user_ctl stop berth.service 2>/dev/null || fail "stop"
kill -0 "$pid" 2>/dev/null || fail "stopping the agent stopped its workload"
b get pod keep >/dev/null 2>&1 || fail "the socket did not start the agent again"
pod_phase_is keep Running || fail "keep after the agent came back: $(pod_field keep 'd["status"]["phase"]')"

# --- the watchdog: an agent that stops turning is killed and started again
main=$(prop MainPID)
restarts=$(prop NRestarts)
kill -STOP "$main"
wait_for 20 "the watchdog restarts the agent" sh -c "[ \"\$(XDG_RUNTIME_DIR=$SYSTEMD_TEST_XDG systemctl --user show -p MainPID --value berth.service)\" != $main ] && [ \"\$(XDG_RUNTIME_DIR=$SYSTEMD_TEST_XDG systemctl --user show -p ActiveState --value berth.service)\" = active ]"
[ "$(prop NRestarts)" -gt "$restarts" ] || fail "NRestarts did not grow: $(prop NRestarts)"
grep -qi "watchdog timeout" "$SYSTEMD_TEST_BASE/manager.log" 2>/dev/null ||
        sd_user_ctl status berth.service 2>&1 | grep -qi watchdog ||
        echo "note: the manager's log does not name the watchdog (NRestarts grew from $restarts)"
b version >/dev/null 2>&1 || fail "the restarted agent does not answer"

b delete pod keep --grace-period=1 --timeout=20s >/dev/null || fail "delete keep"
sd_user_ctl stop berth.service berth.socket 2>/dev/null

# --- runtime.type systemd: containers as transient units, seen by systemctl
AGENT_CONFIG_EXTRA="runtime: {type: systemd, endpoint: $BERTH_SYSTEMD_BUS}
"
start_agent
pod_manifest unit-pod 'echo hello from a unit; trap \"exit 0\" TERM; while :; do sleep 0.2; done' | b apply -f - >/dev/null ||
        fail "apply unit-pod"
wait_for 15 "unit-pod Running" pod_phase_is unit-pod Running
cid=$(pod_field unit-pod 'd["status"]["containerStatuses"][0]["containerID"]')
case $cid in systemd://?*) ;; *) fail "containerID of a systemd-run container: $cid" ;; esac
sd_user_ctl list-units --all --plain --no-legend 'berth*' | grep -q "unit-pod" ||
        fail "no transient unit for unit-pod: $(sd_user_ctl list-units --all --plain --no-legend 2>&1 | head)"
wait_for 10 "unit-pod's output in berth logs" sh -c "$BERTH logs unit-pod | grep -q 'hello from a unit'"
b delete pod unit-pod --grace-period=1 --timeout=20s >/dev/null || fail "delete unit-pod"
wait_for 10 "the unit gone" sh -c "! XDG_RUNTIME_DIR=$SYSTEMD_TEST_XDG systemctl --user list-units --all --plain --no-legend 'berth*' | grep -q unit-pod"
stop_agent TERM
echo "ok"
