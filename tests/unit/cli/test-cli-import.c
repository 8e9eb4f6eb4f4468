/* `berth import crontab`: standard input and files, user and system crontabs, the owner
 * (--user, else whoever runs it), all or nothing on stdout unless --skip-invalid, and
 * output that `berth apply` takes. Runs against the real passwd database (root only). */
#include <criterion/criterion.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "cli-internal.h"
#include "json-util.h"

typedef struct Run {
        int status;
        char *out, *err;
} Run;

/* Runs `berth import ARGS...` with input on standard input. */
static Run run_import(const char *input, char **args)
{
        char *argv[32] = {"berth", "import"};
        _cleanup_free_ char *perr = NULL;
        size_t argc = 2, osize, esize;
        Run r = {};
        CliArgs a;
        FILE *in, *out, *err;

        for (; *args; args++)
                argv[argc++] = *args;
        cr_assert_eq(cli_args_parse(&a, (int)argc, argv, &perr), 0, "%s", perr);
        in = fmemopen((void *)input, strlen(input), "r");
        out = open_memstream(&r.out, &osize);
        err = open_memstream(&r.err, &esize);
        cr_assert(in && out && err);
        r.status = cli_verb_import(&a, in, out, err);
        fclose(in);
        fclose(out);
        fclose(err);
        cli_args_done(&a);
        return r;
}

static void run_done(Run *r)
{
        free(r->out);
        free(r->err);
}

#define ARGS(...) ((char *[]){__VA_ARGS__, NULL})

/* The printed CronJobs, parsed and validated as `berth apply -f -` does. */
static size_t applied_count(const char *yaml)
{
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        _cleanup_free_ char *error = NULL;

        cr_assert_eq(manifest_parse("-", yaml, strlen(yaml), &set, &error), 0, "%s", error);
        for (size_t i = 0; i < manifest_set_size(set); i++) {
                _cleanup_json_ cJSON *o =
                    cJSON_Duplicate(manifest_doc_object(manifest_set_get(set, i)), true);
                FieldErrors e;

                field_errors_init(&e);
                cr_assert_eq(manifest_default(o), 0);
                cr_expect_eq(manifest_validate(o, &e), 0, "document %zu is refused", i);
                field_errors_done(&e);
        }
        return manifest_set_size(set);
}

Test(cli_import, prints_cronjobs_for_a_crontab_on_standard_input)
{
        _cleanup_(run_done) Run r = run_import("MAILTO=\"\"\n*/5 * * * * echo hi\n@reboot echo boot\n",
                                               ARGS("crontab", "-", "--user", "root"));

        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_expect(strstr(r.out, "  name: root-1\n"));
        cr_expect(strstr(r.out, "\n---\napiVersion: batch/v1\n"));
        cr_expect(strstr(r.out, "  name: root-2\n"));
        cr_expect(strstr(r.out, "    berth.dev/crontab-source: crontab:2\n"));
        cr_expect(strstr(r.out, "            runAsUser: 0\n"));
        cr_expect_eq(applied_count(r.out), 2);
        cr_expect_str_eq(
            r.err,
            "crontab:3: warning: @reboot runs once per boot of the machine, and also as soon as the "
            "CronJob is created in a boot it has not run in yet (cron would wait for the next boot)\n");
}

Test(cli_import, reads_standard_input_without_a_file)
{
        _cleanup_(run_done) Run r = run_import("0 0 * * * true\n", ARGS("crontab", "--user=root"));

        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_expect_eq(applied_count(r.out), 1);
}

Test(cli_import, prints_nothing_when_a_line_cannot_be_imported)
{
        _cleanup_(run_done) Run r =
            run_import("MAILTO=\"\"\n0 0 * * * ok\n5/10 * * * * bad\n", ARGS("crontab", "--user", "root"));

        cr_expect_eq(r.status, 1);
        cr_expect_str_eq(r.out, "");
        cr_expect_str_eq(
            r.err, "crontab:3: error: bad minute \"5/10\": a step needs a range or '*' before it, as "
                   "in 5-59/...\n"
                   "error: 1 line cannot be imported: nothing printed (--skip-invalid leaves it out)\n");
}

Test(cli_import, skip_invalid_leaves_such_lines_out)
{
        _cleanup_(run_done) Run r = run_import("MAILTO=\"\"\n0 0 * * * ok\n5/10 * * * * bad\n0 1 * * * ok\n",
                                               ARGS("crontab", "--user", "root", "--skip-invalid"));

        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_expect_eq(applied_count(r.out), 2);
        cr_expect(strstr(r.out, "  name: root-3\n"), "the numbers count the line left out");
        cr_expect(strstr(r.err, "note: 1 line left out\n"));
}

