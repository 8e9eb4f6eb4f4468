/* A crontab's jobs as CronJobs (batch/v1) for the host runtime, with cron's meaning: the
 * command as "SHELL -c CMD" in the user's home directory, as the user (runAsUser/runAsGroup
 * looked up now, as cron does when it loads the crontab), with the crontab's environment
 * plus the variables cron sets (SHELL, HOME, PATH, LOGNAME; USER too), standard input from
 * '%' fed through a pipe, no retries (backoffLimit 0), overlapping runs allowed, no catch-up
 * beyond a few minutes, and cron's DST handling for fixed-time jobs. Every CronJob is
 * defaulted and validated as `berth apply` would, so what is printed is accepted. */
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cron-spec.h"
#include "crontab.h"
#include "json-util.h"
#include "manifest.h"
#include "util.h"

#define CONTAINER_NAME "cron"
/* The host runtime records the image and runs host commands; a CRI runtime fails to pull
 * this rather than run the command somewhere else. */
#define CONTAINER_IMAGE "host"
/* cron hands the command's standard input over through a pipe; so does this, with the
 * command run exactly as cron runs it: "$SHELL -c CMD", argv[0] the shell. */
#define STDIN_WRAPPER "printf '%s' \"$1\" | exec \"$0\" -c \"$2\""
#define DST_ANNOTATION "berth.dev/dst"

/* ---- the machine ---- */

void crontab_user_done(CrontabUser *u)
{
        free(u->name);
        free(u->home);
        free(u->groups);
        *u = (CrontabUser){};
}

int crontab_host_user(void *userdata, const char *name, CrontabUser *ret)
{
        long size = sysconf(_SC_GETPW_R_SIZE_MAX);
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ gid_t *groups = NULL;
        struct passwd pw, *found = NULL;
        int r, n = 16;

        buf = malloc(size > 0 ? (size_t)size : 16384);
        if (!buf)
                return -ENOMEM;
        r = getpwnam_r(name, &pw, buf, size > 0 ? (size_t)size : 16384, &found);
        if (r != 0)
                return -r;
        if (!found)
                return -ENOENT;
        for (;;) {
                int want = n;
                gid_t *g = reallocarray(groups, (size_t)n, sizeof(gid_t));

                if (!g)
                        return -ENOMEM;
                groups = g;
                if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &want) >= 0) {
                        n = want;
                        break;
                }
                n = want > n ? want : n * 2;
        }
        *ret = (CrontabUser){
            .name = strdup(pw.pw_name), .home = strdup(pw.pw_dir), .uid = pw.pw_uid, .gid = pw.pw_gid};
        ret->groups = calloc((size_t)n + 1, sizeof(uint32_t));
        if (!ret->name || !ret->home || !ret->groups) {
                crontab_user_done(ret);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++) {
                bool seen = groups[i] == pw.pw_gid;

                for (size_t j = 0; j < ret->n_groups; j++)
                        seen = seen || ret->groups[j] == groups[i];
                if (!seen)
                        ret->groups[ret->n_groups++] = groups[i];
        }
        return 0;
}

bool crontab_host_is_dir(void *userdata, const char *path)
{
        struct stat st;

        return stat(path, &st) >= 0 && S_ISDIR(st.st_mode);
}

/* ---- small pieces ---- */

char *crontab_manifest_prefix(const char *name)
{
        char *s = malloc(CRONTAB_PREFIX_MAX + 1);
        size_t n = 0;

        if (!s)
                return NULL;
        for (const char *p = name ?: ""; *p && n < CRONTAB_PREFIX_MAX; p++) {
                char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;

                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                        s[n++] = c;
                else if (n > 0 && s[n - 1] != '-')
                        s[n++] = '-';
        }
        while (n > 0 && s[n - 1] == '-')
                n--;
        s[n] = 0;
        if (n == 0) {
                free(s);
                return strdup("crontab");
        }
        return s;
}

/* Kubernetes expands "$(NAME)" and "$$" in commands and env values; cron does not. Doubling
 * every '$' of a run of them, and one before '(', keeps the text as cron would run it. */
static char *escape_dollars(const char *s)
{
        char *out = malloc(strlen(s) * 2 + 1), *o = out;

        if (!out)
                return NULL;
        for (const char *p = s; *p; p++) {
                *o++ = *p;
                if (*p == '$' && (p[1] == '$' || p[1] == '(' || (p > s && p[-1] == '$')))
                        *o++ = '$';
        }
        *o = 0;
        return out;
}

