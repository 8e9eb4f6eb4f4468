/* The coordinator: the local backend, and two or three nodes in one process, each with its own
 * curl loop on one sd-event loop, against a real etcd the fixture starts on loopback (skipped
 * without the etcd binary, a failure with CI=true): claims won once, sticky bindings, the lease
 * lost to a hung or dead etcd and taken again, the mirror of nodes and ordinals. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "claim-node.h"
#include "coordinator.h"
#include "etcd-client.h"
#include "etcd-fixture.h"
#include "etcd-raw.h"
#include "event-run.h"
#include "util.h"

#define WAIT_MAX_USEC (10 * USEC_PER_SEC)

static EtcdFixture server = ETCD_FIXTURE_INIT;
static sd_event *event;
static ClaimNode nodes[3];
static EtcdRaw *raw;            /* etcd as it is, read by a client of the test's own */
static sd_event *crashed_event; /* the loop of a node that crashed: never run again */

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(etcd_raw_new(&raw, event, server.url), 0);
}

static void teardown(void)
{
        if (server.pid > 0)
                (void)kill(server.pid, SIGCONT); /* the revocations must not wait on a stopped etcd */
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++)
                claim_node_done(&nodes[i]);
        crashed_event = sd_event_unref(crashed_event);
        raw = etcd_raw_free(raw);
        event = sd_event_unref(event);
        etcd_fixture_stop(&server);
}

TestSuite(coordinator, .init = setup, .fini = teardown, .timeout = 60);

static ClaimNode *node_new(size_t i, const char *name, CoordinatorType type, int64_t ttl)
{
        const char *const endpoints[] = {server.url, NULL};
        CoordinatorOptions o = {
            .type = type, .node_name = name, .endpoints = endpoints, .lease_ttl_sec = ttl};

        claim_node_start(&nodes[i], event, &o, true);
        return &nodes[i];
}

static ClaimNode *node_ready(size_t i, const char *name, int64_t ttl)
{
        ClaimNode *n = node_new(i, name, COORDINATOR_ETCD, ttl);

        cr_assert_eq(coordinator_state(n->co), COORDINATOR_CONNECTING);
        cr_assert(event_run_until(event, claim_node_is_ready, n, WAIT_MAX_USEC), "%s never got READY", name);
        return n;
}

static usec_t this_minute(void)
{
        usec_t m = 60 * USEC_PER_SEC;

        return now_usec(CLOCK_REALTIME) / m * m;
}

/* --- the local backend --- */

Test(coordinator, local_is_ready_at_once_and_wins_every_claim)
{
        ClaimNode *n = node_new(0, "solo", COORDINATOR_LOCAL, 0);
        const char **holders;
        const CoordinatorHeld *held;
        const cJSON *list;
        size_t k;
        ClaimResult r;

        cr_assert_eq(coordinator_state(n->co), COORDINATOR_READY);
        cr_assert_eq(coordinator_type(n->co), COORDINATOR_LOCAL);
        r = claim_node_cron(n, "backup", this_minute());
        claim_node_expect_won(&r, "solo");
        cr_assert_eq(r.token, 1);
        r = claim_node_cron(n, "backup", this_minute());
        claim_node_expect_won(&r, "solo");

        r = claim_node_ordinal(n, "web", 2, true);
        claim_node_expect_won(&r, "solo");
        cr_assert_eq(r.token, 1);
        cr_assert_eq(coordinator_ordinals(n->co, "default", "web", &holders, &k), 0);
        cr_assert_eq(k, 3);
        cr_assert_null(holders[0]);
        cr_assert_null(holders[1]);
        cr_assert_str_eq(holders[2], "solo");
        cr_assert_eq(coordinator_ordinals(n->co, "default", "db", &holders, &k), 0);
        cr_assert_eq(k, 0);
        cr_assert_eq(coordinator_claims(n->co, &held), 1);
        cr_assert_str_eq(held[0].set, "web");
        cr_assert_eq(held[0].ordinal, 2);
        cr_assert(held[0].sticky);

        list = coordinator_nodes(n->co);
        cr_assert(cJSON_IsArray(list));
        cr_assert_eq(cJSON_GetArraySize(list), 1);
        cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
                             cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "metadata"), "name")),
                         "solo");

        r = claim_node_release_ordinal(n, "web", 2, false);
        cr_assert_eq(r.error, 0);
        cr_assert_not(r.won);
        cr_assert_eq(coordinator_ordinals(n->co, "default", "web", &holders, &k), 0);
        cr_assert_eq(k, 0);
        cr_assert_eq(coordinator_claims(n->co, &held), 0);
        cr_assert_eq(n->n_states, 0, "the state never changes");
}

