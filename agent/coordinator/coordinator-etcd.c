/* The coordinator's etcd backend: the lease (grant, renewals, the timer that decides LOSING and
 * gone whatever the renewals do, the reconnection that revokes, grants, registers and claims
 * again), claims as create-only transactions, the list-and-watch of nodes/, ordinals/, sticky/
 * and slots/ that keeps the mirror current, and the clean-up of old cron keys. Roll-out slots
 * and the release of sticky bindings are in coordinator-slots.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator-internal.h"
#include "log.h"

#define RETRY_FIRST_USEC (250 * USEC_PER_MSEC)
#define RETRY_MAX_USEC (2 * USEC_PER_SEC)
#define SWEEP_PAGE 500
/* A claim's transactions: the sticky key absent, then naming this node, then give up. */
#define CLAIM_MAX_TXNS 3

static usec_t now_boot(void)
{
        return now_usec(CLOCK_BOOTTIME);
}

static char *key_of(const Coordinator *co, const char *what, const char *name)
{
        return strjoin(co->prefix, what, name, NULL);
}

static int timer_arm(Coordinator *co, sd_event_source **s, usec_t at, sd_event_time_handler_t h,
                     const char *description)
{
        int r;

        if (*s) {
                r = sd_event_source_set_time(*s, at);
                return r < 0 ? r : sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
        }
        /* 1 ms accuracy: the safety margin must not be eaten by sd-event's default coalescing */
        r = sd_event_add_time(co->event, s, CLOCK_BOOTTIME, at, USEC_PER_MSEC, h, co);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(*s, description);
        return 0;
}

