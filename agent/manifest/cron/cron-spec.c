/* Parser for CronJob schedules, following robfig/cron v3.0.1 Parser.Parse with the
 * standard options (minute hour dom month dow, descriptors) step by step, with the same
 * error texts, so that berth accepts and rejects exactly what the apiserver does. Two
 * deliberate differences: a TZ= prefix without a following space is an error, not a panic,
 * and "@reboot" is accepted (berth's once-per-boot extension, see cron-spec.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cron-spec.h"
#include "macro.h"
#include "util.h"

typedef struct Bounds {
        uint64_t min, max;
        const char *const *names; /* names[i] means value i (+ names_base), NULL-terminated */
        uint64_t names_base;
} Bounds;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const Bounds bounds_minute = {0, 59, NULL, 0};
static const Bounds bounds_hour = {0, 23, NULL, 0};
static const Bounds bounds_dom = {1, 31, NULL, 0};
static const Bounds bounds_month = {1, 12, month_names, 1};
static const Bounds bounds_dow = {0, 6, dow_names, 0};

_printf_(2, 3) static int fail(char **ret_error, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        int r;

        if (!ret_error)
                return -EINVAL;
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        *ret_error = s;
        return -EINVAL;
}

/* Go's strconv.Quote for what cron specs can hold: escapes quotes, backslashes and control
 * bytes; other bytes pass through. */
static char *go_quote(const char *s, size_t n)
{
        char *out = malloc(n * 4 + 3), *p = out;

        if (!out)
                return NULL;
        *p++ = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                const char *esc = strchr("\a\b\f\n\r\t\v", c);

                if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char)c;
                } else if (c && esc) {
                        *p++ = '\\';
                        *p++ = "abfnrtv"[esc - "\a\b\f\n\r\t\v"];
                } else if (c < 0x20 || c == 0x7f)
                        p += sprintf(p, "\\x%02x", c);
                else
                        *p++ = (char)c;
        }
        *p++ = '"';
        *p = 0;
        return out;
}

static bool is_go_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* strconv.Atoi (64-bit int): optional sign, decimal digits only. Returns 0, -EINVAL
 * (syntax) or -ERANGE. */
