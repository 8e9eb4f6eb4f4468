#!/bin/bash
# A real systemd user manager for tests: run as root in a private XDG_RUNTIME_DIR, HOME and
# cgroup subtree of its own, with a journald of its own (a journal namespace, volatile) whose
# output reaches units that set LogNamespace=, and stopped again with everything it started.
#
# Sourced:   systemd_user_start [OWNER_PID]; ...; systemd_user_stop
#            (returns 77 with the reason in SYSTEMD_TEST_SKIP_REASON when it cannot run here)
# Executed:  lib-systemd.sh start [OWNER_PID]   prints NAME=VALUE lines (or SKIP=reason, exit 77)
#            lib-systemd.sh stop BASE
# After a start: SYSTEMD_TEST_BASE (everything of this instance, manager.log in it),
# SYSTEMD_TEST_XDG (its XDG_RUNTIME_DIR: `sd_user_ctl status` runs systemctl --user there),
# SYSTEMD_TEST_PID, SYSTEMD_TEST_CGROUP (the manager's cgroup, e.g. /berth-sd-x1y2.slice),
# BERTH_SYSTEMD_BUS (its private socket) and BERTH_SYSTEMD_LOG_NAMESPACE (the journal namespace).
# With OWNER_PID, a watcher stops the instance once that process is gone (a crashed test).
#
# Why the care: a user manager whose cgroup is the root of a hierarchy moves every process of
# the machine's root cgroup into its init.scope, so it gets a fresh subtree named like a slice
# (journald then attributes the units' output to _SYSTEMD_UNIT and _SYSTEMD_SLICE as on a real
# system); /run/systemd/system must exist for it to start at all, and is shared by concurrent
# instances (reference-counted under a lock, removed by the last one if one of them made it).

SYSTEMD_TEST_MANAGER=${SYSTEMD_TEST_MANAGER:-/lib/systemd/systemd}
SYSTEMD_TEST_JOURNALD=${SYSTEMD_TEST_JOURNALD:-/lib/systemd/systemd-journald}
SYSTEMD_TEST_SHARED=/run/berth-systemd-test
SYSTEMD_TEST_SELF=$(readlink -f "${BASH_SOURCE[0]}")

sd_user_ctl() { XDG_RUNTIME_DIR=$SYSTEMD_TEST_XDG systemctl --user --no-pager "$@"; }

