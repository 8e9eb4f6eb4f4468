/* The coordinator's DaemonSet roll-out slots and sticky bindings (coordinator-slots.c and the
 * mirror): the local backend's answers, and two or three nodes in one process against a real
 * etcd the fixture starts on loopback (skipped without the etcd binary, a failure with CI=true):
 * slots won by at most max nodes and by each node at most once, freed by a release or with the
 * lease; sticky bindings seen by the other nodes and released by the operator. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "claim-node.h"
#include "coordinator.h"
#include "etcd-fixture.h"
#include "etcd-raw.h"
#include "event-run.h"
#include "util.h"

#define WAIT_MAX_USEC (10 * USEC_PER_SEC)

static EtcdFixture server = ETCD_FIXTURE_INIT;
static sd_event *event;
static ClaimNode nodes[3];
static EtcdRaw *raw; /* etcd as it is, read by a client of the test's own */

static void setup(void)
{
        cr_assert_eq(sd_event_new(&event), 0);
        cr_assert_eq(etcd_raw_new(&raw, event, server.url), 0);
}

static void teardown(void)
{
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++)
                claim_node_done(&nodes[i]);
        raw = etcd_raw_free(raw);
        event = sd_event_unref(event);
        etcd_fixture_stop(&server);
}

TestSuite(coordinator_slots, .init = setup, .fini = teardown, .timeout = 60);

static ClaimNode *node_new(size_t i, const char *name, CoordinatorType type, const char *endpoint)
{
        const char *const endpoints[] = {endpoint, NULL};
        CoordinatorOptions o = {.type = type, .node_name = name, .endpoints = endpoints};

        claim_node_start(&nodes[i], event, &o, false);
        return &nodes[i];
}

static ClaimNode *node_ready(size_t i, const char *name)
{
        ClaimNode *n = node_new(i, name, COORDINATOR_ETCD, server.url);

        cr_assert(event_run_until(event, claim_node_is_ready, n, WAIT_MAX_USEC), "%s never got READY", name);
        return n;
}

/* How many slot keys of ds name node. */
static size_t slots_of(const char *ds, const char *node)
{
        char prefix[128];

        snprintf(prefix, sizeof(prefix), "/berth/slots/default/%s/", ds);
        return etcd_raw_count(raw, prefix, node);
}

/* --- the mirror, as one node sees it --- */

typedef struct Seen {
        ClaimNode *n;
        const char *what; /* "sticky" or "slots" */
        const char *set;
        const char *want[4]; /* the holders expected, then NULLs */
        size_t n_want;
} Seen;

static bool sees(void *userdata)
{
        const Seen *s = userdata;
        const char **h;
        size_t k;
        int r = streq(s->what, "sticky") ? coordinator_sticky(s->n->co, "default", s->set, &h, &k)
                                         : coordinator_slots(s->n->co, "default", s->set, &h, &k);

        cr_assert_eq(r, 0);
        if (k != s->n_want)
                return false;
        for (size_t i = 0; i < k; i++)
                if (!streq_ptr(h[i], s->want[i]))
                        return false;
        return true;
}

/* --- the local backend, and what is refused at once --- */

Test(coordinator_slots, local_wins_every_slot_and_has_no_bindings)
{
        ClaimNode *n = node_new(0, "solo", COORDINATOR_LOCAL, NULL);
        static const char *sentinel[1];
        const char **h = sentinel; /* to see it set to NULL */
        size_t k = 99;
        ClaimResult r;

        r = claim_node_slot(n, "agent", 1);
        claim_node_expect_won(&r, "solo");
        cr_assert_eq(r.token, 1);
        r = claim_node_slot(n, "agent", 1); /* one slot, and one node: won again */
        claim_node_expect_won(&r, "solo");
        r = claim_node_release_slot(n, "agent");
        claim_node_expect_released(&r, NULL);
        r = claim_node_release_slot(n, "agent");
        claim_node_expect_released(&r, NULL);

        r = claim_node_ordinal(n, "db", 0, true);
        claim_node_expect_won(&r, "solo");
        r = claim_node_release_sticky(n, "db", 0);
        claim_node_expect_released(&r, NULL);
        cr_assert_eq(coordinator_sticky(n->co, "default", "db", &h, &k), 0);
        cr_assert_eq(k, 0);
        cr_assert_null(h);
        cr_assert_eq(coordinator_slots(n->co, "default", "agent", &h, &k), 0);
        cr_assert_eq(k, 0);
        cr_assert_eq(n->changes, 0);
}

