/* The etcd client against a real etcd that each test starts on free loopback ports (skipped
 * without the etcd binary, a failure with CI=true), and against sockets that refuse, never
 * answer, or play a watch stream cut into odd pieces. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "etcd-client.h"
#include "etcd-fixture.h"
#include "event-run.h"
#include "loopback.h"
#include "util.h"

#define CALL_MAX_USEC (10 * USEC_PER_SEC)

static EtcdFixture server = ETCD_FIXTURE_INIT;
static sd_event *event;
static CurlLoop *loop;
static EtcdClient *clients[4];
static size_t n_clients;

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(curl_loop_new(&loop, event), 0);
}

static void teardown(void)
{
        for (size_t i = 0; i < n_clients; i++)
                clients[i] = etcd_client_free(clients[i]);
        n_clients = 0;
        cr_assert_eq(curl_loop_in_flight(loop), 0, "a call outlived its client");
        loop = curl_loop_free(loop);
        event = sd_event_unref(event);
        etcd_fixture_stop(&server);
}

TestSuite(etcd_client, .init = setup, .fini = teardown, .timeout = 60);

static void start_etcd(void)
{
        etcd_fixture_start(&server);
}

static EtcdClient *client_for(const char *const *endpoints, usec_t timeout)
{
        EtcdClientOptions o = {.endpoints = endpoints, .request_timeout = timeout};
        _cleanup_free_ char *error = NULL;
        EtcdClient *c = NULL;

        cr_assert_lt(n_clients, ELEMENTSOF(clients));
        cr_assert_eq(etcd_client_new(&c, loop, &o, &error), 0, "%s", error ?: "");
        clients[n_clients++] = c;
        return c;
}

static EtcdClient *client(void)
{
        const char *const endpoints[] = {server.url, NULL};

        return client_for(endpoints, 0);
}

/* --- one call's outcome, copied out of its callback --- */

typedef struct Kv {
        char key[64];
        char value[128];
        int64_t create_revision, mod_revision, version, lease;
} Kv;

typedef struct Call {
        bool called;
        int calls;
        int error;
        EtcdErrorKind kind;
        int code;
        char text[512];
        char message[256];
        int64_t revision;
        bool succeeded;
        size_t n_kvs;
        Kv kvs[8];
        int64_t count;
        bool more;
        bool has_kv;
        Kv kv;
        size_t n_responses;
        EtcdOpType types[4];
        int64_t lease_id, ttl;
} Call;

static void copy_kv(Kv *to, const EtcdKeyValue *kv)
{
        snprintf(to->key, sizeof(to->key), "%s", kv->key);
        snprintf(to->value, sizeof(to->value), "%s", kv->value);
        to->create_revision = kv->create_revision;
        to->mod_revision = kv->mod_revision;
        to->version = kv->version;
        to->lease = kv->lease;
}

static void on_done(EtcdClient *c, const EtcdResponse *r, const EtcdError *e, void *userdata)
{
        Call *call = userdata;

        call->calls++;
        call->called = true;
        cr_assert((r == NULL) != (e == NULL), "exactly one of response and error");
        if (e) {
                call->error = e->error;
                call->kind = e->kind;
                call->code = e->code;
                cr_assert_not_null(e->text);
                cr_assert_not_null(e->message);
                cr_assert_not_null(e->endpoint);
                snprintf(call->text, sizeof(call->text), "%s", e->text);
                snprintf(call->message, sizeof(call->message), "%s", e->message);
                return;
        }
        call->revision = r->revision;
        call->succeeded = r->succeeded;
        call->count = r->op.count;
        call->more = r->op.more;
        call->n_kvs = MIN(r->op.n_kvs, ELEMENTSOF(call->kvs));
        for (size_t i = 0; i < call->n_kvs; i++)
                copy_kv(&call->kvs[i], &r->op.kvs[i]);
        if (r->kv) {
                call->has_kv = true;
                copy_kv(&call->kv, r->kv);
        }
        call->n_responses = r->n_responses;
        for (size_t i = 0; i < MIN(r->n_responses, ELEMENTSOF(call->types)); i++)
                call->types[i] = r->responses[i].type;
        call->lease_id = r->lease_id;
        call->ttl = r->ttl;
}

/* Checks that a call started (and did not answer from inside the start), then runs the loop
 * until it answered once. */
static void finish(int r, Call *c)
{
        cr_assert_eq(r, 0, "starting the call failed: %s", strerror(-r));
        cr_assert_not(c->called, "the callback ran inside the starting function");
        cr_assert(event_run_until_set(event, &c->called, CALL_MAX_USEC), "no answer");
        cr_assert_eq(c->calls, 1);
}

static void expect_ok(const Call *c)
{
        cr_assert_eq(c->error, 0, "the call failed: %s", c->text);
}

static Call put(EtcdClient *e, const char *key, const char *value, int64_t lease)
{
        Call c = {};

        finish(etcd_put(e, key, value, strlen(value), lease, on_done, &c, NULL), &c);
        expect_ok(&c);
        return c;
}

