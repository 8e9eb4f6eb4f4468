/* TimeZone: TZif (v1-v3) parsing and the offset lookups of Go's time package
 * (Location.lookup, tzset for the POSIX footer rule, the time.Date resolution of local
 * wall times), so that schedules evaluate exactly as Kubernetes' Go code would. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tz-internal.h"
#include "util.h"

#define TZ_MAX_FILE_SIZE (1024 * 1024)

static TimeZone *tz_new_utc(const char *name)
{
        TimeZone *tz = calloc(1, sizeof(TimeZone));

        if (!tz)
                return NULL;
        tz->n_ref = 1;
        tz->name = strdup(name);
        if (!tz->name) {
                free(tz);
                return NULL;
        }
        return tz;
}

TimeZone *tz_ref(TimeZone *tz)
{
        if (tz)
                tz->n_ref++;
        return tz;
}

TimeZone *tz_unref(TimeZone *tz)
{
        if (!tz || --tz->n_ref > 0)
                return NULL;
        free(tz->name);
        free(tz->tx_when);
        free(tz->tx_index);
        free(tz->types);
        free(tz);
        return NULL;
}

const char *tz_name(const TimeZone *tz)
{
        return tz ? tz->name : "UTC";
}

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
        return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct Header {
        uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} Header;

static int read_header(const uint8_t *p, size_t left, Header *h, char *ret_version)
{
        if (left < 44 || memcmp(p, "TZif", 4) != 0)
                return -EINVAL;
        *ret_version = (char)p[4];
        h->isutcnt = be32(p + 20);
        h->isstdcnt = be32(p + 24);
        h->leapcnt = be32(p + 28);
        h->timecnt = be32(p + 32);
        h->typecnt = be32(p + 36);
        h->charcnt = be32(p + 40);
        if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > 100000 || h->charcnt > 100000 ||
            h->leapcnt > 100000 || h->isutcnt > 256 || h->isstdcnt > 256)
                return -EINVAL;
        return 0;
}

static size_t data_size(const Header *h, size_t tsize)
{
        return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt + h->leapcnt * (tsize + 4) +
               h->isstdcnt + h->isutcnt;
}

static int parse_types(TimeZone *tz, const Header *h, const uint8_t *types, const uint8_t *chars)
{
        tz->types = calloc(h->typecnt, sizeof(TzType));
        if (!tz->types)
                return -ENOMEM;
        tz->n_types = h->typecnt;
        for (uint32_t i = 0; i < h->typecnt; i++) {
                const uint8_t *t = types + 6 * i;
                uint8_t ai = t[5];
                size_t n = 0;

                tz->types[i].offset = (int32_t)be32(t);
                tz->types[i].isdst = t[4] != 0;
                if (ai >= h->charcnt || t[4] > 1)
                        return -EINVAL;
                while (ai + n < h->charcnt && chars[ai + n] && n < sizeof(tz->types[i].abbr) - 1)
                        n++;
                memcpy(tz->types[i].abbr, chars + ai, n);
        }
        return 0;
}

static int parse_data(TimeZone *tz, const uint8_t *p, size_t size)
{
        Header h;
        char version;
        size_t tsize = 4, off;
        int r;

        r = read_header(p, size, &h, &version);
        if (r < 0)
                return r;
        off = 44;
        if (version >= '2') {
                /* Skip the 32-bit block; the 64-bit one follows with its own header. */
                if (size - off < data_size(&h, 4))
                        return -EINVAL;
                off += data_size(&h, 4);
                r = read_header(p + off, size - off, &h, &version);
                if (r < 0)
                        return r;
                off += 44;
                tsize = 8;
        }
        if (size - off < data_size(&h, tsize))
                return -EINVAL;

        const uint8_t *when = p + off, *idx = when + h.timecnt * tsize, *types = idx + h.timecnt,
                      *chars = types + h.typecnt * 6;
        r = parse_types(tz, &h, types, chars);
        if (r < 0)
                return r;
        tz->tx_when = calloc(h.timecnt + 1, sizeof(int64_t));
        tz->tx_index = calloc(h.timecnt + 1, sizeof(uint8_t));
        if (!tz->tx_when || !tz->tx_index)
                return -ENOMEM;
        for (uint32_t i = 0; i < h.timecnt; i++) {
                tz->tx_when[i] = tsize == 8 ? be64(when + 8 * i) : (int32_t)be32(when + 4 * i);
                tz->tx_index[i] = idx[i];
                if (idx[i] >= h.typecnt || (i > 0 && tz->tx_when[i] <= tz->tx_when[i - 1]))
                        return -EINVAL;
        }
        tz->n_tx = h.timecnt;
        tz->first_type = tz_first_type(tz);
        /* Go: a zone without transitions gets one at the beginning of time. */
        if (tz->n_tx == 0) {
                tz->tx_when[0] = INT64_MIN;
                tz->tx_index[0] = 0;
                tz->n_tx = 1;
        }

        off += data_size(&h, tsize);
        if (tsize == 8 && off < size && p[off] == '\n') {
                const char *footer = (const char *)p + off + 1;
                const char *nl = memchr(footer, '\n', size - off - 1);

                if (nl && (size_t)(nl - footer) < sizeof(tz->footer_text)) {
                        memcpy(tz->footer_text, footer, nl - footer);
                        tz->has_rule = tz_rule_parse(tz->footer_text, &tz->rule) >= 0;
                }
        }
        return 0;
}

