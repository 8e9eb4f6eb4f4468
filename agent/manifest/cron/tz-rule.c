/* The POSIX TZ string that ends a v2+ TZif file ("EST5EDT,M3.2.0,M11.1.0"): parsed and
 * evaluated exactly like Go's tzset, which decides offsets after the last transition, and
 * the proleptic Gregorian calendar arithmetic the zone code shares. */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "tz-internal.h"

#define SEC_PER_DAY 86400

bool tz_is_leap(int64_t y)
{
        return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Days since 1970-01-01 of y-m-d, m 1..12, d any (Howard Hinnant's days_from_civil). */
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int d = (int)(doy - (153 * mp + 2) / 5 + 1);
        int m = (int)(mp < 10 ? mp + 3 : mp - 9);

        *ret_y = yoe + era * 400 + (m <= 2);
        *ret_m = m;
        *ret_d = d;
}

static const char *parse_num(const char *s, int min, int max, int *ret)
{
        int v = 0;

        if (*s < '0' || *s > '9')
                return NULL;
        for (; *s >= '0' && *s <= '9'; s++) {
                v = v * 10 + (*s - '0');
                if (v > max)
                        return NULL;
        }
        if (v < min)
                return NULL;
        *ret = v;
        return s;
}

static const char *parse_name(const char *s, char *buf, size_t size)
{
        size_t n;

        if (*s == '<') {
                const char *e = strchr(s, '>');
                if (!e)
                        return NULL;
                n = e - s - 1;
                if (n >= size)
                        return NULL;
                memcpy(buf, s + 1, n);
                buf[n] = 0;
                return e + 1;
        }
        n = strcspn(s, "0123456789,-+");
        if (n < 3 || n >= size)
                return NULL;
        memcpy(buf, s, n);
        buf[n] = 0;
        return s + n;
}

/* [+-]hh[:mm[:ss]], hours up to 24*7 as tzcode allows. */
static const char *parse_offset(const char *s, int *ret)
{
        bool neg = false;
        int h, m = 0, sec = 0;

        if (*s == '+' || *s == '-')
                neg = *s++ == '-';
        s = parse_num(s, 0, 24 * 7, &h);
        if (s && *s == ':') {
                s = parse_num(s + 1, 0, 59, &m);
                if (s && *s == ':')
                        s = parse_num(s + 1, 0, 59, &sec);
        }
        if (!s)
                return NULL;
        *ret = (neg ? -1 : 1) * (h * 3600 + m * 60 + sec);
        return s;
}

static const char *parse_date(const char *s, TzRuleDate *r)
{
        *r = (TzRuleDate){.time = 2 * 3600};
        if (*s == 'J') {
                r->kind = TZ_RULE_JULIAN;
                s = parse_num(s + 1, 1, 365, &r->day);
        } else if (*s == 'M') {
                r->kind = TZ_RULE_MONTH_WEEK_DAY;
                s = parse_num(s + 1, 1, 12, &r->mon);
                if (s && *s == '.')
                        s = parse_num(s + 1, 1, 5, &r->week);
                else
                        s = NULL;
                if (s && *s == '.')
                        s = parse_num(s + 1, 0, 6, &r->day);
                else
                        s = NULL;
        } else {
                r->kind = TZ_RULE_DOY;
                s = parse_num(s, 0, 365, &r->day);
        }
        if (s && *s == '/')
                s = parse_offset(s + 1, &r->time);
        return s;
}

int tz_rule_parse(const char *s, TzRule *ret)
{
        TzRule r = {};

        s = parse_name(s, r.std_name, sizeof(r.std_name));
        if (s)
                s = parse_offset(s, &r.std_offset);
        if (!s)
                return -EINVAL;
        /* POSIX offsets are west of UTC; ours are east. */
        r.std_offset = -r.std_offset;
        if (*s == 0 || *s == ',') {
                *ret = r;
                return 0;
        }
        s = parse_name(s, r.dst_name, sizeof(r.dst_name));
        if (!s)
                return -EINVAL;
        r.has_dst = true;
        if (*s == 0 || *s == ',' || *s == ';')
                r.dst_offset = r.std_offset + 3600;
        else {
                s = parse_offset(s, &r.dst_offset);
                if (!s)
                        return -EINVAL;
                r.dst_offset = -r.dst_offset;
        }
        if (*s == 0)
                s = ",M3.2.0,M11.1.0"; /* tzcode's default rules */
        if (*s != ',' && *s != ';')
                return -EINVAL;
        s = parse_date(s + 1, &r.start);
        if (!s || *s != ',')
                return -EINVAL;
        s = parse_date(s + 1, &r.end);
        if (!s || *s != 0)
                return -EINVAL;
        *ret = r;
        return 0;
}

static const int days_before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

static int days_in(int mon, int64_t year)
{
        return days_before[mon] - days_before[mon - 1] + (mon == 2 && tz_is_leap(year));
}

/* Go's tzruleTime: seconds since the start of the year (UTC) when the rule fires. */
static int64_t rule_time(int64_t year, const TzRuleDate *r, int off)
{
        int64_t s = 0;

        switch (r->kind) {
        case TZ_RULE_JULIAN:
                s = (int64_t)(r->day - 1) * SEC_PER_DAY;
                if (tz_is_leap(year) && r->day >= 60)
                        s += SEC_PER_DAY;
                break;
        case TZ_RULE_DOY:
                s = (int64_t)r->day * SEC_PER_DAY;
                break;
        case TZ_RULE_MONTH_WEEK_DAY: {
                /* Zeller's congruence: weekday of the first of the month. */
                int64_t m1 = (r->mon + 9) % 12 + 1, yy0 = year - (r->mon <= 2);
                int64_t yy1 = yy0 / 100, yy2 = yy0 % 100;
                int64_t dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
                if (dow < 0)
                        dow += 7;
                int64_t d = r->day - dow;
                if (d < 0)
                        d += 7;
                for (int i = 1; i < r->week; i++) {
                        if (d + 7 >= days_in(r->mon, year))
                                break;
                        d += 7;
                }
                d += days_before[r->mon - 1];
                if (tz_is_leap(year) && r->mon > 2)
                        d++;
                s = d * SEC_PER_DAY;
                break;
        }
        }
        return s + r->time - off;
}

void tz_rule_eval(const TzRule *rule, int64_t last_tx, int64_t sec, TzInfo *ret)
{
        if (!rule->has_dst) {
                *ret = (TzInfo){
                    .offset = rule->std_offset, .abbr = rule->std_name, .start = last_tx, .end = INT64_MAX};
                return;
        }

        int64_t days = sec / SEC_PER_DAY - (sec % SEC_PER_DAY < 0), year;
        int m, d;
        tz_civil_from_days(days, &year, &m, &d);
        int64_t year_start = tz_days_from_civil(year, 1, 1) * SEC_PER_DAY;
        /* Go: yday*secondsPerDay + sec%secondsPerDay (truncating remainder). */
        int64_t ysec = (days - year_start / SEC_PER_DAY) * SEC_PER_DAY + sec % SEC_PER_DAY;
        int64_t start = rule_time(year, &rule->start, rule->std_offset);
        int64_t end = rule_time(year, &rule->end, rule->dst_offset);
        const char *std_name = rule->std_name, *dst_name = rule->dst_name;
        int std_off = rule->std_offset, dst_off = rule->dst_offset;
        bool std_isdst = false, dst_isdst = true;

        /* Southern hemisphere: the labels stay, the roles swap (as Go does). */
        if (end < start) {
                int64_t t = start;
                start = end;
                end = t;
                const char *n = std_name;
                std_name = dst_name;
                dst_name = n;
                int o = std_off;
                std_off = dst_off;
                dst_off = o;
                std_isdst = true;
                dst_isdst = false;
        }
        if (ysec < start)
                *ret = (TzInfo){std_off, std_isdst, std_name, year_start, start + year_start};
        else if (ysec >= end)
                *ret =
                    (TzInfo){std_off, std_isdst, std_name, end + year_start, year_start + 365 * SEC_PER_DAY};
        else
                *ret = (TzInfo){dst_off, dst_isdst, dst_name, start + year_start, end + year_start};
}