static Call get(EtcdClient *e, const char *key, const EtcdRangeOptions *o)
{
        Call c = {};

        finish(etcd_range(e, key, o, on_done, &c, NULL), &c);
        return c;
}

/* --- keys --- */

Test(etcd_client, put_then_range_reads_the_key_back)
{
        EtcdClient *e;
        Call p, g;

        start_etcd();
        e = client();
        p = put(e, "/k/one", "value 1", 0);
        cr_assert_gt(p.revision, 1);
        g = get(e, "/k/one", NULL);
        expect_ok(&g);
        cr_assert_eq(g.n_kvs, 1);
        cr_assert_str_eq(g.kvs[0].key, "/k/one");
        cr_assert_str_eq(g.kvs[0].value, "value 1");
        cr_assert_eq(g.kvs[0].create_revision, p.revision);
        cr_assert_eq(g.kvs[0].mod_revision, p.revision);
        cr_assert_eq(g.kvs[0].version, 1);
        cr_assert_eq(g.kvs[0].lease, 0);
        cr_assert_eq(g.revision, p.revision);

        g = get(e, "/k/none", NULL);
        expect_ok(&g);
        cr_assert_eq(g.n_kvs, 0);
        cr_assert_eq(g.count, 0);

        /* an empty value, and a key read at an older revision */
        p = put(e, "/k/one", "", 0);
        g = get(e, "/k/one", &(EtcdRangeOptions){.revision = p.revision - 1});
        expect_ok(&g);
        cr_assert_str_eq(g.kvs[0].value, "value 1");
        g = get(e, "/k/one", NULL);
        cr_assert_str_eq(g.kvs[0].value, "");
        cr_assert_eq(g.kvs[0].version, 2);
}

Test(etcd_client, prefix_range_finds_only_the_keys_under_it)
{
        static const char *const keys[] = {"/p/a", "/p/b", "/p/c", "/p", "/q/a", "/p0"};
        EtcdClient *e;
        Call g;

        start_etcd();
        e = client();
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                put(e, keys[i], keys[i], 0);
        g = get(e, "/p/", &(EtcdRangeOptions){.prefix = true});
        expect_ok(&g);
        cr_assert_eq(g.n_kvs, 3);
        cr_assert_str_eq(g.kvs[0].key, "/p/a");
        cr_assert_str_eq(g.kvs[1].key, "/p/b");
        cr_assert_str_eq(g.kvs[2].key, "/p/c");
        cr_assert_str_eq(g.kvs[2].value, "/p/c");
        cr_assert_eq(g.count, 3);
        cr_assert_not(g.more);

        g = get(e, "/p/", &(EtcdRangeOptions){.prefix = true, .limit = 2});
        cr_assert_eq(g.n_kvs, 2);
        cr_assert_eq(g.count, 3);
        cr_assert(g.more);

        /* [/p/b, /q): "/p0" sorts after "/p/" */
        g = get(e, "/p/b", &(EtcdRangeOptions){.range_end = "/q"});
        cr_assert_eq(g.n_kvs, 3);
        cr_assert_str_eq(g.kvs[0].key, "/p/b");
        cr_assert_str_eq(g.kvs[1].key, "/p/c");
        cr_assert_str_eq(g.kvs[2].key, "/p0");
}

Test(etcd_client, delete_removes_a_key_or_a_prefix)
{
        EtcdClient *e;
        Call d = {}, g;

        start_etcd();
        e = client();
        put(e, "/d/a", "1", 0);
        put(e, "/d/b", "2", 0);
        put(e, "/d/c", "3", 0);
        put(e, "/e", "4", 0);
        finish(etcd_delete(e, "/d/a", false, on_done, &d, NULL), &d);
        expect_ok(&d);
        cr_assert_eq(d.count, 1);
        d = (Call){};
        finish(etcd_delete(e, "/d/", true, on_done, &d, NULL), &d);
        expect_ok(&d);
        cr_assert_eq(d.count, 2);
        g = get(e, "/d/", &(EtcdRangeOptions){.prefix = true});
        cr_assert_eq(g.n_kvs, 0);
        g = get(e, "/e", NULL);
        cr_assert_eq(g.n_kvs, 1);
        d = (Call){};
        finish(etcd_delete(e, "/d/a", false, on_done, &d, NULL), &d);
        expect_ok(&d);
        cr_assert_eq(d.count, 0);
}