static void timer_off(sd_event_source *s)
{
        if (s)
                (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

static usec_t backoff_next(usec_t *b)
{
        *b = *b ? MIN(*b * 2, RETRY_MAX_USEC) : RETRY_FIRST_USEC;
        return *b;
}

/* --- the lease --- */

static void connect_start(Coordinator *co);
static void mirror_start(Coordinator *co);
static int on_keepalive_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void cancel_reclaims(Coordinator *co)
{
        CoordinatorRequest *r = co->requests, *next;

        for (; r; r = next) {
                next = r->next;
                if (r->internal)
                        coordinator_request_cancel(r);
        }
        co->reclaims_pending = 0;
}

/* Forgets the lease (revoke: to be revoked at the next connection) and every call made under it. */
static void lease_drop(Coordinator *co, bool revoke)
{
        if (revoke && co->lease_id)
                co->old_lease = co->lease_id;
        co->lease_id = 0;
        co->registered = false;
        cancel_reclaims(co);
        etcd_request_cancel(co->keepalive_call);
        etcd_request_cancel(co->register_call);
        etcd_request_cancel(co->lease_call);
        co->keepalive_call = co->register_call = co->lease_call = NULL;
        timer_off(co->keepalive_timer);
        timer_off(co->deadline_timer);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        connect_start(userdata);
        return 0;
}

static void connect_failed(Coordinator *co, int error, const char *why)
{
        bool resuming = co->resume_lease && co->lease_id == co->resume_lease;
        int r;

        log_debug_errno(error, "coordinator: registering %s failed: %s", co->node_name, why ?: "%m");
        /* a lease granted in this attempt goes: claims whose outcome is unknown go with it. A
         * resumed one stays, to be resumed again: what it holds is read again then. */
        lease_drop(co, !resuming);
        r = timer_arm(co, &co->retry_timer, now_boot() + backoff_next(&co->retry_backoff), on_retry,
                      "coordinator-retry");
        if (r < 0)
                log_debug_errno(r, "coordinator: cannot arm the retry timer: %m");
}

/* The lease is certainly gone: the owner stops first, then the node registers again. */
static void lease_gone(Coordinator *co, bool revoke)
{
        log_debug("coordinator: lease %lld of %s is gone", (long long)co->lease_id, co->node_name);
        co->resume_lease = 0;
        if (co->state == COORDINATOR_READY)
                coordinator_set_state(co, COORDINATOR_LOSING);
        lease_drop(co, revoke);
        coordinator_set_state(co, COORDINATOR_CONNECTING);
        connect_start(co);
}

static bool within_margin(const Coordinator *co, usec_t now)
{
        return now + COORDINATOR_SAFETY_MARGIN < co->last_renewal + co->ttl;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata);

static void deadline_arm(Coordinator *co)
{
        usec_t now = now_boot(), losing = co->last_renewal + co->ttl - COORDINATOR_SAFETY_MARGIN;
        int r;

        r = timer_arm(co, &co->deadline_timer, now < losing ? losing : co->last_renewal + co->ttl,
                      on_deadline, "coordinator-lease-deadline");
        if (r < 0)
                log_debug_errno(r, "coordinator: cannot arm the lease deadline: %m");
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        Coordinator *co = userdata;
        usec_t now = now_boot();

        if (now >= co->last_renewal + co->ttl)
                lease_gone(co, true);
        else {
                if (!within_margin(co, now) && co->state == COORDINATOR_READY)
                        coordinator_set_state(co, COORDINATOR_LOSING);
                deadline_arm(co);
        }
        return 0;
}

static void register_update(Coordinator *co);

static void on_keepalive(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;
        usec_t now = now_boot();

        co->keepalive_call = NULL;
        if (e) {
                log_debug("coordinator: renewing lease %lld failed: %s", (long long)co->lease_id, e->text);
                if (e->error == -ENOENT)
                        lease_gone(co, false);
                return;
        }
        /* counted from when the renewal was sent: etcd renewed it later than that */
        co->last_renewal = MAX(co->last_renewal, co->keepalive_sent);
        deadline_arm(co);
        /* the lease never ran out: the claims are intact */
        if (co->registered && co->state != COORDINATOR_READY && within_margin(co, now))
                coordinator_set_state(co, COORDINATOR_READY);
        if (co->registered && co->node_dirty && !co->register_call)
                register_update(co);
}

static int on_keepalive_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Coordinator *co = userdata;
        int r;

        r = timer_arm(co, &co->keepalive_timer, now_boot() + co->keepalive_interval, on_keepalive_timer,
                      "coordinator-keepalive");
        if (r < 0)
                log_debug_errno(r, "coordinator: cannot arm the keepalive timer: %m");
        /* a renewal still unanswered is replaced: a hung one must not hold up the next */
        etcd_request_cancel(co->keepalive_call);
        co->keepalive_call = NULL;
        co->keepalive_sent = now_boot();
        r = etcd_lease_keepalive(co->etcd, co->lease_id, on_keepalive, co, &co->keepalive_call);
        if (r < 0)
                log_debug_errno(r, "coordinator: cannot renew the lease: %m");
        return 0;
}

static void connect_done(Coordinator *co)
{
        bool again = co->reconnected;

        co->registered = true;
        co->reconnected = true;
        co->retry_backoff = 0;
        co->resume_lease = 0; /* resumed, it is this run's lease now */
        log_debug("coordinator: %s registered under lease %lld", co->node_name, (long long)co->lease_id);
        if (again)
                mirror_start(co); /* a watch that hung through the outage may have missed events */
        /* else a renewal that succeeds within the margin makes it READY */
        if (within_margin(co, now_boot()))
                coordinator_set_state(co, COORDINATOR_READY);
}

void etcd_reclaim_done(Coordinator *co, CoordinatorRequest *r, int error, bool won, int64_t token)
{
        if (error < 0)
                co->reclaim_error = error;
        else if (won)
                (void)held_update(co, r->ns, r->set, r->ordinal, false, token);
        else
                held_remove(co, r->ns, r->set, r->ordinal);
        if (--co->reclaims_pending > 0)
                return;
        if (co->reclaim_error < 0)
                connect_failed(co, co->reclaim_error, "claiming the held ordinals again");
        else
                connect_done(co);
}

/* Every ordinal this node held, claimed again under the new lease. */
static void reclaim_start(Coordinator *co)
{
        co->reclaims_pending = 0;
        co->reclaim_error = 0;
        for (size_t i = 0; i < co->n_held; i++) {
                CoordinatorRequest *r =
                    request_new_internal(co, REQUEST_ORDINAL, co->held[i].ns, co->held[i].set,
                                         co->held[i].ordinal, co->held[i].sticky);
                int k = r ? etcd_claim_start(r) : -ENOMEM;

                if (k < 0) {
                        coordinator_request_cancel(r);
                        return connect_failed(co, k, "claiming the held ordinals again");
                }
                co->reclaims_pending++;
        }
        if (co->reclaims_pending == 0)
                connect_done(co);
}

static void on_registered(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;

        co->register_call = NULL;
        if (co->registered) { /* an update of the registration */
                if (e) {
                        log_debug("coordinator: updating the registration failed: %s", e->text);
                        co->node_dirty = true;
                }
                return;
        }
        if (e)
                return connect_failed(co, e->error, e->text);
        reclaim_start(co);
}

static int register_put(Coordinator *co)
{
        _cleanup_free_ char *key = key_of(co, "nodes/", co->node_name),
                            *value = cJSON_PrintUnformatted(co->node);

        if (!key || !value)
                return -ENOMEM;
        co->node_dirty = false;
        etcd_request_cancel(co->register_call);
        co->register_call = NULL;
        return etcd_put(co->etcd, key, value, strlen(value), co->lease_id, on_registered, co,
                        &co->register_call);
}

static void register_update(Coordinator *co)
{
        int r = register_put(co);

        if (r < 0) {
                co->node_dirty = true;
                log_debug_errno(r, "coordinator: cannot update the registration: %m");
        }
}

int etcd_backend_register(Coordinator *co)
{
        co->node_dirty = true;
        if (co->registered)
                register_update(co);
        return 0;
}

/* The lease is this node's, valid for ttl_sec from when the grant or renewal was sent. */
static int lease_adopt(Coordinator *co, int64_t id, int64_t ttl_sec)
{
        co->lease_id = id;
        /* etcd may raise a short TTL to its minimum, and a resumed lease has the TTL of the run
         * that granted it: the lease lives that long (and the next one granted, the options') */
        co->ttl = (usec_t)(ttl_sec > 0 ? ttl_sec : co->ttl_sec) * USEC_PER_SEC;
        co->keepalive_interval = MIN(co->ttl / 3, (co->ttl - COORDINATOR_SAFETY_MARGIN) / 2);
        co->last_renewal = co->keepalive_sent;
        deadline_arm(co);
        return timer_arm(co, &co->keepalive_timer, now_boot() + co->keepalive_interval, on_keepalive_timer,
                         "coordinator-keepalive");
}

static void on_granted(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;
        int r;

        co->lease_call = NULL;
        if (e)
                return connect_failed(co, e->error, e->text);
        r = lease_adopt(co, resp->lease_id, resp->ttl);
        if (r >= 0)
                r = register_put(co);
        if (r < 0)
                connect_failed(co, r, NULL);
}

static void grant(Coordinator *co)
{
        int r;

        co->keepalive_sent = now_boot();
        r = etcd_lease_grant(co->etcd, co->ttl_sec, on_granted, co, &co->lease_call);
        if (r < 0)
                connect_failed(co, r, NULL);
}

static void on_revoked(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;

        co->lease_call = NULL;
        /* not found: it expired on its own */
        if (e && e->error != -ENOENT)
                return connect_failed(co, e->error, e->text);
        co->old_lease = 0;
        grant(co);
}

/* "<ns>/<set>/<ordinal>" into its parts; false when it is not of that shape. */
static bool ordinal_path_parse(const char *path, char **ret_ns, char **ret_set, unsigned *ret_ordinal)
{
        const char *a = strchr(path, '/'), *b = a ? strchr(a + 1, '/') : NULL;
        unsigned long v;
        char *end;

        if (!a || !b || a == path || b == a + 1 || !(b[1] >= '0' && b[1] <= '9'))
                return false;
        errno = 0;
        v = strtoul(b + 1, &end, 10);
        if (*end || errno || v > UINT_MAX)
                return false;
        *ret_ns = strndup(path, (size_t)(a - path));
        *ret_set = strndup(a + 1, (size_t)(b - a - 1));
        *ret_ordinal = (unsigned)v;
        return true;
}

/* Whether a sticky/ key of kvs (the sticky range) binds path's ordinal to this node. */
static bool sticky_ours(const Coordinator *co, const EtcdOpResponse *kvs, const char *path)
{
        size_t plen = strlen(co->prefix);

        for (size_t i = 0; i < kvs->n_kvs; i++) {
                const char *key = kvs->kvs[i].key;

                if (startswith(key, co->prefix) && startswith(key + plen, "sticky/") &&
                    streq(key + plen + strlen("sticky/"), path))
                        return streq(kvs->kvs[i].value, co->node_name);
        }
        return false;
}

/* The ordinals bound to the resumed lease are this node's: held with their tokens (the
 * re-claims after the registration find them won already, with the same tokens). */
static void on_resume_read(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;
        const char *base;
        size_t n = 0;
        int r;

        co->lease_call = NULL;
        if (e)
                return connect_failed(co, e->error, e->text);
        if (resp->n_responses != 2)
                return connect_failed(co, -EBADMSG, "reading the claims of the resumed lease");
        for (size_t i = 0; i < resp->responses[0].n_kvs; i++) {
                const EtcdKeyValue *kv = &resp->responses[0].kvs[i];
                _cleanup_free_ char *ns = NULL, *set = NULL;
                unsigned ordinal;

                if (kv->lease != co->lease_id || !streq(kv->value, co->node_name) ||
                    !startswith(kv->key, co->prefix) ||
                    !startswith(kv->key + strlen(co->prefix), "ordinals/"))
                        continue;
                base = kv->key + strlen(co->prefix) + strlen("ordinals/");
                if (!ordinal_path_parse(base, &ns, &set, &ordinal))
                        continue;
                r = ns && set ? held_update(co, ns, set, ordinal, sticky_ours(co, &resp->responses[1], base),
                                            kv->create_revision)
                              : -ENOMEM;
                if (r < 0)
                        return connect_failed(co, r, NULL);
                n++;
        }
        log_info("coordinator: resumed lease %lld of %s with %zu ordinals", (long long)co->lease_id,
                 co->node_name, n);
        r = register_put(co);
        if (r < 0)
                connect_failed(co, r, NULL);
}

static int resume_read(Coordinator *co)
{
        _cleanup_free_ char *o0 = key_of(co, "ordinals/", ""), *o1 = key_of(co, "ordinals0", ""),
                            *s0 = key_of(co, "sticky/", ""), *s1 = key_of(co, "sticky0", "");
        EtcdOp ops[2];

        if (!o0 || !o1 || !s0 || !s1)
                return -ENOMEM;
        ops[0] = (EtcdOp){.type = ETCD_OP_RANGE, .key = o0, .range_end = o1};
        ops[1] = (EtcdOp){.type = ETCD_OP_RANGE, .key = s0, .range_end = s1};
        return etcd_txn(co->etcd, &(EtcdTxn){.success = ops, .n_success = ELEMENTSOF(ops)}, on_resume_read,
                        co, &co->lease_call);
}

static void on_resumed(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;
        int r;

        co->lease_call = NULL;
        if ((e && e->error == -ENOENT) || (!e && resp->ttl <= 0)) {
                log_debug("coordinator: lease %lld of %s is gone: granting a new one",
                          (long long)co->resume_lease, co->node_name);
                co->resume_lease = 0;
                return grant(co);
        }
        if (e) {
                /* no answer (or etcd unavailable): the retry tries again; any other answer is
                 * as definitive as a not found */
                if (e->kind != ETCD_ERROR_TRANSPORT && e->error != -EAGAIN && e->error != -ETIMEDOUT)
                        co->resume_lease = 0;
                return connect_failed(co, e->error, e->text);
        }
        r = lease_adopt(co, co->resume_lease, resp->ttl);
        if (r >= 0)
                r = resume_read(co);
        if (r < 0)
                connect_failed(co, r, NULL);
}

/* The lease of the agent's last run renewed: sent as grant() sends its grant, for the same
 * count of the TTL. */
static void resume(Coordinator *co)
{
        int r;

        co->keepalive_sent = now_boot();
        r = etcd_lease_keepalive(co->etcd, co->resume_lease, on_resumed, co, &co->lease_call);
        if (r < 0)
                connect_failed(co, r, NULL);
}

/* CONNECTING: the lease of the last run resumed when there is one, else the old lease revoked
 * (etcd may have restarted and extended it, and with it claims this node no longer stands
 * behind), a new one granted, the node registered, the held ordinals claimed again. */
static void connect_start(Coordinator *co)
{
        int r;

        timer_off(co->retry_timer);
        lease_drop(co, false);
        if (co->resume_lease && !co->old_lease)
                return resume(co);
        if (!co->old_lease)
                return grant(co);
        r = etcd_lease_revoke(co->etcd, co->old_lease, on_revoked, co, &co->lease_call);
        if (r < 0)
                connect_failed(co, r, NULL);
}

/* --- claims --- */

static void on_ordinal_done(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata);

/* sticky_ours: the sticky key names this node (else: it must be absent). */
static int ordinal_txn(CoordinatorRequest *r, bool sticky_ours)
{
        const char *node = r->co->node_name;
        size_t n = strlen(node);
        EtcdCompare cmp[] = {
            {.key = r->key, .target = ETCD_COMPARE_CREATE, .result = ETCD_COMPARE_EQUAL, .number = 0},
            sticky_ours ? (EtcdCompare){.key = r->sticky_key,
                                        .target = ETCD_COMPARE_VALUE,
                                        .result = ETCD_COMPARE_EQUAL,
                                        .value = node,
                                        .value_size = n}
                        : (EtcdCompare){.key = r->sticky_key,
                                        .target = ETCD_COMPARE_VERSION,
                                        .result = ETCD_COMPARE_EQUAL,
                                        .number = 0},
        };
        EtcdOp put[] = {
            {.type = ETCD_OP_PUT, .key = r->key, .value = node, .value_size = n, .lease = r->lease},
            {.type = ETCD_OP_PUT, .key = r->sticky_key, .value = node, .value_size = n},
        };
        EtcdOp get[] = {
            {.type = ETCD_OP_RANGE, .key = r->key},
            {.type = ETCD_OP_RANGE, .key = r->sticky_key},
        };
        EtcdTxn t = {.compares = cmp,
                     .n_compares = ELEMENTSOF(cmp),
                     .success = put,
                     .n_success = r->sticky && !sticky_ours ? 2 : 1,
                     .failure = get,
                     .n_failure = ELEMENTSOF(get)};

        r->txns++;
        return etcd_txn(r->co->etcd, &t, on_ordinal_done, r, &r->call);
}

static const EtcdKeyValue *first_kv(const EtcdResponse *resp, size_t i)
{
        return i < resp->n_responses && resp->responses[i].n_kvs > 0 ? &resp->responses[i].kvs[0] : NULL;
}

static void on_ordinal_done(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        CoordinatorRequest *r = userdata;
        const char *node = r->co->node_name;
        const EtcdKeyValue *ord, *sticky;
        int k;

        r->call = NULL;
        if (e)
                return request_answer(r, e->error, false, NULL, 0);
        if (resp->succeeded)
                return request_answer(r, 0, true, node, resp->revision);
        if (resp->n_responses != 2)
                return request_answer(r, -EBADMSG, false, NULL, 0);
        ord = first_kv(resp, 0);
        sticky = first_kv(resp, 1);
        if (ord) {
                /* this node's own claim, sent again after an unknown outcome */
                if (streq(ord->value, node) && ord->lease == r->lease)
                        return request_answer(r, 0, true, node, ord->create_revision);
                return request_answer(r, 0, false, ord->value, 0);
        }
        if (sticky && !streq(sticky->value, node))
                return request_answer(r, 0, false, sticky->value, 0);
        if (r->txns >= CLAIM_MAX_TXNS)
                return request_answer(r, -EAGAIN, false, NULL, 0);
        k = ordinal_txn(r, sticky != NULL);
        if (k < 0)
                request_answer(r, k, false, NULL, 0);
}

static void on_cron_cleaned(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        if (e)
                log_debug("coordinator: deleting old cron keys failed: %s", e->text);
}

static void on_cron_done(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        CoordinatorRequest *r = userdata;
        const char *node = r->co->node_name;

        r->call = NULL;
        if (e)
                return request_answer(r, e->error, false, NULL, 0);
        if (resp->succeeded) {
                Coordinator *co = r->co;
                _cleanup_free_ char *from = NULL, *to = NULL;
                usec_t cutoff = now_usec(CLOCK_REALTIME) - COORDINATOR_CRON_KEEP;

                /* the winner deletes this CronJob's launches older than COORDINATOR_CRON_KEEP: one
                 * range delete ([.../0, .../<cutoff>): minutes have 8 digits until 2160) */
                if (asprintf_safe(&from, "%scron/%s/%s/", co->prefix, r->ns, r->set) >= 0 &&
                    asprintf_safe(&to, "%s%llu", from, (unsigned long long)(cutoff / (60 * USEC_PER_SEC))) >=
                        0) {
                        EtcdOp del = {.type = ETCD_OP_DELETE, .key = from, .range_end = to};
                        EtcdTxn t = {.success = &del, .n_success = 1};

                        (void)etcd_txn(co->etcd, &t, on_cron_cleaned, NULL, NULL);
                }
                return request_answer(r, 0, true, node, resp->revision);
        }
        if (!resp->kv) /* deleted in between: nothing can be said */
                return request_answer(r, -EAGAIN, false, NULL, 0);
        /* cron keys have no lease: this node's value is this node's launch */
        if (streq(resp->kv->value, node))
                return request_answer(r, 0, true, node, resp->kv->create_revision);
        request_answer(r, 0, false, resp->kv->value, 0);
}

static void on_release_done(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata);

/* Deletes key while its value is this node; else reads it. */
static int release_txn(CoordinatorRequest *r, const char *key)
{
        const char *node = r->co->node_name;
        EtcdCompare cmp = {.key = key,
                           .target = ETCD_COMPARE_VALUE,
                           .result = ETCD_COMPARE_EQUAL,
                           .value = node,
                           .value_size = strlen(node)};
        EtcdOp del = {.type = ETCD_OP_DELETE, .key = key}, get = {.type = ETCD_OP_RANGE, .key = key};
        EtcdTxn t = {.compares = &cmp,
                     .n_compares = 1,
                     .success = &del,
                     .n_success = 1,
                     .failure = &get,
                     .n_failure = 1};

        r->txns++;
        return etcd_txn(r->co->etcd, &t, on_release_done, r, &r->call);
}

static void on_release_done(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        CoordinatorRequest *r = userdata;
        const EtcdKeyValue *kv;
        int k;

        r->call = NULL;
        if (e)
                return request_answer(r, e->error, false, NULL, 0);
        if (r->txns == 1) {
                kv = resp->succeeded ? NULL : first_kv(resp, 0);
                if (kv && !(r->holder = strdup(kv->value)))
                        return request_answer(r, -ENOMEM, false, NULL, 0);
                if (!r->keep_sticky) {
                        k = release_txn(r, r->sticky_key);
                        if (k < 0)
                                request_answer(r, k, false, NULL, 0);
                        return;
                }
        }
        request_answer(r, 0, false, r->holder, 0);
}

int etcd_claim_start(CoordinatorRequest *r)
{
        Coordinator *co = r->co;

        r->lease = co->lease_id;
        switch (r->kind) {
        case REQUEST_CRON:
                return etcd_create_if_absent(co->etcd, r->key, co->node_name, strlen(co->node_name), 0,
                                             on_cron_done, r, &r->call);
        case REQUEST_ORDINAL:
                return ordinal_txn(r, false);
        case REQUEST_RELEASE:
                return release_txn(r, r->key);
        case REQUEST_RELEASE_STICKY:
                return etcd_release_sticky_start(r);
        case REQUEST_SLOT:
        case REQUEST_RELEASE_SLOT:
                return etcd_slot_start(r);
        }
        return -EINVAL;
}

/* --- the sweep of old cron keys (those of CronJobs no longer launched) --- */

static void on_sweep(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;
        usec_t now = now_usec(CLOCK_REALTIME);
        const EtcdOpResponse *o;

        co->cleanup_call = NULL;
        if (e) {
                log_debug("coordinator: listing cron keys failed: %s", e->text);
                return;
        }
        o = &resp->op;
        for (size_t i = 0; i < o->n_kvs; i++) {
                const char *s = strrchr(o->kvs[i].key, '/');
                char *end;
                unsigned long long minutes = s ? strtoull(s + 1, &end, 10) : 0;

                if (!s || end == s + 1 || *end)
                        continue;
                if (minutes * 60 * USEC_PER_SEC + COORDINATOR_CRON_KEEP < now)
                        (void)etcd_delete(co->etcd, o->kvs[i].key, false, on_cron_cleaned, NULL, NULL);
        }
        co->sweep_cursor = mfree(co->sweep_cursor);
        /* the next sweep goes on after the last key seen, or from the start */
        if (o->more && o->n_kvs > 0)
                co->sweep_cursor = strjoin(o->kvs[o->n_kvs - 1].key, "\x01", NULL);
}

void etcd_cron_cleanup_maybe(Coordinator *co)
{
        _cleanup_free_ char *start = NULL, *end = NULL;
        usec_t now = now_boot();
        int r;

        if (co->cleanup_call || (co->last_sweep && now < co->last_sweep + COORDINATOR_CRON_CLEANUP_INTERVAL))
                return;
        co->last_sweep = now;
        start = co->sweep_cursor ? strdup(co->sweep_cursor) : key_of(co, "cron/", "");
        end = key_of(co, "cron0", ""); /* '0' follows '/': the end of the cron/ prefix */
        if (!start || !end)
                return;
        r = etcd_range(co->etcd, start, &(EtcdRangeOptions){.range_end = end, .limit = SWEEP_PAGE}, on_sweep,
                       co, &co->cleanup_call);
        if (r < 0)
                log_debug_errno(r, "coordinator: cannot list cron keys: %m");
}

/* --- the mirror: list, then watch from the list's revision --- */

/* In key order. slots/ and sticky/ are neighbours: one range holds both. The fleet's keys
 * (objects/, pods/: often written) stay out. */
static const char *const mirror_ranges[MIRROR_RANGES][2] = {
    {"nodes/", "nodes0"}, /* '0' follows '/': the end of the prefix */
    {"ordinals/", "ordinals0"},
    {"slots/", "sticky0"},
};

static bool mirrored(const char *key)
{
        return startswith(key, "nodes/") || startswith(key, "ordinals/") || startswith(key, "sticky/") ||
               startswith(key, "slots/");
}

static void mirror_stop(Coordinator *co)
{
        for (size_t i = 0; i < MIRROR_RANGES; i++) {
                etcd_request_cancel(co->watches[i]);
                co->watches[i] = NULL;
        }
        etcd_request_cancel(co->list_call);
        co->list_call = NULL;
}

static int on_mirror_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        mirror_start(userdata);
        return 0;
}