Test(coordinator, local_registration_follows_set_node)
{
        ClaimNode *n = node_new(0, "solo", COORDINATOR_LOCAL, 0);
        cJSON *node = cJSON_Parse("{\"metadata\":{\"name\":\"solo\",\"labels\":{\"disk\":\"ssd\"}}}");
        const cJSON *list;

        cr_assert_not_null(node);
        cr_assert_eq(coordinator_set_node(n->co, node), 0);
        cJSON_Delete(node);
        list = coordinator_nodes(n->co);
        cr_assert_eq(cJSON_GetArraySize(list), 1);
        cr_assert_not_null(
            cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "metadata"), "labels"));
}

Test(coordinator, a_cancelled_claim_never_answers)
{
        ClaimNode *n = node_new(0, "solo", COORDINATOR_LOCAL, 0);
        CoordinatorRequest *req = NULL;
        ClaimResult r = {}, other = {};

        cr_assert_eq(
            coordinator_claim_ordinal(n->co, "default", "web", 0, false, claim_node_on_done, &r, &req), 0);
        cr_assert_not_null(req);
        coordinator_request_cancel(req);
        cr_assert_eq(
            coordinator_claim_ordinal(n->co, "default", "web", 1, false, claim_node_on_done, &other, NULL),
            0);
        event_run_for(event, 50 * USEC_PER_MSEC);
        cr_assert_not(r.called);
        cr_assert(other.called);
        coordinator_request_cancel(NULL);
}

Test(coordinator, options_and_names_are_checked)
{
        const char *const endpoints[] = {"http://127.0.0.1:1", NULL};
        const char *const none[] = {NULL};
        const struct {
                CoordinatorOptions o;
                const char *says;
        } bad[] = {
            {{.type = COORDINATOR_LOCAL, .node_name = ""}, "node name"},
            {{.type = COORDINATOR_LOCAL, .node_name = "a/b"}, "node name"},
            {{.type = COORDINATOR_LOCAL, .node_name = "a", .prefix = "/berth"}, "prefix"},
            {{.type = COORDINATOR_LOCAL, .node_name = "a", .prefix = "berth/"}, "prefix"},
            {{.type = COORDINATOR_ETCD, .node_name = "a"}, "endpoint"},
            {{.type = COORDINATOR_ETCD, .node_name = "a", .endpoints = none}, "endpoint"},
            {{.type = COORDINATOR_ETCD, .node_name = "a", .lease_ttl_sec = 2}, "TTL"},
            {{.type = COORDINATOR_ETCD, .node_name = "a", .lease_ttl_sec = 10, .resume_lease = -1},
             "resume"},
            {{.type = COORDINATOR_ETCD,
              .node_name = "a",
              .endpoints = (const char *const[]){"ftp://x:1", NULL}},
             "ftp://x:1"},
        };
        CurlLoop *curl = NULL;
        Coordinator *co = NULL;
        ClaimResult r = {};

        cr_assert_eq(curl_loop_new(&curl, event), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CoordinatorOptions o = bad[i].o;
                _cleanup_free_ char *error = NULL;

                if (o.lease_ttl_sec)
                        o.endpoints = endpoints;
                cr_assert_eq(coordinator_new(&co, event, curl, &o, NULL, &error), -EINVAL, "case %zu", i);
                cr_assert_not_null(error, "case %zu", i);
                cr_assert(strstr(error, bad[i].says), "case %zu: %s", i, error);
        }
        cr_assert_eq(coordinator_new(&co, event, curl, &(CoordinatorOptions){.node_name = "a"}, NULL, NULL),
                     0);
        cr_assert_eq(coordinator_claim_ordinal(co, "", "web", 0, false, claim_node_on_done, &r, NULL),
                     -EINVAL);
        cr_assert_eq(coordinator_claim_ordinal(co, "default", "a/b", 0, false, claim_node_on_done, &r, NULL),
                     -EINVAL);
        cr_assert_eq(coordinator_claim_cron(co, "default", "c",
                                            this_minute() - COORDINATOR_CRON_KEEP - 60 * USEC_PER_SEC,
                                            claim_node_on_done, &r, NULL),
                     -ESTALE);
        co = coordinator_free(co);
        curl = curl_loop_free(curl);
        cr_assert_not(r.called);
}