Test(etcd_client, txn_runs_the_branch_its_compares_choose)
{
        EtcdClient *e;
        Call t = {}, p;

        start_etcd();
        e = client();
        p = put(e, "/t/a", "x", 0);
        {
                EtcdCompare cmp[] = {
                    {.key = "/t/a",
                     .target = ETCD_COMPARE_VALUE,
                     .result = ETCD_COMPARE_EQUAL,
                     .value = "x",
                     .value_size = 1},
                    {.key = "/t/a",
                     .target = ETCD_COMPARE_MOD,
                     .result = ETCD_COMPARE_LESS,
                     .number = p.revision + 1},
                    {.key = "/t/a", .target = ETCD_COMPARE_LEASE, .result = ETCD_COMPARE_EQUAL, .number = 0},
                };
                EtcdOp success[] = {
                    {.type = ETCD_OP_PUT, .key = "/t/b", .value = "y", .value_size = 1},
                    {.type = ETCD_OP_RANGE, .key = "/t/", .prefix = true},
                    {.type = ETCD_OP_DELETE, .key = "/t/a", .prev_kv = true},
                };
                EtcdOp failure[] = {{.type = ETCD_OP_RANGE, .key = "/t/a"}};
                EtcdTxn txn = {cmp,     ELEMENTSOF(cmp),    success, ELEMENTSOF(success),
                               failure, ELEMENTSOF(failure)};

                finish(etcd_txn(e, &txn, on_done, &t, NULL), &t);
                expect_ok(&t);
                cr_assert(t.succeeded);
                cr_assert_eq(t.n_responses, 3);
                cr_assert_eq(t.types[0], ETCD_OP_PUT);
                cr_assert_eq(t.types[1], ETCD_OP_RANGE);
                cr_assert_eq(t.types[2], ETCD_OP_DELETE);
                cr_assert_eq(t.revision, p.revision + 1);

                /* /t/a is gone now: the same compares fail */
                t = (Call){};
                finish(etcd_txn(e, &txn, on_done, &t, NULL), &t);
                expect_ok(&t);
                cr_assert_not(t.succeeded);
                cr_assert_eq(t.n_responses, 1);
                cr_assert_eq(t.types[0], ETCD_OP_RANGE);
        }
}

Test(etcd_client, create_if_absent_lets_exactly_one_of_two_clients_win)
{
        EtcdClient *a, *b;
        Call ca = {}, cb = {}, *won, *lost, g;
        const char *won_value;

        start_etcd();
        a = client();
        b = client();
        /* both in flight at once */
        cr_assert_eq(etcd_create_if_absent(a, "/claim/0", "node-a", 6, 0, on_done, &ca, NULL), 0);
        cr_assert_eq(etcd_create_if_absent(b, "/claim/0", "node-b", 6, 0, on_done, &cb, NULL), 0);
        cr_assert_not(ca.called || cb.called, "a callback ran inside the starting function");
        cr_assert(event_run_until_set(event, &ca.called, CALL_MAX_USEC));
        cr_assert(event_run_until_set(event, &cb.called, CALL_MAX_USEC));
        cr_assert_eq(ca.calls, 1);
        cr_assert_eq(cb.calls, 1);
        expect_ok(&ca);
        expect_ok(&cb);
        cr_assert_neq(ca.succeeded, cb.succeeded, "exactly one claim must win");
        won = ca.succeeded ? &ca : &cb;
        lost = ca.succeeded ? &cb : &ca;
        won_value = ca.succeeded ? "node-a" : "node-b";
        cr_assert_not(won->has_kv);
        cr_assert(lost->has_kv, "the loser sees the holder");
        cr_assert_str_eq(lost->kv.value, won_value);
        cr_assert_eq(lost->kv.create_revision, won->revision, "the winner's revision is the fencing token");

        g = get(a, "/claim/0", NULL);
        cr_assert_eq(g.kvs[0].create_revision, won->revision);
        cr_assert_str_eq(g.kvs[0].value, won_value);
}

Test(etcd_client, put_if_revision_fails_with_a_stale_revision)
{
        EtcdClient *e;
        Call p1, p2, c = {}, g;

        start_etcd();
        e = client();
        p1 = put(e, "/r", "1", 0);
        p2 = put(e, "/r", "2", 0);
        finish(etcd_put_if_revision(e, "/r", "3", 1, 0, p1.revision, on_done, &c, NULL), &c);
        expect_ok(&c);
        cr_assert_not(c.succeeded);
        cr_assert(c.has_kv);
        cr_assert_eq(c.kv.mod_revision, p2.revision);
        cr_assert_str_eq(c.kv.value, "2");

        c = (Call){};
        finish(etcd_put_if_revision(e, "/r", "3", 1, 0, p2.revision, on_done, &c, NULL), &c);
        expect_ok(&c);
        cr_assert(c.succeeded);
        cr_assert_gt(c.revision, p2.revision);
        g = get(e, "/r", NULL);
        cr_assert_str_eq(g.kvs[0].value, "3");
        cr_assert_eq(g.kvs[0].mod_revision, c.revision);

        /* a delete with the stale revision leaves it, one with the current removes it */
        c = (Call){};
        finish(etcd_delete_if_revision(e, "/r", p2.revision, on_done, &c, NULL), &c);
        expect_ok(&c);
        cr_assert_not(c.succeeded);
        cr_assert_str_eq(c.kv.value, "3");
        c = (Call){};
        finish(etcd_delete_if_revision(e, "/r", g.kvs[0].mod_revision, on_done, &c, NULL), &c);
        expect_ok(&c);
        cr_assert(c.succeeded);
        g = get(e, "/r", NULL);
        cr_assert_eq(g.n_kvs, 0);

        /* expected 0: only while the key does not exist */
        c = (Call){};
        finish(etcd_put_if_revision(e, "/r", "4", 1, 0, 0, on_done, &c, NULL), &c);
        cr_assert(c.succeeded);
        c = (Call){};
        finish(etcd_put_if_revision(e, "/r", "5", 1, 0, 0, on_done, &c, NULL), &c);
        cr_assert_not(c.succeeded);
        cr_assert_str_eq(c.kv.value, "4");
}