/* berth takes variable names of printable ASCII without '=' (Kubernetes' relaxed rule). */
static bool env_name_ok(const char *s)
{
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e)
                        return false;
        return true;
}

static bool is_mail_var(const char *name)
{
        return streq(name, "MAILFROM") || streq(name, "CONTENT_TYPE") ||
               streq(name, "CONTENT_TRANSFER_ENCODING");
}

/* Is zone one berth accepts as spec.timeZone: a zone of the system's database, not "Local"
 * (Kubernetes wants an explicit zone)? 0, -EINVAL with the reason, or -ENOMEM. */
static int check_zone(const char *zone, char **ret_error)
{
        if (strcasecmp(zone, "Local") == 0)
                return set_errorf(ret_error, -EINVAL, "spec.timeZone must name an explicit zone");
        return cron_spec_check_location(zone, ret_error);
}

/* What the settings themselves mean, once per line. Returns whether each CRON_TZ is usable
 * (bad[i] for vars[i]). */
static int report_vars(const Crontab *c, CrontabDiags *d, bool *bad)
{
        for (size_t i = 0; i < c->n_vars; i++) {
                const CrontabVar *v = &c->vars[i];
                _cleanup_free_ char *err = NULL;

                if (!env_name_ok(v->name))
                        crontab_diags_add(
                            d, CRONTAB_WARNING, v->line,
                            "the variable \"%s\" is not passed to the jobs: berth takes names of "
                            "printable ASCII characters only",
                            v->name);
                else if (streq(v->name, "MAILTO") && v->value[0])
                        crontab_diags_add(
                            d, CRONTAB_WARNING, v->line,
                            "MAILTO=%s is not translated: berth mails nothing, it keeps what each "
                            "run prints for `berth logs`",
                            v->value);
                else if (is_mail_var(v->name))
                        crontab_diags_add(
                            d, CRONTAB_NOTE, v->line,
                            "%s only shapes cron's mail, which berth does not send; the jobs still "
                            "get the variable",
                            v->name);
                else if (streq(v->name, "TZ"))
                        crontab_diags_add(d, CRONTAB_NOTE, v->line,
                                          "TZ=%s sets the zone of the commands only: cron schedules in the "
                                          "system's zone, and so do the CronJobs (no spec.timeZone)",
                                          v->value);
                else if (streq(v->name, "CRON_TZ") && v->value[0]) {
                        int r = check_zone(v->value, &err);

                        if (r == -ENOMEM)
                                return r;
                        bad[i] = r < 0;
                        if (bad[i])
                                crontab_diags_add(d, CRONTAB_ERROR, v->line, "CRON_TZ=%s: %s", v->value,
                                                  err ?: "not a time zone");
                        else
                                crontab_diags_add(
                                    d, CRONTAB_NOTE, v->line,
                                    "CRON_TZ=%s becomes spec.timeZone of the jobs below (cronie's "
                                    "meaning; Debian's cron ignores CRON_TZ)",
                                    v->value);
                }
        }
        return 0;
}

/* ---- a job's environment (load_entry: the crontab's settings, then cron's) ---- */

typedef struct Env {
        char **names, **values;
        size_t n;
        size_t cron_tz; /* index+1 into the crontab's vars of the CRON_TZ in force, 0 = none */
} Env;

static void env_done(Env *env)
{
        for (size_t i = 0; i < env->n; i++) {
                free(env->names[i]);
                free(env->values[i]);
        }
        free(env->names);
        free(env->values);
        *env = (Env){};
}

static const char *env_get(const Env *env, const char *name)
{
        for (size_t i = 0; i < env->n; i++)
                if (streq(env->names[i], name))
                        return env->values[i];
        return NULL;
}

/* env_set: a variable set again keeps its place. */
static int env_set(Env *env, const char *name, const char *value)
{
        _cleanup_free_ char *v = strdup(value), *n = NULL;
        char **names, **values;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < env->n; i++)
                if (streq(env->names[i], name)) {
                        free(env->values[i]);
                        env->values[i] = TAKE_PTR(v);
                        return 0;
                }
        n = strdup(name);
        if (!n)
                return -ENOMEM;
        names = reallocarray(env->names, env->n + 1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        env->names = names;
        values = reallocarray(env->values, env->n + 1, sizeof(char *));
        if (!values)
                return -ENOMEM;
        env->values = values;
        env->names[env->n] = TAKE_PTR(n);
        env->values[env->n++] = TAKE_PTR(v);
        return 0;
}

