/* Reading a crontab the way Debian's cron does (Vixie cron 3.0pl1 with Debian's patches:
 * user.c load_user, env.c load_env, entry.c load_entry, do_command.c's '%' handling), line
 * by line: comments and blank lines, environment settings, and job lines with five time
 * fields or an @special, a user column in system crontabs, and the command. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "crontab.h"
#include "util.h"

void crontab_diags_add(CrontabDiags *d, CrontabLevel level, unsigned line, const char *fmt, ...)
{
        CrontabDiag *n;
        va_list ap;
        char *msg;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                d->oom = true;
                return;
        }
        n = reallocarray(d->v, d->n + 1, sizeof(CrontabDiag));
        if (!n) {
                free(msg);
                d->oom = true;
                return;
        }
        d->v = n;
        d->v[d->n++] = (CrontabDiag){level, line, msg};
}

void crontab_diags_done(CrontabDiags *d)
{
        for (size_t i = 0; i < d->n; i++)
                free(d->v[i].message);
        free(d->v);
        *d = (CrontabDiags){};
}

size_t crontab_diags_count(const CrontabDiags *d, CrontabLevel level)
{
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++)
                n += d->v[i].level == level;
        return n;
}

void crontab_diags_print(FILE *out, const CrontabDiags *d, const char *source)
{
        static const char *const words[] = {"note", "warning", "error"};
        unsigned last = 0;

        /* in line order (the file as a whole first), each line's reports as they came */
        for (size_t i = 0; i < d->n; i++)
                last = MAX(last, d->v[i].line);
        for (unsigned line = 0; line <= last; line++)
                for (size_t i = 0; i < d->n; i++) {
                        if (d->v[i].line != line)
                                continue;
                        if (line > 0)
                                fprintf(out, "%s:%u: %s: %s\n", source, line, words[d->v[i].level],
                                        d->v[i].message);
                        else
                                fprintf(out, "%s: %s: %s\n", source, words[d->v[i].level], d->v[i].message);
                }
        if (d->oom)
                fprintf(out, "%s: error: out of memory, reports are missing\n", source);
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

/* ---- environment settings (env.c load_env, the state machine Debian took from 4.1) ---- */

typedef enum EnvState { NAMEI, NAME, EQ1, EQ2, VALUEI, VALUE, FINI, ERROR } EnvState;

/* Returns 1 and the name and value when s is an environment setting, 0 when it is not
 * (cron then reads it as a job line), -ENOMEM. */
static int parse_env(const char *s, char **ret_name, char **ret_value)
{
        size_t n = strlen(s);
        _cleanup_free_ char *name = calloc(1, n + 1), *val = calloc(1, n + 1);
        char quote = 0, *str = name;
        EnvState state = NAMEI;
        const char *c = s;

        if (!name || !val)
                return -ENOMEM;
        while (state != ERROR && *c) {
                switch (state) {
                case NAMEI:
                case VALUEI:
                        if (*c == '\'' || *c == '"')
                                quote = *c++;
                        state++;
                        __attribute__((fallthrough));
                case NAME:
                case VALUE:
                        if (quote) {
                                if (*c == quote) {
                                        state++;
                                        c++;
                                        break;
                                }
                                if (state == NAME && *c == '=') {
                                        state = ERROR;
                                        break;
                                }
                        } else if (state == NAME) {
                                if (isspace((unsigned char)*c)) {
                                        c++;
                                        state++;
                                        break;
                                }
                                if (*c == '=') {
                                        state++;
                                        break;
                                }
                        }
                        /* a quoted value may end at the end of the line, without its quote */
                        if (*c)
                                *str++ = *c++;
                        break;
                case EQ1:
                        if (*c == '=') {
                                state++;
                                str = val;
                                quote = 0;
                        } else if (!isspace((unsigned char)*c))
                                state = ERROR;
                        c++;
                        break;
                case EQ2:
                case FINI:
                        if (isspace((unsigned char)*c))
                                c++;
                        else
                                state++;
                        break;
                case ERROR:
                        break;
                }
        }
        if (state != FINI && !(state == VALUE && !quote))
                return 0;
        /* then what the older parser did, still applied after the new one: trailing blanks
         * go, and one more pair of matching quotes around the value */
        n = strlen(val);
        while (n > 0 && isspace((unsigned char)val[n - 1]))
                val[--n] = 0;
        if (n >= 2 && (val[0] == '\'' || val[0] == '"') && val[n - 1] == val[0]) {
                val[n - 1] = 0;
                memmove(val, val + 1, n - 1);
        }
        *ret_name = TAKE_PTR(name);
        *ret_value = TAKE_PTR(val);
        return 1;
}

