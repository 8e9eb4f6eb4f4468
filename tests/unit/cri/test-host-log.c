#include <criterion/criterion.h>
#include <dirent.h>
#include <string.h>

#include "host-log.h"
#include "util.h"

static char tmpdir[] = "/tmp/berth-test-host-log-XXXXXX";
static char logpath[256];

static void setup(void)
{
        cr_assert_not_null(mkdtemp(tmpdir));
        snprintf(logpath, sizeof(logpath), "%s/pod/c/0.log", tmpdir);
}

static void teardown(void)
{
        cr_assert_eq(rm_rf(tmpdir), 0);
        cr_assert_neq(access(tmpdir, F_OK), 0);
}

TestSuite(host_log, .init = setup, .fini = teardown);

static char *slurp(const char *path)
{
        char *buf = NULL;
        cr_assert_eq(read_full_file(path, 1 << 26, &buf, NULL), 0);
        return buf;
}

/* Checks one CRI line "<ts> <stream> <tag> <text>" and returns the position after it. */
static const char *expect_line(const char *p, const char *stream, char tag, const char *text, size_t len)
{
        char ts[64];
        usec_t t;
        const char *sp = strchr(p, ' ');

        cr_assert_not_null(sp);
        cr_assert_lt((size_t)(sp - p), sizeof(ts));
        memcpy(ts, p, (size_t)(sp - p));
        ts[sp - p] = 0;
        cr_assert_eq(parse_rfc3339(ts, &t), 0, "bad timestamp %s", ts);
        cr_assert(strstr(ts, "Z") && strchr(ts, '.'), "not RFC3339Nano UTC: %s", ts);
        p = sp + 1;
        cr_assert(strncmp(p, stream, strlen(stream)) == 0);
        p += strlen(stream);
        cr_assert_eq(p[0], ' ');
        cr_assert_eq(p[1], tag);
        cr_assert_eq(p[2], ' ');
        p += 3;
        cr_assert(memcmp(p, text, len) == 0);
        cr_assert_eq(p[len], '\n');
        return p + len + 1;
}

Test(host_log, writes_complete_lines_as_full)
{
        HostLog *l = NULL;

        cr_assert_eq(host_log_new(&l, logpath, 0, 0), 0);
        cr_assert_eq(host_log_feed(l, HOST_LOG_STDOUT, "hello\nwor", 9), 0);
        cr_assert_eq(host_log_feed(l, HOST_LOG_STDERR, "oops\n", 5), 0);
        cr_assert_eq(host_log_feed(l, HOST_LOG_STDOUT, "ld\n\n", 4), 0);
        host_log_free(l);

        _cleanup_free_ char *s = slurp(logpath);
        const char *p = expect_line(s, "stdout", 'F', "hello", 5);
        p = expect_line(p, "stderr", 'F', "oops", 4);
        p = expect_line(p, "stdout", 'F', "world", 5);
        p = expect_line(p, "stdout", 'F', "", 0);
        cr_assert_eq(*p, 0);
}

Test(host_log, writes_unterminated_last_line_as_partial)
{
        HostLog *l = NULL;

        cr_assert_eq(host_log_new(&l, logpath, 0, 0), 0);
        cr_assert_eq(host_log_feed(l, HOST_LOG_STDOUT, "a\nno newline", 12), 0);
        cr_assert_eq(host_log_finish(l, HOST_LOG_STDOUT), 0);
        cr_assert_eq(host_log_finish(l, HOST_LOG_STDERR), 0); /* nothing pending: nothing written */
        host_log_free(l);

        _cleanup_free_ char *s = slurp(logpath);
        const char *p = expect_line(s, "stdout", 'F', "a", 1);
        p = expect_line(p, "stdout", 'P', "no newline", 10);
        cr_assert_eq(*p, 0);
}

Test(host_log, splits_long_lines_into_16k_partials)
{
        HostLog *l = NULL;
        size_t n = 2 * HOST_LOG_MAX_LINE + 100;
        _cleanup_free_ char *big = malloc(n + 1);

        for (size_t i = 0; i < n; i++)
                big[i] = (char)('a' + i % 26);
        big[n] = '\n';
        cr_assert_eq(host_log_new(&l, logpath, 0, 0), 0);
        /* fed in odd pieces, as a pipe delivers it */
        for (size_t off = 0; off < n + 1; off += 7000)
                cr_assert_eq(host_log_feed(l, HOST_LOG_STDOUT, big + off, MIN((size_t)7000, n + 1 - off)),
                             0);
        /* exactly 16 KiB then a newline stays one full line */
        memset(big, 'x', HOST_LOG_MAX_LINE);
        big[HOST_LOG_MAX_LINE] = '\n';
        cr_assert_eq(host_log_feed(l, HOST_LOG_STDERR, big, HOST_LOG_MAX_LINE + 1), 0);
        host_log_free(l);

        _cleanup_free_ char *s = slurp(logpath);
        char *expect = malloc(n);
        for (size_t i = 0; i < n; i++)
                expect[i] = (char)('a' + i % 26);
        const char *p = expect_line(s, "stdout", 'P', expect, HOST_LOG_MAX_LINE);
        p = expect_line(p, "stdout", 'P', expect + HOST_LOG_MAX_LINE, HOST_LOG_MAX_LINE);
        p = expect_line(p, "stdout", 'F', expect + 2 * HOST_LOG_MAX_LINE, 100);
        p = expect_line(p, "stderr", 'F', big, HOST_LOG_MAX_LINE);
        cr_assert_eq(*p, 0);
        free(expect);
}

static unsigned count_rotated(void)
{
        char dir[300];
        unsigned n = 0;

        snprintf(dir, sizeof(dir), "%s/pod/c", tmpdir);
        DIR *d = opendir(dir);
        cr_assert_not_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (startswith(de->d_name, "0.log.2"))
                        n++;
        closedir(d);
        return n;
}

Test(host_log, rotates_and_keeps_max_files_minus_one)
{
        HostLog *l = NULL;
        char line[200];

        memset(line, 'r', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\n';
        cr_assert_eq(host_log_new(&l, logpath, 1000, 3), 0);
        for (int i = 0; i < 40; i++)
                cr_assert_eq(host_log_feed(l, HOST_LOG_STDOUT, line, sizeof(line)), 0);
        host_log_free(l);

        cr_assert_eq(count_rotated(), 2);
        _cleanup_free_ char *s = slurp(logpath);
        cr_assert_leq(strlen(s), 1000 + 300);

        /* reopening continues the same file and keeps counting its size */
        cr_assert_eq(host_log_new(&l, logpath, 1000, 1), 0);
        for (int i = 0; i < 10; i++)
                cr_assert_eq(host_log_feed(l, HOST_LOG_STDOUT, line, sizeof(line)), 0);
        host_log_free(l);
        cr_assert_eq(count_rotated(), 0);
}

Test(host_log, rejects_bad_arguments)
{
        HostLog *l = NULL;

        cr_assert_eq(host_log_new(&l, "", 0, 0), -EINVAL);
        cr_assert_eq(host_log_new(&l, logpath, 0, 0), 0);
        cr_assert_eq(host_log_feed(l, (HostLogStream)7, "x", 1), -EINVAL);
        cr_assert_eq(host_log_feed(l, HOST_LOG_STDOUT, NULL, 1), -EINVAL);
        host_log_free(l);
}
