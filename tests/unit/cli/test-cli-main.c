#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "berth-config.h"
#include "cli-internal.h"
#include "cli.h"

#define RUN(...)                                                                                            \
        ({                                                                                                  \
                static char *argv_[] = {"berth", __VA_ARGS__, NULL};                                        \
                cli_main((int)ELEMENTSOF(argv_) - 1, argv_);                                                \
        })

/* Runs the CLI, expecting exit code rc and exactly want on stderr. */
#define EXPECT_STDERR(rc, want, ...)                                                                        \
        do {                                                                                                \
                cr_assert_eq(RUN(__VA_ARGS__), rc);                                                         \
                fflush(stderr);                                                                             \
                cr_assert_stderr_eq_str(want);                                                              \
        } while (0)

static void redirect_all(void)
{
        cr_redirect_stdout();
        cr_redirect_stderr();
}

Test(cli_main, rejects_an_unknown_verb, .init = redirect_all)
{
        EXPECT_STDERR(1, "error: unknown command \"frob\" for \"berth\"\n", "frob");
}

Test(cli_main, rejects_an_unknown_flag, .init = redirect_all)
{
        EXPECT_STDERR(1, "error: unknown flag: --frob\n", "get", "pods", "--frob");
}

Test(cli_main, prints_usage_for_help, .init = redirect_all)
{
        cr_assert_eq(RUN("help"), 0);
        fflush(stdout);
        cr_assert_stdout_neq_str("");
}

Test(cli_main, prints_the_client_version_without_an_agent, .init = redirect_all)
{
        cr_assert_eq(RUN("version", "--client"), 0);
        fflush(stdout);
        cr_assert_stdout_eq_str("Client Version: v" BERTH_VERSION "\n");
}

Test(cli_main, fails_in_one_line_when_the_agent_is_unreachable, .init = redirect_all)
{
        EXPECT_STDERR(1,
                      "error: cannot reach the berth agent at /tmp/cli-main-missing.sock: "
                      "No such file or directory\n",
                      "--socket=/tmp/cli-main-missing.sock", "get", "pods");
}

Test(cli_main, needs_a_resource_type_for_get, .init = redirect_all)
{
        EXPECT_STDERR(1, "error: you must specify the type of resource\n", "get");
}

Test(cli_main, rejects_an_unknown_resource_type, .init = redirect_all)
{
        EXPECT_STDERR(1, "error: the server doesn't have a resource type \"frobs\"\n", "get", "frobs");
}
