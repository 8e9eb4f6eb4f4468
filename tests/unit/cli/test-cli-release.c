/* release: the arguments' checks (pure), and the verb against the API tests' in-process server,
 * whose release hook is a fake that records what reached it and answers as the cluster would:
 * sent, no such StatefulSet, an ordinal it refuses, an ordinal that is busy; and a server
 * without the hook, which is an agent outside cluster mode. */
#include <criterion/criterion.h>
#include <string.h>

#include "cli-doc.h"
#include "cli-internal.h"
#include "cli-test.h"
#include "json-util.h"
#include "util.h"

static int parse(char **pos, const char **ret_name, int64_t *ret_ordinal, char **ret_error)
{
        size_t n = 0;

        while (pos[n])
                n++;
        return cli_release_parse(pos, n, ret_name, ret_ordinal, ret_error);
}

Test(cli_release, reads_kind_slash_name_or_kind_and_name_then_the_ordinal)
{
        static const struct {
                char *pos[4];
                const char *name;
                int64_t ordinal;
        } cases[] = {
            {{"statefulset/web", "0"}, "web", 0},
            {{"statefulsets/web", "2"}, "web", 2},
            {{"sts/db", "10"}, "db", 10},
            {{"statefulset.apps/web", "1"}, "web", 1},
            {{"statefulsets.apps", "web", "3"}, "web", 3},
            {{"sts", "web", "2147483647"}, "web", 2147483647},
            {{"StatefulSet", "web", "007"}, "web", 7},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *err = NULL;
                const char *name = NULL;
                int64_t ordinal = -1;

                cr_expect_eq(parse((char **)cases[i].pos, &name, &ordinal, &err), 0, "case %zu: %s", i,
                             err ?: "");
                cr_expect_str_eq(name ?: "(null)", cases[i].name, "case %zu", i);
                cr_expect_eq(ordinal, cases[i].ordinal, "case %zu", i);
                cr_expect_null(err, "case %zu", i);
        }
}

