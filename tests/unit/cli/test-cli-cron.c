/* `berth cron next`: validation messages as the apiserver prints them, activation times
 * in the requested zone, --from/--count handling. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli-internal.h"

typedef struct Run {
        int status;
        char *out, *err;
} Run;

/* Runs `berth cron ARGS...` with the clock at now_sec, capturing the output. */
static void run_cron(Run *r, int64_t now_sec, char **args)
{
        char *argv[32] = {"berth", "cron"};
        _cleanup_free_ char *perr = NULL;
        size_t argc = 2, osize, esize;
        CliArgs a;

        for (; *args; args++)
                argv[argc++] = *args;
        cr_assert_eq(cli_args_parse(&a, (int)argc, argv, &perr), 0, "%s", perr);
        FILE *out = open_memstream(&r->out, &osize), *err = open_memstream(&r->err, &esize);
        cr_assert(out && err);
        r->status = cli_verb_cron(&a, now_sec, out, err);
        fclose(out);
        fclose(err);
        cli_args_done(&a);
}

static void expect(int64_t now_sec, char **args, int status, const char *out, const char *err)
{
        Run r;

        run_cron(&r, now_sec, args);
        cr_expect_eq(r.status, status, "%s", r.err);
        if (out)
                cr_expect_str_eq(r.out, out);
        if (err)
                cr_expect_str_eq(r.err, err);
        free(r.out);
        free(r.err);
}

#define ARGS(...) ((char *[]){__VA_ARGS__, NULL})

Test(cli_cron, prints_times_in_the_zone_skipping_the_missing_hour)
{
        expect(0,
               ARGS("next", "0 2 * * *", "--tz", "America/New_York", "--from", "2012-03-11T00:00:00-05:00",
                    "-n", "2"),
               0, "2012-03-12T02:00:00-04:00\n2012-03-13T02:00:00-04:00\n", "");
}

Test(cli_cron, prints_the_doubled_hour_twice_when_clocks_fall_back)
{
        expect(0,
               ARGS("next", "0 1 * * *", "--tz=America/New_York", "--from=2012-11-04T00:00:00-04:00",
                    "--count=3"),
               0, "2012-11-04T01:00:00-04:00\n2012-11-04T01:00:00-05:00\n2012-11-05T01:00:00-05:00\n", "");
}

Test(cli_cron, starts_from_now_by_default_and_prints_one_time)
{
        setenv("TZ", "UTC", 1);
        /* 2024-01-01T00:00:30Z */
        expect(1704067230, ARGS("next", "*/15 * * * *"), 0, "2024-01-01T00:15:00Z\n", "");
        unsetenv("TZ");
}

Test(cli_cron, reboot_runs_at_boot)
{
        expect(0, ARGS("next", "@reboot"), 0, "at boot: once per boot of the machine, never on a timer\n",
               "");
}

Test(cli_cron, notes_on_stderr_when_no_time_exists)
{
        expect(0, ARGS("next", "0 0 30 Feb *", "--tz", "UTC", "--from", "2024-01-01T00:00:00Z"), 0, "",
               "0 0 30 Feb *: no activation within the next five years\n");
        expect(0, ARGS("next", "0 0 29 Feb *", "--tz", "UTC", "--from", "2095-01-01T00:00:00Z", "-n", "5"),
               0, "2096-02-29T00:00:00Z\n",
               "0 0 29 Feb *: no further activation within the next five years\n");
}

Test(cli_cron, rejects_invalid_schedules_with_the_apiservers_message)
{
        expect(
            0, ARGS("next", "0 0 * * 7"), 1, "",
            "error: spec.schedule: Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7\n");
        expect(0, ARGS("next", ""), 1, "", "error: spec.schedule: Required value\n");
        expect(0, ARGS("next", "CRON_TZ=UTC 0 0 * * *"), 1, "",
               "error: spec.schedule: Invalid value: \"CRON_TZ=UTC 0 0 * * *\": cannot use TZ or CRON_TZ in "
               "schedule, use timeZone field instead\n");
}

Test(cli_cron, rejects_unknown_zones)
{
        expect(0, ARGS("next", "@daily", "--tz", "Mars/Base"), 1, "",
               "error: spec.timeZone: Invalid value: \"Mars/Base\": unknown time zone Mars/Base\n");
}

Test(cli_cron, checks_its_arguments)
{
        expect(0, ARGS("next"), 1, "", "error: exactly one SCHEDULE is required, got 0\n");
        expect(0, ARGS("next", "@daily", "-n", "0"), 1, "",
               "error: --count must be between 1 and 1000, got 0\n");
        expect(0, ARGS("next", "@daily", "-n", "1001"), 1, "", NULL);
        expect(0, ARGS("next", "@daily", "--from", "yesterday"), 1, "", NULL);
        expect(0, ARGS("prev", "@daily"), 1, "", NULL);
}

Test(cli_cron, adds_every_delays_without_calendar)
{
        expect(0, ARGS("next", "@every 90m", "--tz", "UTC", "--from", "2024-01-01T00:00:00Z", "-n", "2"), 0,
               "2024-01-01T01:30:00Z\n2024-01-01T03:00:00Z\n", "");
}
