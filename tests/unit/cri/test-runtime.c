#include <criterion/criterion.h>
#include <string.h>

#include "runtime.h"

static char tmpdir[] = "/tmp/berth-test-runtime-XXXXXX";
static char logpath[256];

static void setup(void)
{
        cr_assert_not_null(mkdtemp(tmpdir));
        snprintf(logpath, sizeof(logpath), "%s/0.log", tmpdir);
}

static void teardown(void)
{
        cr_assert_eq(rm_rf(tmpdir), 0);
        cr_assert_neq(access(tmpdir, F_OK), 0);
}

TestSuite(runtime, .init = setup, .fini = teardown);

static void put(const char *s)
{
        cr_assert_eq(write_file_atomic(logpath, s, strlen(s), 0644), 0);
}

#define T1 "2025-11-21T19:48:43.000000001Z"
#define T2 "2025-11-21T19:48:44.5Z"
#define T3 "2025-11-21T19:48:45.123456789Z"

static const char sample[] = T1 " stdout F first\n" T2 " stderr P sec\n" T2 " stderr P on\n" T2
                                " stderr F d\n" T3 " stdout F \n" T3 " stdout F last line\n";

Test(runtime, reads_messages_joining_partial_lines)
{
        _cleanup_free_ char *out = NULL;
        size_t size;
        uint64_t next;

        put(sample);
        cr_assert_eq(runtime_log_read(logpath, 0, false, -1, &out, &size, &next), 0);
        cr_assert_str_eq(out, "first\nsecond\n\nlast line\n");
        cr_assert_eq(size, strlen(out));
        cr_assert_eq(next, strlen(sample));
}

Test(runtime, prefixes_timestamps_once_per_message)
{
        _cleanup_free_ char *out = NULL;

        put(sample);
        cr_assert_eq(runtime_log_read(logpath, 0, true, -1, &out, NULL, NULL), 0);
        cr_assert_str_eq(out, T1 " first\n" T2 " second\n" T3 " \n" T3 " last line\n");
}

Test(runtime, keeps_only_the_tail)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        put(sample);
        cr_assert_eq(runtime_log_read(logpath, 0, false, 3, &a, NULL, NULL), 0);
        cr_assert_str_eq(a, "second\n\nlast line\n");
        cr_assert_eq(runtime_log_read(logpath, 0, false, 0, &b, NULL, NULL), 0);
        cr_assert_str_eq(b, "");
        cr_assert_eq(runtime_log_read(logpath, 0, false, 100, &c, NULL, NULL), 0);
        cr_assert_str_eq(c, "first\nsecond\n\nlast line\n");
}

Test(runtime, continues_from_an_offset_and_ignores_a_torn_last_line)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        uint64_t next, next2;
        const char *first = T1 " stdout F one\n";
        char buf[512];

        snprintf(buf, sizeof(buf), "%s%s", first, T2 " stdout F tw");
        put(buf);
        cr_assert_eq(runtime_log_read(logpath, 0, false, -1, &a, NULL, &next), 0);
        cr_assert_str_eq(a, "one\n");
        cr_assert_eq(next, strlen(first));

        snprintf(buf, sizeof(buf), "%s%s", first, T2 " stdout F two\n");
        put(buf);
        cr_assert_eq(runtime_log_read(logpath, next, false, -1, &b, NULL, &next2), 0);
        cr_assert_str_eq(b, "two\n");
        cr_assert_eq(next2, strlen(buf));
        /* an offset past the end (file truncated by rotation) reads nothing */
        cr_assert_eq(runtime_log_read(logpath, 1 << 20, false, -1, &c, NULL, &next), 0);
        cr_assert_str_eq(c, "");
        cr_assert_eq(next, strlen(buf));
}

Test(runtime, skips_malformed_lines)
{
        _cleanup_free_ char *out = NULL;

        put("garbage\n"
            "\n" T1 " stdin F nope\n" T1 " stdout X nope\n"
            "yesterday stdout F nope\n" T1 "stdout F nope\n" T1 " stdout Fx nope\n" T1
            " stdout F:tag ok\n" T1 " stdout F\n" T1 " stderr F fine\n");
        cr_assert_eq(runtime_log_read(logpath, 0, false, -1, &out, NULL, NULL), 0);
        cr_assert_str_eq(out, "ok\n\nfine\n");
}

Test(runtime, reports_a_missing_file)
{
        char *out = NULL;
        char path[300];

        snprintf(path, sizeof(path), "%s/nope.log", tmpdir);
        cr_assert_eq(runtime_log_read(path, 0, false, -1, &out, NULL, NULL), -ENOENT);
        cr_assert_null(out);
}

Test(runtime, builds_the_kubelet_log_path)
{
        _cleanup_free_ char *p = NULL;
        char *bad = NULL;

        cr_assert_eq(runtime_log_path("/var/log/pods", "default", "web", "1234-5678", "nginx", 2, &p), 0);
        cr_assert_str_eq(p, "/var/log/pods/default_web_1234-5678/nginx/2.log");
        cr_assert_eq(runtime_log_path("/var/log/pods", "default", "../etc", "u", "c", 0, &bad), -EINVAL);
        cr_assert_eq(runtime_log_path("/var/log/pods", "default", "web", "", "c", 0, &bad), -EINVAL);
        cr_assert_eq(runtime_log_path(NULL, "default", "web", "u", "c", 0, &bad), -EINVAL);
        cr_assert_null(bad);
}

/* The cri backend checks its socket before anything else: a path with nothing there is an
 * error, and no runtime is made. */
Test(runtime, cri_backend_refuses_a_missing_socket)
{
        sd_event *e = NULL;
        Runtime *rt = NULL;
        RuntimeOptions o = {.type = RUNTIME_CRI, .endpoint = "unix:///nonexistent/berth-test/cri.sock"};

        cr_assert_eq(sd_event_new(&e), 0);
        cr_assert_eq(runtime_new(&rt, e, &o), -ENOENT);
        cr_assert_null(rt);
        sd_event_unref(e);
}