/* --- leases --- */

static Call grant(EtcdClient *e, int64_t ttl)
{
        Call c = {};

        finish(etcd_lease_grant(e, ttl, on_done, &c, NULL), &c);
        expect_ok(&c);
        cr_assert_gt(c.lease_id, 0);
        return c;
}

static Call keepalive(EtcdClient *e, int64_t id)
{
        Call c = {};

        finish(etcd_lease_keepalive(e, id, on_done, &c, NULL), &c);
        return c;
}

Test(etcd_client, leased_key_vanishes_when_the_lease_expires)
{
        EtcdClient *e;
        Call l, k, g;
        usec_t start;

        start_etcd();
        e = client();
        l = grant(e, 2);
        cr_assert_eq(l.ttl, 2);
        put(e, "/lease/key", "held", l.lease_id);
        g = get(e, "/lease/key", NULL);
        cr_assert_eq(g.kvs[0].lease, l.lease_id);
        k = keepalive(e, l.lease_id);
        expect_ok(&k);
        cr_assert_eq(k.ttl, 2);
        cr_assert_eq(k.lease_id, l.lease_id);

        /* no more renewals: the key goes with the lease */
        start = now_usec(CLOCK_MONOTONIC);
        for (;;) {
                g = get(e, "/lease/key", NULL);
                expect_ok(&g);
                if (g.n_kvs == 0)
                        break;
                cr_assert_lt(now_usec(CLOCK_MONOTONIC) - start, 10 * USEC_PER_SEC, "the leased key stayed");
                event_run_for(event, 100 * USEC_PER_MSEC);
        }
        cr_assert_geq(now_usec(CLOCK_MONOTONIC) - start, USEC_PER_SEC, "the key went before its TTL");
        k = keepalive(e, l.lease_id);
        cr_assert_eq(k.error, -ENOENT, "%s", k.text);
        cr_assert_eq(k.kind, ETCD_ERROR_SERVER);
        cr_assert_eq(k.code, 5);
        cr_assert(strstr(k.text, server.url), "%s", k.text);
        cr_assert(strstr(k.text, "lease not found"), "%s", k.text);
}

Test(etcd_client, revoke_deletes_the_keys_of_the_lease)
{
        EtcdClient *e;
        Call l, r = {}, g;

        start_etcd();
        e = client();
        l = grant(e, 60);
        put(e, "/rv/a", "1", l.lease_id);
        put(e, "/rv/b", "2", l.lease_id);
        finish(etcd_lease_revoke(e, l.lease_id, on_done, &r, NULL), &r);
        expect_ok(&r);
        g = get(e, "/rv/", &(EtcdRangeOptions){.prefix = true});
        cr_assert_eq(g.n_kvs, 0);
        r = (Call){};
        finish(etcd_lease_revoke(e, l.lease_id, on_done, &r, NULL), &r);
        cr_assert_eq(r.error, -ENOENT, "%s", r.text);
        cr_assert_eq(r.kind, ETCD_ERROR_SERVER);
        r = keepalive(e, l.lease_id);
        cr_assert_eq(r.error, -ENOENT, "%s", r.text);
}

/* --- watches --- */

typedef struct Seen {
        int created;
        size_t n;
        EtcdEventType type[16];
        Kv kv[16];
        bool has_prev[16];
        Kv prev[16];
        bool done;
        int error;
        int64_t compact_revision;
        char message[256];
        char text[512];
        size_t want;         /* seen_enough(): this many events */
        size_t cancel_after; /* cancel the watch from inside on_event once n reaches it; 0: never */
        bool cancelled;
} Seen;

static void on_event(EtcdRequest *w, const EtcdWatchResponse *r, void *userdata)
{
        Seen *s = userdata;

        cr_assert_not(s->done, "an event after the end");
        if (r->created)
                s->created++;
        for (size_t i = 0; i < r->n_events && s->n < ELEMENTSOF(s->type); i++, s->n++) {
                s->type[s->n] = r->events[i].type;
                copy_kv(&s->kv[s->n], &r->events[i].kv);
                s->has_prev[s->n] = r->events[i].has_prev_kv;
                if (r->events[i].has_prev_kv)
                        copy_kv(&s->prev[s->n], &r->events[i].prev_kv);
        }
        if (s->cancel_after > 0 && s->n >= s->cancel_after && !s->cancelled) {
                s->cancelled = true;
                etcd_request_cancel(w);
        }
}