int tz_load_file(const char *path, const char *name, TimeZone **ret)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, TZ_MAX_FILE_SIZE, &data, &size);
        if (r < 0)
                return r == -ENOENT || r == -ENOTDIR || r == -EISDIR ? -ENOENT : r;
        if (size < 4 || memcmp(data, "TZif", 4) != 0)
                return -EINVAL;

        TimeZone *tz = tz_new_utc(name);
        if (!tz)
                return -ENOMEM;
        r = parse_data(tz, (const uint8_t *)data, size);
        if (r < 0) {
                tz_unref(tz);
                return r;
        }
        *ret = tz;
        return 0;
}

/* time.LoadLocation's name check: no "..", no leading slash or backslash. */
static bool name_is_valid(const char *name)
{
        if (strstr(name, "..") || name[0] == '/' || name[0] == '\\')
                return false;
        for (const char *c = name; *c; c++)
                if ((unsigned char)*c < 0x20)
                        return false;
        return true;
}

static int load_named(const char *name, const char *as, TimeZone **ret)
{
        const char *dir = getenv("TZDIR");
        _cleanup_free_ char *path = NULL;

        if (!name_is_valid(name))
                return -EINVAL;
        path = strjoin(dir && *dir ? dir : "/usr/share/zoneinfo", "/", name, NULL);
        if (!path)
                return -ENOMEM;
        return tz_load_file(path, as, ret);
}

/* Go's initLocal: $TZ unset = /etc/localtime, "" = UTC, ":x" = x, an absolute path or a
 * zone name; whatever fails to load is UTC. Always named "Local". */
static int load_local(TimeZone **ret)
{
        const char *env = getenv("TZ");
        int r;

        if (!env)
                r = tz_load_file("/etc/localtime", "Local", ret);
        else {
                if (env[0] == ':')
                        env++;
                if (isempty(env) || streq(env, "UTC"))
                        r = -ENOENT;
                else if (env[0] == '/')
                        r = tz_load_file(env, "Local", ret);
                else
                        r = load_named(env, "Local", ret);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret = tz_new_utc("Local");
                if (!*ret)
                        return -ENOMEM;
        }
        return 0;
}

int tz_load(const char *name, TimeZone **ret)
{
        if (isempty(name) || streq(name, "Local"))
                return load_local(ret);
        if (streq(name, "UTC")) {
                *ret = tz_new_utc("UTC");
                return *ret ? 0 : -ENOMEM;
        }
        return load_named(name, name, ret);
}

static bool first_type_used(const TimeZone *tz)
{
        for (unsigned i = 0; i < tz->n_tx; i++)
                if (tz->tx_index[i] == 0)
                        return true;
        return false;
}

/* Go's lookupFirstZone: the type in force before the first transition. */
unsigned tz_first_type(const TimeZone *tz)
{
        if (!first_type_used(tz))
                return 0;
        if (tz->n_tx > 0 && tz->types[tz->tx_index[0]].isdst)
                for (int i = (int)tz->tx_index[0] - 1; i >= 0; i--)
                        if (!tz->types[i].isdst)
                                return (unsigned)i;
        for (unsigned i = 0; i < tz->n_types; i++)
                if (!tz->types[i].isdst)
                        return i;
        return 0;
}