static int job_env(const Crontab *c, const CrontabEntry *e, const CrontabUser *u, Env *env)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < e->n_vars; i++) {
                const CrontabVar *v = &c->vars[i];

                if (!env_name_ok(v->name))
                        continue;
                if (streq(v->name, "CRON_TZ"))
                        env->cron_tz = v->value[0] ? i + 1 : 0;
                r = env_set(env, v->name, v->value);
        }
        if (r >= 0 && !env_get(env, "SHELL"))
                r = env_set(env, "SHELL", CRONTAB_DEFAULT_SHELL);
        if (r >= 0 && !env_get(env, "HOME"))
                r = env_set(env, "HOME", u->home);
        if (r >= 0 && !env_get(env, "PATH"))
                r = env_set(env, "PATH", CRONTAB_DEFAULT_PATH);
        /* LOGNAME is always the job's user; USER too (Debian's cron leaves it unset,
         * cronie and BSD's set it) */
        if (r >= 0)
                r = env_set(env, "LOGNAME", u->name);
        if (r >= 0)
                r = env_set(env, "USER", u->name);
        return r;
}

/* ---- the CronJob ---- */

static int add_string(cJSON *array, const char *s, bool escape)
{
        _cleanup_free_ char *e = escape ? escape_dollars(s) : NULL;
        cJSON *item = cJSON_CreateString(escape ? e : s);

        if (!item || (escape && !e) || !cJSON_AddItemToArray(array, item)) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        return 0;
}

static cJSON *container_command(const CrontabEntry *e, const char *shell)
{
        _cleanup_json_ cJSON *cmd = cJSON_CreateArray();

        if (!cmd)
                return NULL;
        if (e->input) {
                if (add_string(cmd, CRONTAB_DEFAULT_SHELL, false) < 0 || add_string(cmd, "-c", false) < 0 ||
                    add_string(cmd, STDIN_WRAPPER, false) < 0 || add_string(cmd, shell, true) < 0 ||
                    add_string(cmd, e->input, true) < 0 || add_string(cmd, e->command, true) < 0)
                        return NULL;
        } else if (add_string(cmd, shell, true) < 0 || add_string(cmd, "-c", false) < 0 ||
                   add_string(cmd, e->command, true) < 0)
                return NULL;
        return TAKE_PTR(cmd);
}

static cJSON *container_env(const Env *env)
{
        _cleanup_json_ cJSON *list = cJSON_CreateArray();

        if (!list)
                return NULL;
        for (size_t i = 0; i < env->n; i++) {
                _cleanup_free_ char *value = escape_dollars(env->values[i]);
                cJSON *item = cJSON_CreateObject();

                if (!item || !cJSON_AddItemToArray(list, item) || !value ||
                    json_set_string(item, "name", env->names[i]) < 0 ||
                    json_set_string(item, "value", value) < 0)
                        return NULL;
        }
        return TAKE_PTR(list);
}

static cJSON *id_list(const uint32_t *ids, size_t n)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; a && i < n; i++)
                if (!cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]))) {
                        cJSON_Delete(a);
                        return NULL;
                }
        return a;
}

static cJSON *pod_template(const CrontabEntry *e, const CrontabUser *u, const Env *env)
{
        _cleanup_json_ cJSON *tmpl = cJSON_CreateObject();
        cJSON *spec = tmpl ? json_ensure_object(tmpl, "spec") : NULL, *sc, *containers, *c, *csc, *seccomp;

        if (!spec || json_set_string(spec, "restartPolicy", "Never") < 0)
                return NULL;
        sc = json_ensure_object(spec, "securityContext");
        if (!sc || json_set_int(sc, "runAsUser", u->uid) < 0 || json_set_int(sc, "runAsGroup", u->gid) < 0 ||
            (u->n_groups > 0 && json_set(sc, "supplementalGroups", id_list(u->groups, u->n_groups)) < 0))
                return NULL;
        containers = cJSON_CreateArray();
        c = cJSON_CreateObject();
        if (json_set(spec, "containers", containers) < 0 || !c || !cJSON_AddItemToArray(containers, c)) {
                cJSON_Delete(c);
                return NULL;
        }
        if (json_set_string(c, "name", CONTAINER_NAME) < 0 ||
            json_set_string(c, "image", CONTAINER_IMAGE) < 0 ||
            json_set(c, "command", container_command(e, env_get(env, "SHELL"))) < 0 ||
            json_set_string(c, "workingDir", env_get(env, "HOME")) < 0 ||
            json_set(c, "env", container_env(env)) < 0)
                return NULL;
        /* cron's jobs run without no_new_privs (setuid programs work) and unfiltered */
        csc = json_ensure_object(c, "securityContext");
        if (!csc || json_set_bool(csc, "allowPrivilegeEscalation", true) < 0)
                return NULL;
        seccomp = json_ensure_object(csc, "seccompProfile");
        if (!seccomp || json_set_string(seccomp, "type", "Unconfined") < 0)
                return NULL;
        return TAKE_PTR(tmpl);
}