Test(coordinator_slots, bad_arguments_are_refused_at_once)
{
        ClaimNode *n = node_new(0, "solo", COORDINATOR_LOCAL, NULL);
        const char **h;
        size_t k;
        ClaimResult r = {};

        cr_assert_eq(coordinator_claim_slot(n->co, "default", "agent", 0, claim_node_on_done, &r, NULL),
                     -EINVAL);
        cr_assert_eq(coordinator_claim_slot(n->co, "default", "agent", COORDINATOR_MAX_SLOTS + 1,
                                            claim_node_on_done, &r, NULL),
                     -EINVAL);
        cr_assert_eq(coordinator_claim_slot(n->co, "default", "a/b", 1, claim_node_on_done, &r, NULL),
                     -EINVAL);
        cr_assert_eq(coordinator_claim_slot(n->co, "", "agent", 1, claim_node_on_done, &r, NULL), -EINVAL);
        cr_assert_eq(coordinator_release_slot(n->co, "default", "", claim_node_on_done, &r, NULL), -EINVAL);
        cr_assert_eq(coordinator_release_sticky(n->co, "default", "a/b", 0, claim_node_on_done, &r, NULL),
                     -EINVAL);
        cr_assert_eq(coordinator_release_sticky(n->co, "default", "db", 0, NULL, NULL, NULL), -EINVAL);
        cr_assert_eq(coordinator_slots(n->co, "default", "a/b", &h, &k), -EINVAL);
        cr_assert_eq(coordinator_sticky(n->co, "", "db", &h, &k), -EINVAL);
        event_run_for(event, 20 * USEC_PER_MSEC);
        cr_assert_not(r.called);
}

Test(coordinator_slots, claims_and_sticky_releases_wait_for_ready)
{
        /* nothing listens there: the node stays CONNECTING */
        ClaimNode *n = node_new(0, "a", COORDINATOR_ETCD, "http://127.0.0.1:1");
        ClaimResult r;

        cr_assert_eq(coordinator_state(n->co), COORDINATOR_CONNECTING);
        r = claim_node_slot(n, "agent", 1);
        cr_assert_eq(r.error, -EAGAIN);
        cr_assert_not(r.won);
        r = claim_node_release_sticky(n, "db", 0);
        cr_assert_eq(r.error, -EAGAIN);
        /* a release of what this node holds goes in any state: without a lease, none is held */
        r = claim_node_release_slot(n, "agent");
        claim_node_expect_released(&r, NULL);
}

/* --- sticky bindings through etcd --- */

Test(coordinator_slots, sticky_bindings_are_seen_by_the_other_nodes)
{
        ClaimNode *a, *b;
        ClaimResult r;
        int changes;

        etcd_fixture_start(&server);
        a = node_ready(0, "a");
        b = node_ready(1, "b");
        changes = b->changes;
        r = claim_node_ordinal(a, "db", 0, true);
        claim_node_expect_won(&r, "a");
        r = claim_node_ordinal(a, "db", 2, true);
        claim_node_expect_won(&r, "a");
        r = claim_node_ordinal(a, "db", 1, false);
        claim_node_expect_won(&r, "a");
        cr_assert(
            event_run_until(event, sees, &(Seen){b, "sticky", "db", {"a", NULL, "a"}, 3}, WAIT_MAX_USEC),
            "b never saw a's bindings");
        cr_assert(
            event_run_until(event, sees, &(Seen){a, "sticky", "db", {"a", NULL, "a"}, 3}, WAIT_MAX_USEC));
        cr_assert_gt(b->changes, changes);

        /* a binding released is seen gone, and counts as a change of others for a */
        changes = a->changes;
        r = claim_node_release_sticky(b, "db", 2);
        claim_node_expect_released(&r, "a");
        cr_assert(event_run_until(event, sees, &(Seen){a, "sticky", "db", {"a"}, 1}, WAIT_MAX_USEC));
        cr_assert(event_run_until(event, sees, &(Seen){b, "sticky", "db", {"a"}, 1}, WAIT_MAX_USEC));
        cr_assert_gt(a->changes, changes);
        /* none there: nobody named */
        r = claim_node_release_sticky(b, "db", 2);
        claim_node_expect_released(&r, NULL);
}