_sd_alive() { # pid: exists and is not a zombie
        [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null
}

# The cgroup hierarchies a process can be moved into: the cgroup2 root on a pure v2 host,
# else every v1 or v2 mount below /sys/fs/cgroup except cpuset (which needs cpus and mems
# configured before it takes a process; systemd creates what it needs there itself).
_sd_hierarchies() {
        if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
                echo /sys/fs/cgroup
                return
        fi
        local d
        for d in /sys/fs/cgroup/*/; do
                d=${d%/}
                [ -L "$d" ] && continue
                [ "$(basename "$d")" = cpuset ] && continue
                case "$(stat -f -c %T "$d" 2>/dev/null)" in
                cgroupfs | cgroup2fs) echo "$d" ;;
                esac
        done
}

# Shared state of all instances, under a lock: who uses /run/systemd/system and which
# directories of /run an instance created (to be removed by the last one, when empty).
_sd_shared() { # enter ID | leave ID
        mkdir -p "$SYSTEMD_TEST_SHARED/users" /run/lock
        (
                flock 9
                local u pid
                for u in "$SYSTEMD_TEST_SHARED"/users/*; do
                        [ -e "$u" ] || continue
                        pid=$(cat "$u" 2>/dev/null)
                        _sd_alive "$pid" || [ "$(basename "$u")" = "$2" ] || rm -f "$u"
                done
                if [ "$1" = enter ]; then
                        for d in /run/systemd/system /run/systemd/journal /run/systemd/unit-root /run/log/journal; do
                                if [ ! -d "$d" ]; then
                                        mkdir -p "$d" && echo "$d" >>"$SYSTEMD_TEST_SHARED/created"
                                fi
                        done
                        echo "${3:-0}" >"$SYSTEMD_TEST_SHARED/users/$2"
                else
                        rm -f "$SYSTEMD_TEST_SHARED/users/$2"
                        if [ -z "$(ls -A "$SYSTEMD_TEST_SHARED/users")" ]; then
                                if [ -f "$SYSTEMD_TEST_SHARED/created" ]; then
                                        sort -r "$SYSTEMD_TEST_SHARED/created" | while read -r d; do
                                                rmdir "$d" 2>/dev/null
                                        done
                                fi
                                rm -f "$SYSTEMD_TEST_SHARED/created"
                                rmdir "$SYSTEMD_TEST_SHARED/users" "$SYSTEMD_TEST_SHARED" 2>/dev/null
                        fi
                fi
        ) 9>/run/lock/berth-systemd-test.lock
}

_sd_skip() {
        SYSTEMD_TEST_SKIP_REASON=$1
        return 77
}

# The unit files of the instance: a target of its own instead of default.target (nothing
# of the user's session starts), and the namespace's journald with a stream kept open on it
# (a namespace journald exits when no stream has been connected for a while).
_sd_write_units() { # dir namespace
        mkdir -p "$1"
        cat >"$1/berth-test.target" <<EOF
[Unit]
Description=berth test manager
DefaultDependencies=no
Wants=berth-test-journald.service berth-test-journal-keepalive.service
EOF
        cat >"$1/berth-test-journald.service" <<EOF
[Unit]
Description=journald of namespace $2
DefaultDependencies=no
[Service]
Type=notify
NotifyAccess=all
ExecStart=$SYSTEMD_TEST_JOURNALD $2
EOF
        cat >"$1/berth-test-journal-keepalive.service" <<EOF
[Unit]
Description=a stream that keeps journald of namespace $2 from exiting when idle
DefaultDependencies=no
After=berth-test-journald.service
Requires=berth-test-journald.service
[Service]
LogNamespace=$2
ExecStart=/bin/sleep infinity
EOF
}

systemd_user_start() { # [owner pid]
        local owner=${1:-} id base ns cg h i state
        [ "$(id -u)" = 0 ] || {
                _sd_skip "needs root (a user manager of root, cgroups, /run/systemd/system)"
                return
        }
        [ -x "$SYSTEMD_TEST_MANAGER" ] || {
                _sd_skip "$SYSTEMD_TEST_MANAGER is not installed"
                return
        }
        [ -n "$(_sd_hierarchies)" ] || {
                _sd_skip "no cgroup hierarchy is mounted below /sys/fs/cgroup"
                return
        }
        base=$(mktemp -d /tmp/berth-systemd.XXXXXX) || return 1
        id=$(basename "$base" | cut -d. -f2 | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
        ns="berth-test-$id"
        cg="berth-sd-$id.slice"
        mkdir -m 0700 "$base/xdg" "$base/home"
        echo "$ns" >"$base/namespace"
        echo "/$cg" >"$base/cgroup"
        _sd_write_units "$base/home/.config/systemd/user" "$ns"
        printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' >"/run/systemd/journald@$ns.conf"
        _sd_shared enter "$id" $$
        for h in $(_sd_hierarchies); do
                mkdir -p "$h/$cg" || {
                        systemd_user_stop "$base"
                        _sd_skip "cannot create a cgroup in $h"
                        return
                }
        done
        # the manager starts in its own cgroup and session, and is nobody's child: it
        # outlives the shell that started it until systemd_user_stop
        (
                for h in $(_sd_hierarchies); do
                        echo "$BASHPID" >"$h/$cg/cgroup.procs" || exit 1
                done
                cd / || exit 1
                exec setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                        HOME="$base/home" XDG_RUNTIME_DIR="$base/xdg" SYSTEMD_LOG_TARGET=console \
                        SYSTEMD_LOG_LEVEL=info "$SYSTEMD_TEST_MANAGER" --user --unit=berth-test.target \
                        </dev/null >"$base/manager.log" 2>&1
        ) &
        echo $! >"$base/manager.pid"
        SYSTEMD_TEST_BASE=$base
        SYSTEMD_TEST_XDG=$base/xdg
        SYSTEMD_TEST_PID=$!
        SYSTEMD_TEST_CGROUP=/$cg
        BERTH_SYSTEMD_BUS=$base/xdg/systemd/private
        BERTH_SYSTEMD_LOG_NAMESPACE=$ns
        export SYSTEMD_TEST_BASE SYSTEMD_TEST_XDG SYSTEMD_TEST_PID SYSTEMD_TEST_CGROUP BERTH_SYSTEMD_BUS \
                BERTH_SYSTEMD_LOG_NAMESPACE
        for i in $(seq 1 150); do
                if ! _sd_alive "$SYSTEMD_TEST_PID"; then
                        state=exited
                        break
                fi
                state=$(sd_user_ctl is-system-running 2>/dev/null)
                case "$state" in
                running | degraded) [ -S "/run/systemd/journal.$ns/stdout" ] && break ;;
                esac
                sleep 0.1
        done
        case "$state" in
        running | degraded)
                # setsid forks when started from a shell with job control: the manager is
                # the one process in its init.scope
                h=$(_sd_hierarchies | head -n 1)
                i=$(head -n 1 "$h/$cg/init.scope/cgroup.procs" 2>/dev/null)
                [ -n "$i" ] && SYSTEMD_TEST_PID=$i && echo "$i" >"$base/manager.pid"
                _sd_shared enter "$id" "$SYSTEMD_TEST_PID"
                ;;
        *)
                local why
                why="the user manager did not come up (state: ${state:-none}); its log: $(tail -n 5 "$base/manager.log" 2>/dev/null | tr '\n' ' ')"
                systemd_user_stop "$base"
                _sd_skip "$why"
                return
                ;;
        esac
        if [ -n "$owner" ] && [ "$owner" != 0 ]; then
                # detached from the caller, so that it outlives a caller that crashes
                (setsid bash -c 'while [ -d "$2" ] && kill -0 "$1" 2>/dev/null; do sleep 1; done
                                 [ -d "$2" ] && exec "$3" stop "$2"' watcher "$owner" "$base" \
                        "$SYSTEMD_TEST_SELF" </dev/null >/dev/null 2>&1 &)
        fi
        return 0
}

# Kills what is left in the subtree (the manager already stopped its units), then removes it.
_sd_remove_cgroup() { # cgroup (relative, with leading /)
        local h i pids
        [ -n "$1" ] && [ "$1" != / ] || return 0
        for i in $(seq 1 50); do
                pids=
                for h in $(_sd_hierarchies); do
                        [ -d "$h$1" ] && pids="$pids $(find "$h$1" -name cgroup.procs -exec cat {} + 2>/dev/null)"
                done
                pids=$(echo $pids)
                [ -z "$pids" ] && break
                kill -9 $pids 2>/dev/null
                sleep 0.1
        done
        for h in $(_sd_hierarchies) /sys/fs/cgroup/cpuset /sys/fs/cgroup/blkio /sys/fs/cgroup/devices; do
                [ -d "$h$1" ] && find "$h$1" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        return 0
}

systemd_user_stop() { # [base] (default: this shell's instance)
        local base=${1:-${SYSTEMD_TEST_BASE:-}} pid ns cg id i
        [ -n "$base" ] && [ -d "$base" ] || return 0
        pid=$(cat "$base/manager.pid" 2>/dev/null)
        ns=$(cat "$base/namespace" 2>/dev/null)
        cg=$(cat "$base/cgroup" 2>/dev/null)
        id=$(basename "$base" | cut -d. -f2 | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
        if _sd_alive "$pid"; then
                # a user manager takes SIGTERM as "start exit.target": it stops every unit
                kill -TERM "$pid" 2>/dev/null
                for i in $(seq 1 150); do
                        _sd_alive "$pid" || break
                        sleep 0.1
                done
                _sd_alive "$pid" && kill -KILL "$pid" 2>/dev/null
        fi
        _sd_remove_cgroup "$cg"
        if [ -n "$ns" ]; then
                rm -rf "/run/systemd/journal.$ns" /run/log/journal/*."$ns" /var/log/journal/*."$ns"
                rm -f "/run/systemd/journald@$ns.conf"
        fi
        _sd_shared leave "$id"
        rm -rf "$base"
        if [ "$base" = "${SYSTEMD_TEST_BASE:-}" ]; then
                unset SYSTEMD_TEST_BASE SYSTEMD_TEST_XDG SYSTEMD_TEST_PID SYSTEMD_TEST_CGROUP BERTH_SYSTEMD_BUS \
                        BERTH_SYSTEMD_LOG_NAMESPACE
        fi
        return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        case "${1:-}" in
        start)
                systemd_user_start "${2:-}"
                rc=$?
                if [ $rc = 77 ]; then
                        echo "SKIP=$SYSTEMD_TEST_SKIP_REASON"
                        exit 77
                fi
                [ $rc = 0 ] || exit $rc
                for v in SYSTEMD_TEST_BASE SYSTEMD_TEST_XDG SYSTEMD_TEST_PID SYSTEMD_TEST_CGROUP BERTH_SYSTEMD_BUS \
                        BERTH_SYSTEMD_LOG_NAMESPACE; do
                        echo "$v=${!v}"
                done
                ;;
        stop)
                [ -n "${2:-}" ] || {
                        echo "usage: $0 stop BASE" >&2
                        exit 2
                }
                systemd_user_stop "$2"
                ;;
        *)
                echo "usage: $0 start [OWNER_PID] | stop BASE" >&2
                exit 2
                ;;
        esac
fi
