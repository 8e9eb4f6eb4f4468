/* `berth cron next SCHEDULE [--tz ZONE] [--from RFC3339] [-n COUNT]`: checks a CronJob
 * schedule as the apiserver does and prints its next activation times, computed like the
 * CronJob controller (robfig/cron Next() in the zone). Needs no agent. */
#include <string.h>

#include "cli-internal.h"
#include "cron-next.h"
#include "cron-spec.h"
#include "tz.h"

/* The apiserver's schedule checks (validateScheduleFormat on create): all errors print. */
static int check_schedule(const char *schedule, CronSpec **ret, FILE *err)
{
        _cleanup_free_ char *msg = NULL;
        int r, bad = 0;

        if (isempty(schedule)) {
                fputs("error: spec.schedule: Required value\n", err);
                return -EINVAL;
        }
        r = cron_spec_parse(schedule, ret, &msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fprintf(err, "error: spec.schedule: Invalid value: \"%s\": %s\n", schedule,
                        msg ?: "invalid");
                bad = 1;
        }
        if (strstr(schedule, "TZ")) {
                fprintf(
                    err,
                    "error: spec.schedule: Invalid value: \"%s\": cannot use TZ or CRON_TZ in schedule, use "
                    "timeZone field instead\n",
                    schedule);
                bad = 1;
        }
        if (bad) {
                *ret = cron_spec_free(*ret);
                return -EINVAL;
        }
        return 0;
}

static int load_zone(const char *name, TimeZone **ret, FILE *err)
{
        _cleanup_free_ char *msg = NULL;
        int r;

        if (!name)
                r = tz_load(NULL, ret);
        else {
                if (streq(name, ""))
                        r = -EINVAL, msg = strdup("timeZone must be nil or non-empty string");
                else
                        r = cron_spec_check_location(name, &msg);
                if (r == -EINVAL) {
                        fprintf(err, "error: spec.timeZone: Invalid value: \"%s\": %s\n", name,
                                msg ?: "unknown time zone");
                        return r;
                }
                if (r >= 0)
                        r = tz_load(name, ret);
        }
        if (r < 0)
                fprintf(err, "error: cannot load time zone %s: %s\n", name ?: "Local", strerror(-r));
        return r;
}

static int parse_from(const CliArgs *a, int64_t now_sec, int64_t *ret, FILE *err)
{
        usec_t u;

        if (!a->from) {
                *ret = now_sec;
                return 0;
        }
        if (parse_rfc3339(a->from, &u) < 0) {
                fprintf(err,
                        "error: invalid argument \"%s\" for \"--from\" flag: want RFC 3339 time, e.g. %s\n",
                        a->from, "2024-01-01T00:00:00Z");
                return -EINVAL;
        }
        *ret = (int64_t)(u / USEC_PER_SEC);
        return 0;
}

static int cron_next_verb(const CliArgs *a, int64_t now_sec, FILE *out, FILE *err)
{
        _cleanup_cron_spec_ CronSpec *spec = NULL;
        _cleanup_tz_ TimeZone *tz = NULL;
        int64_t count = a->count < 0 ? CLI_CRON_DEFAULT_COUNT : a->count, t;

        if (a->n_pos != 2) {
                fprintf(err, "error: exactly one SCHEDULE is required, got %zu\n",
                        a->n_pos > 0 ? a->n_pos - 1 : 0);
                return 1;
        }
        if (count < 1 || count > CLI_CRON_MAX_COUNT) {
                fprintf(err, "error: --count must be between 1 and %d, got %lld\n", CLI_CRON_MAX_COUNT,
                        (long long)count);
                return 1;
        }
        if (check_schedule(a->pos[1], &spec, err) < 0 || load_zone(a->tz, &tz, err) < 0 ||
            parse_from(a, now_sec, &t, err) < 0)
                return 1;
        if (cron_spec_is_reboot(spec)) {
                fputs("at boot: once per boot of the machine, never on a timer\n", out);
                return 0;
        }

        for (int64_t i = 0; i < count; i++) {
                char buf[64];

                t = cron_next(spec, tz, t);
                if (t == 0) {
                        fprintf(err, "%s: no%s activation within the next five years\n", a->pos[1],
                                i > 0 ? " further" : "");
                        break;
                }
                if (tz_format_rfc3339(tz, t, buf, sizeof(buf)) < 0)
                        return 1;
                fprintf(out, "%s\n", buf);
        }
        return 0;
}

int cli_verb_cron(const CliArgs *a, int64_t now_sec, FILE *out, FILE *err)
{
        if (a->n_pos < 1 || !streq(a->pos[0], "next")) {
                fprintf(
                    err,
                    "error: unknown command \"%s\" for \"berth cron\" (try \"berth cron next SCHEDULE\")\n",
                    a->n_pos > 0 ? a->pos[0] : "");
                return 1;
        }
        return cron_next_verb(a, now_sec, out, err);
}
