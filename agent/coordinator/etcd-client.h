/* An asynchronous etcd v3 client over the JSON gateway of etcd 3.4 (POST /v3/kv/range, ...),
 * driven by libcurl on the agent's CurlLoop: key-value reads and writes, transactions with the
 * compare-and-write helpers the coordinator builds its claims on, leases, and watches as
 * long-lived streaming requests. Keys and values travel base64-encoded, int64 as strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "curl-loop.h"
#include "util.h"

#define ETCD_DEFAULT_REQUEST_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define ETCD_DEFAULT_CONNECT_TIMEOUT_USEC (1 * USEC_PER_SEC)
/* The largest reply body accepted (a range over many keys), and the largest watch message. */
#define ETCD_MAX_REPLY_SIZE (64U * 1024U * 1024U)

typedef struct EtcdClient EtcdClient;
/* A call in flight, unary or watch. */
typedef struct EtcdRequest EtcdRequest;

typedef struct EtcdClientOptions {
        /* NULL-terminated list of "http://host:port" (host a name, an IPv4 address or an
         * [IPv6] one; no path, no https). Calls go to the endpoint that answered last and fail
         * over to the next one when a connection cannot be made. */
        const char *const *endpoints;
        /* Each unary call's deadline, all attempts included; 0: the default. Watches have none. */
        usec_t request_timeout;
        /* Each attempt's connect deadline (within the request's); 0: the default. */
        usec_t connect_timeout;
} EtcdClientOptions;

/* Validates the endpoints (on failure *ret_error, when ret_error is not NULL, says which and
 * why) and copies them. -EINVAL, -ENOMEM. */
int etcd_client_new(EtcdClient **ret, CurlLoop *loop, const EtcdClientOptions *o, char **ret_error);
/* Cancels every call in flight (their callbacks are not called) and frees. Accepts NULL. May be
 * called from inside a callback of this client. */
EtcdClient *etcd_client_free(EtcdClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdClient *, etcd_client_free);
/* The endpoint the next call goes to first (the one that answered last). */
const char *etcd_client_endpoint(const EtcdClient *c);

/* Stops a call in flight and frees it; its callbacks are not called. NULL is a no-op, and so is
 * cancelling a unary call from inside its own callback. A watch may be cancelled from inside
 * its on_event. */
void etcd_request_cancel(EtcdRequest *r);

/* --- errors --- */

typedef enum EtcdErrorKind {
        ETCD_ERROR_TRANSPORT, /* no answer: unreachable, connection broken, deadline exceeded */
        ETCD_ERROR_SERVER,    /* etcd answered with an error (code and message are its own) */
        ETCD_ERROR_REPLY,     /* an answer that is not the gateway's JSON (wrong server or path) */
} EtcdErrorKind;

/* How a call failed. error is a negative errno:
 *   transport: -ECONNREFUSED (no endpoint could be connected to), -ETIMEDOUT (deadline),
 *              -ECONNRESET (connection lost after the request was sent, or a watch stream
 *              closed), -EHOSTUNREACH (name not resolved);
 *   server:    from the gRPC code: NotFound -ENOENT (lease not found), InvalidArgument -EINVAL,
 *              OutOfRange -ESTALE when the revision is compacted (a watch ends so too, with
 *              compact_revision set: relist), else -ERANGE (a future revision),
 *              AlreadyExists -EEXIST, PermissionDenied/Unauthenticated -EACCES,
 *              ResourceExhausted -ENOSPC, Unavailable -EAGAIN, DeadlineExceeded -ETIMEDOUT,
 *              Canceled -ECANCELED (also a watch etcd cancelled), Unimplemented -EOPNOTSUPP,
 *              others -EIO;
 *   reply:     -EPROTO (not the gateway's JSON), -EBADMSG (JSON of the wrong shape),
 *              -EMSGSIZE (larger than ETCD_MAX_REPLY_SIZE);
 *   -ENOMEM in any kind. */
typedef struct EtcdError {
        int error;
        EtcdErrorKind kind;
        int code;                 /* the gRPC code etcd gave (server errors), else 0 */
        const char *endpoint;     /* the endpoint that failed last ("" when out of memory) */
        const char *message;      /* etcd's message or the transport's reason; never NULL */
        const char *text;         /* one line for the user, naming the endpoint(s); never NULL */
        int64_t compact_revision; /* a watch ended by compaction: the oldest revision kept */
} EtcdError;

/* --- key-values and operations --- */

/* Strings are NUL-terminated; key_size and value_size count the bytes before that NUL (etcd
 * keys and values are bytes and may hold NULs of their own). */