static int go_atoi(const char *s, size_t n, int64_t *ret)
{
        uint64_t v = 0, cutoff;
        bool neg = false;
        size_t i = 0;

        if (n > 0 && (s[0] == '+' || s[0] == '-')) {
                neg = s[0] == '-';
                i = 1;
        }
        if (i == n)
                return -EINVAL;
        cutoff = neg ? UINT64_C(1) << 63 : (UINT64_C(1) << 63) - 1;
        for (; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (cutoff - (uint64_t)(s[i] - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

/* robfig mustParseInt: Atoi, then no negatives. */
static int parse_uint(const char *s, size_t n, uint64_t *ret, char **ret_error)
{
        _cleanup_free_ char *q = go_quote(s, n);
        int64_t v;
        int r;

        if (!q)
                return -ENOMEM;
        r = go_atoi(s, n, &v);
        if (r < 0)
                return fail(ret_error, "failed to parse int from %.*s: strconv.Atoi: parsing %s: %s", (int)n,
                            s, q, r == -ERANGE ? "value out of range" : "invalid syntax");
        if (v < 0)
                return fail(ret_error, "negative number (%lld) not allowed: %.*s", (long long)v, (int)n, s);
        *ret = (uint64_t)v;
        return 0;
}

static int parse_int_or_name(const char *s, size_t n, const Bounds *b, uint64_t *ret, char **ret_error)
{
        for (size_t i = 0; b->names && b->names[i]; i++)
                if (strlen(b->names[i]) == n && strncasecmp(s, b->names[i], n) == 0) {
                        *ret = b->names_base + i;
                        return 0;
                }
        return parse_uint(s, n, ret, ret_error);
}

static uint64_t bits_between(uint64_t lo, uint64_t hi, uint64_t step)
{
        uint64_t bits = 0;

        for (uint64_t i = lo; i <= hi; i += step)
                bits |= UINT64_C(1) << i;
        return bits;
}

/* One range of a field: "*", "?", "N", "N-M", each optionally "/step" (robfig getRange). */
static int parse_range(const char *expr, size_t n, const Bounds *b, uint64_t *ret, char **ret_error)
{
        const char *slash = memchr(expr, '/', n), *range_end = slash ? slash : expr + n;
        const char *hyphen = memchr(expr, '-', (size_t)(range_end - expr));
        size_t low_len = (size_t)((hyphen ? hyphen : range_end) - expr);
        uint64_t start, end, step = 1, extra = 0;
        int r;

        if (slash && memchr(slash + 1, '/', (size_t)(expr + n - slash - 1)))
                return fail(ret_error, "too many slashes: %.*s", (int)n, expr);
        if (low_len == 1 && (expr[0] == '*' || expr[0] == '?')) {
                /* Anything after "*-" is ignored, as upstream does. */
                start = b->min;
                end = b->max;
                extra = CRON_STAR_BIT;
        } else {
                r = parse_int_or_name(expr, low_len, b, &start, ret_error);
                if (r < 0)
                        return r;
                if (!hyphen)
                        end = start;
                else if (memchr(hyphen + 1, '-', (size_t)(range_end - hyphen - 1)))
                        return fail(ret_error, "too many hyphens: %.*s", (int)n, expr);
                else {
                        r = parse_int_or_name(hyphen + 1, (size_t)(range_end - hyphen - 1), b, &end,
                                              ret_error);
                        if (r < 0)
                                return r;
                }
        }
        if (slash) {
                r = parse_uint(slash + 1, (size_t)(expr + n - slash - 1), &step, ret_error);
                if (r < 0)
                        return r;
                if (!hyphen) /* "N/step" means "N-max/step" */
                        end = b->max;
                if (step > 1)
                        extra = 0;
        }
        if (start < b->min)
                return fail(ret_error, "beginning of range (%llu) below minimum (%llu): %.*s",
                            (unsigned long long)start, (unsigned long long)b->min, (int)n, expr);
        if (end > b->max)
                return fail(ret_error, "end of range (%llu) above maximum (%llu): %.*s",
                            (unsigned long long)end, (unsigned long long)b->max, (int)n, expr);
        if (start > end)
                return fail(ret_error, "beginning of range (%llu) beyond end of range (%llu): %.*s",
                            (unsigned long long)start, (unsigned long long)end, (int)n, expr);
        if (step == 0)
                return fail(ret_error, "step of range should be a positive number: %.*s", (int)n, expr);
        *ret = bits_between(start, end, step) | extra;
        return 0;
}

/* A comma list of ranges; empty items are dropped, so "," is the empty set (getField). */
static int parse_field(const char *field, size_t n, const Bounds *b, uint64_t *ret, char **ret_error)
{
        uint64_t bits = 0;
        size_t i = 0;

        while (i < n) {
                size_t j = i;
                uint64_t one = 0;
                int r;

                while (j < n && field[j] != ',')
                        j++;
                if (j > i) {
                        r = parse_range(field + i, j - i, b, &one, ret_error);
                        if (r < 0)
                                return r;
                        bits |= one;
                }
                i = j + 1;
        }
        *ret = bits;
        return 0;
}

static uint64_t all_bits(const Bounds *b)
{
        return bits_between(b->min, b->max, 1) | CRON_STAR_BIT;
}

static int parse_descriptor(const char *d, CronSpec *s, char **ret_error)
{
        static const struct {
                const char *name;
                bool dom_first, month_first, dow_first, all_hours;
        } table[] = {
            {"@yearly", true, true, false, false},   {"@annually", true, true, false, false},
            {"@monthly", true, false, false, false}, {"@weekly", false, false, true, false},
            {"@daily", false, false, false, false},  {"@midnight", false, false, false, false},
            {"@hourly", false, false, false, true},
        };
        int64_t nsec;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (!streq(d, table[i].name))
                        continue;
                s->minute = UINT64_C(1) << 0;
                s->hour = table[i].all_hours ? all_bits(&bounds_hour) : UINT64_C(1) << 0;
                s->dom = table[i].dom_first ? UINT64_C(1) << 1 : all_bits(&bounds_dom);
                s->month = table[i].month_first ? UINT64_C(1) << 1 : all_bits(&bounds_month);
                s->dow = table[i].dow_first ? UINT64_C(1) << 0 : all_bits(&bounds_dow);
                return 0;
        }
        if (streq(d, "@reboot")) {
                s->reboot = true;
                return 0;
        }
        if (!startswith(d, "@every "))
                return fail(ret_error, "unrecognized descriptor: %s", d);

        _cleanup_free_ char *err = NULL;
        r = cron_spec_parse_go_duration(d + strlen("@every "), &nsec, &err);
        if (r == -EINVAL)
                return fail(ret_error, "failed to parse duration %s: %s", d, err);
        if (r < 0)
                return r;
        /* robfig Every(): at least one second, rounded down to whole seconds. */
        if (nsec < 1000000000)
                nsec = 1000000000;
        s->every_usec = (uint64_t)(nsec / 1000000000) * CRON_USEC_PER_SEC;
        return 0;
}

/* strings.Fields + normalizeFields + the five getField calls. */
static int parse_fields(const char *spec, CronSpec *s, char **ret_error)
{
        static const Bounds *const bounds[5] = {&bounds_minute, &bounds_hour, &bounds_dom, &bounds_month,
                                                &bounds_dow};
        uint64_t *out[5] = {&s->minute, &s->hour, &s->dom, &s->month, &s->dow};
        const char *start[5] = {};
        size_t len[5] = {}, count = 0;

        for (const char *p = spec; *p;) {
                const char *q = p;

                while (*p && is_go_space(*p))
                        p++;
                if (!*p)
                        break;
                for (q = p; *q && !is_go_space(*q); q++)
                        ;
                if (count < 5) {
                        start[count] = p;
                        len[count] = (size_t)(q - p);
                }
                count++;
                p = q;
        }
        if (count != 5) {
                /* Go prints the []string of fields as "[a b c]". */
                _cleanup_free_ char *list = NULL;
                const char *p = spec;
                size_t n = strlen(spec);

                list = malloc(n + 3);
                if (!list)
                        return -ENOMEM;
                char *w = list;
                *w++ = '[';
                while (*p) {
                        while (*p && is_go_space(*p))
                                p++;
                        while (*p && !is_go_space(*p))
                                *w++ = *p++;
                        while (*p && is_go_space(*p))
                                p++;
                        if (*p)
                                *w++ = ' ';
                }
                *w++ = ']';
                *w = 0;
                return fail(ret_error, "expected exactly 5 fields, found %zu: %s", count, list);
        }
        for (size_t i = 0; i < 5; i++) {
                int r = parse_field(start[i], len[i], bounds[i], out[i], ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cron_spec_parse(const char *spec, CronSpec **ret, char **ret_error)
{
        CronSpec *s = NULL;
        _cleanup_cron_spec_ CronSpec *owned = NULL;
        const char *p = spec;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (isempty(spec))
                return fail(ret_error, "empty spec string");
        owned = s = calloc(1, sizeof(CronSpec));
        if (!s)
                return -ENOMEM;

        if (startswith(spec, "TZ=") || startswith(spec, "CRON_TZ=")) {
                const char *space = strchr(spec, ' '), *eq = strchr(spec, '=');
                _cleanup_free_ char *err = NULL;

                if (!space)
                        return fail(ret_error, "missing schedule after time zone prefix: %s", spec);
                s->location = strndup(eq + 1, (size_t)(space - eq - 1));
                if (!s->location)
                        return -ENOMEM;
                r = cron_spec_check_location(s->location, &err);
                if (r == -EINVAL)
                        return fail(ret_error, "provided bad location %s: %s", s->location, err);
                if (r < 0)
                        return r;
                p = space;
        }

        /* strings.TrimSpace of what follows a prefix; without one, no trimming at all. */
        _cleanup_free_ char *rest = NULL;
        if (p != spec) {
                size_t n;

                while (is_go_space(*p))
                        p++;
                n = strlen(p);
                while (n > 0 && is_go_space(p[n - 1]))
                        n--;
                rest = strndup(p, n);
                if (!rest)
                        return -ENOMEM;
                p = rest;
        }

        r = p[0] == '@' ? parse_descriptor(p, s, ret_error) : parse_fields(p, s, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(owned);
        return 0;
}

CronSpec *cron_spec_free(CronSpec *spec)
{
        if (!spec)
                return NULL;
        free(spec->location);
        free(spec);
        return NULL;
}

/* time.LoadLocation: "" and "UTC" are UTC, "Local" is local time, anything else is a file
 * below one of Go's zoneinfo directories. */
int cron_spec_check_location(const char *name, char **ret_error)
{
        static const char *const dirs[] = {"/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/",
                                           "/usr/lib/locale/TZ/", "/etc/zoneinfo/"};

        if (ret_error)
                *ret_error = NULL;
        if (isempty(name) || streq(name, "UTC") || streq(name, "Local"))
                return 0;
        if (strstr(name, "..") || name[0] == '/' || name[0] == '\\')
                return fail(ret_error, "time: invalid location name");
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *path = strjoin(dirs[i], name, NULL);
                _cleanup_fclose_ FILE *f = NULL;
                struct stat st;
                char magic[4];

                if (!path)
                        return -ENOMEM;
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                f = fopen(path, "re");
                if (f && fread(magic, 1, sizeof(magic), f) == sizeof(magic) && memcmp(magic, "TZif", 4) == 0)
                        return 0;
        }
        return fail(ret_error, "unknown time zone %s", name);
}

static const struct {
        const char *name;
        uint64_t nsec;
} go_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
    {"ms", 1000000},
    {"s", UINT64_C(1000000000)},
    {"m", UINT64_C(60000000000)},
    {"h", UINT64_C(3600000000000)},
};

static int duration_error(char **ret_error, const char *orig, const char *what, const char *unit,
                          size_t unit_len)
{
        _cleanup_free_ char *q = go_quote(orig, strlen(orig));
        _cleanup_free_ char *u = unit ? go_quote(unit, unit_len) : NULL;

        if (!q || (unit && !u))
                return -ENOMEM;
        if (unit)
                return fail(ret_error, "time: unknown unit %s in duration %s", u, q);
        return fail(ret_error, "time: %s %s", what, q);
}

/* One "<int>[.<frac>]<unit>" element; returns its nanoseconds or an error. */
static int duration_element(const char **s, const char *orig, uint64_t *ret, char **ret_error)
{
        const char *p = *s, *u;
        uint64_t v = 0, f = 0, unit = 0;
        double scale = 1;
        bool pre = false, post = false, overflow = false;

        if (!(*p == '.' || (*p >= '0' && *p <= '9')))
                return duration_error(ret_error, orig, "invalid duration", NULL, 0);
        for (; *p >= '0' && *p <= '9'; p++, pre = true) {
                if (v > ((UINT64_C(1) << 63) - (uint64_t)(*p - '0')) / 10)
                        return duration_error(ret_error, orig, "invalid duration", NULL, 0);
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
                /* leadingFraction: digits past what fits are consumed and ignored. */
                for (p++; *p >= '0' && *p <= '9'; p++, post = true) {
                        if (overflow || f > (UINT64_C(1) << 63) / 10) {
                                overflow = true;
                                continue;
                        }
                        f = f * 10 + (uint64_t)(*p - '0');
                        scale *= 10;
                }
        }
        if (!pre && !post)
                return duration_error(ret_error, orig, "invalid duration", NULL, 0);
        for (u = p; *p && *p != '.' && !(*p >= '0' && *p <= '9'); p++)
                ;
        if (p == u)
                return duration_error(ret_error, orig, "missing unit in duration", NULL, 0);
        for (size_t i = 0; i < ELEMENTSOF(go_units); i++)
                if (strlen(go_units[i].name) == (size_t)(p - u) &&
                    strneq(u, go_units[i].name, (size_t)(p - u)))
                        unit = go_units[i].nsec;
        if (unit == 0)
                return duration_error(ret_error, orig, NULL, u, (size_t)(p - u));
        if (v > (UINT64_C(1) << 63) / unit)
                return duration_error(ret_error, orig, "invalid duration", NULL, 0);
        v *= unit;
        if (f > 0) {
                v += (uint64_t)((double)f * ((double)unit / scale));
                if (v > UINT64_C(1) << 63)
                        return duration_error(ret_error, orig, "invalid duration", NULL, 0);
        }
        *ret = v;
        *s = p;
        return 0;
}

int cron_spec_parse_go_duration(const char *s, int64_t *ret_nsec, char **ret_error)
{
        const char *orig = s;
        uint64_t d = 0;
        bool neg = false;

        if (ret_error)
                *ret_error = NULL;
        if (*s == '-' || *s == '+') {
                neg = *s == '-';
                s++;
        }
        if (streq(s, "0")) {
                *ret_nsec = 0;
                return 0;
        }
        if (!*s)
                return duration_error(ret_error, orig, "invalid duration", NULL, 0);
        while (*s) {
                uint64_t v = 0;
                int r = duration_element(&s, orig, &v, ret_error);

                if (r < 0)
                        return r;
                d += v;
                if (d > UINT64_C(1) << 63)
                        return duration_error(ret_error, orig, "invalid duration", NULL, 0);
        }
        if (neg) {
                *ret_nsec = (int64_t)(0 - d);
                return 0;
        }
        if (d > (UINT64_C(1) << 63) - 1)
                return duration_error(ret_error, orig, "invalid duration", NULL, 0);
        *ret_nsec = (int64_t)d;
        return 0;
}