/* --- claims through etcd --- */

Test(coordinator, a_cron_launch_is_won_by_exactly_one_of_three_nodes)
{
        static const char *const names[] = {"a", "b", "c"};
        usec_t minute;
        ClaimResult r[3] = {}, again;
        size_t winner = SIZE_MAX;

        etcd_fixture_start(&server);
        for (size_t i = 0; i < 3; i++)
                node_ready(i, names[i], 0);
        minute = this_minute();
        /* all three in flight at once */
        for (size_t i = 0; i < 3; i++)
                cr_assert_eq(coordinator_claim_cron(nodes[i].co, "default", "report", minute,
                                                    claim_node_on_done, &r[i], NULL),
                             0);
        for (size_t i = 0; i < 3; i++) {
                cr_assert(event_run_until_set(event, &r[i].called, WAIT_MAX_USEC));
                cr_assert_eq(r[i].error, 0);
                if (r[i].won) {
                        cr_assert_eq(winner, SIZE_MAX, "two nodes won");
                        winner = i;
                }
        }
        cr_assert_neq(winner, SIZE_MAX, "nobody won");
        for (size_t i = 0; i < 3; i++)
                if (i != winner)
                        claim_node_expect_lost(&r[i], names[winner]);
        cr_assert_str_eq(r[winner].holder, names[winner]);

        /* the winner asking again (its answer lost, say) still holds it, with the same token */
        again = claim_node_cron(&nodes[winner], "report", minute);
        claim_node_expect_won(&again, names[winner]);
        cr_assert_eq(again.token, r[winner].token);
        /* the next minute is another launch */
        again = claim_node_cron(&nodes[(winner + 1) % 3], "report", minute + 60 * USEC_PER_SEC);
        claim_node_expect_won(&again, names[(winner + 1) % 3]);
}

static bool ordinals_are(ClaimNode *n, const char *a0, const char *a1)
{
        const char **h;
        size_t k;

        cr_assert_eq(coordinator_ordinals(n->co, "default", "web", &h, &k), 0);
        return k == 2 && streq_ptr(h[0], a0) && streq_ptr(h[1], a1);
}

static bool a_sees_a_b(void *userdata)
{
        return ordinals_are(userdata, "a", "b");
}

Test(coordinator, distinct_nodes_get_distinct_ordinals_and_a_taken_one_names_its_holder)
{
        ClaimNode *a, *b;
        ClaimResult r0, r1, r;
        const CoordinatorHeld *held;
        int changes;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 0);
        b = node_ready(1, "b", 0);
        r0 = claim_node_ordinal(a, "web", 0, false);
        claim_node_expect_won(&r0, "a");
        changes = a->changes;
        r1 = claim_node_ordinal(b, "web", 1, false);
        claim_node_expect_won(&r1, "b");
        cr_assert_gt(r1.token, r0.token);
        r = claim_node_ordinal(b, "web", 0, false);
        claim_node_expect_lost(&r, "a");
        r = claim_node_ordinal(a, "web", 1, false);
        claim_node_expect_lost(&r, "b");
        /* asked again by the holder: still won, same token */
        r = claim_node_ordinal(a, "web", 0, false);
        claim_node_expect_won(&r, "a");
        cr_assert_eq(r.token, r0.token);
        cr_assert_eq(coordinator_claims(a->co, &held), 1);
        cr_assert_eq(held[0].ordinal, 0);
        cr_assert_eq(held[0].token, r0.token);

        /* the mirror of both nodes learns every holder; a hears of b's claim */
        cr_assert(event_run_until(event, a_sees_a_b, a, WAIT_MAX_USEC));
        cr_assert(event_run_until(event, a_sees_a_b, b, WAIT_MAX_USEC));
        cr_assert_gt(a->changes, changes);

        /* released, it is b's to take */
        r = claim_node_release_ordinal(a, "web", 0, true);
        cr_assert_eq(r.error, 0);
        cr_assert_not(r.has_holder);
        cr_assert_eq(coordinator_claims(a->co, &held), 0);
        r = claim_node_ordinal(b, "web", 0, false);
        claim_node_expect_won(&r, "b");
        r = claim_node_release_ordinal(a, "web", 1, true);
        cr_assert_eq(r.error, 0);
        cr_assert_str_eq(r.holder, "b", "releasing another node's ordinal leaves it");
}