static int set_metadata(cJSON *cj, const CrontabImport *o, const CrontabEntry *e, const CrontabSchedule *s)
{
        _cleanup_free_ char *name = NULL, *where = NULL;
        cJSON *meta = json_ensure_object(cj, "metadata"), *labels, *ann;

        if (!meta || asprintf_safe(&name, "%s-%u", o->prefix, e->index) < 0 ||
            asprintf_safe(&where, "%s:%u", o->source, e->line) < 0 ||
            json_set_string(meta, "name", name) < 0)
                return -ENOMEM;
        labels = json_ensure_object(meta, "labels");
        ann = json_ensure_object(meta, "annotations");
        if (!labels || !ann || json_set_string(labels, CRONTAB_LABEL, o->prefix) < 0 ||
            json_set_string(ann, CRONTAB_ANNOTATION_SOURCE, where) < 0 ||
            json_set_string(ann, CRONTAB_ANNOTATION_ENTRY, e->text) < 0 ||
            (s->fixed_time && json_set_string(ann, DST_ANNOTATION, "cron") < 0))
                return -ENOMEM;
        return 0;
}

static int make_cronjob(const CrontabImport *o, const CrontabEntry *e, const CrontabSchedule *s,
                        const CrontabUser *u, const Env *env, const char *zone, cJSON **ret)
{
        _cleanup_json_ cJSON *cj = cJSON_CreateObject();
        cJSON *spec, *job;

        if (!cj || json_set_string(cj, "apiVersion", "batch/v1") < 0 ||
            json_set_string(cj, "kind", "CronJob") < 0 || set_metadata(cj, o, e, s) < 0)
                return -ENOMEM;
        spec = json_ensure_object(cj, "spec");
        if (!spec || json_set_string(spec, "schedule", s->schedule) < 0 ||
            (zone && !s->reboot && json_set_string(spec, "timeZone", zone) < 0) ||
            json_set_string(spec, "concurrencyPolicy", "Allow") < 0 ||
            (!s->reboot &&
             json_set_int(spec, "startingDeadlineSeconds", CRONTAB_STARTING_DEADLINE_SEC) < 0) ||
            json_set_int(spec, "successfulJobsHistoryLimit", 3) < 0 ||
            json_set_int(spec, "failedJobsHistoryLimit", 1) < 0)
                return -ENOMEM;
        job = json_ensure_object(json_ensure_object(spec, "jobTemplate"), "spec");
        if (!job || json_set_int(job, "backoffLimit", 0) < 0 ||
            json_set(job, "template", pod_template(e, u, env)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(cj);
        return 0;
}

/* As `berth apply` will: defaults, then validation. Returns the number of errors (reported),
 * or -ENOMEM. */
static int check_valid(const cJSON *cj, unsigned line, CrontabDiags *d)
{
        _cleanup_json_ cJSON *copy = cJSON_Duplicate(cj, true);
        FieldErrors errs;
        int r;

        if (!copy || json_set_string(json_ensure_object(copy, "metadata"), "namespace", "default") < 0)
                return -ENOMEM;
        field_errors_init(&errs);
        r = manifest_default(copy);
        if (r >= 0)
                r = manifest_validate(copy, &errs);
        for (size_t i = 0; r > 0 && i < errs.n; i++) {
                _cleanup_free_ char *msg = field_error_format(&errs.items[i]);
                crontab_diags_add(d, CRONTAB_ERROR, line, "berth would refuse the CronJob: %s", msg ?: "?");
        }
        field_errors_done(&errs);
        return r;
}

/* ---- the whole crontab ---- */

typedef struct Build {
        const Crontab *c;
        const CrontabImport *o;
        CrontabDiags *d;
        const bool *bad_tz;
        bool mail_noted;
        char **group_noted; /* users whose supplementary groups were reported */
        size_t n_group_noted;
} Build;

/* Once per file and user, what cron did that berth will not. */
static int report_job(Build *b, const CrontabEntry *e, const CrontabSchedule *s, const CrontabUser *u,
                      const Env *env)
{
        const char *home = env_get(env, "HOME");

        if (!b->mail_noted && !env_get(env, "MAILTO")) {
                b->mail_noted = true;
                crontab_diags_add(
                    b->d, CRONTAB_NOTE, e->line,
                    "cron mails what a job prints to the job's user (there is no MAILTO); berth "
                    "keeps it for `berth logs` instead");
        }
        if (s->reboot)
                crontab_diags_add(
                    b->d, CRONTAB_WARNING, e->line,
                    "@reboot runs once per boot of the machine, and also as soon as the CronJob is "
                    "created in a boot it has not run in yet (cron would wait for the next boot)");
        if (!b->o->host->is_dir(b->o->host->userdata, home))
                crontab_diags_add(
                    b->d, CRONTAB_WARNING, e->line,
                    "HOME %s is not a directory: cron would run the command elsewhere, berth fails "
                    "to start it there",
                    home);
        if (u->n_groups > 0) {
                for (size_t i = 0; i < b->n_group_noted; i++)
                        if (streq(b->group_noted[i], u->name))
                                return 0;
                if (strv_push_copy(&b->group_noted, &b->n_group_noted, u->name) < 0)
                        return -ENOMEM;
                crontab_diags_add(b->d, CRONTAB_WARNING, e->line,
                                  "%s's supplementary groups are in supplementalGroups, which berth's host "
                                  "runtime does not apply yet: the jobs run with group %u only",
                                  u->name, u->gid);
        }
        return 0;
}

static int lookup_user(Build *b, const CrontabEntry *e, CrontabUser *ret)
{
        const char *name = b->c->system ? e->user : b->o->owner;
        int r = b->o->host->user(b->o->host->userdata, name ?: "", ret);

        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                crontab_diags_add(b->d, CRONTAB_ERROR, e->line, "bad username \"%s\": no such user",
                                  name ?: "");
        else if (r < 0)
                crontab_diags_add(b->d, CRONTAB_ERROR, e->line, "cannot look up the user \"%s\": %s",
                                  name ?: "", strerror(-r));
        return r < 0 ? -EINVAL : 0;
}

static int build_entry(Build *b, const CrontabEntry *e, cJSON *docs)
{
        _cleanup_(crontab_user_done) CrontabUser user = {};
        _cleanup_(crontab_schedule_done) CrontabSchedule sched = {};
        _cleanup_(env_done) Env env = {};
        _cleanup_json_ cJSON *cj = NULL;
        const char *zone = NULL;
        int r;

        r = crontab_schedule_translate(e, b->d, &sched);
        if (r >= 0)
                r = lookup_user(b, e, &user);
        if (r >= 0)
                r = job_env(b->c, e, &user, &env);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        if (env.cron_tz > 0) {
                const CrontabVar *v = &b->c->vars[env.cron_tz - 1];

                if (b->bad_tz[env.cron_tz - 1]) {
                        crontab_diags_add(b->d, CRONTAB_ERROR, e->line,
                                          "the CRON_TZ of line %u is not a time zone berth knows", v->line);
                        return 0;
                }
                zone = v->value;
        }
        r = report_job(b, e, &sched, &user, &env);
        if (r >= 0)
                r = make_cronjob(b->o, e, &sched, &user, &env, zone, &cj);
        if (r >= 0)
                r = check_valid(cj, e->line, b->d);
        if (r < 0)
                return r;
        if (r > 0)
                return 0;
        if (!cJSON_AddItemToArray(docs, cj))
                return -ENOMEM;
        TAKE_PTR(cj);
        return 0;
}

int crontab_manifest_build(const Crontab *c, const CrontabImport *o, CrontabDiags *d, cJSON *docs)
{
        _cleanup_free_ bool *bad_tz = calloc(c->n_vars + 1, sizeof(bool));
        Build b = {.c = c, .o = o, .d = d};
        int r;

        if (!bad_tz)
                return -ENOMEM;
        b.bad_tz = bad_tz;
        r = report_vars(c, d, bad_tz);
        for (size_t i = 0; r >= 0 && i < c->n_entries; i++)
                r = build_entry(&b, &c->entries[i], docs);
        for (size_t i = 0; i < b.n_group_noted; i++)
                free(b.group_noted[i]);
        free(b.group_noted);
        return r;
}
