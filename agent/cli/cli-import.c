/* `berth import crontab [FILE|-]... [--user USER] [--system] [--skip-invalid]`: prints the
 * CronJobs that replace a crontab's jobs (YAML, "---" between them) for `berth apply -f -`
 * or the manifests directory. Needs no agent. Reports go to stderr as "FILE:LINE: ...";
 * a line that cannot be imported fails the whole import (nothing printed, exit 1) unless
 * --skip-invalid, which leaves it out.
 *
 * A file is a system crontab, with a user column after the times, when it is /etc/crontab
 * or in /etc/cron.d (as cron reads them), or with --system; otherwise it is a user crontab
 * as `crontab -l` prints it, owned by --user, by the name of its file in cron's spool
 * (/var/spool/cron/crontabs/NAME), or else by whoever runs the import. */
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "cli-internal.h"
#include "crontab.h"
#include "json-util.h"

#define IMPORT_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define SYSTEM_CRONTAB "/etc/crontab"
#define SYSTEM_CRON_DIR "/etc/cron.d/"
#define SPOOL_DIR "/var/spool/cron/crontabs/"
#define STDIN_SOURCE "crontab"

typedef struct Source {
        const char *path; /* "-" for stdin */
        const char *name; /* in reports and annotations */
        bool system;
        bool ignored; /* a file of /etc/cron.d that cron does not read */
        char *owner;  /* user crontabs */
        char *prefix;
        char *data;
        size_t size;
} Source;

static void source_done(Source *s)
{
        free(s->owner);
        free(s->prefix);
        free(s->data);
}

static int read_stream(FILE *f, char **ret, size_t *ret_size)
{
        char *buf = NULL;
        size_t size = 0, n;
        FILE *m = open_memstream(&buf, &size);
        char chunk[4096];

        if (!m)
                return -ENOMEM;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && size + n <= IMPORT_MAX_BYTES)
                fwrite(chunk, 1, n, m);
        if (fclose(m) != 0) {
                free(buf);
                return -ENOMEM;
        }
        if (ferror(f) || n > 0) {
                free(buf);
                return ferror(f) ? -EIO : -EFBIG;
        }
        *ret = buf;
        *ret_size = size;
        return 0;
}

/* As cron finds them: /etc/crontab, and the files of /etc/cron.d (*ret_cron_d). */
static bool is_system_path(const char *path, bool *ret_cron_d)
{
        char real[PATH_MAX];
        const char *p = realpath(path, real) ? real : path;

        *ret_cron_d = startswith(p, SYSTEM_CRON_DIR) && !strchr(p + strlen(SYSTEM_CRON_DIR), '/');
        return streq(p, SYSTEM_CRONTAB) || *ret_cron_d;
}

static int invoking_user(char **ret)
{
        struct passwd *pw = getpwuid(getuid());

        if (!pw)
                return -ENOENT;
        *ret = strdup(pw->pw_name);
        return *ret ? 0 : -ENOMEM;
}

/* Whose crontab it is, and what its CronJobs are called. Returns 0, or 1 after printing. */
static int source_identify(Source *s, const CliArgs *a, FILE *err)
{
        const char *base = strrchr(s->path, '/') ? strrchr(s->path, '/') + 1 : s->path;
        bool cron_d = false;
        int r;

        s->name = streq(s->path, "-") ? STDIN_SOURCE : s->path;
        s->system = (!streq(s->path, "-") && is_system_path(s->path, &cron_d)) || a->system_crontab;
        s->ignored = cron_d && !crontab_cron_d_name_ok(base);
        if (s->system) {
                if (a->crontab_user) {
                        fprintf(err,
                                "error: %s is a system crontab, whose user column names the users: --user "
                                "is for a user crontab\n",
                                s->name);
                        return 1;
                }
                s->prefix = crontab_manifest_prefix(streq(s->path, "-") ? "system" : base);
                return s->prefix ? 0 : -ENOMEM;
        }
        if (a->crontab_user)
                s->owner = strdup(a->crontab_user);
        else if (startswith(s->path, SPOOL_DIR))
                s->owner = strdup(base);
        else {
                r = invoking_user(&s->owner);
                if (r == -ENOENT) {
                        fprintf(err, "error: %s: whose crontab is it? Name its owner with --user\n",
                                s->name);
                        return 1;
                }
                if (r < 0)
                        return r;
                fprintf(err,
                        "%s: note: taken as the crontab of %s, who runs the import (--user names another)\n",
                        s->name, s->owner);
        }
        if (!s->owner)
                return -ENOMEM;
        s->prefix = crontab_manifest_prefix(s->owner);
        return s->prefix ? 0 : -ENOMEM;
}

