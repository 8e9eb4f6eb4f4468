/* The command line: the verb, positional arguments and kubectl's flags, which may come
 * before or after the verb and its arguments (pflag's rules: --name=value, --name value,
 * -n value, -nvalue, combined short booleans, "--" ends the flags). */
#include <stddef.h>
#include <string.h>

#include "cli-doc.h"
#include "cli-internal.h"

typedef enum FlagType {
        FLAG_BOOL,
        FLAG_STRING,
        FLAG_OPTIONAL, /* string whose value may only come after "=", with a default */
        FLAG_INT,
        FLAG_DURATION,
        FLAG_FILES,
} FlagType;

typedef struct FlagDef {
        const char *name;
        char shorthand;
        FlagType type;
        size_t offset;
        const char *bare; /* FLAG_OPTIONAL: the value of "--flag" alone */
} FlagDef;

#define F(n, s, t, field)                                                                                   \
        {                                                                                                   \
                n, s, t, offsetof(CliArgs, field), NULL                                                     \
        }
static const FlagDef flags[] = {
    F("socket", 0, FLAG_STRING, socket),
    F("namespace", 'n', FLAG_STRING, namespace),
    F("all-namespaces", 'A', FLAG_BOOL, all_namespaces),
    F("selector", 'l', FLAG_STRING, selector),
    F("output", 'o', FLAG_STRING, output),
    F("filename", 'f', FLAG_FILES, files),
    F("recursive", 'R', FLAG_BOOL, recursive),
    {"dry-run", 0, FLAG_OPTIONAL, offsetof(CliArgs, dry_run), "client"},
    F("show-labels", 0, FLAG_BOOL, show_labels),
    F("container", 'c', FLAG_STRING, container),
    F("follow", 0, FLAG_BOOL, follow),
    F("previous", 0, FLAG_BOOL, previous),
    F("timestamps", 0, FLAG_BOOL, timestamps),
    F("tail", 0, FLAG_INT, tail),
    F("grace-period", 0, FLAG_INT, grace_period),
    F("now", 0, FLAG_BOOL, now),
    F("force", 0, FLAG_BOOL, force),
    F("all", 0, FLAG_BOOL, all),
    F("ignore-not-found", 0, FLAG_BOOL, ignore_not_found),
    F("client", 0, FLAG_BOOL, client),
    F("help", 'h', FLAG_BOOL, help),
    F("wait", 0, FLAG_BOOL, wait),
    {"cascade", 0, FLAG_OPTIONAL, offsetof(CliArgs, cascade), "background"},
    F("timeout", 0, FLAG_DURATION, timeout),
    F("for", 0, FLAG_STRING, for_cond),
    F("tz", 0, FLAG_STRING, tz),
    F("from", 0, FLAG_STRING, from),
    F("count", 0, FLAG_INT, count),
    F("user", 0, FLAG_STRING, crontab_user),
    F("system", 0, FLAG_BOOL, system_crontab),
    F("skip-invalid", 0, FLAG_BOOL, skip_invalid),
    F("replicas", 0, FLAG_STRING, replicas),
    F("current-replicas", 0, FLAG_STRING, current_replicas),
    {"watch", 'w', FLAG_OPTIONAL, offsetof(CliArgs, watch), "true"},
};
#undef F

/* For "logs", -f is --follow and -p is --previous (as in kubectl). */
static const FlagDef logs_follow = {"follow", 'f', FLAG_BOOL, offsetof(CliArgs, follow), NULL};
static const FlagDef logs_previous = {"previous", 'p', FLAG_BOOL, offsetof(CliArgs, previous), NULL};
/* For "cron", -n is --count (there is no namespace to choose). */
static const FlagDef cron_count = {"count", 'n', FLAG_INT, offsetof(CliArgs, count), NULL};

static bool is_logs(const char *verb)
{
        return verb && streq(verb, "logs");
}

static const FlagDef *flag_by_name(const char *name, size_t len)
{
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (strlen(flags[i].name) == len && strneq(flags[i].name, name, len))
                        return &flags[i];
        return NULL;
}

static const FlagDef *flag_by_short(char c, const char *verb)
{
        if (is_logs(verb) && c == 'f')
                return &logs_follow;
        if (is_logs(verb) && c == 'p')
                return &logs_previous;
        if (verb && streq(verb, "cron") && c == 'n')
                return &cron_count;
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (flags[i].shorthand && flags[i].shorthand == c)
                        return &flags[i];
        return NULL;
}

static bool takes_value(const FlagDef *f)
{
        return f->type != FLAG_BOOL && f->type != FLAG_OPTIONAL;
}

int cli_parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
        static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(s, yes[i]))
                        return *ret = true, 0;
                if (streq(s, no[i]))
                        return *ret = false, 0;
        }
        return -EINVAL;
}

static int invalid_value(const FlagDef *f, const char *value, char **ret_error)
{
        asprintf_safe(ret_error, "invalid argument \"%s\" for \"--%s\" flag", value, f->name);
        return -EINVAL;
}

/* Stores value (NULL for a bare boolean/optional flag) into the flag's field. */
static int set_flag(CliArgs *a, const FlagDef *f, const char *value, char **ret_error)
{
        char *field = (char *)a + f->offset;

        switch (f->type) {
        case FLAG_BOOL: {
                bool b = true;
                if (value && cli_parse_bool(value, &b) < 0)
                        return invalid_value(f, value, ret_error);
                *(bool *)field = b;
                return 0;
        }
        case FLAG_STRING:
                *(const char **)field = value;
                return 0;
        case FLAG_OPTIONAL:
                *(const char **)field = value ? value : f->bare;
                return 0;
        case FLAG_INT: {
                char *end;
                errno = 0;
                long long v = strtoll(value, &end, 10);
                if (errno != 0 || end == value || *end)
                        return invalid_value(f, value, ret_error);
                *(int64_t *)field = v;
                return 0;
        }
        case FLAG_DURATION:
                if (parse_duration(value, &a->timeout) < 0)
                        return invalid_value(f, value, ret_error);
                a->timeout_set = true;
                return 0;
        case FLAG_FILES: {
                char **n = reallocarray(a->files, a->n_files + 1, sizeof(char *));
                if (!n)
                        return -ENOMEM;
                a->files = n;
                a->files[a->n_files++] = (char *)value;
                return 0;
        }
        }
        return -EINVAL;
}