Test(coordinator_slots, a_released_binding_lets_another_node_take_the_ordinal_of_a_gone_holder)
{
        ClaimNode *a, *b;
        ClaimResult r;
        EtcdRawKey kv;

        etcd_fixture_start(&server);
        a = node_ready(0, "a");
        b = node_ready(1, "b");
        r = claim_node_ordinal(a, "db", 0, true);
        claim_node_expect_won(&r, "a");

        /* a is gone (lease revoked): its data binding still refuses b */
        a->co = coordinator_free(a->co);
        cr_assert_not(etcd_raw_get(raw, "/berth/ordinals/default/db/0").found,
                      "the ordinal outlived a's lease");
        r = claim_node_ordinal(b, "db", 0, true);
        claim_node_expect_lost(&r, "a");
        r = claim_node_ordinal(b, "db", 0, false);
        claim_node_expect_lost(&r, "a");

        /* the operator gives a's data up */
        r = claim_node_release_sticky(b, "db", 0);
        claim_node_expect_released(&r, "a");
        cr_assert_not(etcd_raw_get(raw, "/berth/sticky/default/db/0").found);
        r = claim_node_ordinal(b, "db", 0, true);
        claim_node_expect_won(&r, "b");
        kv = etcd_raw_get(raw, "/berth/sticky/default/db/0");
        cr_assert(kv.found);
        cr_assert_str_eq(kv.value, "b");
}

Test(coordinator_slots, releasing_the_binding_of_a_live_holder_leaves_it_the_ordinal)
{
        ClaimNode *a, *b;
        ClaimResult r;

        etcd_fixture_start(&server);
        a = node_ready(0, "a");
        b = node_ready(1, "b");
        r = claim_node_ordinal(a, "db", 0, true);
        claim_node_expect_won(&r, "a");
        r = claim_node_release_sticky(b, "db", 0);
        claim_node_expect_released(&r, "a");
        /* b still cannot take it: a runs it */
        r = claim_node_ordinal(b, "db", 0, true);
        claim_node_expect_lost(&r, "a");
        r = claim_node_ordinal(a, "db", 0, true);
        claim_node_expect_won(&r, "a");
}

/* --- slots through etcd --- */

static void claim_all(size_t n, const char *ds, unsigned max, ClaimResult *r)
{
        /* all in flight at once */
        for (size_t i = 0; i < n; i++) {
                r[i] = (ClaimResult){};
                cr_assert_eq(
                    coordinator_claim_slot(nodes[i].co, "default", ds, max, claim_node_on_done, &r[i], NULL),
                    0);
        }
        for (size_t i = 0; i < n; i++) {
                cr_assert(event_run_until_set(event, &r[i].called, WAIT_MAX_USEC), "%s got no answer",
                          nodes[i].name);
                cr_assert_eq(r[i].calls, 1);
                cr_assert_eq(r[i].error, 0, "%s: %s", nodes[i].name, strerror(-r[i].error));
        }
}

Test(coordinator_slots, three_nodes_race_for_one_slot_and_exactly_one_wins)
{
        static const char *const names[] = {"a", "b", "c"};
        ClaimResult r[3], again;
        size_t winner = SIZE_MAX, next;

        etcd_fixture_start(&server);
        for (size_t i = 0; i < 3; i++)
                node_ready(i, names[i]);
        claim_all(3, "agent", 1, r);
        for (size_t i = 0; i < 3; i++)
                if (r[i].won) {
                        cr_assert_eq(winner, SIZE_MAX, "two nodes won");
                        winner = i;
                }
        cr_assert_neq(winner, SIZE_MAX, "nobody won");
        for (size_t i = 0; i < 3; i++)
                if (i != winner)
                        claim_node_expect_lost(&r[i], names[winner]);
        claim_node_expect_won(&r[winner], names[winner]);
        cr_assert_eq(etcd_raw_count(raw, "/berth/slots/default/agent/", NULL), 1);
        cr_assert_eq(etcd_raw_get(raw, "/berth/slots/default/agent/0").create_revision, r[winner].token);

        /* the winner asking again holds it still, same token; a loser's release deletes nothing */
        again = claim_node_slot(&nodes[winner], "agent", 1);
        claim_node_expect_won(&again, names[winner]);
        cr_assert_eq(again.token, r[winner].token);
        next = (winner + 1) % 3;
        again = claim_node_release_slot(&nodes[next], "agent");
        claim_node_expect_released(&again, NULL);
        cr_assert_eq(slots_of("agent", names[winner]), 1);
        for (size_t i = 0; i < 3; i++)
                cr_assert(event_run_until(
                    event, sees, &(Seen){&nodes[i], "slots", "agent", {names[winner]}, 1}, WAIT_MAX_USEC));

        /* released, it is another node's to take */
        again = claim_node_release_slot(&nodes[winner], "agent");
        claim_node_expect_released(&again, NULL);
        cr_assert_eq(etcd_raw_count(raw, "/berth/slots/default/agent/", NULL), 0);
        again = claim_node_slot(&nodes[next], "agent", 1);
        claim_node_expect_won(&again, names[next]);
        cr_assert_gt(again.token, r[winner].token);
        again = claim_node_slot(&nodes[winner], "agent", 1);
        claim_node_expect_lost(&again, names[next]);
        cr_assert(event_run_until(event, sees, &(Seen){&nodes[winner], "slots", "agent", {names[next]}, 1},
                                  WAIT_MAX_USEC));
}

