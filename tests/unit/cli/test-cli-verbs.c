/* The verb table and the flags' help against what parses the command line: cli-args.c's
 * parser for the CLI's flags, and the real `berth agent` for the agent's. A flag added to
 * either without its help and a verb that reads it fails here. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

#include "cli-doc.h"
#include "cli.h"

Test(cli_verbs, every_flag_of_the_table_has_help_and_a_placeholder_when_it_takes_a_value)
{
        CliFlagInfo fi;
        size_t i;

        for (i = 0; cli_flag_info(i, NULL, &fi); i++) {
                const CliFlagDoc *d = cli_verbs_flag_doc(fi.name);
                cr_assert_not_null(d, "flag --%s has no help in cli-verbs.c's flag_docs", fi.name);
                cr_expect(!isempty(d->help), "--%s", fi.name);
                cr_expect_eq(d->arg != NULL, fi.value != CLI_FLAG_VALUE_NONE,
                             "--%s: a placeholder exactly when it takes a value", fi.name);
        }
        cr_expect_gt(i, 20);
}

Test(cli_verbs, every_flag_with_help_or_named_by_a_verb_is_in_the_table)
{
        CliFlagInfo fi;
        size_t n_docs, n_verbs;
        const CliFlagDoc *docs = cli_verbs_flag_docs(&n_docs);
        const CliVerb *verbs = cli_verbs(&n_verbs);

        for (size_t i = 0; i < n_docs; i++)
                cr_expect(cli_verbs_flag_info(docs[i].name, NULL, &fi), "help for unknown flag --%s",
                          docs[i].name);
        for (size_t i = 0; i < n_verbs; i++)
                for (const char *const *f = verbs[i].flags; f && *f; f++)
                        cr_expect(cli_verbs_flag_info(*f, NULL, &fi), "%s names unknown flag --%s",
                                  verbs[i].name, *f);
}

Test(cli_verbs, every_flag_is_global_or_read_by_a_verb)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);
        CliFlagInfo fi;

        for (size_t i = 0; cli_flag_info(i, NULL, &fi); i++) {
                const CliFlagDoc *d = cli_verbs_flag_doc(fi.name);
                bool claimed = d && d->global;
                for (size_t j = 0; j < n; j++)
                        for (const char *const *f = verbs[j].flags; f && *f; f++)
                                claimed = claimed || streq(*f, fi.name);
                cr_expect(claimed, "no verb of cli-verbs.c's table names --%s", fi.name);
        }
}

Test(cli_verbs, every_verb_has_a_synopsis_that_starts_with_it_and_a_one_line_summary)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        for (size_t i = 0; i < n; i++) {
                const CliVerb *v = &verbs[i];
                cr_expect(startswith(v->synopsis, v->name) && strchr(" ", v->synopsis[strlen(v->name)]),
                          "%s: %s", v->name, v->synopsis);
                cr_expect(!isempty(v->summary) && !strchr(v->summary, '\n') && !endswith(v->summary, "."),
                          "%s", v->name);
                cr_expect_eq(v->args == CLI_VERB_ARGS_WORDS, v->words != NULL, "%s", v->name);
                cr_expect_eq(cli_verbs_find(v->name), v);
        }
        cr_expect_null(cli_verbs_find("frob"));
        cr_expect_null(cli_verbs_find(NULL));
}

/* Whether two parses set the same fields. */
static bool args_same(const CliArgs *x, const CliArgs *y)
{
        if (x->n_files != y->n_files || x->n_pos != y->n_pos)
                return false;
        for (size_t i = 0; i < x->n_files; i++)
                if (!streq(x->files[i], y->files[i]))
                        return false;
        return streq_ptr(x->verb, y->verb) && streq_ptr(x->socket, y->socket) &&
               streq_ptr(x->namespace, y->namespace) && x->all_namespaces == y->all_namespaces &&
               streq_ptr(x->selector, y->selector) && streq_ptr(x->output, y->output) &&
               x->recursive == y->recursive && streq_ptr(x->dry_run, y->dry_run) &&
               x->show_labels == y->show_labels && streq_ptr(x->container, y->container) &&
               x->follow == y->follow && x->previous == y->previous && x->timestamps == y->timestamps &&
               x->tail == y->tail && x->grace_period == y->grace_period && x->now == y->now &&
               x->force == y->force && x->all == y->all && x->ignore_not_found == y->ignore_not_found &&
               x->client == y->client && x->help == y->help && x->wait == y->wait &&
               streq_ptr(x->cascade, y->cascade) && x->timeout == y->timeout &&
               x->timeout_set == y->timeout_set && streq_ptr(x->for_cond, y->for_cond) &&
               streq_ptr(x->tz, y->tz) && streq_ptr(x->from, y->from) && x->count == y->count &&
               streq_ptr(x->replicas, y->replicas) && streq_ptr(x->current_replicas, y->current_replicas) &&
               streq_ptr(x->watch, y->watch);
}

