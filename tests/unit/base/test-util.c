#include <criterion/criterion.h>
#include <string.h>

#include "util.h"

Test(util, formats_and_parses_rfc3339_round_trip)
{
        char buf[64];
        usec_t t;

        cr_assert_eq(format_rfc3339(1763754523ULL * USEC_PER_SEC, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "2025-11-21T19:48:43Z");
        cr_assert_eq(parse_rfc3339(buf, &t), 0);
        cr_assert_eq(t, 1763754523ULL * USEC_PER_SEC);
        cr_assert_eq(parse_rfc3339("2025-11-21T20:48:43.5+01:00", &t), 0);
        cr_assert_eq(t, 1763754523ULL * USEC_PER_SEC + 500000);
        cr_assert_lt(parse_rfc3339("2025-13-01T00:00:00Z", &t), 0);
        cr_assert_lt(parse_rfc3339("yesterday", &t), 0);
}

Test(util, formats_age_like_kubectl)
{
        char buf[32];

        format_age(5 * USEC_PER_SEC, buf, sizeof(buf));
        cr_assert_str_eq(buf, "5s");
        format_age(192 * USEC_PER_SEC, buf, sizeof(buf));
        cr_assert_str_eq(buf, "3m12s");
        format_age(50 * 3600 * USEC_PER_SEC, buf, sizeof(buf));
        cr_assert_str_eq(buf, "2d2h");
        format_age(120 * USEC_PER_SEC, buf, sizeof(buf));
        cr_assert_str_eq(buf, "2m");
        format_age(3 * 3600 * USEC_PER_SEC, buf, sizeof(buf));
        cr_assert_str_eq(buf, "3h");
        format_age((3 * 365 + 5) * 86400 * USEC_PER_SEC, buf, sizeof(buf));
        cr_assert_str_eq(buf, "3y5d");
}

Test(util, parses_go_durations)
{
        usec_t t;

        cr_assert_eq(parse_duration("1m30s", &t), 0);
        cr_assert_eq(t, 90 * USEC_PER_SEC);
        cr_assert_eq(parse_duration("500ms", &t), 0);
        cr_assert_eq(t, 500 * USEC_PER_MSEC);
        cr_assert_lt(parse_duration("10x", &t), 0);
        cr_assert_lt(parse_duration("-5s", &t), 0);
        cr_assert_lt(parse_duration("", &t), 0);
}

Test(util, random_names_use_the_kubernetes_alphabet)
{
        char buf[6];

        cr_assert_eq(random_name_suffix(buf, 5), 0);
        cr_assert_eq(strlen(buf), 5);
        cr_assert_eq(strspn(buf, "bcdfghjklmnpqrstvwxz2456789"), 5);
}

Test(util, writes_files_atomically_and_removes_trees)
{
        char dir[] = "/tmp/berth-test-XXXXXX", path[128], *data = NULL;

        cr_assert_not_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/a/b/c", dir);
        cr_assert_eq(mkdir_p(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/a/b/c/f", dir);
        cr_assert_eq(write_file_atomic(path, "hello", 5, 0600), 0);
        cr_assert_eq(read_full_file(path, 100, &data, NULL), 0);
        cr_assert_str_eq(data, "hello");
        free(data);
        cr_assert_eq(read_full_file(path, 2, &data, NULL), -EFBIG);
        cr_assert_eq(rm_rf(dir), 0);
        cr_assert_eq(access(dir, F_OK), -1);
}