Test(coordinator, a_sticky_binding_refuses_other_nodes_until_released)
{
        ClaimNode *a, *b;
        ClaimResult r;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 0);
        b = node_ready(1, "b", 0);
        r = claim_node_ordinal(a, "db", 0, true);
        claim_node_expect_won(&r, "a");
        cr_assert_str_eq(etcd_raw_get(raw, "/berth/sticky/default/db/0").value, "a");
        r = claim_node_ordinal(b, "db", 0, true);
        claim_node_expect_lost(&r, "a");

        /* a goes (its lease revoked): the ordinal is free, but its data stays a's */
        a->co = coordinator_free(a->co);
        cr_assert_not(etcd_raw_get(raw, "/berth/ordinals/default/db/0").found,
                      "the ordinal outlived a's lease");
        r = claim_node_ordinal(b, "db", 0, true);
        claim_node_expect_lost(&r, "a");
        r = claim_node_ordinal(b, "db", 0, false);
        claim_node_expect_lost(&r, "a");

        /* a, back, takes it again; then gives it up with its data */
        a = node_ready(0, "a", 0);
        r = claim_node_ordinal(a, "db", 0, false);
        claim_node_expect_won(&r, "a");
        r = claim_node_release_ordinal(a, "db", 0, false);
        cr_assert_eq(r.error, 0);
        cr_assert_not(etcd_raw_get(raw, "/berth/sticky/default/db/0").found);
        r = claim_node_ordinal(b, "db", 0, true);
        claim_node_expect_won(&r, "b");
        cr_assert_str_eq(etcd_raw_get(raw, "/berth/sticky/default/db/0").value, "b");
}

static size_t count_nodes(ClaimNode *n)
{
        const cJSON *list = coordinator_nodes(n->co);

        cr_assert_not_null(list);
        return (size_t)cJSON_GetArraySize(list);
}

static bool sees_three(void *userdata)
{
        return count_nodes(userdata) == 3;
}

static bool sees_two(void *userdata)
{
        return count_nodes(userdata) == 2;
}

Test(coordinator, nodes_see_each_other_register_and_go)
{
        cJSON *labelled = cJSON_Parse("{\"metadata\":{\"name\":\"c\",\"labels\":{\"zone\":\"z1\"}}}");
        const cJSON *list, *i;
        ClaimNode *a;
        int changes;
        bool found = false;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 0);
        node_ready(1, "b", 0);
        node_ready(2, "c", 0);
        cr_assert(event_run_until(event, sees_three, a, WAIT_MAX_USEC), "a sees %zu nodes", count_nodes(a));
        cr_assert_eq(coordinator_set_node(nodes[2].co, labelled), 0);
        cJSON_Delete(labelled);
        event_run_for(event, 300 * USEC_PER_MSEC);
        list = coordinator_nodes(a->co);
        cJSON_ArrayForEach (i, list)
                found = found || cJSON_GetObjectItem(cJSON_GetObjectItem(i, "metadata"), "labels");
        cr_assert(found, "a did not see c's new labels");

        changes = a->changes;
        nodes[2].co = coordinator_free(nodes[2].co);
        cr_assert(event_run_until(event, sees_two, a, WAIT_MAX_USEC), "c's registration outlived it");
        cr_assert_gt(a->changes, changes);
}