/* Everything listed and watched goes, to be listed again after a back-off. */
static void mirror_retry(Coordinator *co)
{
        int r;

        mirror_stop(co);
        r = timer_arm(co, &co->mirror_timer, now_boot() + backoff_next(&co->mirror_backoff), on_mirror_timer,
                      "coordinator-relist");
        if (r < 0)
                log_debug_errno(r, "coordinator: cannot arm the relist timer: %m");
}

static void on_watch_event(EtcdRequest *w, const EtcdWatchResponse *wr, void *userdata)
{
        Coordinator *co = userdata;
        size_t plen = strlen(co->prefix);
        bool others = false;

        for (size_t i = 0; i < wr->n_events; i++) {
                const EtcdEvent *ev = &wr->events[i];
                const char *key = ev->kv.key;
                bool o = false;

                if (!startswith(key, co->prefix) || !mirrored(key + plen))
                        continue;
                if (ev->type == ETCD_EVENT_PUT) {
                        /* the mirror misses a key: list it all again */
                        if (entry_set(co, key + plen, ev->kv.value, ev->kv.lease, &o) < 0)
                                return mirror_retry(co);
                } else
                        entry_remove(co, key + plen, &o);
                others = others || o;
        }
        if (others)
                coordinator_notify_change(co);
}

