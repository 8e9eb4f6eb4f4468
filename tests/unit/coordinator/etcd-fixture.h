/* A real etcd for a test: started on free loopback ports with its own data directory, restarted
 * on the same ones, stopped and removed. Without the etcd binary the test is skipped, and with
 * CI=true it fails instead. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

typedef struct EtcdFixture {
        pid_t pid; /* -1: not running */
        char dir[64];
        char url[64]; /* the client URL, "http://127.0.0.1:<port>" */
        char peer[64];
} EtcdFixture;

#define ETCD_FIXTURE_INIT                                                                                   \
        {                                                                                                   \
                .pid = -1                                                                                   \
        }

/* The etcd binary ($BERTH_TEST_ETCD, else etcd on $PATH), or NULL. */
const char *etcd_fixture_binary(void);
/* Starts etcd and waits until it answers /health (at most 30 s); skips or fails the test
 * without the binary. */
void etcd_fixture_start(EtcdFixture *f);
/* Kills etcd (SIGKILL: no clean shutdown) and starts it again on the same data and ports. */
void etcd_fixture_restart(EtcdFixture *f);
/* Stops etcd (even a stopped one), removes its directory and checks that no process of it is
 * left. Accepts a fixture never started. */
void etcd_fixture_stop(EtcdFixture *f);
/* SIGSTOP, and waits until every thread of etcd is stopped (kill() returns before a busy
 * process stops: it could still answer a request sent just after). */
void etcd_fixture_pause(EtcdFixture *f);
/* Whether etcd answers GET /health with 200. */
bool etcd_fixture_healthy(const EtcdFixture *f);
