/* cron's times as a Kubernetes schedule with the same times. cron and robfig/cron (which
 * the apiserver and berth use) read most fields alike; where they do not (7 for Sunday,
 * what cron skips after a list, a range written backwards, and which day fields count as
 * '*'), the field is rewritten, and the result is checked by parsing it back with berth's
 * own schedule parser. The day rule itself cannot always be carried over: cron ANDs the two
 * day fields when either starts with '*' ("0 0 *\/2 * sun" is Sundays on odd dates), while
 * robfig ANDs them only when one is a plain '*', which then matches every day. */
#include <string.h>

#include "cron-spec.h"
#include "crontab.h"
#include "util.h"

#define MASK(lo, hi) ((UINT64_C(2) << (hi)) - (UINT64_C(1) << (lo)))
#define DOM_ALL MASK(1, 31)
#define DOW_ALL MASK(0, 6)

static const char *const field_names[CRONTAB_FIELDS] = {"minute", "hour", "day-of-month", "month",
                                                        "day-of-week"};
static const int field_low[CRONTAB_FIELDS] = {0, 0, 1, 1, 0};
static const int field_high[CRONTAB_FIELDS] = {59, 23, 31, 12, 6};

typedef enum DayKind {
        DAYS_NEVER,
        DAYS_ALL,
        DAYS_DOM, /* the day of the month decides */
        DAYS_DOW, /* the day of the week decides */
        DAYS_OR,  /* either */
        DAYS_AND, /* both: robfig cannot say this */
} DayKind;

typedef struct DayRule {
        DayKind kind;
        uint64_t dom, dow;
} DayRule;

/* Which days a pair of day fields selects, in a form where equal rules mean equal days. */
static DayRule day_rule(uint64_t dom, uint64_t dow, bool and_mode)
{
        if (and_mode) {
                if (dom == 0 || dow == 0)
                        return (DayRule){DAYS_NEVER};
                if (dom == DOM_ALL)
                        return dow == DOW_ALL ? (DayRule){DAYS_ALL} : (DayRule){DAYS_DOW, 0, dow};
                if (dow == DOW_ALL)
                        return (DayRule){DAYS_DOM, dom, 0};
                return (DayRule){DAYS_AND, dom, dow};
        }
        if (dom == DOM_ALL || dow == DOW_ALL)
                return (DayRule){DAYS_ALL};
        if (dom == 0 && dow == 0)
                return (DayRule){DAYS_NEVER};
        if (dom == 0)
                return (DayRule){DAYS_DOW, 0, dow};
        if (dow == 0)
                return (DayRule){DAYS_DOM, dom, 0};
        return (DayRule){DAYS_OR, dom, dow};
}

static bool same_rule(const DayRule *a, const DayRule *b)
{
        return a->kind == b->kind && a->dom == b->dom && a->dow == b->dow;
}

/* Is there a date with one of these days of the month in one of these months? */
static bool date_exists(uint64_t dom, uint64_t months)
{
        static const int days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        for (int m = 1; m <= 12; m++)
                if ((months >> m) & 1 && (dom & MASK(1, days[m])))
                        return true;
        return false;
}