static void on_watch_done(EtcdRequest *w, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;

        for (size_t i = 0; i < MIRROR_RANGES; i++)
                if (co->watches[i] == w)
                        co->watches[i] = NULL;
        log_debug("coordinator: a watch ended: %s", e->text);
        /* compacted: the list is missing events, list again now; else etcd is away */
        if (e->error == -ESTALE)
                mirror_start(co);
        else
                mirror_retry(co);
}

static int entries_from(const Coordinator *co, const EtcdResponse *resp, Entry **ret, size_t *ret_n)
{
        size_t plen = strlen(co->prefix), n = 0, total = 0;
        Entry *a;

        for (size_t k = 0; k < resp->n_responses; k++)
                total += resp->responses[k].n_kvs;
        a = calloc(total + 1, sizeof(Entry));
        if (!a)
                return -ENOMEM;
        /* etcd lists each range in key order, and the ranges are in key order */
        for (size_t k = 0; k < resp->n_responses; k++)
                for (size_t i = 0; i < resp->responses[k].n_kvs; i++) {
                        const EtcdKeyValue *kv = &resp->responses[k].kvs[i];
                        Entry *e = &a[n];

                        if (!startswith(kv->key, co->prefix) || !mirrored(kv->key + plen))
                                continue;
                        e->key = strdup(kv->key + plen);
                        e->value = strdup(kv->value);
                        e->lease = kv->lease;
                        n++;
                        if (!e->key || !e->value) {
                                entries_free(a, n);
                                return -ENOMEM;
                        }
                        if (startswith(e->key, "nodes/"))
                                e->node = cJSON_Parse(e->value);
                }
        *ret = a;
        *ret_n = n;
        return 0;
}

