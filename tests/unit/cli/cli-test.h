/* Runs the CLI against the API unit tests' in-process server: the blocking verb in a forked
 * child (stdout and stderr captured), the server's loop in the test process. */
#pragma once

#include "api-test.h"
#include "cli.h"
#include "macro.h"

static inline int cli_test_main(void *userdata)
{
        char **argv = userdata;
        int argc = 0;

        while (argv[argc])
                argc++;
        return cli_main(argc, argv);
}

/* CLI_RUN(&t, &run, "get", "pods"): runs `berth --socket=<t's socket> get pods`. */
#define CLI_RUN(t, run, ...)                                                                                \
        do {                                                                                                \
                char *argv_[] = {"berth", "--socket", (t)->socket_path, __VA_ARGS__, NULL};                 \
                api_test_run(t, cli_test_main, argv_, run);                                                 \
        } while (0)

/* Creates an object through the API (POST body to path), asserting 201. */
static inline void cli_test_create(ApiTest *t, const char *path, const char *body)
{
        HttpReply r;

        api_test_request(t, "POST", path, body, &r);
        cr_assert_eq(r.code, 201, "%.*s", (int)r.body_size, r.body);
        http_reply_done(&r);
}

/* Asserts the child's exit code and, unless NULL, exactly what it printed; frees run. */
static inline void cli_test_expect(ApiTestRun *run, int status, const char *out, const char *err)
{
        cr_assert_eq(run->status, status, "exit %d: %s", run->status, run->err);
        if (out)
                cr_assert_str_eq(run->out, out);
        if (err)
                cr_assert_str_eq(run->err, err);
        api_test_run_done(run);
}