typedef struct EtcdKeyValue {
        char *key;
        size_t key_size;
        char *value;
        size_t value_size;
        int64_t create_revision;
        int64_t mod_revision;
        int64_t version;
        int64_t lease;
} EtcdKeyValue;

typedef enum EtcdOpType {
        ETCD_OP_RANGE,
        ETCD_OP_PUT,
        ETCD_OP_DELETE,
} EtcdOpType;

/* One operation of a transaction (or a call of its own). Strings are copied at the call. */
typedef struct EtcdOp {
        EtcdOpType type;
        const char *key;
        /* range, delete: the end of the range [key, range_end); prefix: every key that starts
         * with key (range_end computed); neither: key alone */
        const char *range_end;
        bool prefix;
        const void *value; /* put; NULL with value_size 0 is the empty value */
        size_t value_size;
        int64_t lease;    /* put: bind the key to this lease; 0: none */
        int64_t limit;    /* range: at most this many keys; 0: all */
        int64_t revision; /* range: read at this revision; 0: the newest */
        bool prev_kv;     /* put, delete: return the key-values as they were before */
} EtcdOp;

typedef struct EtcdOpResponse {
        EtcdOpType type;
        /* range: the keys found; put and delete with prev_kv: the key-values before */
        EtcdKeyValue *kvs;
        size_t n_kvs;
        int64_t count; /* range: the keys in range (above n_kvs with a limit); delete: deleted */
        bool more;     /* range: there are keys past the limit */
} EtcdOpResponse;

typedef enum EtcdCompareTarget {
        ETCD_COMPARE_VERSION,
        ETCD_COMPARE_CREATE,
        ETCD_COMPARE_MOD,
        ETCD_COMPARE_VALUE,
        ETCD_COMPARE_LEASE,
} EtcdCompareTarget;

typedef enum EtcdCompareResult {
        ETCD_COMPARE_EQUAL,
        ETCD_COMPARE_GREATER,
        ETCD_COMPARE_LESS,
        ETCD_COMPARE_NOT_EQUAL,
} EtcdCompareResult;

/* "target(key) result operand": a key that does not exist has version, create and mod
 * revision 0 and lease 0. */
typedef struct EtcdCompare {
        const char *key;
        EtcdCompareTarget target;
        EtcdCompareResult result;
        int64_t number;    /* VERSION, CREATE, MOD, LEASE */
        const void *value; /* VALUE */
        size_t value_size;
} EtcdCompare;

typedef struct EtcdTxn {
        const EtcdCompare *compares;
        size_t n_compares;
        const EtcdOp *success; /* run when every compare holds */
        size_t n_success;
        const EtcdOp *failure; /* run otherwise */
        size_t n_failure;
} EtcdTxn;

/* What a call returned; which fields are set depends on the call (see each). Everything it
 * points to lives until the callback returns. */
typedef struct EtcdResponse {
        int64_t revision;  /* the store's revision after the call (header.revision) */
        EtcdOpResponse op; /* range, put, delete */
        /* txn: whether the compares held, and the response of each op run */
        bool succeeded;
        EtcdOpResponse *responses;
        size_t n_responses;
        /* the compare-and-write helpers: when they lost, the key as it is now (NULL: absent) */
        const EtcdKeyValue *kv;
        /* leases */
        int64_t lease_id;
        int64_t ttl; /* seconds */
} EtcdResponse;

/* Called on the loop exactly once per call started, never from inside the function that
 * started it and never after etcd_request_cancel() or etcd_client_free(). Exactly one of r
 * and e is NULL. */
typedef void (*etcd_done_t)(EtcdClient *c, const EtcdResponse *r, const EtcdError *e, void *userdata);

/* Every call returns 0 or a negative errno at once (-EINVAL for a missing key or a bad
 * argument, -ENOMEM), and on 0 later calls done. ret may be NULL when the caller never
 * cancels; the request is freed after done returns. */

typedef struct EtcdRangeOptions {
        const char *range_end; /* as in EtcdOp */
        bool prefix;
        int64_t limit;
        int64_t revision;
} EtcdRangeOptions;

/* r->op.kvs: the keys found, in key order. o may be NULL: key alone, newest revision. */
int etcd_range(EtcdClient *c, const char *key, const EtcdRangeOptions *o, etcd_done_t done, void *userdata,
               EtcdRequest **ret);
/* r->revision: the key's new mod revision. */
int etcd_put(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
             etcd_done_t done, void *userdata, EtcdRequest **ret);
