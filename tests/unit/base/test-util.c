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

static char *expand_env[] = {"A=1", "B=two", "A=3", "EMPTY=", NULL};

static void assert_expands(const char *in, const char *want)
{
        _cleanup_free_ char *s = expand_vars(in, expand_env, 4);

        cr_assert_not_null(s);
        cr_assert_str_eq(s, want, "expand_vars(\"%s\")", in);
}

Test(util, expands_defined_variables_with_the_last_definition_winning)
{
        assert_expands("x$(B)y $(A)", "xtwoy 3");
        assert_expands("$(EMPTY)|", "|");
        assert_expands("$(A)$(B)$(A)", "3two3");
        assert_expands("", "");
}

Test(util, keeps_undefined_references_as_written)
{
        assert_expands("$(C) $(A1) $()", "$(C) $(A1) $()");
        /* a name is everything up to the first ')', as in Go's tryReadVariableName */
        assert_expands("$(A B)", "$(A B)");
}

Test(util, treats_double_dollar_as_an_escape)
{
        assert_expands("$$(B)", "$(B)");
        assert_expands("$$", "$");
        assert_expands("$$$(B)", "$two");
        assert_expands("$$$$(B)", "$$(B)");
}

Test(util, keeps_dollars_that_start_no_reference)
{
        assert_expands("$x $ $", "$x $ $");
        assert_expands("cost: 5$", "cost: 5$");
        /* an unterminated reference keeps "$(" and the rest is read on; a name ends at the first
         * ")", so a reference cannot nest */
        assert_expands("$(B", "$(B");
        assert_expands("$($(B)", "$($(B)");
}

Test(util, finds_env_values_by_name_length)
{
        cr_assert_str_eq(strv_env_get_n(expand_env, 4, "A", 1), "3");
        cr_assert_str_eq(strv_env_get_n(expand_env, 4, "Bx", 1), "two");
        cr_assert_str_eq(strv_env_get_n(expand_env, 4, "EMPTY", 5), "");
        cr_assert_null(strv_env_get_n(expand_env, 4, "EMPT", 4));
        cr_assert_null(strv_env_get_n(expand_env, 2, "A", 0));
        cr_assert_null(strv_env_get_n(NULL, 0, "A", 1));
}