/* "--name[=value]"; may consume the next argument. */
static int parse_long(CliArgs *a, int argc, char **argv, int *i, char **ret_error)
{
        const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const FlagDef *f = flag_by_name(arg, len);

        if (!f) {
                asprintf_safe(ret_error, "unknown flag: --%.*s", (int)len, arg);
                return -EINVAL;
        }
        if (eq)
                return set_flag(a, f, eq + 1, ret_error);
        if (!takes_value(f))
                return set_flag(a, f, NULL, ret_error);
        if (*i + 1 >= argc) {
                asprintf_safe(ret_error, "flag needs an argument: --%s", f->name);
                return -EINVAL;
        }
        return set_flag(a, f, argv[++*i], ret_error);
}

/* "-n value", "-nvalue", "-n=value", "-Ap" (combined booleans). */
static int parse_short(CliArgs *a, int argc, char **argv, int *i, char **ret_error)
{
        const char *arg = argv[*i];

        for (const char *p = arg + 1; *p; p++) {
                const FlagDef *f = flag_by_short(*p, a->verb);
                if (!f) {
                        asprintf_safe(ret_error, "unknown shorthand flag: '%c' in %s", *p, arg);
                        return -EINVAL;
                }
                if (!takes_value(f)) {
                        const char *v = p[1] == '=' ? p + 2 : NULL;
                        int r = set_flag(a, f, v, ret_error);
                        if (r < 0 || v)
                                return r;
                        continue;
                }
                if (p[1])
                        return set_flag(a, f, p[1] == '=' ? p + 2 : p + 1, ret_error);
                if (*i + 1 >= argc) {
                        asprintf_safe(ret_error, "flag needs an argument: '%c' in %s", *p, arg);
                        return -EINVAL;
                }
                return set_flag(a, f, argv[++*i], ret_error);
        }
        return 0;
}

/* The verb is the first argument that is neither a flag nor a flag's value. */
static int find_verb(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];
                if (streq(s, "--"))
                        return i + 1 < argc ? i + 1 : -1;
                if (s[0] != '-' || !s[1])
                        return i;
                if (s[1] == '-') {
                        const char *eq = strchr(s + 2, '=');
                        const FlagDef *f = flag_by_name(s + 2, strlen(s + 2));
                        if (!eq && f && takes_value(f))
                                i++;
                } else if (!s[2]) {
                        const FlagDef *f = flag_by_short(s[1], NULL);
                        if (f && takes_value(f))
                                i++;
                }
        }
        return -1;
}

static int add_positional(CliArgs *a, char *s)
{
        char **n = reallocarray(a->pos, a->n_pos + 1, sizeof(char *));
        if (!n)
                return -ENOMEM;
        a->pos = n;
        a->pos[a->n_pos++] = s;
        return 0;
}

int cli_args_parse(CliArgs *a, int argc, char **argv, char **ret_error)
{
        int v = find_verb(argc, argv), r;
        bool dashdash = false;

        *a = (CliArgs){.tail = -1, .grace_period = -1, .wait = true, .count = -1};
        *ret_error = NULL;
        if (v > 0)
                a->verb = argv[v];
        for (int i = 1; i < argc; i++) {
                char *s = argv[i];
                if (i == v)
                        continue;
                if (!dashdash && streq(s, "--")) {
                        dashdash = true;
                        continue;
                }
                if (dashdash || s[0] != '-' || !s[1])
                        r = add_positional(a, s);
                else if (s[1] == '-')
                        r = parse_long(a, argc, argv, &i, ret_error);
                else
                        r = parse_short(a, argc, argv, &i, ret_error);
                if (r < 0) {
                        if (r == -ENOMEM && !*ret_error)
                                *ret_error = strdup("out of memory");
                        cli_args_done(a);
                        return -EINVAL;
                }
        }
        return 0;
}

void cli_args_done(CliArgs *a)
{
        free(a->pos);
        free(a->files);
        a->pos = NULL;
        a->files = NULL;
        a->n_pos = a->n_files = 0;
}

const char *cli_args_namespace(const CliArgs *a)
{
        return isempty(a->namespace) ? CLI_DEFAULT_NAMESPACE : a->namespace;
}

bool cli_flag_info(size_t i, const char *verb, CliFlagInfo *ret)
{
        static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const FlagDef *f;

        if (i >= ELEMENTSOF(flags))
                return false;
        f = &flags[i];
        *ret = (CliFlagInfo){
            .name = f->name,
            .value = f->type == FLAG_BOOL       ? CLI_FLAG_VALUE_NONE
                     : f->type == FLAG_OPTIONAL ? CLI_FLAG_VALUE_OPTIONAL
                                                : CLI_FLAG_VALUE_REQUIRED,
            .bare = f->bare,
        };
        /* the letter that means this flag for verb: "logs -f" is --follow, not --filename */
        for (const char *c = letters; *c; c++) {
                const FlagDef *g = flag_by_short(*c, verb);
                if (g && streq(g->name, f->name))
                        ret->shorthand = *c;
        }
        return true;
}
