#!/bin/bash
# Runs every test: the unit, integration and packaging suites on a -Werror build, then the
# unit and integration suites again under ASan+UBSan (the packaging test builds its own
# binaries: sanitizers there would add nothing). Ends with "check: N passed, N failed".
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
count() { # parses meson's summary from a log
        local log=$1 ok fail skip to
        ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
        fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
        skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$log" | tail -1)
        to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -1)
        passed=$((passed + ${ok:-0}))
        failed=$((failed + ${fail:-0} + ${to:-0}))
        if [ "${CI:-}" = true ] && [ "${skip:-0}" != 0 ]; then
                echo "check: ${skip} tests were skipped, which CI does not allow" >&2
                failed=$((failed + skip))
        fi
        if [ -z "$ok" ]; then
                echo "check: the test run did not complete" >&2
                failed=$((failed + 1))
        fi
}

setup() { # dir, extra meson options
        local dir=$1
        shift
        if [ ! -d "$dir" ]; then
                # tests=enabled: a missing test package fails the setup instead of leaving the
                # unit suites out of the count
                meson setup "$dir" --werror -Dtests=enabled "$@" >/dev/null || return 1
        fi
        ninja -C "$dir" >/dev/null || ninja -C "$dir"
}

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

if setup build-check; then
        meson test -C build-check --print-errorlogs --num-processes 2 --timeout-multiplier 2 2>&1 | tee "$logdir/main.log"
        count "$logdir/main.log"
else
        echo "check: the build failed" >&2
        failed=$((failed + 1))
fi

# -O1, as AddressSanitizer recommends: builds faster than -O2 and its reports stay exact
if setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                meson test -C build-asan --suite unit --print-errorlogs --num-processes 2 --timeout-multiplier 3 2>&1 |
                tee "$logdir/asan.log"
        count "$logdir/asan.log"
        # the real agent and its shims under the sanitizers: any report fails the run. The
        # tests whose time goes into waiting for whole cron minutes (test-cronjob,
        # test-cluster), for leases to run out (test-cluster-sts) or into building an image
        # with umoci (test-image) run in the first pass only: their agent code runs here in the
        # other tests and in the unit tests (test-fleet, test-statefulset-cluster,
        # test-daemonset-cluster, test-coordinator*), and the whole check stays under 20 minutes.
        mkdir -p "$logdir/san"
        asan_skip=" test-cronjob test-cluster test-cluster-sts test-image "
        asan_tests=$(meson test -C build-asan --suite integration --list 2>/dev/null |
                sed -n 's|^[^ ]*:integration / ||p' | while read -r t; do
                        case "$asan_skip" in *" $t "*) ;; *) echo "$t" ;; esac
                done)
        # shellcheck disable=SC2086 # one name per word
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$logdir/san/asan \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$logdir/san/ubsan \
                meson test -C build-asan --suite integration --print-errorlogs --timeout-multiplier 3 $asan_tests 2>&1 |
                tee "$logdir/asan-integration.log"
        count "$logdir/asan-integration.log"
        if [ -n "$(ls -A "$logdir/san")" ]; then
                echo "check: sanitizer reports from the agent or its shims:" >&2
                head -n 40 "$logdir"/san/* >&2
                failed=$((failed + 1))
        fi
else
        echo "check: the ASan+UBSan build failed" >&2
        failed=$((failed + 1))
fi

echo "check: $passed passed, $failed failed"
[ "$failed" = 0 ]