static void on_watch_done(EtcdRequest *w, const EtcdError *e, void *userdata)
{
        Seen *s = userdata;

        cr_assert_not(s->done, "a watch ended twice");
        cr_assert_not(s->cancelled, "a cancelled watch ended");
        cr_assert_not_null(e);
        s->done = true;
        s->error = e->error;
        s->compact_revision = e->compact_revision;
        snprintf(s->message, sizeof(s->message), "%s", e->message);
        snprintf(s->text, sizeof(s->text), "%s", e->text);
}

static bool watch_created(void *userdata)
{
        Seen *s = userdata;

        return s->created > 0 || s->done;
}

static bool seen_enough(void *userdata)
{
        Seen *s = userdata;

        return s->done || s->n >= s->want;
}

Test(etcd_client, watch_sees_puts_and_deletes_in_order)
{
        EtcdRequest *w = NULL;
        EtcdClient *e;
        Seen s = {.want = 3, .cancel_after = 3};
        Call p, d = {};

        start_etcd();
        e = client();
        p = put(e, "/other", "x", 0);
        cr_assert_eq(etcd_watch(e, "/w/", &(EtcdWatchOptions){.prefix = true, .prev_kv = true}, on_event,
                                on_watch_done, &s, &w),
                     0);
        /* the watch is in place once etcd said so: changes from then on are seen */
        cr_assert(event_run_until(event, watch_created, &s, CALL_MAX_USEC));
        cr_assert_not(s.done, "%s", s.text);
        put(e, "/w/a", "1", 0);
        put(e, "/not-watched", "1", 0);
        put(e, "/w/a", "2", 0);
        finish(etcd_delete(e, "/w/a", false, on_done, &d, NULL), &d);
        cr_assert(event_run_until(event, seen_enough, &s, CALL_MAX_USEC));
        cr_assert_not(s.done, "%s", s.text);
        cr_assert_eq(s.created, 1);
        cr_assert_eq(s.n, 3);
        cr_assert_eq(s.type[0], ETCD_EVENT_PUT);
        cr_assert_str_eq(s.kv[0].key, "/w/a");
        cr_assert_str_eq(s.kv[0].value, "1");
        cr_assert_not(s.has_prev[0]);
        cr_assert_eq(s.type[1], ETCD_EVENT_PUT);
        cr_assert_str_eq(s.kv[1].value, "2");
        cr_assert(s.has_prev[1]);
        cr_assert_str_eq(s.prev[1].value, "1");
        cr_assert_eq(s.type[2], ETCD_EVENT_DELETE);
        cr_assert_str_eq(s.kv[2].key, "/w/a");
        cr_assert(s.has_prev[2]);
        cr_assert_str_eq(s.prev[2].value, "2");
        cr_assert_lt(s.kv[0].mod_revision, s.kv[1].mod_revision);
        cr_assert_lt(s.kv[1].mod_revision, s.kv[2].mod_revision);
        cr_assert_gt(s.kv[0].mod_revision, p.revision);
        /* cancelled from inside on_event: nothing more, and no end */
        cr_assert(s.cancelled);
        put(e, "/w/b", "3", 0);
        event_run_for(event, 200 * USEC_PER_MSEC);
        cr_assert_eq(s.n, 3);
        cr_assert_not(s.done);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

Test(etcd_client, watch_from_a_revision_sees_only_the_changes_after_it)
{
        EtcdClient *e;
        Seen s = {.want = 2};
        Call p1, p2, p3;

        start_etcd();
        e = client();
        p1 = put(e, "/h", "1", 0);
        p2 = put(e, "/h", "2", 0);
        p3 = put(e, "/h", "3", 0);
        cr_assert_eq(etcd_watch(e, "/h", &(EtcdWatchOptions){.start_revision = p2.revision}, on_event,
                                on_watch_done, &s, NULL),
                     0);
        cr_assert(event_run_until(event, seen_enough, &s, CALL_MAX_USEC));
        cr_assert_not(s.done, "%s", s.text);
        cr_assert_eq(s.n, 2);
        cr_assert_str_eq(s.kv[0].value, "2");
        cr_assert_eq(s.kv[0].mod_revision, p2.revision);
        cr_assert_str_eq(s.kv[1].value, "3");
        cr_assert_eq(s.kv[1].mod_revision, p3.revision);
        cr_assert_gt(p2.revision, p1.revision);
        /* the watch goes on with later changes */
        s.want = 3;
        put(e, "/h", "4", 0);
        cr_assert(event_run_until(event, seen_enough, &s, CALL_MAX_USEC));
        cr_assert_str_eq(s.kv[2].value, "4");
}

Test(etcd_client, watch_from_a_compacted_revision_ends_with_compaction)
{
        EtcdClient *e;
        Seen s = {};
        Call p1, p2, c = {}, g;

        start_etcd();
        e = client();
        p1 = put(e, "/c", "1", 0);
        put(e, "/c", "2", 0);
        p2 = put(e, "/c", "3", 0);
        finish(etcd_compact(e, p2.revision, true, on_done, &c, NULL), &c);
        expect_ok(&c);
        cr_assert_eq(etcd_watch(e, "/c", &(EtcdWatchOptions){.start_revision = p1.revision}, on_event,
                                on_watch_done, &s, NULL),
                     0);
        cr_assert(event_run_until_set(event, &s.done, CALL_MAX_USEC));
        cr_assert_eq(s.error, -ESTALE, "%s", s.text);
        cr_assert_eq(s.compact_revision, p2.revision);
        cr_assert_eq(s.n, 0);
        cr_assert(strstr(s.text, "compacted"), "%s", s.text);
        cr_assert_eq(curl_loop_in_flight(loop), 0, "the stream was left open");

        /* a read at a compacted revision is the same error */
        g = get(e, "/c", &(EtcdRangeOptions){.revision = p1.revision});
        cr_assert_eq(g.error, -ESTALE, "%s", g.text);
        cr_assert_eq(g.kind, ETCD_ERROR_SERVER);
        cr_assert_eq(g.code, 11);
}

/* --- errors and endpoints --- */

Test(etcd_client, etcd_errors_carry_the_code_the_message_and_the_endpoint)
{
        EtcdClient *e;
        Call p, g;

        start_etcd();
        e = client();
        p = put(e, "/x", "1", 0);
        g = get(e, "/x", &(EtcdRangeOptions){.revision = p.revision + 1000});
        cr_assert_eq(g.error, -ERANGE, "%s", g.text);
        cr_assert_eq(g.kind, ETCD_ERROR_SERVER);
        cr_assert_eq(g.code, 11);
        cr_assert_str_eq(g.message, "etcdserver: mvcc: required revision is a future revision");
        cr_assert(strstr(g.text, server.url), "%s", g.text);
        cr_assert(strstr(g.text, "/v3/kv/range"), "%s", g.text);
        cr_assert(strstr(g.text, "OutOfRange"), "%s", g.text);
}

Test(etcd_client, an_unreachable_endpoint_fails_fast_and_is_named)
{
        char url[64];
        const char *const endpoints[] = {url, NULL};
        EtcdClient *e;
        Call g = {};
        usec_t start;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d", loopback_closed_port());
        e = client_for(endpoints, 5 * USEC_PER_SEC);
        start = now_usec(CLOCK_MONOTONIC);
        finish(etcd_range(e, "/a", NULL, on_done, &g, NULL), &g);
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - start, USEC_PER_SEC);
        cr_assert_eq(g.error, -ECONNREFUSED, "%s", g.text);
        cr_assert_eq(g.kind, ETCD_ERROR_TRANSPORT);
        cr_assert(strstr(g.text, url), "%s", g.text);
        cr_assert(strstr(g.text, "cannot reach etcd"), "%s", g.text);
}