Test(coordinator, old_cron_keys_are_cleaned_up)
{
        char old[128], gone[128];
        usec_t long_ago = this_minute() - COORDINATOR_CRON_KEEP - 3600 * USEC_PER_SEC;
        ClaimNode *a;
        ClaimResult r;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 0);
        snprintf(old, sizeof(old), "/berth/cron/default/report/%llu",
                 (unsigned long long)(long_ago / (60 * USEC_PER_SEC)));
        snprintf(gone, sizeof(gone), "/berth/cron/default/deleted-job/%llu",
                 (unsigned long long)(long_ago / (60 * USEC_PER_SEC)));
        etcd_raw_put(raw, old, "x");
        etcd_raw_put(raw, gone, "x");
        r = claim_node_cron(a, "report", this_minute());
        claim_node_expect_won(&r, "a");
        event_run_for(event, 300 * USEC_PER_MSEC);
        cr_assert_not(etcd_raw_get(raw, old).found, "the old launch of report is still there");
        cr_assert_not(etcd_raw_get(raw, gone).found, "the old launch of a deleted CronJob is still there");
}

/* --- the lease lost --- */

static bool state_is(ClaimNode *n, CoordinatorState s)
{
        return coordinator_state(n->co) == s;
}

static bool is_losing(void *n)
{
        return state_is(n, COORDINATOR_LOSING);
}

static bool is_connecting(void *n)
{
        return state_is(n, COORDINATOR_CONNECTING);
}

/* A claim that is refused at once, without asking etcd. */
static void expect_refused(ClaimNode *n)
{
        usec_t start = now_usec(CLOCK_MONOTONIC);
        ClaimResult r = claim_node_ordinal(n, "web", 5, false),
                    c = claim_node_cron(n, "report", this_minute());

        cr_assert_eq(r.error, -EAGAIN);
        cr_assert_not(r.won);
        cr_assert_eq(c.error, -EAGAIN);
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - start, 200 * USEC_PER_MSEC);
}

static const CoordinatorHeld *held_of(ClaimNode *n, unsigned ordinal)
{
        const CoordinatorHeld *held;
        size_t k = coordinator_claims(n->co, &held);

        for (size_t i = 0; i < k; i++)
                if (held[i].ordinal == ordinal)
                        return &held[i];
        return NULL;
}

Test(coordinator, a_hung_etcd_makes_the_node_stop_in_time_and_register_again)
{
        ClaimNode *a;
        ClaimResult r0, r1;
        EtcdRawKey reg;
        usec_t stopped, losing;
        size_t first;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 3);
        r0 = claim_node_ordinal(a, "web", 0, true);
        claim_node_expect_won(&r0, "a");
        r1 = claim_node_ordinal(a, "web", 1, false);
        claim_node_expect_won(&r1, "a");
        reg = etcd_raw_get(raw, "/berth/nodes/a");
        cr_assert(reg.found);
        cr_assert_eq(etcd_raw_get(raw, "/berth/ordinals/default/web/0").lease, reg.lease);
        event_run_for(event, 700 * USEC_PER_MSEC); /* a renewal or two */

        first = a->n_states;
        etcd_fixture_pause(&server);
        stopped = now_usec(CLOCK_MONOTONIC);
        cr_assert(event_run_until(event, is_losing, a, 3 * USEC_PER_SEC), "never LOSING");
        losing = a->state_at[a->n_states - 1] - stopped;
        /* the last renewal was before the stop: LOSING by ttl - margin after it, whatever the
         * renewals in flight do, and by the timer (not sooner than a renewal period) */
        cr_assert_lt(losing, 3 * USEC_PER_SEC - COORDINATOR_SAFETY_MARGIN + 300 * USEC_PER_MSEC,
                     "LOSING %llu ms after the stop", (unsigned long long)(losing / USEC_PER_MSEC));
        cr_assert_gt(losing, 300 * USEC_PER_MSEC);
        cr_assert_eq(a->n_states, first + 1);
        expect_refused(a);

        /* the TTL passes: the lease counts as gone */
        cr_assert(event_run_until(event, is_connecting, a, 3 * USEC_PER_SEC), "never CONNECTING");
        cr_assert_lt(a->state_at[a->n_states - 1] - stopped, 3 * USEC_PER_SEC + 300 * USEC_PER_MSEC);
        expect_refused(a);

        cr_assert_eq(kill(server.pid, SIGCONT), 0);
        cr_assert(event_run_until(event, claim_node_is_ready, a, WAIT_MAX_USEC), "never READY again");
        cr_assert_eq(a->states[a->n_states - 1], COORDINATOR_READY);
        /* a new lease, with both ordinals claimed again under it: new tokens */
        cr_assert_neq(etcd_raw_get(raw, "/berth/nodes/a").lease, reg.lease);
        cr_assert_eq(etcd_raw_get(raw, "/berth/ordinals/default/web/0").lease,
                     etcd_raw_get(raw, "/berth/nodes/a").lease);
        cr_assert_eq(etcd_raw_get(raw, "/berth/ordinals/default/web/1").lease,
                     etcd_raw_get(raw, "/berth/nodes/a").lease);
        cr_assert_not_null(held_of(a, 0));
        cr_assert_not_null(held_of(a, 1));
        cr_assert_gt(held_of(a, 0)->token, r1.token);
        cr_assert_eq(held_of(a, 0)->token,
                     etcd_raw_get(raw, "/berth/ordinals/default/web/0").create_revision);
        cr_assert(held_of(a, 0)->sticky);
        r0 = claim_node_ordinal(a, "web", 2, false);
        claim_node_expect_won(&r0, "a");
}