Test(cli_release, refuses_a_missing_or_malformed_ordinal_and_other_kinds)
{
        static const struct {
                char *pos[5];
                const char *error;
        } cases[] = {
            {{NULL}, "a statefulset and an ordinal are required: berth release statefulset/NAME ORDINAL"},
            {{"sts/web"}, "the ordinal to release is required: berth release statefulset/NAME ORDINAL"},
            {{"sts", "web"}, "the ordinal to release is required: berth release statefulset/NAME ORDINAL"},
            {{"sts"}, "the name of the statefulset is required: berth release statefulset/NAME ORDINAL"},
            {{"sts/", "0"},
             "the name of the statefulset is required: berth release statefulset/NAME ORDINAL"},
            {{"sts/web", "-1"}, "invalid ordinal \"-1\": must be a whole number >= 0"},
            {{"sts/web", "+1"}, "invalid ordinal \"+1\": must be a whole number >= 0"},
            {{"sts/web", "1.5"}, "invalid ordinal \"1.5\": must be a whole number >= 0"},
            {{"sts/web", "1e3"}, "invalid ordinal \"1e3\": must be a whole number >= 0"},
            {{"sts/web", " 1"}, "invalid ordinal \" 1\": must be a whole number >= 0"},
            {{"sts/web", "one"}, "invalid ordinal \"one\": must be a whole number >= 0"},
            {{"sts/web", ""}, "invalid ordinal \"\": must be a whole number >= 0"},
            {{"sts/web", "2147483648"}, "invalid ordinal \"2147483648\": must be at most 2147483647"},
            {{"sts/web", "99999999999999999999999"},
             "invalid ordinal \"99999999999999999999999\": must be at most 2147483647"},
            {{"sts", "web", "0", "1"}, "unexpected argument \"1\": berth release statefulset/NAME ORDINAL"},
            {{"sts/web", "0", "1"}, "unexpected argument \"1\": berth release statefulset/NAME ORDINAL"},
            {{"sts", "a/b", "0"}, "invalid statefulset name \"a/b\""},
            {{"pod/web-0", "0"}, "release works on statefulsets only"},
            {{"daemonset", "agent", "0"}, "release works on statefulsets only"},
            {{"deployments.apps/web", "0"}, "the server doesn't have a resource type \"deployments.apps\""},
            {{"frob/web", "0"}, "the server doesn't have a resource type \"frob\""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *err = NULL;
                const char *name = NULL;
                int64_t ordinal = -1;

                cr_expect_eq(parse((char **)cases[i].pos, &name, &ordinal, &err), -EINVAL, "case %zu", i);
                cr_expect_str_eq(err ?: "(null)", cases[i].error, "case %zu", i);
                cr_expect_null(name, "case %zu", i);
        }
}

/* ---- the verb, against the in-process server ---- */

static ApiTest t;

/* What the fake release hook saw (it runs in this process, the CLI in a forked child). */
static struct {
        unsigned calls;
        char ns[64], set[64];
        int64_t ordinal;
} seen;

/* A cluster's answers: "gone" does not exist, ordinal 9 is beyond the replicas, "busy" has
 * its ordinal 1 running on another node; anything else is sent. */
static int fake_release(void *userdata, const char *ns, const char *set, int64_t ordinal, char **ret_error)
{
        seen.calls++;
        snprintf(seen.ns, sizeof(seen.ns), "%s", ns ?: "(null)");
        snprintf(seen.set, sizeof(seen.set), "%s", set ?: "(null)");
        seen.ordinal = ordinal;
        if (streq(set, "gone"))
                return -ENOENT;
        if (ordinal == 9)
                return asprintf_safe(ret_error, "statefulset %s has no ordinal 9 (replicas 3)", set) < 0
                           ? -ENOMEM
                           : -ERANGE;
        if (streq(set, "busy"))
                return asprintf_safe(ret_error, "ordinal %lld of %s is running on node-b: stop it first",
                                     (long long)ordinal, set) < 0
                           ? -ENOMEM
                           : -EBUSY;
        return asprintf_safe(ret_error, "released ordinal %lld of %s/%s", (long long)ordinal, ns, set) < 0
                   ? -ENOMEM
                   : 0;
}

static void cluster_setup(void)
{
        static const ApiHooks hooks = {.release_ordinal = fake_release};

        seen = (typeof(seen)){};
        api_test_start_with(&t, false, &hooks);
}

static void agent_setup(void)
{
        seen = (typeof(seen)){};
        api_test_start(&t, false);
}

static void teardown(void)
{
        api_test_stop(&t);
}

TestSuite(cli_release_verb, .init = cluster_setup, .fini = teardown);
TestSuite(cli_release_local, .init = agent_setup, .fini = teardown);

Test(cli_release_verb, posts_the_ordinal_and_says_it_is_released)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "release", "statefulset/web", "2");
        cli_test_expect(&run, 0, "statefulset.apps/web ordinal 2 released\n", "");
        cr_expect_eq(seen.calls, 1);
        cr_expect_str_eq(seen.ns, "default");
        cr_expect_str_eq(seen.set, "web");
        cr_expect_eq(seen.ordinal, 2);

        CLI_RUN(&t, &run, "-n", "team-a", "release", "sts", "db", "0");
        cli_test_expect(&run, 0, "statefulset.apps/db ordinal 0 released\n", "");
        cr_expect_eq(seen.calls, 2);
        cr_expect_str_eq(seen.ns, "team-a");
        cr_expect_str_eq(seen.set, "db");
        cr_expect_eq(seen.ordinal, 0);

        CLI_RUN(&t, &run, "release", "statefulsets.apps/web", "1", "--namespace=ops");
        cli_test_expect(&run, 0, "statefulset.apps/web ordinal 1 released\n", "");
        cr_expect_str_eq(seen.ns, "ops");
}