/* Parses "berth [VERB] FLAG [VALUE]"; returns the error message or NULL. */
static char *parse(CliArgs *a, const char *verb, const char *flag, const char *value)
{
        char *argv[4] = {"berth"}, *err = NULL;
        int argc = 1;

        if (verb)
                argv[argc++] = (char *)verb;
        argv[argc++] = (char *)flag;
        if (value)
                argv[argc++] = (char *)value;
        if (cli_args_parse(a, argc, argv, &err) < 0)
                return err ?: strdup("failed");
        return NULL;
}

/* A value every flag that takes one accepts: a number is a valid count, a duration needs a unit. */
static const char *value_for(const char *name)
{
        return streq(name, "timeout") ? "5s" : "1";
}

static void check_flag(const char *verb, const CliFlagInfo *fi)
{
        _cleanup_free_ char *l = strjoin("--", fi->name, NULL), *err = NULL, *serr = NULL;
        const char *value = fi->value == CLI_FLAG_VALUE_REQUIRED ? value_for(fi->name) : NULL;
        char s[3] = {'-', fi->shorthand, 0};
        CliArgs a, b;

        /* alone, as the last argument, only a flag that takes a value complains */
        err = parse(&a, verb, l, NULL);
        if (fi->value == CLI_FLAG_VALUE_REQUIRED) {
                cr_expect_not_null(err, "%s %s: takes a value", verb ?: "", l);
                if (!err)
                        cli_args_done(&a);
                err = mfree(err);
        } else {
                cr_expect_null(err, "%s %s: %s", verb ?: "", l, err);
                if (!err)
                        cli_args_done(&a);
        }
        if (!fi->shorthand)
                return;
        err = mfree(err);
        err = parse(&a, verb, l, value);
        serr = parse(&b, verb, s, value);
        cr_assert_null(err, "%s %s %s: %s", verb ?: "", l, value ?: "", err);
        cr_assert_null(serr, "%s %s %s: %s", verb ?: "", s, value ?: "", serr);
        cr_expect(args_same(&a, &b), "%s: %s is not %s", verb ?: "(no verb)", s, l);
        cli_args_done(&a);
        cli_args_done(&b);
}

Test(cli_verbs, the_flag_table_read_by_the_docs_is_the_parsers)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);
        CliFlagInfo fi;

        for (size_t v = 0; v <= n; v++) {
                const char *verb = v == 0 ? NULL : verbs[v - 1].name;
                if (v > 0 && verbs[v - 1].agent)
                        continue;
                for (size_t i = 0; cli_flag_info(i, verb, &fi); i++)
                        check_flag(verb, &fi);
        }
        /* the letters that change meaning, as cli-args.c documents them */
        cr_assert(cli_verbs_flag_info("follow", "logs", &fi));
        cr_expect_eq(fi.shorthand, 'f');
        cr_assert(cli_verbs_flag_info("filename", "logs", &fi));
        cr_expect_eq(fi.shorthand, 0);
        cr_assert(cli_verbs_flag_info("count", "cron", &fi));
        cr_expect_eq(fi.shorthand, 'n');
        cr_assert(cli_verbs_flag_info("namespace", "cron", &fi));
        cr_expect_eq(fi.shorthand, 0);
        cr_assert(cli_verbs_flag_info("cascade", NULL, &fi));
        cr_expect_eq(fi.value, CLI_FLAG_VALUE_OPTIONAL);
        cr_expect_str_eq(fi.bare, "background");
}

static char *help_of(const char *verb)
{
        char *out = NULL;
        size_t size;
        FILE *f = open_memstream(&out, &size);

        cr_assert_not_null(f);
        cli_verbs_print_help(f, verb);
        cr_assert_eq(fclose(f), 0);
        return out;
}

Test(cli_verbs, the_overview_lists_every_verb_and_the_global_flags)
{
        _cleanup_free_ char *out = help_of(NULL), *unknown = help_of("frob"), *help = help_of("help");
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *line = NULL;
                cr_assert_geq(asprintf(&line, "\n  %-12s%s\n", verbs[i].name, verbs[i].summary), 0);
                cr_expect(strstr(out, line), "no %s in:\n%s", line, out);
        }
        cr_expect(strstr(out, "\n  -n, --namespace NS"), "%s", out);
        cr_expect(strstr(out, "\n      --socket PATH"), "%s", out);
        cr_expect(!strstr(out, "--tail"), "%s", out);
        cr_expect_str_eq(unknown, out);
        cr_expect_str_eq(help, out);
}

Test(cli_verbs, the_help_of_a_verb_shows_its_synopsis_and_its_own_letters)
{
        _cleanup_free_ char *logs = help_of("logs"), *cron = help_of("cron"), *agent = help_of("agent");

        cr_expect(startswith(logs, "Print the log of a pod's container.\n\nUsage:\n  berth logs POD "), "%s",
                  logs);
        cr_expect(strstr(logs, "\n  -f, --follow "), "%s", logs);
        cr_expect(strstr(logs, "\n  -p, --previous "), "%s", logs);
        cr_expect(strstr(logs, "\n  -c, --container NAME "), "%s", logs);
        cr_expect(!strstr(logs, "--filename"), "%s", logs);
        cr_expect(strstr(logs, "Global flags:\n"), "%s", logs);
        cr_expect(strstr(cron, "\n  -n, --count N "), "%s", cron);
        cr_expect(strstr(cron, "\n      --namespace NS "), "%s", cron);
        cr_expect(strstr(agent, "\n      --config FILE "), "%s", agent);
        cr_expect(strstr(agent, "\n  -h, --help "), "%s", agent);
        cr_expect(!strstr(agent, "Global flags"), "%s", agent);
}