/* Deletes key, or every key starting with it. r->op.count: how many were deleted. */
int etcd_delete(EtcdClient *c, const char *key, bool prefix, etcd_done_t done, void *userdata,
                EtcdRequest **ret);
/* r->succeeded and r->responses (one per op of the branch that ran, in order). */
int etcd_txn(EtcdClient *c, const EtcdTxn *t, etcd_done_t done, void *userdata, EtcdRequest **ret);
/* Forgets the history before revision (POST /v3/kv/compaction); physical: wait until it is
 * removed from the backend. */
int etcd_compact(EtcdClient *c, int64_t revision, bool physical, etcd_done_t done, void *userdata,
                 EtcdRequest **ret);

/* A claim: writes key (bound to lease, 0: none) only when it does not exist. r->succeeded:
 * won, and then r->revision is the key's create revision (the fencing token); lost: r->kv is
 * the holder's key-value (NULL only if it vanished in between, a loss all the same). */
int etcd_create_if_absent(EtcdClient *c, const char *key, const void *value, size_t value_size,
                          int64_t lease, etcd_done_t done, void *userdata, EtcdRequest **ret);
/* Writes key only while its mod revision is expected_mod_revision (0: while it does not exist).
 * r->succeeded, then r->revision is the new mod revision; else r->kv is the key as it is. */
int etcd_put_if_revision(EtcdClient *c, const char *key, const void *value, size_t value_size, int64_t lease,
                         int64_t expected_mod_revision, etcd_done_t done, void *userdata, EtcdRequest **ret);
/* Deletes key only while its mod revision is expected_mod_revision. r->succeeded; else r->kv
 * is the key as it is (NULL: already gone). */
int etcd_delete_if_revision(EtcdClient *c, const char *key, int64_t expected_mod_revision, etcd_done_t done,
                            void *userdata, EtcdRequest **ret);

/* --- leases --- */

/* r->lease_id and r->ttl (etcd may raise a short TTL to its minimum). */
int etcd_lease_grant(EtcdClient *c, int64_t ttl_sec, etcd_done_t done, void *userdata, EtcdRequest **ret);
/* One renewal. r->ttl: the seconds the lease now has. A lease that expired or was revoked
 * fails with -ENOENT (a server error, code NotFound). */
int etcd_lease_keepalive(EtcdClient *c, int64_t id, etcd_done_t done, void *userdata, EtcdRequest **ret);
/* Revokes the lease and deletes the keys bound to it; -ENOENT when it is already gone. */
int etcd_lease_revoke(EtcdClient *c, int64_t id, etcd_done_t done, void *userdata, EtcdRequest **ret);

/* --- watches --- */

typedef enum EtcdEventType {
        ETCD_EVENT_PUT,
        ETCD_EVENT_DELETE,
} EtcdEventType;

typedef struct EtcdEvent {
        EtcdEventType type;
        EtcdKeyValue kv; /* a DELETE carries the key and the deletion's mod revision only */
        bool has_prev_kv;
        EtcdKeyValue prev_kv; /* with EtcdWatchOptions.prev_kv, when etcd still had it */
} EtcdEvent;

typedef struct EtcdWatchResponse {
        int64_t revision; /* header.revision */
        bool created;     /* the first message: the watch is in place, no events yet */
        const EtcdEvent *events;
        size_t n_events;
} EtcdWatchResponse;

typedef struct EtcdWatchOptions {
        const char *range_end; /* as in EtcdOp */
        bool prefix;
        int64_t start_revision; /* report changes from this revision on; 0: from now */
        bool prev_kv;
} EtcdWatchOptions;

/* Each message of the stream, in order, from the loop (it may start and cancel calls, this
 * watch included). r lives until it returns. */
typedef void (*etcd_watch_event_t)(EtcdRequest *w, const EtcdWatchResponse *r, void *userdata);
/* The end of a watch, always a failure (a watch runs until cancelled): a transport error, the
 * stream closed (-ECONNRESET), etcd cancelling it (-ECANCELED), or the start revision
 * compacted (-ESTALE, e->compact_revision set): then relist and watch from the list's revision
 * + 1. Called once, after every message before it, never after etcd_request_cancel(). */
typedef void (*etcd_watch_done_t)(EtcdRequest *w, const EtcdError *e, void *userdata);

/* A streaming request without deadline (connecting has the connect timeout; a connection
 * that cannot be made fails over to the next endpoint). o may be NULL: key alone, from now. */
int etcd_watch(EtcdClient *c, const char *key, const EtcdWatchOptions *o, etcd_watch_event_t on_event,
               etcd_watch_done_t on_done, void *userdata, EtcdRequest **ret);