Test(cli_release_verb, the_request_is_a_post_of_the_ordinal_to_the_release_subresource)
{
        HttpReply r;

        api_test_request(&t, "POST", "/apis/apps/v1/namespaces/default/statefulsets/web/release",
                         "{\"ordinal\":4}", &r);
        cr_expect_eq(r.code, 202, "%.*s", (int)r.body_size, r.body);
        cr_expect_str_eq(json_str(r.json, "message") ?: "?", "released ordinal 4 of default/web");
        http_reply_done(&r);
        cr_expect_eq(seen.ordinal, 4);
}

Test(cli_release_verb, prints_the_agents_reason_when_it_refuses)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "release", "sts/gone", "0");
        cli_test_expect(&run, 1, "", "error: statefulsets.apps \"gone\" not found\n");
        CLI_RUN(&t, &run, "release", "sts/web", "9");
        cli_test_expect(&run, 1, "", "error: statefulset web has no ordinal 9 (replicas 3)\n");
        CLI_RUN(&t, &run, "release", "sts/busy", "1");
        cli_test_expect(&run, 1, "", "error: ordinal 1 of busy is running on node-b: stop it first\n");
        cr_expect_eq(seen.calls, 3);
}

Test(cli_release_verb, checks_the_arguments_before_contacting_the_agent)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "release", "sts/web");
        cli_test_expect(
            &run, 1, "",
            "error: the ordinal to release is required: berth release statefulset/NAME ORDINAL\n");
        CLI_RUN(&t, &run, "release", "sts/web", "-1");
        cli_test_expect(&run, 1, "", "error: unknown shorthand flag: '1' in -1\n");
        CLI_RUN(&t, &run, "release", "sts/web", "--", "-1");
        cli_test_expect(&run, 1, "", "error: invalid ordinal \"-1\": must be a whole number >= 0\n");
        CLI_RUN(&t, &run, "release", "sts/web", "x");
        cli_test_expect(&run, 1, "", "error: invalid ordinal \"x\": must be a whole number >= 0\n");
        CLI_RUN(&t, &run, "release", "pod", "web-0", "0");
        cli_test_expect(&run, 1, "", "error: release works on statefulsets only\n");
        cr_expect_eq(seen.calls, 0, "nothing reached the agent");
}

Test(cli_release_local, says_the_agent_is_not_in_cluster_mode)
{
        ApiTestRun run;

        CLI_RUN(&t, &run, "release", "sts/web", "0");
        cli_test_expect(&run, 1, "", "error: release needs cluster mode (coordinator.type etcd)\n");
}

Test(cli_release_local, fails_in_one_line_when_the_agent_cannot_be_reached)
{
        _cleanup_free_ char *sock = strjoin(t.dir, "/none.sock", NULL), *want = NULL;
        char *argv[] = {"berth", "--socket", sock, "release", "sts/web", "0", NULL};
        ApiTestRun run;

        cr_assert_not_null(sock);
        want =
            strjoin("error: cannot reach the berth agent at ", sock, ": No such file or directory\n", NULL);
        cr_assert_not_null(want);
        api_test_run(&t, cli_test_main, argv, &run);
        cli_test_expect(&run, 1, "", want);
}

Test(cli_release, help_says_when_to_use_it)
{
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        char *o;

        cr_assert_not_null(f);
        cli_verbs_print_help(f, "release");
        fclose(f);
        cr_expect(strstr(out, "Usage:\n  berth release KIND/NAME ORDINAL | KIND NAME ORDINAL\n"), "%s", out);
        /* the details are wrapped at 100 columns: one space for each run of blanks and line breaks */
        o = out;
        for (const char *p = out; *p; p++)
                if (!strchr(" \n", *p) || (o > out && o[-1] != ' '))
                        *o++ = *p == '\n' ? ' ' : *p;
        *o = 0;
        cr_expect(strstr(out, "The data on the old node is abandoned."), "%s", out);
}