Test(coordinator, a_dead_etcd_makes_the_node_stop_in_time_and_register_again_after_restart)
{
        ClaimNode *a;
        ClaimResult r0;
        EtcdRawKey reg;
        usec_t stopped;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 3);
        r0 = claim_node_ordinal(a, "web", 0, true);
        claim_node_expect_won(&r0, "a");
        reg = etcd_raw_get(raw, "/berth/nodes/a");
        etcd_raw_disconnect(raw);

        cr_assert_eq(kill(server.pid, SIGKILL), 0);
        stopped = now_usec(CLOCK_MONOTONIC);
        cr_assert(event_run_until(event, is_losing, a, 3 * USEC_PER_SEC), "never LOSING");
        cr_assert_lt(a->state_at[a->n_states - 1] - stopped,
                     3 * USEC_PER_SEC - COORDINATOR_SAFETY_MARGIN + 300 * USEC_PER_MSEC);
        cr_assert(event_run_until(event, is_connecting, a, 3 * USEC_PER_SEC), "never CONNECTING");
        expect_refused(a);

        /* etcd comes back with the old lease extended: the node revokes it and starts anew */
        etcd_fixture_restart(&server);
        cr_assert(event_run_until(event, claim_node_is_ready, a, WAIT_MAX_USEC), "never READY again");
        reg.lease = reg.lease == etcd_raw_get(raw, "/berth/nodes/a").lease ? 0 : reg.lease;
        cr_assert_neq(reg.lease, 0, "still the old lease");
        cr_assert_eq(etcd_raw_get(raw, "/berth/ordinals/default/web/0").lease,
                     etcd_raw_get(raw, "/berth/nodes/a").lease);
        cr_assert_gt(held_of(a, 0)->token, r0.token);
}

static bool a_sees_b_at_3(void *userdata)
{
        const char **h;
        size_t k;

        cr_assert_eq(coordinator_ordinals(((ClaimNode *)userdata)->co, "default", "web", &h, &k), 0);
        return k == 4 && streq_ptr(h[3], "b");
}

Test(coordinator, the_mirror_lists_again_after_the_watch_broke)
{
        ClaimNode *a, *b;
        ClaimResult r;
        int changes;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 10);
        b = node_ready(1, "b", 10);
        /* killed and back within the TTL: the leases live on, the watches broke */
        etcd_fixture_restart(&server);
        event_run_for(event, 500 * USEC_PER_MSEC);
        changes = a->changes;
        r = claim_node_ordinal(b, "web", 3, false);
        if (r.error == -EAGAIN) { /* b's renewal failed in the outage: wait for the next one */
                cr_assert(event_run_until(event, claim_node_is_ready, b, WAIT_MAX_USEC));
                r = claim_node_ordinal(b, "web", 3, false);
        }
        claim_node_expect_won(&r, "b");
        cr_assert(event_run_until(event, a_sees_b_at_3, a, WAIT_MAX_USEC), "a's watch never came back");
        cr_assert_gt(a->changes, changes);
}

static void revoked_then_claim(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        ClaimResult *r = userdata;

        cr_assert_null(e, "revoking failed: %s", e ? e->text : "");
        /* b asks before a can know its lease is gone */
        cr_assert_eq(
            coordinator_claim_ordinal(nodes[1].co, "default", "web", 1, false, claim_node_on_done, r, NULL),
            0);
}

