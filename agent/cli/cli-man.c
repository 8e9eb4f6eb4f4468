/* The man pages: templates (the .in files of docs/man, hand-written prose) whose markers become roff made
 * from the verb, flag, kind and config tables, so that the pages list every verb, flag and
 * config key there is. A line that is only "@COMMANDS@" becomes a section; "@VERSION@" or
 * "@CONFIG:stateDir@" inside a line becomes a value. */
#include <string.h>

#include "berth-config.h"
#include "cli-doc.h"

void cli_man_roff(FILE *out, const char *text)
{
        bool line_start = true;

        for (const char *p = text; *p; p++) {
                if (line_start && (*p == '.' || *p == '\''))
                        fputs("\\&", out);
                line_start = *p == '\n';
                if (*p == '\\')
                        fputs("\\e", out);
                else if (*p == '-')
                        fputs("\\-", out);
                else
                        fputc(*p, out);
        }
}

static void bold(FILE *out, const char *text)
{
        fputs("\\fB", out);
        cli_man_roff(out, text);
        fputs("\\fR", out);
}

static void italic(FILE *out, const char *text)
{
        fputs("\\fI", out);
        cli_man_roff(out, text);
        fputs("\\fR", out);
}

/* "\fB-n\fR, \fB--namespace\fR \fINS\fR", "\fB--cascade\fR[=\fIMODE\fR]". */
static void flag_spelling(FILE *out, char shorthand, const char *name, CliFlagValue value, const char *arg)
{
        _cleanup_free_ char *l = strjoin("--", name, NULL);

        if (shorthand) {
                char s[3] = {'-', shorthand, 0};
                bold(out, s);
                fputs(", ", out);
        }
        bold(out, l ?: name);
        if (value == CLI_FLAG_VALUE_REQUIRED) {
                fputc(' ', out);
                italic(out, arg ?: "VALUE");
        } else if (value == CLI_FLAG_VALUE_OPTIONAL) {
                fputs("[=", out);
                italic(out, arg ?: "VALUE");
                fputc(']', out);
        }
}

static void commands(FILE *out)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        for (size_t i = 0; i < n; i++) {
                const CliVerb *v = &verbs[i];
                const char *args = v->synopsis + strlen(v->name);
                _cleanup_free_ char *cmd = strjoin("berth ", v->name, NULL);

                fputs(".TP\n", out);
                bold(out, cmd ?: v->name);
                cli_man_roff(out, args);
                fputc('\n', out);
                cli_man_roff(out, v->summary);
                fputs(".\n", out);
                if (v->details) {
                        cli_man_roff(out, v->details);
                        fputc('\n', out);
                }
                if (v->flags) {
                        fputs("Flags:", out);
                        for (const char *const *f = v->flags; *f; f++) {
                                _cleanup_free_ char *l = strjoin("--", *f, NULL);
                                fputs(f == v->flags ? " " : ", ", out);
                                bold(out, l ?: *f);
                        }
                        fputs(".\n", out);
                }
        }
}

/* Which verbs read flag i ("Read by get, describe." or "Every command."), and where another
 * letter stands for it ("With logs it is -f."). */
static void flag_scope(FILE *out, size_t i, const CliFlagInfo *global)
{
        size_t n, k = 0;
        const CliVerb *verbs = cli_verbs(&n);
        const CliFlagDoc *d = cli_verbs_flag_doc(global->name);
        CliFlagInfo fi;

        if (d && d->global)
                fputs("Every command.\n", out);
        else {
                for (size_t j = 0; j < n; j++) {
                        if (verbs[j].agent || !cli_verbs_takes_flag(&verbs[j], global->name))
                                continue;
                        fputs(k++ ? ", " : "Read by ", out);
                        bold(out, verbs[j].name);
                }
                if (k > 0)
                        fputs(".\n", out);
        }
        for (size_t j = 0; j < n; j++) {
                if (verbs[j].agent || !cli_flag_info(i, verbs[j].name, &fi) || !fi.shorthand ||
                    fi.shorthand == global->shorthand)
                        continue;
                char s[3] = {'-', fi.shorthand, 0};
                fputs("With ", out);
                bold(out, verbs[j].name);
                fputs(" it is ", out);
                bold(out, s);
                fputs(".\n", out);
        }
}

static void options(FILE *out)
{
        CliFlagInfo fi;

        for (size_t i = 0; cli_flag_info(i, NULL, &fi); i++) {
                const CliFlagDoc *d = cli_verbs_flag_doc(fi.name);

                fputs(".TP\n", out);
                flag_spelling(out, fi.shorthand, fi.name, fi.value, d ? d->arg : NULL);
                fputc('\n', out);
                if (d) {
                        cli_man_roff(out, d->help);
                        fputs(".\n", out);
                }
                if (fi.value == CLI_FLAG_VALUE_OPTIONAL && fi.bare) {
                        _cleanup_free_ char *l = strjoin("--", fi.name, NULL);
                        bold(out, l ?: fi.name);
                        fputs(" alone is ", out);
                        bold(out, fi.bare);
                        fputs(".\n", out);
                }
                flag_scope(out, i, &fi);
        }
}