/* ---- time fields (entry.c get_list, get_range, get_number) ---- */

typedef struct FieldKind {
        const char *what; /* as cron's error says: "bad minute" */
        int low, high;
        const char *const *names; /* names[i] is value low + i */
} FieldKind;

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                          "Aug", "Sep", "Oct", "Nov", "Dec", NULL};
static const char *const dow_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", NULL};

static const FieldKind field_kinds[CRONTAB_FIELDS] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, dow_names},
};

/* get_number: a run of letters and digits, a name of the field or a number. */
static int get_number(const char *s, size_t *i, const FieldKind *k, bool names, int *ret, char **ret_error)
{
        size_t start = *i, len;
        bool digits = true;

        while (isalnum((unsigned char)s[*i])) {
                digits = digits && isdigit((unsigned char)s[*i]);
                (*i)++;
        }
        len = *i - start;
        if (len == 0)
                return set_errorf(ret_error, -EINVAL, "a number is missing at \"%s\"", s + start);
        for (size_t n = 0; names && k->names && k->names[n]; n++)
                if (strlen(k->names[n]) == len && strncasecmp(k->names[n], s + start, len) == 0) {
                        *ret = k->low + (int)n;
                        return 0;
                }
        if (!digits)
                return set_errorf(ret_error, -EINVAL, "\"%.*s\" is neither a number nor a name", (int)len,
                                  s + start);
        /* atoi; anything longer is out of every range anyway */
        *ret = len > 6 ? 1000000 : atoi(s + start);
        return 0;
}

static int out_of_range(const FieldKind *k, int v, char **ret_error)
{
        return set_errorf(ret_error, -EINVAL, "%d is not within %d-%d", v, k->low, k->high);
}

/* get_range: "*", "N", "N-M", each of the last two ("*" and "N-M") with "/step". */
static int get_range(const char *s, size_t *i, const FieldKind *k, uint64_t *bits, bool *ret_empty,
                     char **ret_error)
{
        int num1, num2, step = 1, r;

        if (s[*i] == '*') {
                num1 = k->low;
                num2 = k->high;
                (*i)++;
        } else {
                r = get_number(s, i, k, true, &num1, ret_error);
                if (r < 0)
                        return r;
                if (s[*i] != '-') {
                        if (s[*i] == '/')
                                return set_errorf(ret_error, -EINVAL,
                                                  "a step needs a range or '*' before it, as in %d-%d/...",
                                                  num1, k->high);
                        if (num1 < k->low || num1 > k->high)
                                return out_of_range(k, num1, ret_error);
                        *bits |= UINT64_C(1) << num1;
                        return 0;
                }
                (*i)++;
                r = get_number(s, i, k, true, &num2, ret_error);
                if (r < 0)
                        return r;
        }
        if (s[*i] == '/') {
                (*i)++;
                r = get_number(s, i, k, false, &step, ret_error);
                if (r < 0)
                        return r;
                if (step <= 0)
                        return set_errorf(ret_error, -EINVAL, "a step must be positive");
        }
        if (num1 < k->low || num1 > k->high)
                return out_of_range(k, num1, ret_error);
        if (num2 < k->low || num2 > k->high)
                return out_of_range(k, num2, ret_error);
        /* cron counts upwards only: a range like 22-2 sets nothing */
        *ret_empty = *ret_empty || num1 > num2;
        for (int v = num1; v <= num2; v += step)
                *bits |= UINT64_C(1) << v;
        return 0;
}