Test(coordinator_slots, two_slots_go_to_two_of_three_nodes)
{
        static const char *const names[] = {"a", "b", "c"};
        ClaimResult r[3];
        size_t won = 0, lost = SIZE_MAX;

        etcd_fixture_start(&server);
        for (size_t i = 0; i < 3; i++)
                node_ready(i, names[i]);
        claim_all(3, "agent", 2, r);
        for (size_t i = 0; i < 3; i++) {
                if (r[i].won) {
                        claim_node_expect_won(&r[i], names[i]);
                        won++;
                } else
                        lost = i;
        }
        cr_assert_eq(won, 2);
        cr_assert_neq(lost, SIZE_MAX);
        cr_assert(r[lost].has_holder);
        cr_assert_neq(strcmp(r[lost].holder, names[lost]), 0);
        for (size_t i = 0; i < 3; i++)
                cr_assert_eq(slots_of("agent", names[i]), i == lost ? 0 : 1);
        cr_assert_eq(etcd_raw_count(raw, "/berth/slots/default/agent/", NULL), 2);

        /* another DaemonSet has slots of its own */
        r[0] = claim_node_slot(&nodes[lost], "other", 1);
        claim_node_expect_won(&r[0], names[lost]);
}

Test(coordinator_slots, a_node_asking_many_times_at_once_takes_one_slot)
{
        static const char *const names[] = {"a", "b", "c"};
        ClaimResult r[3][4] = {};
        CoordinatorRequest *cancelled = NULL;
        ClaimResult never = {};

        etcd_fixture_start(&server);
        for (size_t i = 0; i < 3; i++)
                node_ready(i, names[i]);
        /* one asked for and cancelled at once: the ones after it still go */
        cr_assert_eq(coordinator_claim_slot(nodes[0].co, "default", "agent", 3, claim_node_on_done, &never,
                                            &cancelled),
                     0);
        for (size_t i = 0; i < 3; i++)
                for (size_t j = 0; j < 4; j++)
                        cr_assert_eq(coordinator_claim_slot(nodes[i].co, "default", "agent", 3 - (j % 2),
                                                            claim_node_on_done, &r[i][j], NULL),
                                     0);
        coordinator_request_cancel(cancelled);
        for (size_t i = 0; i < 3; i++)
                for (size_t j = 0; j < 4; j++) {
                        cr_assert(event_run_until_set(event, &r[i][j].called, WAIT_MAX_USEC));
                        cr_assert_eq(r[i][j].error, 0, "%s: %s", names[i], strerror(-r[i][j].error));
                }
        for (size_t i = 0; i < 3; i++) {
                size_t held = slots_of("agent", names[i]);
                int64_t token = 0;

                cr_assert_leq(held, 1, "%s holds %zu slots", names[i], held);
                /* every answer of a node that won names the one slot it holds */
                for (size_t j = 0; j < 4; j++)
                        if (r[i][j].won) {
                                cr_assert(token == 0 || token == r[i][j].token, "%s won two slots",
                                          names[i]);
                                token = r[i][j].token;
                        }
                cr_assert_eq(token != 0, held == 1);
        }
        cr_assert_not(never.called);
        /* max 2 or 3, three nodes: two or three hold one, never more */
        cr_assert_geq(etcd_raw_count(raw, "/berth/slots/default/agent/", NULL), 2);
}