static int source_read(Source *s, FILE *in, FILE *err)
{
        FILE *f = streq(s->path, "-") ? in : fopen(s->path, "re");
        int r;

        if (!f) {
                fprintf(err, "error: cannot read %s: %s\n", s->name, strerror(errno));
                return 1;
        }
        r = read_stream(f, &s->data, &s->size);
        if (f != in)
                fclose(f);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                fprintf(err, "error: cannot read %s: %s\n", s->name,
                        r == -EFBIG ? "larger than any crontab (4 MiB)" : strerror(-r));
                return 1;
        }
        return 0;
}

/* Reads, reports and translates one file; *ret_errors counts its lines that failed. */
static int import_one(Source *s, const CliArgs *a, FILE *in, FILE *err, cJSON *docs, size_t *ret_errors)
{
        const CrontabHost host = {.user = crontab_host_user, .is_dir = crontab_host_is_dir};
        _cleanup_(crontab_freep) Crontab *c = NULL;
        CrontabDiags d = {};
        int r;

        if (s->ignored) {
                fprintf(
                    err,
                    "%s: warning: cron does not read this file (its name is not only letters, digits, '_' "
                    "and '-'): nothing imported\n",
                    s->name);
                return 0;
        }
        r = source_read(s, in, err);
        if (r != 0)
                return r;
        r = crontab_parse(s->data, s->size, s->system, &d, &c);
        if (r >= 0) {
                CrontabImport o = {.source = s->name, .prefix = s->prefix, .owner = s->owner, .host = &host};
                r = crontab_manifest_build(c, &o, &d, docs);
        }
        if (r >= 0) {
                crontab_diags_print(err, &d, s->name);
                *ret_errors += crontab_diags_count(&d, CRONTAB_ERROR) + (d.oom ? 1 : 0);
        }
        crontab_diags_done(&d);
        return r;
}

static int check_sources(const Source *s, size_t n, FILE *err)
{
        size_t stdin_count = 0;

        for (size_t i = 0; i < n; i++) {
                stdin_count += streq(s[i].path, "-");
                for (size_t j = 0; j < i; j++)
                        if (streq(s[i].prefix, s[j].prefix)) {
                                fprintf(
                                    err,
                                    "error: %s and %s would both name their CronJobs %s-N: import them one "
                                    "at a time\n",
                                    s[j].name, s[i].name, s[i].prefix);
                                return 1;
                        }
        }
        if (stdin_count > 1) {
                fputs("error: standard input (-) can be read once only\n", err);
                return 1;
        }
        return 0;
}

static int import_all(Source *srcs, size_t n, const CliArgs *a, FILE *in, FILE *out, FILE *err)
{
        _cleanup_json_ cJSON *docs = cJSON_CreateArray();
        size_t errors = 0;
        const cJSON *doc;
        int r = 0;

        if (!docs)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = source_identify(&srcs[i], a, err);
        if (r == 0)
                r = check_sources(srcs, n, err);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = import_one(&srcs[i], a, in, err, docs, &errors);
        if (r != 0)
                return r;
        if (errors > 0 && !a->skip_invalid) {
                fprintf(
                    err,
                    "error: %zu line%s cannot be imported: nothing printed (--skip-invalid leaves %s out)\n",
                    errors, errors == 1 ? "" : "s", errors == 1 ? "it" : "them");
                return 1;
        }
        cJSON_ArrayForEach (doc, docs) {
                if (doc != docs->child)
                        fputs("---\n", out);
                cli_yaml_print(out, doc);
        }
        if (errors > 0)
                fprintf(err, "note: %zu line%s left out\n", errors, errors == 1 ? "" : "s");
        else if (cJSON_GetArraySize(docs) == 0)
                fputs("note: no jobs to import\n", err);
        return 0;
}

int cli_verb_import(const CliArgs *a, FILE *in, FILE *out, FILE *err)
{
        static char *const stdin_only[] = {(char *)"-"};
        char *const *files = a->n_pos > 1 ? a->pos + 1 : stdin_only;
        size_t n = a->n_pos > 1 ? a->n_pos - 1 : 1;
        Source *srcs;
        int r;

        if (a->n_pos < 1 || !streq(a->pos[0], "crontab")) {
                fprintf(err,
                        "error: unknown command \"%s\" for \"berth import\" (try \"berth import crontab "
                        "[FILE|-]\")\n",
                        a->n_pos > 0 ? a->pos[0] : "");
                return 1;
        }
        srcs = calloc(n, sizeof(Source));
        if (!srcs)
                return fputs("error: out of memory\n", err), 1;
        for (size_t i = 0; i < n; i++)
                srcs[i].path = files[i];
        r = import_all(srcs, n, a, in, out, err);
        for (size_t i = 0; i < n; i++)
                source_done(&srcs[i]);
        free(srcs);
        if (r < 0) {
                fprintf(err, "error: %s\n", strerror(-r));
                return 1;
        }
        return r;
}