/* get_list: ranges separated by commas; whatever follows the list up to the next blank is
 * skipped (*ret_junk: where that starts, or NULL). Returns 0, or -EINVAL with the reason in
 * *ret_error. */
static int get_list(const char *field, const FieldKind *k, uint64_t *ret_bits, const char **ret_junk,
                    bool *ret_empty_range, char **ret_error)
{
        uint64_t bits = 0;
        size_t i = 0;
        int r;

        for (;;) {
                r = get_range(field, &i, k, &bits, ret_empty_range, ret_error);
                if (r < 0)
                        return r;
                if (field[i] != ',')
                        break;
                i++;
        }
        *ret_junk = field[i] ? field + i : NULL;
        *ret_bits = bits;
        return 0;
}

/* ---- job lines (entry.c load_entry) ---- */

static uint64_t all_bits(int low, int high)
{
        uint64_t b = 0;

        for (int v = low; v <= high; v++)
                b |= UINT64_C(1) << v;
        return b;
}

/* The @specials' times as load_entry sets them. Returns false for an unknown one. */
static bool special_times(const char *word, CrontabTimes *t)
{
        *t = (CrontabTimes){
            .minute = 1, .hour = 1, .dom = all_bits(1, 31), .month = all_bits(1, 12), .dow = all_bits(0, 6)};
        if (streq(word, "reboot"))
                *t = (CrontabTimes){};
        else if (streq(word, "yearly") || streq(word, "annually")) {
                t->dom = UINT64_C(1) << 1;
                t->month = UINT64_C(1) << 1;
                t->dow_star = true;
        } else if (streq(word, "monthly")) {
                t->dom = UINT64_C(1) << 1;
                t->dow_star = true;
        } else if (streq(word, "weekly")) {
                t->dow = 1;
                t->dom_star = true;
        } else if (streq(word, "hourly")) {
                t->hour = all_bits(0, 23);
                t->hour_star = true;
        } else if (!streq(word, "daily") && !streq(word, "midnight"))
                return false;
        return true;
}

/* The next blank-separated word at *p (advanced past it), "" at the end, NULL on OOM. */
static char *next_word(const char **p)
{
        const char *s = *p, *e;
        char *w;

        while (is_blank(*s))
                s++;
        if (!*s)
                return strdup("");
        for (e = s; *e && !is_blank(*e); e++)
                ;
        w = strndup(s, (size_t)(e - s));
        *p = e;
        return w;
}

static int parse_fields(const char **p, unsigned line, CrontabEntry *e, CrontabDiags *d)
{
        CrontabTimes *t = &e->times;
        uint64_t *bits[CRONTAB_FIELDS] = {&t->minute, &t->hour, &t->dom, &t->month, &t->dow};
        bool *stars[CRONTAB_FIELDS] = {&t->minute_star, &t->hour_star, &t->dom_star, NULL, &t->dow_star};

        for (size_t i = 0; i < CRONTAB_FIELDS; i++) {
                _cleanup_free_ char *error = NULL;
                const char *junk = NULL;
                bool empty = false;
                int r;

                e->fields[i] = next_word(p);
                if (!e->fields[i])
                        return -ENOMEM;
                if (!e->fields[i][0]) {
                        crontab_diags_add(d, CRONTAB_ERROR, line,
                                          "bad %s: the line ends after %zu time field%s",
                                          field_kinds[i].what, i, i == 1 ? "" : "s");
                        return -EINVAL;
                }
                if (stars[i])
                        *stars[i] = e->fields[i][0] == '*';
                r = get_list(e->fields[i], &field_kinds[i], bits[i], &junk, &empty, &error);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        crontab_diags_add(d, CRONTAB_ERROR, line, "bad %s \"%s\": %s", field_kinds[i].what,
                                          e->fields[i], error ?: "invalid");
                        return -EINVAL;
                }
                if (empty)
                        crontab_diags_add(d, CRONTAB_WARNING, line,
                                          "%s field \"%s\": cron counts a range upwards only, so a range "
                                          "whose end is before its start (no wrap-around) adds nothing",
                                          field_kinds[i].what, e->fields[i]);
                t->junk[i] = junk != NULL;
                if (junk)
                        crontab_diags_add(d, CRONTAB_WARNING, line,
                                          "%s field \"%s\": cron ignores the \"%s\" after its list",
                                          field_kinds[i].what, e->fields[i], junk);
        }
        /* Sunday is 0 and 7 */
        if (t->dow & (UINT64_C(1) << 7))
                t->dow = (t->dow & ~(UINT64_C(1) << 7)) | 1;
        return 0;
}