Test(coordinator_slots, a_nodes_slot_requests_of_one_daemonset_go_in_order)
{
        ClaimNode *a;
        ClaimResult claim = {}, release = {}, again = {}, other = {};

        etcd_fixture_start(&server);
        a = node_ready(0, "a");
        /* all at once: the release comes after the claim, the second claim after the release */
        cr_assert_eq(coordinator_claim_slot(a->co, "default", "agent", 1, claim_node_on_done, &claim, NULL),
                     0);
        cr_assert_eq(coordinator_release_slot(a->co, "default", "agent", claim_node_on_done, &release, NULL),
                     0);
        cr_assert_eq(coordinator_claim_slot(a->co, "default", "other", 1, claim_node_on_done, &other, NULL),
                     0);
        cr_assert(event_run_until_set(event, &release.called, WAIT_MAX_USEC));
        cr_assert(claim.called, "the release was answered before the claim");
        claim_node_expect_won(&claim, "a");
        claim_node_expect_released(&release, NULL);
        cr_assert_eq(slots_of("agent", "a"), 0, "the release did not wait for the claim");

        cr_assert_eq(coordinator_claim_slot(a->co, "default", "agent", 1, claim_node_on_done, &again, NULL),
                     0);
        cr_assert(event_run_until_set(event, &again.called, WAIT_MAX_USEC));
        claim_node_expect_won(&again, "a");
        cr_assert_gt(again.token, claim.token);
        cr_assert(event_run_until_set(event, &other.called, WAIT_MAX_USEC));
        claim_node_expect_won(&other, "a");
}

Test(coordinator_slots, a_slot_held_from_a_larger_max_is_won_again)
{
        ClaimNode *a, *b;
        ClaimResult r, first;

        etcd_fixture_start(&server);
        a = node_ready(0, "a");
        b = node_ready(1, "b");
        r = claim_node_slot(b, "agent", 2);
        claim_node_expect_won(&r, "b");
        first = claim_node_slot(a, "agent", 2);
        claim_node_expect_won(&first, "a");
        cr_assert_str_eq(etcd_raw_get(raw, "/berth/slots/default/agent/1").value, "a");
        /* max shrank to 1: a keeps its slot 1, and does not take another */
        r = claim_node_slot(a, "agent", 1);
        claim_node_expect_won(&r, "a");
        cr_assert_eq(r.token, first.token);
        cr_assert_eq(slots_of("agent", "a"), 1);
}

Test(coordinator_slots, a_slot_of_an_earlier_lease_of_the_node_is_not_taken_twice)
{
        ClaimNode *a;
        ClaimResult r;

        etcd_fixture_start(&server);
        a = node_ready(0, "a");
        etcd_raw_put(raw, "/berth/slots/default/agent/0", "a"); /* as a crashed agent of a's left it */
        r = claim_node_slot(a, "agent", 3);
        claim_node_expect_lost(&r, "a");
        cr_assert_eq(slots_of("agent", "a"), 1);
        /* and its release is not this lease's to do */
        r = claim_node_release_slot(a, "agent");
        claim_node_expect_released(&r, NULL);
        cr_assert_eq(slots_of("agent", "a"), 1);
}

Test(coordinator_slots, a_slot_goes_with_its_nodes_lease)
{
        ClaimNode *a, *b;
        ClaimResult r;
        int changes;

        etcd_fixture_start(&server);
        a = node_ready(0, "a");
        b = node_ready(1, "b");
        r = claim_node_slot(a, "agent", 1);
        claim_node_expect_won(&r, "a");
        r = claim_node_slot(b, "agent", 1);
        claim_node_expect_lost(&r, "a");
        cr_assert(event_run_until(event, sees, &(Seen){b, "slots", "agent", {"a"}, 1}, WAIT_MAX_USEC));

        changes = b->changes;
        a->co = coordinator_free(a->co); /* revokes the lease */
        cr_assert(event_run_until(event, sees, &(Seen){b, "slots", "agent", {}, 0}, WAIT_MAX_USEC),
                  "a's slot outlived its lease");
        cr_assert_gt(b->changes, changes);
        r = claim_node_slot(b, "agent", 1);
        claim_node_expect_won(&r, "b");
}