Test(cli_import, reads_a_system_crontab_with_its_user_column)
{
        _cleanup_(run_done) Run r =
            run_import("MAILTO=\"\"\n17 * * * * root cd / && run-parts /etc/cron.hourly\n",
                       ARGS("crontab", "--system"));

        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_expect(strstr(r.out, "  name: system-1\n"));
        cr_expect(strstr(r.out, "            - cd / && run-parts /etc/cron.hourly\n"));
        cr_expect_str_eq(r.err, "");
}

Test(cli_import, refuses_user_for_a_system_crontab)
{
        _cleanup_(run_done) Run r = run_import("", ARGS("crontab", "--system", "--user", "root"));

        cr_expect_eq(r.status, 1);
        cr_expect_str_eq(r.err,
                         "error: crontab is a system crontab, whose user column names the users: --user is "
                         "for a user crontab\n");
}

Test(cli_import, reports_an_unknown_user_on_every_line)
{
        _cleanup_(run_done) Run r =
            run_import("0 0 * * * a\n0 1 * * * b\n", ARGS("crontab", "--user", "no-such-user-berth-test"));

        cr_expect_eq(r.status, 1);
        cr_expect_str_eq(r.out, "");
        cr_expect_str_eq(r.err,
                         "crontab:1: error: bad username \"no-such-user-berth-test\": no such user\n"
                         "crontab:2: error: bad username \"no-such-user-berth-test\": no such user\n"
                         "error: 2 lines cannot be imported: nothing printed (--skip-invalid leaves them "
                         "out)\n");
}

Test(cli_import, takes_the_crontab_as_the_invoking_users_without_user)
{
        struct passwd *pw = getpwuid(getuid());
        _cleanup_free_ char *note = NULL;

        cr_assert_not_null(pw);
        cr_assert_geq(
            asprintf_safe(&note,
                          "crontab: note: taken as the crontab of %s, who runs the import (--user names "
                          "another)\n",
                          pw->pw_name),
            0);
        _cleanup_(run_done) Run r = run_import("MAILTO=\"\"\n0 0 * * * a\n", ARGS("crontab"));
        cr_expect_eq(r.status, 0);
        cr_expect_str_eq(r.err, note);
}

Test(cli_import, reads_files_and_names_them_in_reports_and_annotations)
{
        char path[] = "/tmp/berth-test-import-XXXXXX";
        int fd = mkstemp(path);
        _cleanup_free_ char *where = NULL, *report = NULL;

        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, "0 0 * * * a\n", 12), 12);
        close(fd);
        _cleanup_(run_done) Run r = run_import("", ARGS("crontab", path, "--user", "root"));
        unlink(path);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_geq(asprintf_safe(&where, "    berth.dev/crontab-source: %s:1\n", path), 0);
        cr_expect(strstr(r.out, where));
        cr_assert_geq(
            asprintf_safe(&report,
                          "%s:1: note: cron mails what a job prints to the job's user (there is no "
                          "MAILTO); berth keeps it for `berth logs` instead\n",
                          path),
            0);
        cr_expect_str_eq(r.err, report);
}

Test(cli_import, reports_what_it_cannot_read)
{
        _cleanup_(run_done) Run r =
            run_import("", ARGS("crontab", "/nonexistent/berth-crontab", "--user", "root"));

        cr_expect_eq(r.status, 1);
        cr_expect_str_eq(r.err,
                         "error: cannot read /nonexistent/berth-crontab: No such file or directory\n");
}

Test(cli_import, refuses_two_crontabs_with_the_same_names)
{
        _cleanup_(run_done) Run twice = run_import("", ARGS("crontab", "-", "-", "--user", "root"));
        _cleanup_(run_done) Run other = run_import("", ARGS("frob"));

        cr_expect_eq(twice.status, 1);
        cr_expect_str_eq(twice.err,
                         "error: crontab and crontab would both name their CronJobs root-N: import them "
                         "one at a time\n");
        cr_expect_eq(other.status, 1);
        cr_expect_str_eq(other.err,
                         "error: unknown command \"frob\" for \"berth import\" (try \"berth import "
                         "crontab [FILE|-]\")\n");
}

Test(cli_import, says_so_when_there_are_no_jobs)
{
        _cleanup_(run_done) Run r =
            run_import("# nothing\nMAILTO=\"\"\n", ARGS("crontab", "--user", "root"));

        cr_expect_eq(r.status, 0);
        cr_expect_str_eq(r.out, "");
        cr_expect_str_eq(r.err, "note: no jobs to import\n");
}