static void kinds(FILE *out)
{
        size_t n;
        const KindInfo *k = kind_table(&n);

        for (size_t i = 0; i < n; i++) {
                fputs(".TP\n", out);
                bold(out, k[i].plural);
                fputs(", ", out);
                bold(out, k[i].singular);
                if (k[i].short_name) {
                        fputs(", ", out);
                        bold(out, k[i].short_name);
                }
                fputc('\n', out);
                cli_man_roff(out, k[i].kind);
                fputs(" (", out);
                cli_man_roff(out, k[i].api_version);
                fputs(k[i].namespaced ? "), namespaced.\n" : "), not namespaced.\n", out);
        }
}

static void agent_synopsis(FILE *out)
{
        size_t n;
        const CliFlagDoc *f = cli_verbs_agent_flags(&n);

        fputs(".B berth agent\n", out);
        for (size_t i = 0; i < n; i++) {
                fputc('[', out);
                flag_spelling(out, 0, f[i].name, f[i].arg ? CLI_FLAG_VALUE_REQUIRED : CLI_FLAG_VALUE_NONE,
                              f[i].arg);
                fputs("]\n", out);
        }
}

static void agent_options(FILE *out)
{
        size_t n;
        const CliFlagDoc *f = cli_verbs_agent_flags(&n);

        for (size_t i = 0; i < n; i++) {
                fputs(".TP\n", out);
                flag_spelling(out, f[i].shorthand, f[i].name,
                              f[i].arg ? CLI_FLAG_VALUE_REQUIRED : CLI_FLAG_VALUE_NONE, f[i].arg);
                fputc('\n', out);
                cli_man_roff(out, f[i].help);
                fputs(".\n", out);
        }
}

static void config_fields(FILE *out)
{
        size_t n;
        const CliConfigField *f = cli_man_config_fields(&n);

        cli_man_config_print(out, f, n);
}

static void storage_class_fields(FILE *out)
{
        size_t n;
        const CliConfigField *f = cli_man_config_storage_class_fields(&n);

        cli_man_config_print(out, f, n);
}

static const struct {
        const char *name;
        void (*print)(FILE *out);
} sections[] = {
    {"COMMANDS", commands},
    {"OPTIONS", options},
    {"KINDS", kinds},
    {"AGENT_SYNOPSIS", agent_synopsis},
    {"AGENT_OPTIONS", agent_options},
    {"CONFIG_FIELDS", config_fields},
    {"STORAGE_CLASS_FIELDS", storage_class_fields},
};

/* The text of an inline marker "NAME" or "NAME:ARG" (len bytes), NULL when unknown. */
static const char *marker_value(const char *m, size_t len)
{
        if (len == strlen("VERSION") && strneq(m, "VERSION", len))
                return BERTH_VERSION;
        if (len == strlen("LIBEXECDIR") && strneq(m, "LIBEXECDIR", len))
                return BERTH_LIBEXECDIR;
        if (len == strlen("CONFIG_FILE") && strneq(m, "CONFIG_FILE", len))
                return CLI_DOC_CONFIG_PATH;
        if (len > strlen("CONFIG:") && strneq(m, "CONFIG:", strlen("CONFIG:"))) {
                _cleanup_free_ char *key = strndup(m + strlen("CONFIG:"), len - strlen("CONFIG:"));
                return key ? cli_man_config_default(key) : NULL;
        }
        return NULL;
}

/* The length of the marker name at p (after an "@"), 0 when p does not start one: capitals
 * and "_", then optionally ":" and a word, then "@". */
static size_t marker_len(const char *p)
{
        size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");

        if (n == 0)
                return 0;
        if (p[n] == ':')
                n += 1 + strcspn(p + n + 1, "@ \t\n");
        return p[n] == '@' ? n : 0;
}

static int expand_line(FILE *out, const char *source, unsigned line_no, const char *line, size_t len,
                       char **ret_error)
{
        /* roff comments may name markers: they stay as written */
        if (len >= 3 && strneq(line, ".\\\"", 3)) {
                fprintf(out, "%.*s\n", (int)len, line);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (len == strlen(sections[i].name) + 2 && line[0] == '@' &&
                    strneq(line + 1, sections[i].name, len - 2) && line[len - 1] == '@') {
                        sections[i].print(out);
                        return 0;
                }
        for (size_t i = 0; i < len; i++) {
                size_t n = line[i] == '@' ? marker_len(line + i + 1) : 0;
                const char *v;

                if (n == 0) {
                        fputc(line[i], out);
                        continue;
                }
                v = marker_value(line + i + 1, n);
                if (!v)
                        return set_errorf(ret_error, -EINVAL, "%s:%u: unknown marker @%.*s@", source,
                                          line_no, (int)n, line + i + 1);
                cli_man_roff(out, v);
                i += n + 1;
        }
        fputc('\n', out);
        return 0;
}

int cli_man_expand(FILE *out, const char *source, const char *text, char **ret_error)
{
        unsigned line_no = 1;
        int r;

        *ret_error = NULL;
        for (const char *p = text; *p; line_no++) {
                size_t len = strcspn(p, "\n");

                r = expand_line(out, source, line_no, p, len, ret_error);
                if (r < 0)
                        return r;
                p += len;
                if (*p)
                        p++;
        }
        return 0;
}