/* Runs the built berth with args; returns its exit status and its stdout. */
static int run_berth(char *const *args, char **ret_out)
{
        char *argv[8] = {getenv("BERTH_BIN")};
        int p[2], status;
        size_t n = 0;
        pid_t pid;
        FILE *f;

        cr_assert_not_null(argv[0], "meson sets BERTH_BIN to the built berth");
        for (size_t i = 0; args[i]; i++)
                argv[1 + i] = args[i];
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (dup2(p[1], STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        close(p[1]);
        f = fdopen(p[0], "r");
        cr_assert_not_null(f);
        *ret_out = NULL;
        if (getdelim(ret_out, &n, 0, f) < 0) {
                free(*ret_out);
                *ret_out = strdup("");
        }
        fclose(f);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

Test(cli_verbs, the_agents_flags_are_the_ones_berth_agent_parses)
{
        _cleanup_free_ char *help = NULL;
        size_t n, found = 0;
        const CliFlagDoc *flags = cli_verbs_agent_flags(&n);

        cr_assert_eq(run_berth((char *[]){"agent", "--help", NULL}, &help), 0);
        /* every --flag its help names is documented */
        for (const char *p = strstr(help, "--"); p; p = strstr(p + 2, "--")) {
                size_t len = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
                bool known = false;
                for (size_t i = 0; i < n; i++)
                        known = known || (strlen(flags[i].name) == len && strneq(flags[i].name, p + 2, len));
                cr_expect(known, "berth agent --help names --%.*s, which cli-verbs.c does not document",
                          (int)len, p + 2);
                found++;
        }
        cr_expect_geq(found, n);
        /* "--flag=x --help": getopt accepts the value exactly when the flag takes one (exit 0 with
         * the help; 2 for a value given to a flag without any) */
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *arg = strjoin("--", flags[i].name, "=x", NULL), *out = NULL;
                int status = run_berth((char *[]){"agent", arg, "--help", NULL}, &out);
                cr_expect_eq(status, flags[i].arg ? 0 : 2, "berth agent %s --help: exit %d", arg, status);
        }
}

Test(cli_verbs, every_verb_cli_main_dispatches_is_in_the_table)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *root = getenv("BERTH_SOURCE_ROOT");
        size_t found = 0;

        /* read from the source: cli_main() dispatches with a chain of streq(a.verb, "...") */
        cr_assert_not_null(root, "meson sets BERTH_SOURCE_ROOT");
        path = strjoin(root, "/agent/cli/cli-main.c", NULL);
        cr_assert_eq(read_full_file(path, 1024 * 1024, &text, NULL), 0);
        for (const char *p = strstr(text, "streq(a.verb, \""); p; p = strstr(p + 1, "streq(a.verb, \"")) {
                const char *name = p + strlen("streq(a.verb, \"");
                _cleanup_free_ char *verb = strndup(name, strcspn(name, "\""));
                cr_assert_not_null(verb);
                cr_expect_not_null(cli_verbs_find(verb),
                                   "cli-main.c runs \"%s\", cli-verbs.c has no such verb", verb);
                found++;
        }
        cr_expect_geq(found, 10);
}

/* Once cli-main.c dispatches `completion`: every verb of the table reaches a verb of cli_main(). */
Test(cli_verbs, cli_main_runs_every_verb_of_the_table)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        for (size_t i = 0; i < n; i++) {
                char *argv[] = {"berth", "--socket=/tmp/test-cli-verbs-none.sock", (char *)verbs[i].name,
                                NULL};
                _cleanup_free_ char *err = NULL, *unknown = NULL;
                int p[2], status;
                size_t size = 0;
                FILE *f;
                pid_t pid;

                if (verbs[i].agent)
                        continue; /* main.c runs it */
                cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
                fflush(stdout);
                fflush(stderr);
                pid = fork();
                cr_assert_geq(pid, 0);
                if (pid == 0) {
                        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
                            dup2(p[1], STDERR_FILENO) < 0)
                                _exit(127);
                        _exit(cli_main(3, argv));
                }
                close(p[1]);
                f = fdopen(p[0], "r");
                cr_assert_not_null(f);
                if (getdelim(&err, &size, 0, f) < 0) {
                        free(err);
                        err = strdup("");
                }
                fclose(f);
                cr_assert_eq(waitpid(pid, &status, 0), pid);
                unknown = strjoin("unknown command \"", verbs[i].name, "\" for \"berth\"", NULL);
                cr_assert_not_null(unknown);
                cr_expect(!strstr(err, unknown), "berth %s: %s", verbs[i].name, err);
        }
}
