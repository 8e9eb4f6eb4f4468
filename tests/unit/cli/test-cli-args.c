#include <criterion/criterion.h>
#include <string.h>

#include "cli-internal.h"

#define PARSE(a, err, ...)                                                                                  \
        ({                                                                                                  \
                static char *argv_[] = {"berth", __VA_ARGS__, NULL};                                        \
                cli_args_parse(a, (int)ELEMENTSOF(argv_) - 1, argv_, err);                                  \
        })

Test(cli_args, accepts_flags_before_and_after_the_positional_arguments)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;

        cr_assert_eq(PARSE(&a, &err, "-n", "prod", "get", "pods", "web", "-o", "wide", "--show-labels"), 0);
        cr_assert_str_eq(a.verb, "get");
        cr_assert_eq(a.n_pos, 2);
        cr_assert_str_eq(a.pos[0], "pods");
        cr_assert_str_eq(a.pos[1], "web");
        cr_assert_str_eq(a.namespace, "prod");
        cr_assert_str_eq(a.output, "wide");
        cr_assert(a.show_labels);
        cr_assert_str_eq(cli_args_namespace(&a), "prod");
        cli_args_done(&a);
}

Test(cli_args, takes_the_socket_anywhere_in_both_spellings)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;

        cr_assert_eq(PARSE(&a, &err, "--socket", "/tmp/a.sock", "version"), 0);
        cr_assert_str_eq(a.socket, "/tmp/a.sock");
        cr_assert_str_eq(a.verb, "version");
        cr_assert_eq(a.n_pos, 0);
        cli_args_done(&a);
        cr_assert_eq(PARSE(&a, &err, "get", "pods", "--socket=/tmp/b.sock"), 0);
        cr_assert_str_eq(a.socket, "/tmp/b.sock");
        cr_assert_eq(a.n_pos, 1);
        cli_args_done(&a);
}

Test(cli_args, collects_repeated_filenames_and_short_forms)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;

        cr_assert_eq(
            PARSE(&a, &err, "apply", "-f", "a.yaml", "--filename=b.yaml", "-fc.yaml", "-R", "--dry-run"), 0);
        cr_assert_eq(a.n_files, 3);
        cr_assert_str_eq(a.files[0], "a.yaml");
        cr_assert_str_eq(a.files[1], "b.yaml");
        cr_assert_str_eq(a.files[2], "c.yaml");
        cr_assert(a.recursive);
        cr_assert_str_eq(a.dry_run, "client");
        cli_args_done(&a);
        cr_assert_eq(PARSE(&a, &err, "apply", "--dry-run=server", "-f", "-"), 0);
        cr_assert_str_eq(a.dry_run, "server");
        cr_assert_str_eq(a.files[0], "-");
        cli_args_done(&a);
}

Test(cli_args, reads_f_and_p_as_follow_and_previous_for_logs)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;

        cr_assert_eq(PARSE(&a, &err, "logs", "-f", "web", "-p", "-c", "app", "--tail=20", "--timestamps"),
                     0);
        cr_assert(a.follow);
        cr_assert(a.previous);
        cr_assert(a.timestamps);
        cr_assert_eq(a.n_files, 0);
        cr_assert_str_eq(a.pos[0], "web");
        cr_assert_str_eq(a.container, "app");
        cr_assert_eq(a.tail, 20);
        cli_args_done(&a);
}

Test(cli_args, parses_combined_booleans_values_and_durations)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;

        cr_assert_eq(PARSE(&a, &err, "delete", "pods", "-A", "--all", "--wait=false", "--grace-period", "0",
                           "--force", "--timeout=1m30s", "--cascade=orphan"),
                     0);
        cr_assert(a.all_namespaces);
        cr_assert(a.all);
        cr_assert_not(a.wait);
        cr_assert(a.force);
        cr_assert_eq(a.grace_period, 0);
        cr_assert(a.timeout_set);
        cr_assert_eq(a.timeout, 90 * USEC_PER_SEC);
        cr_assert_str_eq(a.cascade, "orphan");
        cli_args_done(&a);
}

Test(cli_args, treats_everything_after_double_dash_as_positional)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;

        cr_assert_eq(PARSE(&a, &err, "get", "--", "-weird"), 0);
        cr_assert_eq(a.n_pos, 1);
        cr_assert_str_eq(a.pos[0], "-weird");
        cli_args_done(&a);
}

Test(cli_args, rejects_unknown_flags_and_missing_values)
{
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL;
        CliArgs a;

        cr_assert_eq(PARSE(&a, &e1, "get", "pods", "--frob"), -EINVAL);
        cr_assert_str_eq(e1, "unknown flag: --frob");
        cr_assert_eq(PARSE(&a, &e2, "get", "pods", "-x"), -EINVAL);
        cr_assert_str_eq(e2, "unknown shorthand flag: 'x' in -x");
        cr_assert_eq(PARSE(&a, &e3, "get", "pods", "-n"), -EINVAL);
        cr_assert_str_eq(e3, "flag needs an argument: 'n' in -n");
        cr_assert_eq(PARSE(&a, &e4, "logs", "web", "--tail=abc"), -EINVAL);
        cr_assert_str_eq(e4, "invalid argument \"abc\" for \"--tail\" flag");
        cr_assert_eq(PARSE(&a, &e5, "get", "pods", "--wait=maybe"), -EINVAL);
        cr_assert_not_null(e5);
}

Test(cli_args, leaves_the_verb_empty_without_arguments)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;

        cr_assert_eq(PARSE(&a, &err, "--help"), 0);
        cr_assert_null(a.verb);
        cr_assert(a.help);
        cr_assert_str_eq(cli_args_namespace(&a), "default");
        cli_args_done(&a);
}
