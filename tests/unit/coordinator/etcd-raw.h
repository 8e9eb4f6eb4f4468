/* etcd as it is, for tests: a client of the test's own on the test's sd-event loop, past the
 * coordinator and the fleet, to read what they wrote and to write what another agent (or a
 * crashed one) would have left. Every call runs the loop until its answer has come (at most
 * ETCD_RAW_WAIT_USEC) and fails the test when it does not come or is an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "etcd-client.h"
#include "util.h"

#define ETCD_RAW_WAIT_USEC (10 * USEC_PER_SEC)

typedef struct EtcdRaw EtcdRaw;

/* One key as etcd has it. */
typedef struct EtcdRawKey {
        bool found;
        char value[4096]; /* NUL-terminated, cut to fit */
        int64_t create_revision;
        int64_t mod_revision;
        int64_t lease; /* 0: none */
} EtcdRawKey;

/* A client of url on event. url is borrowed and read at the first call (the fixture's url,
 * given before etcd_fixture_start() fills it in): nothing connects before that. -ENOMEM. */
int etcd_raw_new(EtcdRaw **ret, sd_event *event, const char *url);
/* Accepts NULL. Free it before its event. */
EtcdRaw *etcd_raw_free(EtcdRaw *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdRaw *, etcd_raw_free);
/* Drops the client and its curl loop (before etcd is killed, say, so that no connection to
 * the old process is used again); the next call makes new ones. */
void etcd_raw_disconnect(EtcdRaw *r);
/* The client (made at the first use), for calls of the test's own with its own callbacks;
 * borrowed until etcd_raw_disconnect() or etcd_raw_free(). */
EtcdClient *etcd_raw_client(EtcdRaw *r);

/* The key alone, at the newest revision. */
EtcdRawKey etcd_raw_get(EtcdRaw *r, const char *key);
/* How many keys start with prefix and hold value exactly (value NULL: any). */
size_t etcd_raw_count(EtcdRaw *r, const char *prefix, const char *value);
/* Puts value (a string) under key, bound to no lease. */
void etcd_raw_put(EtcdRaw *r, const char *key, const char *value);
/* Deletes key, or every key starting with it; returns how many went. */
int64_t etcd_raw_delete(EtcdRaw *r, const char *key, bool prefix);
/* Revokes lease: the keys bound to it go, behind the holder's back. */
void etcd_raw_revoke(EtcdRaw *r, int64_t lease);