/* do_command.c: the command ends at the first unescaped '%'; "\%" and "\\" lose their
 * backslash, other escapes stay. The rest is standard input: '%' is a newline, "\%" a '%',
 * other escapes stay, and a final newline is added unless it ends in one. */
static int split_command(const char *cmd, char **ret_command, char **ret_input)
{
        size_t n = strlen(cmd);
        _cleanup_free_ char *out = malloc(n + 1), *in = NULL;
        const char *input = NULL;
        bool escaped = false, need_newline = false;
        size_t o = 0;

        if (!out)
                return -ENOMEM;
        for (const char *p = cmd; *p; p++) {
                if (escaped) {
                        if (*p == '%' || *p == '\\')
                                out[o - 1] = *p;
                        else
                                out[o++] = *p;
                        escaped = false;
                        continue;
                }
                if (*p == '%') {
                        input = p + 1;
                        break;
                }
                escaped = *p == '\\';
                out[o++] = *p;
        }
        out[o] = 0;
        if (input && *input) {
                in = malloc(strlen(input) * 2 + 2);
                if (!in)
                        return -ENOMEM;
                o = 0;
                escaped = false;
                for (const char *p = input; *p; p++) {
                        char ch = *p;

                        if (escaped) {
                                if (ch != '%')
                                        in[o++] = '\\';
                        } else if (ch == '%')
                                ch = '\n';
                        escaped = ch == '\\';
                        if (!escaped) {
                                in[o++] = ch;
                                need_newline = ch != '\n';
                        }
                }
                if (escaped)
                        in[o++] = '\\';
                if (need_newline)
                        in[o++] = '\n';
                in[o] = 0;
        }
        *ret_command = TAKE_PTR(out);
        *ret_input = TAKE_PTR(in);
        return 0;
}

static void entry_done(CrontabEntry *e)
{
        free(e->text);
        free(e->special);
        for (size_t i = 0; i < CRONTAB_FIELDS; i++)
                free(e->fields[i]);
        free(e->user);
        free(e->command);
        free(e->input);
}

/* load_entry on one line (s starts at its first non-blank). 0, -EINVAL (reported), -ENOMEM. */
static int parse_entry(const char *s, unsigned line, bool system, CrontabEntry *e, CrontabDiags *d)
{
        const char *p = s;
        int r;

        e->line = line;
        e->text = strdup(s);
        if (!e->text)
                return -ENOMEM;
        if (*p == '@') {
                size_t n = strcspn(p, " \t");

                e->special = strndup(p, n);
                if (!e->special)
                        return -ENOMEM;
                if (!special_times(e->special + 1, &e->times)) {
                        crontab_diags_add(
                            d, CRONTAB_ERROR, line,
                            "bad time specifier \"%s\" (cron knows @reboot, @yearly, @annually, "
                            "@monthly, @weekly, @daily, @midnight and @hourly)",
                            e->special);
                        return -EINVAL;
                }
                p += n;
        } else {
                r = parse_fields(&p, line, e, d);
                if (r < 0)
                        return r;
        }
        while (is_blank(*p))
                p++;
        if (system) {
                size_t n = strcspn(p, " \t");

                e->user = strndup(p, n);
                if (!e->user)
                        return -ENOMEM;
                if (n == 0) {
                        crontab_diags_add(d, CRONTAB_ERROR, line,
                                          "bad username: missing (a system crontab names the user after the "
                                          "times)");
                        return -EINVAL;
                }
                p += n;
                /* cron keeps the blanks after the first one; a shell ignores them */
                while (is_blank(*p))
                        p++;
        } else if (*p == '*') {
                crontab_diags_add(d, CRONTAB_ERROR, line,
                                  "bad command: it starts with '*' (more than five time fields?)");
                return -EINVAL;
        }
        if (!*p) {
                crontab_diags_add(d, CRONTAB_ERROR, line, "no command");
                return -EINVAL;
        }
        return split_command(p, &e->command, &e->input);
}

