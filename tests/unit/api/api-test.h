/* Test harness of the API unit tests: a store and an API server on a private sd_event in a
 * temporary directory, and an HTTP client that runs in a forked child (optionally as
 * another user) while the test process runs the loop, so nothing blocks the server. */
#pragma once

#include <cjson/cJSON.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "api.h"
#include "store.h"

typedef struct ApiTest {
        char *dir;
        char *socket_path;
        char *log_dir;
        char *state_dir;
        sd_event *event;
        Store *store;
        ApiServer *api;
} ApiTest;

typedef struct HttpReply {
        unsigned code;
        char *raw;     /* the whole response */
        char *headers; /* points into raw */
        char *body;    /* points into raw */
        size_t body_size;
        cJSON *json; /* the body, when it parses as JSON */
} HttpReply;

/* Starts a server whose socket group lets this test process in (root needs none), or,
 * with root_only, a server that only root may use. */
void api_test_start(ApiTest *t, bool root_only);
void api_test_start_with(ApiTest *t, bool root_only, const ApiHooks *hooks);
/* The socket group that lets this process in: NULL for root, else its own group's name. */
const char *api_test_group(void);
void api_test_stop(ApiTest *t);

/* A criterion suite whose every test gets a fresh server in the file's `static ApiTest t`
 * (suite_setup/suite_teardown serve further suites of the file). */
#define API_TEST_SUITE(suite)                                                                               \
        static ApiTest t;                                                                                   \
        static void suite_setup(void)                                                                       \
        {                                                                                                   \
                api_test_start(&t, false);                                                                  \
        }                                                                                                   \
        static void suite_teardown(void)                                                                    \
        {                                                                                                   \
                api_test_stop(&t);                                                                          \
        }                                                                                                   \
        TestSuite(suite, .init = suite_setup, .fini = suite_teardown)

/* What a forked child printed and how it ended. */
typedef struct ApiTestRun {
        int status; /* the exit code, or 128 + the signal that killed it */
        char *out;  /* stdout and stderr (malloc'd, NUL-terminated) */
        size_t out_size;
        char *err;
} ApiTestRun;

/* Runs fn(userdata) in a forked child, whose return is its exit code and whose stdout and
 * stderr are captured, while this process runs the server's loop until the child ends. */
void api_test_run(ApiTest *t, int (*fn)(void *userdata), void *userdata, ApiTestRun *ret);
void api_test_run_done(ApiTestRun *r);

/* Sends a raw request as uid/gid (uid_t -1: as ourselves) and collects the reply. */
int api_test_raw(ApiTest *t, uid_t uid, gid_t gid, const char *req, size_t size, HttpReply *ret);
/* method path [body]: Content-Type application/json when body is given. */
int api_test_request(ApiTest *t, const char *method, const char *path, const char *body, HttpReply *ret);
/* The first value of a response header (case-insensitive name), malloc'd, or NULL. */
char *http_reply_header(const HttpReply *r, const char *name);
void http_reply_done(HttpReply *r);
/* GETs a list path, asserts 200 and returns the number of its items. */
int api_test_count_items(ApiTest *t, const char *path);

/* Stores pod "web" in "default" with the given containers and restart counts, phase
 * Running; returns it as stored (owned). */
cJSON *api_test_store_pod(ApiTest *t, const char *const *containers, const int *restarts, size_t n);
/* Writes text (CRI log lines) as the log of the pod's container at attempt. */
void api_test_write_log(ApiTest *t, const cJSON *pod, const char *container, unsigned attempt,
                        const char *text);
/* A minimal valid pod as JSON text (malloc'd), with labels "app=<app>". */
char *api_test_pod(const char *name, const char *app);