Test(etcd_client, calls_fail_over_to_the_next_endpoint)
{
        char dead[64], dead2[64];
        const char *endpoints[] = {dead, server.url, NULL};
        const char *const all_dead[] = {dead, dead2, NULL};
        Seen s = {.want = 1};
        EtcdClient *e;
        Call g;

        start_etcd();
        snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", loopback_closed_port());
        e = client_for(endpoints, 0);
        cr_assert_str_eq(etcd_client_endpoint(e), dead);
        put(e, "/f", "1", 0);
        cr_assert_str_eq(etcd_client_endpoint(e), server.url, "the endpoint that answered is kept");
        g = get(e, "/f", NULL);
        expect_ok(&g);
        cr_assert_str_eq(g.kvs[0].value, "1");

        /* a watch fails over too */
        e = client_for(endpoints, 0);
        cr_assert_eq(etcd_watch(e, "/f", NULL, on_event, on_watch_done, &s, NULL), 0);
        cr_assert(event_run_until(event, watch_created, &s, CALL_MAX_USEC));
        cr_assert_not(s.done, "%s", s.text);
        put(e, "/f", "2", 0);
        cr_assert(event_run_until(event, seen_enough, &s, CALL_MAX_USEC));
        cr_assert_str_eq(s.kv[0].value, "2");

        /* none answers: every endpoint is named */
        snprintf(dead2, sizeof(dead2), "http://127.0.0.1:%d", loopback_closed_port());
        e = client_for(all_dead, 0);
        g = get(e, "/f", NULL);
        cr_assert_eq(g.error, -ECONNREFUSED, "%s", g.text);
        cr_assert(strstr(g.text, dead) && strstr(g.text, dead2), "%s", g.text);
}