/* Go's Location.lookup. */
void tz_lookup_info(const TimeZone *tz, int64_t t, TzInfo *ret)
{
        if (!tz || tz->n_types == 0) {
                *ret = (TzInfo){.abbr = "UTC", .start = INT64_MIN, .end = INT64_MAX};
                return;
        }
        if (t < tz->tx_when[0]) {
                const TzType *z = &tz->types[tz->first_type];
                *ret = (TzInfo){z->offset, z->isdst, z->abbr, INT64_MIN, tz->tx_when[0]};
                return;
        }

        unsigned lo = 0, hi = tz->n_tx;
        int64_t end = INT64_MAX;
        while (hi - lo > 1) {
                unsigned m = (lo + hi) / 2;
                if (t < tz->tx_when[m]) {
                        end = tz->tx_when[m];
                        hi = m;
                } else
                        lo = m;
        }
        const TzType *z = &tz->types[tz->tx_index[lo]];
        *ret = (TzInfo){z->offset, z->isdst, z->abbr, tz->tx_when[lo], end};
        if (lo == tz->n_tx - 1 && tz->has_rule)
                tz_rule_eval(&tz->rule, tz->tx_when[lo], t, ret);
}

int tz_lookup(const TimeZone *tz, int64_t t, int *ret_offset, int64_t *ret_start, int64_t *ret_end)
{
        TzInfo info;

        tz_lookup_info(tz, t, &info);
        if (ret_offset)
                *ret_offset = info.offset;
        if (ret_start)
                *ret_start = info.start;
        if (ret_end)
                *ret_end = info.end;
        return 0;
}

int64_t tz_date(const TimeZone *tz, int year, int month, int day, int hour, int min, int sec)
{
        /* Only the month needs explicit normalisation: the rest is linear in seconds. */
        int64_t y = year, m = (int64_t)month - 1;
        if (m < 0) {
                int64_t n = (-m - 1) / 12 + 1;
                y -= n;
                m += n * 12;
        }
        y += m / 12;
        m %= 12;

        int64_t wall = tz_days_from_civil(y, (int)m + 1, 1) * 86400 + ((int64_t)day - 1) * 86400 +
                       (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
        TzInfo info;

        /* Read the wall time as UTC, look up that instant's offset; if the corrected
         * instant falls outside that offset's period, use the offset at the corrected
         * instant instead (Go's time.Date, which skips all this for offset 0). */
        tz_lookup_info(tz, wall, &info);
        if (info.offset != 0) {
                int64_t utc = wall - info.offset;
                if (utc < info.start || utc >= info.end)
                        tz_lookup_info(tz, utc, &info);
                wall -= info.offset;
        }
        return wall;
}

void tz_localtime(const TimeZone *tz, int64_t t, struct tm *ret)
{
        TzInfo info;
        int64_t y;
        int m, d;

        tz_lookup_info(tz, t, &info);
        int64_t local = t + info.offset;
        int64_t days = local / 86400 - (local % 86400 < 0);
        int64_t secs = local - days * 86400;

        tz_civil_from_days(days, &y, &m, &d);
        *ret = (struct tm){
            .tm_sec = (int)(secs % 60),
            .tm_min = (int)(secs / 60 % 60),
            .tm_hour = (int)(secs / 3600),
            .tm_mday = d,
            .tm_mon = m - 1,
            .tm_year = (int)(y - 1900),
            .tm_wday = (int)(((days + 4) % 7 + 7) % 7), /* 1970-01-01 was a Thursday */
            .tm_yday = (int)(days - tz_days_from_civil(y, 1, 1)),
            .tm_isdst = info.isdst,
            .tm_gmtoff = info.offset,
            .tm_zone = info.abbr,
        };
}

int tz_format_rfc3339(const TimeZone *tz, int64_t t, char *buf, size_t size)
{
        struct tm tm;
        char zone[48];
        int n;

        tz_localtime(tz, t, &tm);
        /* Go's "Z07:00" writes Z for a zero offset. */
        if (tm.tm_gmtoff == 0)
                strcpy(zone, "Z");
        else {
                long off = labs(tm.tm_gmtoff);
                snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600,
                         off / 60 % 60);
        }
        n = snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d%s", (long long)tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return 0;
}
