/* The fixture of the host backend's end-to-end tests (test-runtime-host, test-host-exec): a
 * runtime on the test's own loop with its state in a temporary directory and its cgroups
 * under a name of the test's own, containers started and waited for, and the checks that a
 * removed container and a finished test leave nothing behind. Needs root and writable
 * cgroups: without them the setup skips, except under CI=true where it fails. */
#pragma once

#include <systemd/sd-event.h>

#include "host-cgroup.h"
#include "runtime.h"

typedef struct RuntimeFixture {
        char tmpdir[64]; /* the runtime's state dir; logs go to <tmpdir>/logs */
        char cgname[64]; /* the runtime's cgroup name */
        sd_event *event;
        Runtime *rt;
        char *exited[32]; /* ids, as the exit callback reported them */
        size_t n_exited;
        char *started[16]; /* ids, as the start callback reported them */
        size_t n_started;
} RuntimeFixture;

/* For a suite's .init: name ("host-exec") names the directory, the cgroup and the messages. */
void runtime_fixture_setup(RuntimeFixture *f, const char *name);
/* A runtime on f's loop and directories, reporting to f (again, after a runtime_free()). */
void runtime_fixture_new_runtime(RuntimeFixture *f);
/* For a suite's .fini: stops and removes what a test left (and fails it for that), then
 * checks that only the empty top cgroup of ours was left in any hierarchy (so no process
 * was) and removes the directory. */
void runtime_fixture_teardown(RuntimeFixture *f);

/* Starts argv with cfg (pod "uid-1", container "c" unless cfg names one, the log in
 * <tmpdir>/logs/<container>.log, a PATH-only env unless cfg has one) and runs the loop until
 * the container has left CREATED. Returns its id. */
char *runtime_fixture_start(RuntimeFixture *f, RuntimeContainerConfig *cfg, char **argv);
/* Runs the loop until the exit callback has reported id. */
void runtime_fixture_wait_exit(RuntimeFixture *f, const char *id);
/* The cgroups of container id of pod "uid-1". */
HostCgroup *runtime_fixture_cgroup(const RuntimeFixture *f, const char *id);
/* Removes the container and checks that its state, directory, cgroups and (pid > 0) its
 * main process are gone. */
void runtime_fixture_remove_and_check(RuntimeFixture *f, const char *id, pid_t pid);