static int mirror_watch(Coordinator *co, int64_t revision)
{
        for (size_t i = 0; i < MIRROR_RANGES; i++) {
                _cleanup_free_ char *from = key_of(co, mirror_ranges[i][0], ""),
                                    *to = key_of(co, mirror_ranges[i][1], "");
                int r;

                if (!from || !to)
                        return -ENOMEM;
                r = etcd_watch(co->etcd, from,
                               &(EtcdWatchOptions){.range_end = to, .start_revision = revision},
                               on_watch_event, on_watch_done, co, &co->watches[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void on_listed(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        Coordinator *co = userdata;
        Entry *entries = NULL;
        bool others;
        size_t n;
        int r;

        co->list_call = NULL;
        if (e) {
                log_debug("coordinator: listing nodes and claims failed: %s", e->text);
                return mirror_retry(co);
        }
        if (resp->n_responses != MIRROR_RANGES)
                return mirror_retry(co);
        r = entries_from(co, resp, &entries, &n);
        if (r < 0)
                return mirror_retry(co);
        entries_replace(co, entries, n, &others);
        r = mirror_watch(co, resp->revision + 1);
        if (r < 0)
                return mirror_retry(co);
        co->mirror_backoff = 0;
        if (others)
                coordinator_notify_change(co);
}

/* The ranges listed in one transaction: one revision for all, the watches' start. */
static void mirror_start(Coordinator *co)
{
        char *keys[MIRROR_RANGES][2] = {};
        EtcdOp ops[MIRROR_RANGES];
        int r = 0;

        timer_off(co->mirror_timer);
        mirror_stop(co);
        for (size_t i = 0; i < MIRROR_RANGES; i++) {
                keys[i][0] = key_of(co, mirror_ranges[i][0], "");
                keys[i][1] = key_of(co, mirror_ranges[i][1], "");
                if (!keys[i][0] || !keys[i][1])
                        r = -ENOMEM;
                ops[i] = (EtcdOp){.type = ETCD_OP_RANGE, .key = keys[i][0], .range_end = keys[i][1]};
        }
        if (r >= 0)
                r = etcd_txn(co->etcd, &(EtcdTxn){.success = ops, .n_success = MIRROR_RANGES}, on_listed, co,
                             &co->list_call);
        for (size_t i = 0; i < MIRROR_RANGES; i++) {
                free(keys[i][0]);
                free(keys[i][1]);
        }
        if (r < 0)
                mirror_retry(co);
}

/* --- start and stop --- */

int etcd_backend_start(Coordinator *co, const CoordinatorOptions *o, char **ret_error)
{
        EtcdClientOptions eo = {.endpoints = o->endpoints};
        int r;

        if (!o->endpoints || !o->endpoints[0])
                return set_errorf(ret_error, -EINVAL, "coordinator: etcd needs at least one endpoint");
        co->ttl_sec = o->lease_ttl_sec ?: COORDINATOR_DEFAULT_TTL_SEC;
        if (co->ttl_sec < COORDINATOR_MIN_TTL_SEC || co->ttl_sec > 3600)
                return set_errorf(ret_error, -EINVAL,
                                  "coordinator: the lease TTL %lld s is not within %d..3600 s",
                                  (long long)co->ttl_sec, COORDINATOR_MIN_TTL_SEC);
        if (o->resume_lease < 0)
                return set_errorf(ret_error, -EINVAL, "coordinator: the lease to resume %lld is negative",
                                  (long long)o->resume_lease);
        co->resume_lease = o->resume_lease;
        co->ttl = (usec_t)co->ttl_sec * USEC_PER_SEC;
        co->keepalive_interval = MIN(co->ttl / 3, (co->ttl - COORDINATOR_SAFETY_MARGIN) / 2);
        if (!co->curl)
                return set_errorf(ret_error, -EINVAL, "coordinator: etcd needs a curl loop");
        r = etcd_client_new(&co->etcd, co->curl, &eo, ret_error);
        if (r < 0)
                return r;
        connect_start(co);
        mirror_start(co);
        return 0;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userdata)
{
        return size * nmemb;
}

/* The one blocking call: at shutdown there is no loop left to wait on, and the claims should
 * not outlive the agent by a TTL. */
static void revoke_now(const char *endpoint, int64_t id, usec_t deadline)
{
        _cleanup_free_ char *url = NULL, *body = NULL;
        usec_t now = now_boot();
        size_t n = strlen(endpoint);
        CURL *e;
        CURLcode c;

        if (!id || now >= deadline)
                return;
        if (asprintf_safe(&url, "%.*s/v3/lease/revoke", (int)(n > 0 && endpoint[n - 1] == '/' ? n - 1 : n),
                          endpoint) < 0 ||
            asprintf_safe(&body, "{\"ID\":\"%lld\"}", (long long)id) < 0)
                return;
        e = curl_easy_init();
        if (!e)
                return;
        (void)curl_easy_setopt(e, CURLOPT_URL, url);
        (void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        (void)curl_easy_setopt(e, CURLOPT_PROXY, "");
        (void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)MAX((deadline - now) / USEC_PER_MSEC, 1));
        (void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        c = curl_easy_perform(e);
        log_debug("coordinator: revoking lease %lld: %s", (long long)id, curl_easy_strerror(c));
        curl_easy_cleanup(e);
}

void etcd_backend_stop(Coordinator *co)
{
        _cleanup_free_ char *endpoint = co->etcd ? strdup(etcd_client_endpoint(co->etcd)) : NULL;
        usec_t deadline = now_boot() + COORDINATOR_REVOKE_TIMEOUT;

        co->keepalive_timer = sd_event_source_disable_unref(co->keepalive_timer);
        co->deadline_timer = sd_event_source_disable_unref(co->deadline_timer);
        co->retry_timer = sd_event_source_disable_unref(co->retry_timer);
        co->mirror_timer = sd_event_source_disable_unref(co->mirror_timer);
        co->etcd = etcd_client_free(co->etcd); /* cancels every call in flight */
        if (endpoint) {
                revoke_now(endpoint, co->lease_id, deadline);
                revoke_now(endpoint, co->old_lease, deadline);
        }
        co->sweep_cursor = mfree(co->sweep_cursor);
}