Test(coordinator, a_non_sticky_ordinal_taken_while_the_lease_was_lost_stays_with_the_taker)
{
        ClaimNode *a, *b;
        ClaimResult r, taken = {};
        EtcdRawKey reg;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 3);
        b = node_ready(1, "b", 0);
        r = claim_node_ordinal(a, "web", 0, true);
        claim_node_expect_won(&r, "a");
        r = claim_node_ordinal(a, "web", 1, false);
        claim_node_expect_won(&r, "a");
        reg = etcd_raw_get(raw, "/berth/nodes/a");
        cr_assert_eq(etcd_lease_revoke(etcd_raw_client(raw), reg.lease, revoked_then_claim, &taken, NULL),
                     0);
        cr_assert(event_run_until_set(event, &taken.called, WAIT_MAX_USEC));
        claim_node_expect_won(&taken, "b");

        /* a's renewal hears the lease is gone: LOSING, CONNECTING, READY */
        cr_assert(event_run_until(event, is_connecting, a, 3 * USEC_PER_SEC));
        cr_assert_eq(a->states[a->n_states - 2], COORDINATOR_LOSING);
        cr_assert(event_run_until(event, claim_node_is_ready, a, WAIT_MAX_USEC));
        cr_assert_not_null(held_of(a, 0), "the sticky ordinal was not taken back");
        cr_assert_null(held_of(a, 1), "the ordinal b took is still counted as a's");
        cr_assert_str_eq(etcd_raw_get(raw, "/berth/ordinals/default/web/1").value, "b");
        cr_assert_str_eq(etcd_raw_get(raw, "/berth/ordinals/default/web/0").value, "a");
        (void)b;
}

Test(coordinator, a_claim_whose_answer_was_lost_is_won_when_asked_again)
{
        ClaimNode *a;
        ClaimResult r = {};
        EtcdRawKey kv;

        etcd_fixture_start(&server);
        a = node_ready(0, "a", 10);
        etcd_fixture_pause(&server);
        /* READY still (ttl 10 s): the claim is sent, and its answer never comes */
        cr_assert_eq(
            coordinator_claim_ordinal(a->co, "default", "web", 0, false, claim_node_on_done, &r, NULL), 0);
        cr_assert(event_run_until_set(event, &r.called, 7 * USEC_PER_SEC));
        cr_assert_lt(r.error, 0, "decided while etcd was stopped");
        cr_assert_neq(r.error, -EAGAIN, "refused instead of sent");
        cr_assert_eq(kill(server.pid, SIGCONT), 0);
        cr_assert(event_run_until(event, claim_node_is_ready, a, WAIT_MAX_USEC));

        /* whether etcd applied the first one or not, asking again gives the one answer */
        r = claim_node_ordinal(a, "web", 0, false);
        claim_node_expect_won(&r, "a");
        kv = etcd_raw_get(raw, "/berth/ordinals/default/web/0");
        cr_assert_eq(r.token, kv.create_revision);
}

/* --- a restarted agent resumes its lease --- */

/* A node that registers and claims db/0 (sticky) on a loop of its own, then crashes: that loop
 * never runs again, so nothing of the node's renews its lease or answers. Kept in nodes[i]
 * (freed after the nodes before it: the resumed one revokes the lease, this one finds it gone). */
static ClaimNode *node_crashed(size_t i, const char *name, int64_t ttl, ClaimResult *ret_claim)
{
        const char *const endpoints[] = {server.url, NULL};
        CoordinatorOptions o = {
            .type = COORDINATOR_ETCD, .node_name = name, .endpoints = endpoints, .lease_ttl_sec = ttl};
        ClaimNode *n = &nodes[i];

        cr_assert_eq(sd_event_new(&crashed_event), 0);
        claim_node_start(n, crashed_event, &o, false);
        cr_assert(event_run_until(crashed_event, claim_node_is_ready, n, WAIT_MAX_USEC),
                  "%s never got READY", name);
        *ret_claim = claim_node_ordinal(n, "db", 0, true);
        claim_node_expect_won(ret_claim, name);
        cr_assert_gt(coordinator_lease(n->co), 0);
        return n;
}