Test(etcd_client, a_server_that_never_answers_exceeds_the_deadline)
{
        char url[64];
        const char *const endpoints[] = {url, NULL};
        _cleanup_close_ int fd = -EBADF;
        EtcdClient *e;
        Call g = {};
        usec_t start, took;
        int port;

        /* connections complete in the kernel's backlog, and nobody reads them */
        fd = loopback_listen(0, 16, &port);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
        e = client_for(endpoints, 300 * USEC_PER_MSEC);
        start = now_usec(CLOCK_MONOTONIC);
        finish(etcd_create_if_absent(e, "/a", "b", 1, 0, on_done, &g, NULL), &g);
        took = now_usec(CLOCK_MONOTONIC) - start;
        cr_assert_eq(g.error, -ETIMEDOUT, "%s", g.text);
        cr_assert_eq(g.kind, ETCD_ERROR_TRANSPORT);
        cr_assert_geq(took, 250 * USEC_PER_MSEC);
        cr_assert_lt(took, 2 * USEC_PER_SEC);
        cr_assert(strstr(g.text, url), "%s", g.text);
        cr_assert(strstr(g.text, "300 ms"), "%s", g.text);
}

Test(etcd_client, endpoints_are_checked)
{
        static const char *const bad[] = {"https://127.0.0.1:2379",   "http://127.0.0.1",   "127.0.0.1:2379",
                                          "http://127.0.0.1:2379/v3", "http://user@host:1", "http://h:0",
                                          "http://h:65536",           "http://[::1:2379",   "http://:2379"};
        static const char *const good[] = {"http://127.0.0.1:2379", "http://etcd-0.local:2379/",
                                           "http://[::1]:2379", NULL};
        EtcdClientOptions o = {};
        EtcdClient *e = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *const endpoints[] = {good[0], bad[i], NULL};
                _cleanup_free_ char *error = NULL;

                o.endpoints = endpoints;
                cr_assert_eq(etcd_client_new(&e, loop, &o, &error), -EINVAL, "%s was taken", bad[i]);
                cr_assert_not_null(error);
                cr_assert(strstr(error, bad[i]), "%s", error);
        }
        o.endpoints = good;
        cr_assert_eq(etcd_client_new(&e, loop, &o, NULL), 0);
        cr_assert_str_eq(etcd_client_endpoint(e), "http://127.0.0.1:2379");
        e = etcd_client_free(e);
        o.endpoints = (const char *const[]){NULL};
        cr_assert_eq(etcd_client_new(&e, loop, &o, NULL), -EINVAL);
}

Test(etcd_client, cancelled_and_freed_calls_never_answer)
{
        Seen s = {};
        EtcdRequest *r = NULL;
        EtcdClient *e;
        Call a = {}, b = {};

        start_etcd();
        e = client();
        cr_assert_eq(etcd_range(e, "/a", NULL, on_done, &a, &r), 0);
        etcd_request_cancel(r);
        cr_assert_eq(etcd_put(e, "/a", "1", 1, 0, on_done, &b, NULL), 0);
        cr_assert_eq(etcd_watch(e, "/a", NULL, on_event, on_watch_done, &s, NULL), 0);
        event_run_for(event, 20 * USEC_PER_MSEC);
        /* the put and the watch are in flight, or done: freeing the client stops what is left */
        n_clients--;
        clients[n_clients] = etcd_client_free(clients[n_clients]);
        event_run_for(event, 300 * USEC_PER_MSEC);
        cr_assert_not(a.called);
        cr_assert_leq(b.calls, 1);
        cr_assert_not(s.done);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}

/* --- a watch stream cut into pieces, from a fake gateway --- */

static const char stream[] =
    "{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}\n"
    "{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{\"kv\":{\"key\":\"YQ==\",\"create_revision\":"
    "\"6\",\"mod_revision\":\"6\",\"version\":\"1\",\"value\":\"e30=\"}}]}}\n"
    "{\"result\":{\"header\":{\"revision\":\"7\"},\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"YQ==\","
    "\"mod_revision\":\"7\"}}]}}"
    "{\"result\":{\"header\":{\"revision\":\"7\"},\"canceled\":true,\"cancel_reason\":\"a \\\"}\\\" {[ "
    "reason\"}}\n";

static bool send_head(LoopbackHttpConn *c)
{
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n";

        return loopback_send_all(c->fd, head, sizeof(head) - 1);
}

static bool send_chunk(LoopbackHttpConn *c, const char *data, size_t n)
{
        char size[32];
        int k = snprintf(size, sizeof(size), "%zx\r\n", n);

        return loopback_send_all(c->fd, size, (size_t)k) && loopback_send_all(c->fd, data, n) &&
               loopback_send_all(c->fd, "\r\n", 2);
}

/* The stream in pieces of 1, 2, 3, 5 and 7 bytes, each its own chunk and write. */
static bool answer_in_pieces(LoopbackHttpConn *c, const char *path)
{
        static const size_t sizes[] = {1, 2, 3, 5, 7};
        size_t off = 0, n = sizeof(stream) - 1;

        if (!send_head(c))
                return false;
        for (size_t i = 0; off < n; i++) {
                size_t k = MIN(sizes[i % ELEMENTSOF(sizes)], n - off);

                if (!send_chunk(c, stream + off, k))
                        return false;
                off += k;
                usleep(500);
        }
        return true;
}