/* "1-5,7,9-10": the values as ranges. */
static char *bits_list(uint64_t bits, int low, int high)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        bool first = true;

        if (!f)
                return NULL;
        for (int v = low; v <= high; v++) {
                int end = v;

                if (!((bits >> v) & 1))
                        continue;
                while (end < high && ((bits >> (end + 1)) & 1))
                        end++;
                fprintf(f, first ? "%d" : ",%d", v);
                if (end > v)
                        fprintf(f, end == v + 1 ? ",%d" : "-%d", end);
                first = false;
                v = end;
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Does robfig read schedule as cron reads t (whose days are want)? */
static int same_times(const char *schedule, const CrontabTimes *t, const DayRule *want)
{
        _cleanup_cron_spec_ CronSpec *s = NULL;
        uint64_t m = ~CRON_STAR_BIT;
        DayRule got;
        int r;

        r = cron_spec_parse(schedule, &s, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        got = day_rule(s->dom & m, s->dow & m, ((s->dom | s->dow) & CRON_STAR_BIT) != 0);
        return (s->minute & m) == t->minute && (s->hour & m) == t->hour && (s->month & m) == t->month &&
               same_rule(&got, want);
}

/* The fields written out from what cron read: '*' for a field that matches everything,
 * the day fields as the rule needs them. */
static int canonical_fields(const CrontabTimes *t, const DayRule *rule, char *ret[CRONTAB_FIELDS])
{
        const uint64_t bits[CRONTAB_FIELDS] = {t->minute, t->hour, rule->dom, t->month, rule->dow};
        const bool star[CRONTAB_FIELDS] = {t->minute == MASK(0, 59), t->hour == MASK(0, 23),
                                           rule->kind == DAYS_ALL || rule->kind == DAYS_DOW,
                                           t->month == MASK(1, 12),
                                           rule->kind == DAYS_ALL || rule->kind == DAYS_DOM};

        for (size_t i = 0; i < CRONTAB_FIELDS; i++) {
                ret[i] = star[i] ? strdup("*") : bits_list(bits[i], field_low[i], field_high[i]);
                if (!ret[i])
                        return -ENOMEM;
        }
        return 0;
}

static char *join_fields(char *const f[CRONTAB_FIELDS])
{
        return strjoin(f[0], " ", f[1], " ", f[2], " ", f[3], " ", f[4], NULL);
}

/* The first mix of written and rewritten fields, fewest rewrites first, that robfig reads as
 * cron does. Fields with skipped characters are always rewritten. */
static int choose_fields(const CrontabEntry *e, const DayRule *rule, char **ret)
{
        char *canon[CRONTAB_FIELDS] = {};
        unsigned forced = 0;
        int r = 0;

        for (size_t i = 0; i < CRONTAB_FIELDS; i++)
                if (e->times.junk[i])
                        forced |= 1u << i;
        r = canonical_fields(&e->times, rule, canon);
        for (unsigned n = 0; r >= 0 && n <= CRONTAB_FIELDS; n++)
                for (unsigned mask = 0; r >= 0 && mask < (1u << CRONTAB_FIELDS); mask++) {
                        char *mix[CRONTAB_FIELDS];
                        _cleanup_free_ char *s = NULL;

                        if ((unsigned)__builtin_popcount(mask) != n || (mask & forced) != forced)
                                continue;
                        for (size_t i = 0; i < CRONTAB_FIELDS; i++)
                                mix[i] = mask & (1u << i) ? canon[i] : e->fields[i];
                        s = join_fields(mix);
                        if (!s) {
                                r = -ENOMEM;
                                break;
                        }
                        r = same_times(s, &e->times, rule);
                        if (r > 0) {
                                *ret = TAKE_PTR(s);
                                goto done;
                        }
                }
        if (r >= 0)
                r = -EINVAL; /* cannot happen: the canonical fields always match */
done:
        for (size_t i = 0; i < CRONTAB_FIELDS; i++)
                free(canon[i]);
        return r < 0 ? r : 0;
}

/* A job cron never runs is not imported: it would only fail on berth. */
static int check_runs(const CrontabEntry *e, const DayRule *rule, CrontabDiags *d)
{
        const uint64_t bits[CRONTAB_FIELDS] = {e->times.minute, e->times.hour, 1, e->times.month, 1};

        for (size_t i = 0; i < CRONTAB_FIELDS; i++)
                if (bits[i] == 0) {
                        crontab_diags_add(d, CRONTAB_ERROR, e->line,
                                          "cron never runs this job: its %s field \"%s\" is empty",
                                          field_names[i], e->fields[i]);
                        return -EINVAL;
                }
        if (rule->kind == DAYS_NEVER ||
            (rule->kind == DAYS_DOM && !date_exists(rule->dom, e->times.month))) {
                crontab_diags_add(
                    d, CRONTAB_ERROR, e->line,
                    "cron never runs this job: no date matches the day-of-month \"%s\", month \"%s\" "
                    "and day-of-week \"%s\"",
                    e->fields[2], e->fields[3], e->fields[4]);
                return -EINVAL;
        }
        if (rule->kind == DAYS_AND) {
                crontab_diags_add(d, CRONTAB_ERROR, e->line,
                                  "cron runs this job only on days matching both the day-of-month \"%s\" "
                                  "and the day-of-week "
                                  "\"%s\" (a day field starting with '*' makes cron AND them), which a "
                                  "Kubernetes schedule "
                                  "cannot express: make one of them '*' and test the other in the command",
                                  e->fields[2], e->fields[4]);
                return -EINVAL;
        }
        return 0;
}

int crontab_schedule_translate(const CrontabEntry *e, CrontabDiags *d, CrontabSchedule *ret)
{
        const CrontabTimes *t = &e->times;
        _cleanup_free_ char *written = NULL, *schedule = NULL;
        DayRule rule;
        int r;

        *ret = (CrontabSchedule){};
        if (e->special) {
                /* robfig knows every special of cron's but @reboot, with the same times;
                 * berth knows @reboot */
                ret->schedule = strdup(e->special);
                if (!ret->schedule)
                        return -ENOMEM;
                ret->reboot = streq(e->special, "@reboot");
                ret->fixed_time = !ret->reboot && !t->minute_star && !t->hour_star;
                return 0;
        }
        rule = day_rule(t->dom, t->dow, t->dom_star || t->dow_star);
        r = check_runs(e, &rule, d);
        if (r < 0)
                return r;
        r = choose_fields(e, &rule, &schedule);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                crontab_diags_add(d, CRONTAB_ERROR, e->line, "no Kubernetes schedule has cron's times");
                return r;
        }
        written = join_fields(e->fields);
        if (!written)
                return -ENOMEM;
        if (!streq(written, schedule))
                crontab_diags_add(
                    d, CRONTAB_NOTE, e->line,
                    "schedule \"%s\" is written \"%s\" for Kubernetes' parser, with the same times", written,
                    schedule);
        ret->schedule = TAKE_PTR(schedule);
        ret->fixed_time = !t->minute_star && !t->hour_star;
        return 0;
}

void crontab_schedule_done(CrontabSchedule *s)
{
        free(s->schedule);
        *s = (CrontabSchedule){};
}