/* The same node started again on the test's loop, given the lease of its last run. */
static ClaimNode *node_resumed(size_t i, const char *name, int64_t lease)
{
        const char *const endpoints[] = {server.url, NULL};
        CoordinatorOptions o = {
            .type = COORDINATOR_ETCD, .node_name = name, .endpoints = endpoints, .resume_lease = lease};
        usec_t start = now_usec(CLOCK_MONOTONIC);
        ClaimNode *n = &nodes[i];

        claim_node_start(n, event, &o, true);
        cr_assert_eq(coordinator_state(n->co), COORDINATOR_CONNECTING);
        cr_assert(event_run_until(event, claim_node_is_ready, n, WAIT_MAX_USEC), "%s never got READY", name);
        /* far from the TTL the old lease would have taken to expire */
        cr_assert_lt(now_usec(CLOCK_MONOTONIC) - start, USEC_PER_SEC, "READY after %llu ms",
                     (unsigned long long)((now_usec(CLOCK_MONOTONIC) - start) / USEC_PER_MSEC));
        cr_assert_eq(n->n_states, 1);
        return n;
}

Test(coordinator, a_restarted_node_resumes_its_lease_with_its_ordinals)
{
        ClaimNode *a, *a2, *b;
        ClaimResult won, r;
        const CoordinatorHeld *held;
        int64_t lease;

        etcd_fixture_start(&server);
        /* ttl 3 s, the resumed node's own 10 s: it must renew at the lease's pace, not its own */
        a = node_crashed(2, "a", 3, &won);
        lease = coordinator_lease(a->co);
        b = node_ready(1, "b", 0);
        a2 = node_resumed(0, "a", lease);
        cr_assert_eq(coordinator_lease(a2->co), lease);
        cr_assert_eq(coordinator_claims(a2->co, &held), 1);
        cr_assert_str_eq(held[0].ns, "default");
        cr_assert_str_eq(held[0].set, "db");
        cr_assert_eq(held[0].ordinal, 0);
        cr_assert_eq(held[0].token, won.token);
        cr_assert(held[0].sticky);

        /* asked again, it is won with the token of the last run; another node still loses it */
        r = claim_node_ordinal(a2, "db", 0, true);
        claim_node_expect_won(&r, "a");
        cr_assert_eq(r.token, won.token);
        r = claim_node_ordinal(b, "db", 0, false);
        claim_node_expect_lost(&r, "a");

        /* past the TTL the crashed run can no longer renew: the resumed node keeps the lease */
        event_run_for(event, 4 * USEC_PER_SEC);
        cr_assert_eq(coordinator_state(a2->co), COORDINATOR_READY);
        cr_assert_eq(a2->n_states, 1, "the lease was lost meanwhile");
        cr_assert_eq(etcd_raw_get(raw, "/berth/ordinals/default/db/0").lease, lease);
        cr_assert_eq(etcd_raw_get(raw, "/berth/nodes/a").lease, lease);
        r = claim_node_ordinal(b, "db", 0, false);
        claim_node_expect_lost(&r, "a");
}

Test(coordinator, a_lease_gone_meanwhile_is_not_resumed)
{
        ClaimNode *a, *a2, *b;
        ClaimResult won, r;
        const CoordinatorHeld *held;
        int64_t lease;

        etcd_fixture_start(&server);
        a = node_crashed(2, "a", 0, &won);
        lease = coordinator_lease(a->co);
        etcd_raw_revoke(raw, lease);
        a2 = node_resumed(0, "a", lease);
        cr_assert_gt(coordinator_lease(a2->co), 0);
        cr_assert_neq(coordinator_lease(a2->co), lease);
        cr_assert_eq(etcd_raw_get(raw, "/berth/nodes/a").lease, coordinator_lease(a2->co));
        cr_assert_eq(coordinator_claims(a2->co, &held), 0);
        /* the data binding outlived the lease: the ordinal is a's to take again, with a new token */
        r = claim_node_ordinal(a2, "db", 0, true);
        claim_node_expect_won(&r, "a");
        cr_assert_gt(r.token, won.token);

        /* a lease etcd never had */
        b = node_resumed(1, "b", 4242424242);
        cr_assert_gt(coordinator_lease(b->co), 0);
        cr_assert_neq(coordinator_lease(b->co), 4242424242);
        cr_assert_eq(coordinator_claims(b->co, &held), 0);
}
