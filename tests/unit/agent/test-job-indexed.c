#include <criterion/criterion.h>
#include <string.h>

#include "job-sync.h"
#include "json-util.h"

/* Pods described as "name index phase ready restarts created [node [readySince]]"; "-" for
 * none. */
static cJSON *pod(const char *desc)
{
        char name[32], idx[16], phase[16], ready[8], created[32], node[16] = "-", since[32] = "-";
        int restarts;
        _cleanup_free_ char *s = NULL;
        cJSON *p;

        cr_assert_geq(sscanf(desc, "%31s %15s %15s %7s %d %31s %15s %31s", name, idx, phase, ready,
                             &restarts, created, node, since),
                      6, "bad pod: %s", desc);
        cr_assert_geq(
            asprintf_safe(
                &s,
                "{\"metadata\":{\"name\":\"%s\",\"creationTimestamp\":\"%s\",\"annotations\":{%s%s%s}},"
                "\"spec\":{\"nodeName\":\"%s\"},\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":"
                "\"Ready\",\"status\":\"%s\",\"lastTransitionTime\":\"%s\"}],\"containerStatuses\":[{"
                "\"name\":\"main\",\"restartCount\":%d}]}}",
                name, created, streq(idx, "-") ? "" : "\"" JOB_COMPLETION_INDEX_KEY "\":\"",
                streq(idx, "-") ? "" : idx, streq(idx, "-") ? "" : "\"", streq(node, "-") ? "" : node, phase,
                streq(ready, "y") ? "True" : "False", since, restarts),
            0);
        p = cJSON_Parse(s);
        cr_assert_not_null(p, "bad json: %s", s);
        if (streq(phase, "-"))
                cJSON_DeleteItemFromObjectCaseSensitive(json_path(p, "status"), "phase");
        return p;
}

#define T0 "2024-01-01T00:00:00Z"
#define T1 "2024-01-01T00:00:01Z"

typedef struct Case {
        cJSON *pods[8];
        const cJSON *v[8];
        size_t n;
        int n_rm;
} Case;

static void run(Case *c, int64_t completions, const char *const *descs)
{
        JobSync s = {.p = {.indexed = true, .completions = completions}};

        for (c->n = 0; descs[c->n]; c->n++) {
                c->pods[c->n] = pod(descs[c->n]);
                c->v[c->n] = c->pods[c->n];
        }
        c->n_rm = job_index_removals(&s, c->v, c->n);
        cr_assert_geq(c->n_rm, 0);
}

static bool removed(const Case *c, const char *name)
{
        for (int i = 0; i < c->n_rm; i++)
                if (streq(json_str(c->v[i], "metadata.name"), name))
                        return true;
        return false;
}

static void done(Case *c)
{
        for (size_t i = 0; i < c->n; i++)
                cJSON_Delete(c->pods[i]);
}

Test(job_indexed, removes_all_but_one_pod_of_each_repeated_index)
{
        const char *descs[] = {"a 0 Running n 0 " T0, "b 0 Pending n 0 " T0, "c 1 Running n 0 " T0,
                               "d 0 Running n 0 " T1, "e 2 Running n 0 " T0, NULL};
        Case c = {0};

        run(&c, 3, descs);
        cr_assert_eq(c.n_rm, 2);
        cr_assert(removed(&c, "b"), "pending loses to running");
        cr_assert(removed(&c, "d"), "the newer of two running pods goes");
        cr_assert_eq(c.n, 5, "the kept pods follow the removals");
        for (size_t i = (size_t)c.n_rm; i < c.n; i++)
                cr_assert(strchr("ace", json_str(c.v[i], "metadata.name")[0]));
        done(&c);
}

Test(job_indexed, removes_pods_without_a_valid_index)
{
        const char *descs[] = {"beyond 2 Running n 0 " T0,         "garbage x Running n 0 " T0,
                               "none - Running n 0 " T0,           "ok 1 Running n 0 " T0,
                               "huge 99999999999 Running n 0 " T0, NULL};
        Case c = {0};

        run(&c, 2, descs);
        cr_assert_eq(c.n_rm, 4);
        cr_assert_not(removed(&c, "ok"));
        cr_assert_str_eq(json_str(c.v[4], "metadata.name"), "ok");
        done(&c);
}

Test(job_indexed, keeps_the_pod_furthest_along_as_the_controller_ranks_active_pods)
{
        /* each pair repeats one index; the second pod of the pair is the one kept */
        const char *pairs[][2] = {
            {"unbound 0 Running y 0 " T0, "bound 0 Pending n 3 " T1 " node1"},
            {"pending 0 Pending n 0 " T0, "unknown 0 Unknown n 0 " T1},
            {"nophase 0 - n 0 " T0, "running 0 Running n 0 " T1},
            {"unready 0 Running n 0 " T0, "ready 0 Running y 0 " T1},
            {"readylater 0 Running y 0 " T0 " - " T1, "readyearlier 0 Running y 0 " T1 " - " T0},
            {"morerestarts 0 Running n 2 " T0, "fewer 0 Running n 1 " T1},
            {"newer 0 Running n 0 " T1, "older 0 Running n 0 " T0},
        };

        for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
                for (int flip = 0; flip < 2; flip++) {
                        const char *descs[] = {pairs[i][flip], pairs[i][!flip], NULL};
                        Case c = {0};
                        char name[32];

                        run(&c, 1, descs);
                        sscanf(pairs[i][0], "%31s", name);
                        cr_assert_eq(c.n_rm, 1);
                        cr_assert(removed(&c, name), "pair %zu (flip %d): %s should go", i, flip, name);
                        done(&c);
                }
}

Test(job_indexed, nonindexed_jobs_remove_nothing_by_index)
{
        JobSync s = {.p = {.indexed = false, .completions = 1}};
        _cleanup_json_ cJSON *a = pod("a 0 Running n 0 " T0), *b = pod("b 0 Running n 0 " T0);
        const cJSON *v[] = {a, b};

        cr_assert_eq(job_index_removals(&s, v, 2), 0);
        cr_assert(job_index_pod_valid(&s, a));
}

Test(job_indexed, a_valid_index_is_below_completions)
{
        JobSync s = {.p = {.indexed = true, .completions = 2}};
        _cleanup_json_ cJSON *zero = pod("z 0 Running n 0 " T0), *one = pod("o 1 Running n 0 " T0),
                             *two = pod("t 2 Running n 0 " T0), *none = pod("n - Running n 0 " T0);

        cr_assert(job_index_pod_valid(&s, zero));
        cr_assert(job_index_pod_valid(&s, one));
        cr_assert_not(job_index_pod_valid(&s, two));
        cr_assert_not(job_index_pod_valid(&s, none));
}