/* ---- the file (user.c load_user) ---- */

static int add_var(Crontab *c, unsigned line, char *name, char *value)
{
        CrontabVar *n = reallocarray(c->vars, c->n_vars + 1, sizeof(CrontabVar));

        if (!n) {
                free(name);
                free(value);
                return -ENOMEM;
        }
        c->vars = n;
        c->vars[c->n_vars++] = (CrontabVar){line, name, value};
        return 0;
}

static int parse_line(Crontab *c, const char *s, unsigned line, CrontabDiags *d)
{
        CrontabEntry e = {.index = (unsigned)c->n_lines + 1, .n_vars = c->n_vars};
        char *name = NULL, *value = NULL;
        int r;

        while (is_blank(*s))
                s++;
        if (!*s || *s == '#')
                return 0;
        r = parse_env(s, &name, &value);
        if (r < 0)
                return r;
        if (r > 0)
                return add_var(c, line, name, value);
        c->n_lines++;
        r = parse_entry(s, line, c->system, &e, d);
        if (r == -EINVAL && memchr(s, '=', strcspn(s, " \t")))
                crontab_diags_add(d, CRONTAB_NOTE, line,
                                  "cron does not take this line for a setting: an empty value needs quotes "
                                  "(NAME=\"\"), and nothing may follow a closing quote");
        if (r >= 0) {
                CrontabEntry *n = reallocarray(c->entries, c->n_entries + 1, sizeof(CrontabEntry));
                if (!n)
                        r = -ENOMEM;
                else {
                        c->entries = n;
                        c->entries[c->n_entries++] = e;
                        return 0;
                }
        }
        entry_done(&e);
        return r == -ENOMEM ? r : 0;
}

bool crontab_cron_d_name_ok(const char *name)
{
        if (isempty(name))
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
                        return false;
        return true;
}

int crontab_parse(const char *data, size_t size, bool system, CrontabDiags *d, Crontab **ret)
{
        _cleanup_(crontab_freep) Crontab *c = calloc(1, sizeof(Crontab));
        bool crlf = false;
        unsigned line = 0;
        int r;

        if (!c)
                return -ENOMEM;
        c->system = system;
        if (memchr(data, 0, size)) {
                crontab_diags_add(d, CRONTAB_ERROR, 0, "the file holds NUL bytes: not a crontab");
                *ret = TAKE_PTR(c);
                return 0;
        }
        for (size_t pos = 0; pos < size;) {
                const char *nl = memchr(data + pos, '\n', size - pos);
                size_t end = nl ? (size_t)(nl - data) : size, len = end - pos;
                _cleanup_free_ char *s = NULL;

                line++;
                if (!nl)
                        crontab_diags_add(
                            d, CRONTAB_WARNING, line,
                            "the last line has no newline: Debian's cron ignores such a crontab "
                            "entirely (imported anyway)");
                if (len > 0 && data[pos + len - 1] == '\r') {
                        len--;
                        crlf = true;
                }
                s = strndup(data + pos, len);
                if (!s)
                        return -ENOMEM;
                r = parse_line(c, s, line, d);
                if (r < 0)
                        return r;
                pos = end + 1;
        }
        if (crlf)
                crontab_diags_add(
                    d, CRONTAB_WARNING, 0,
                    "DOS line ends (CR LF): cron takes each CR as part of its line, berth drops "
                    "them");
        *ret = TAKE_PTR(c);
        return 0;
}

Crontab *crontab_free(Crontab *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_vars; i++) {
                free(c->vars[i].name);
                free(c->vars[i].value);
        }
        free(c->vars);
        for (size_t i = 0; i < c->n_entries; i++)
                entry_done(&c->entries[i]);
        free(c->entries);
        free(c);
        return NULL;
}