/* The created message and one event, then the end of the body. */
static bool answer_then_close(LoopbackHttpConn *c, const char *path)
{
        size_t n = strstr(stream, "{\"result\":{\"header\":{\"revision\":\"7\"}") - stream;

        (void)(send_head(c) && send_chunk(c, stream, n) && loopback_send_all(c->fd, "0\r\n\r\n", 5));
        return false; /* hang up */
}

static void watch_fake(loopback_http_answer_t answer, Seen *s)
{
        LoopbackHttp http;
        char url[64];
        const char *const endpoints[] = {url, NULL};
        EtcdClient *e;

        loopback_http_start(&http, answer);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", http.port);
        e = client_for(endpoints, 0);
        cr_assert_eq(etcd_watch(e, "a", NULL, on_event, on_watch_done, s, NULL), 0);
        cr_assert(event_run_until_set(event, &s->done, CALL_MAX_USEC));
        cr_assert(strstr(loopback_http_request(&http, 0), "POST /v3/watch "));
        loopback_http_free(&http);
}

Test(etcd_client, watch_messages_are_read_across_any_chunking)
{
        Seen s = {};

        watch_fake(answer_in_pieces, &s);
        cr_assert_eq(s.created, 1);
        cr_assert_eq(s.n, 2);
        cr_assert_eq(s.type[0], ETCD_EVENT_PUT);
        cr_assert_str_eq(s.kv[0].key, "a");
        cr_assert_str_eq(s.kv[0].value, "{}");
        cr_assert_eq(s.kv[0].mod_revision, 6);
        cr_assert_eq(s.type[1], ETCD_EVENT_DELETE);
        cr_assert_eq(s.kv[1].mod_revision, 7);
        cr_assert_eq(s.error, -ECANCELED, "%s", s.text);
        cr_assert_str_eq(s.message, "a \"}\" {[ reason");
}

Test(etcd_client, a_watch_stream_that_closes_ends_after_its_events)
{
        Seen s = {};

        watch_fake(answer_then_close, &s);
        cr_assert_eq(s.created, 1);
        cr_assert_eq(s.n, 1);
        cr_assert_eq(s.error, -ECONNRESET, "%s", s.text);
        cr_assert(strstr(s.text, "/v3/watch"), "%s", s.text);
}

static bool answer_not_found(LoopbackHttpConn *c, const char *path)
{
        static const char reply[] =
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
            "Connection: close\r\n\r\nNot Found\n";

        return loopback_send_all(c->fd, reply, sizeof(reply) - 1);
}

Test(etcd_client, a_server_that_is_no_etcd_gateway_is_a_reply_error)
{
        LoopbackHttp http;
        char url[64];
        const char *const endpoints[] = {url, NULL};
        EtcdClient *e;
        Call g = {};

        loopback_http_start(&http, answer_not_found);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", http.port);
        e = client_for(endpoints, 0);
        finish(etcd_range(e, "/a", NULL, on_done, &g, NULL), &g);
        cr_assert_eq(g.error, -EPROTO, "%s", g.text);
        cr_assert_eq(g.kind, ETCD_ERROR_REPLY);
        cr_assert(strstr(g.text, url) && strstr(g.text, "404") && strstr(g.text, "Not Found"), "%s", g.text);
        loopback_http_free(&http);
}

static void free_client_then_read(EtcdClient *c, const EtcdResponse *r, const EtcdError *e, void *userdata)
{
        Call *call = userdata;

        /* the client goes first: what the callback was handed stays readable */
        for (size_t i = 0; i < n_clients; i++)
                if (clients[i] == c)
                        clients[i] = etcd_client_free(c);
        on_done(NULL, r, e, userdata);
        snprintf(call->message, sizeof(call->message), "%s", e->endpoint);
}

Test(etcd_client, a_client_freed_inside_a_callback_leaves_the_error_readable)
{
        char url[64];
        const char *const endpoints[] = {url, NULL};
        EtcdClient *e;
        Call g = {}, other = {};

        snprintf(url, sizeof(url), "http://127.0.0.1:%d", loopback_closed_port());
        e = client_for(endpoints, 0);
        cr_assert_eq(etcd_range(e, "/a", NULL, free_client_then_read, &g, NULL), 0);
        cr_assert_eq(etcd_range(e, "/b", NULL, on_done, &other, NULL), 0);
        cr_assert(event_run_until_set(event, &g.called, CALL_MAX_USEC));
        cr_assert_str_eq(g.message, url);
        cr_assert(strstr(g.text, url), "%s", g.text);
        /* the other call went with the client, unless it had answered first */
        event_run_for(event, 100 * USEC_PER_MSEC);
        cr_assert_leq(other.calls, 1);
        cr_assert_eq(curl_loop_in_flight(loop), 0);
}
