/* `berth completion bash|zsh`: the scripts are sourced in the real shells and their
 * completion functions called with the words a user typed; the expected candidates come
 * from the same verb, flag and kind tables. Object names come from a fake berth that records
 * how it was called, and once from the real binary against the API tests' server. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

#include "cli-doc.h"
#include "cli-test.h"

/* Runs argv; returns its exit status and what it printed on stdout (and on stderr). */
static int run(char *const argv[], char **ret_out, char **ret_err)
{
        int out[2], err[2], status;
        FILE *fo, *fe;
        size_t n;
        pid_t pid;

        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        /* small outputs: reading one pipe after the other cannot dead-lock on them */
        fo = fdopen(out[0], "r");
        fe = fdopen(err[0], "r");
        cr_assert(fo && fe);
        *ret_out = NULL;
        if (getdelim(ret_out, &n, 0, fo) < 0) {
                free(*ret_out);
                *ret_out = strdup("");
        }
        if (ret_err) {
                *ret_err = NULL;
                if (getdelim(ret_err, &n, 0, fe) < 0) {
                        free(*ret_err);
                        *ret_err = strdup("");
                }
        }
        fclose(fo);
        fclose(fe);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A temporary directory with both scripts, and a fake berth that prints the names of two
 * pods and one cronjob and appends its arguments to "args"; made before each test and
 * removed after it, also when it fails. */
static struct {
        char dir[64];
        char *bash, *zsh, *fake, *args;
} env;

static void write_script(const char *path, const char *shell)
{
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f);
        cr_assert_eq(cli_completion_print(f, shell), 0);
        cr_assert_eq(fclose(f), 0);
}

static void env_setup(void)
{
        static const char fake[] = "#!/bin/sh\n"
                                   "echo \"$*\" >>\"$(dirname \"$0\")/args\"\n"
                                   "case $2 in\n"
                                   "pods|pod|po) printf 'pod/web\\npod/db\\n' ;;\n"
                                   "cronjobs|cronjob|cj) printf 'cronjob.batch/nightly\\n' ;;\n"
                                   "*) echo 'error: the server does not have it' >&2; exit 1 ;;\n"
                                   "esac\n";

        snprintf(env.dir, sizeof(env.dir), "/tmp/test-cli-completion-XXXXXX");
        cr_assert_not_null(mkdtemp(env.dir));
        env.bash = strjoin(env.dir, "/berth.bash", NULL);
        env.zsh = strjoin(env.dir, "/berth.zsh", NULL);
        env.fake = strjoin(env.dir, "/berth", NULL);
        env.args = strjoin(env.dir, "/args", NULL);
        cr_assert(env.bash && env.zsh && env.fake && env.args);
        write_script(env.bash, "bash");
        write_script(env.zsh, "zsh");
        cr_assert_eq(write_file_atomic(env.fake, fake, strlen(fake), 0755), 0);
}

static void env_done(void)
{
        (void)rm_rf(env.dir);
        free(env.bash);
        free(env.zsh);
        free(env.fake);
        free(env.args);
}

TestSuite(cli_completion, .init = env_setup, .fini = env_done);

/* What bash's _berth puts in COMPREPLY, one a line, for words (the last one being completed,
 * split at "=" as readline splits them). */
static char *bash_complete(const char *const *words)
{
        static const char prog[] = "source \"$1\" || exit 3\n"
                                   "COMP_WORDS=(\"${@:3}\")\n"
                                   "COMP_CWORD=$2\n"
                                   "_berth\n"
                                   "if ((${#COMPREPLY[@]})); then printf '%s\\n' \"${COMPREPLY[@]}\"; fi\n";
        char *argv[40] = {"bash", "--norc", "--noprofile", "-c", (char *)prog, "bash", env.bash, NULL};
        char cword[16], *out, *err;
        size_t n = 0;

        while (words[n])
                n++;
        cr_assert(n > 0 && n < 30);
        snprintf(cword, sizeof(cword), "%zu", n - 1);
        argv[7] = cword;
        for (size_t i = 0; i < n; i++)
                argv[8 + i] = (char *)words[i];
        cr_assert_eq(run(argv, &out, &err), 0, "%s", err);
        cr_assert_str_eq(err, "", "the completion printed on stderr: %s", err);
        free(err);
        return out;
}

/* What zsh's _berth hands to _describe and _files (stubbed: they print their matches). */
static char *zsh_complete(const char *const *words)
{
        static const char prog[] = "_describe() { local n=${@[-1]}; print -rl -- \"${(@P)n}\"; }\n"
                                   "_files() { print -r -- \"@files:$PREFIX\"; }\n"
                                   "compset() { PREFIX=${PREFIX#*=}; }\n"
                                   "source \"$1\" || exit 3\n"
                                   "shift\n"
                                   "words=(\"$@\")\n"
                                   "CURRENT=$#\n"
                                   "PREFIX=${words[CURRENT]}\n"
                                   "_berth\n";
        char *argv[40] = {"zsh", "-f", "-c", (char *)prog, "zsh", env.zsh, NULL};
        char *out;
        size_t n = 0;

        while (words[n])
                n++;
        cr_assert(n > 0 && n < 30);
        for (size_t i = 0; i < n; i++)
                argv[6 + i] = (char *)words[i];
        cr_assert_eq(run(argv, &out, NULL), 0, "%s", out);
        return out;
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool has_line(const char *out, const char *line)
{
        size_t len = strlen(line);

        for (const char *p = out; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strneq(p, line, len) && (p[len] == '\n' || !p[len]))
                        return true;
        return false;
}

static size_t count_lines(const char *out)
{
        size_t n = 0;

        for (const char *p = out; *p; p++)
                n += *p == '\n';
        return n;
}

#define EXPECT_LINE(out, line) cr_expect(has_line(out, line), "no \"%s\" in:\n%s", line, out)
#define EXPECT_NO_LINE(out, line) cr_expect(!has_line(out, line), "\"%s\" unexpected in:\n%s", line, out)

Test(cli_completion, bash_offers_every_verb_for_the_first_word)
{
        _cleanup_free_ char *out = NULL, *some = NULL;
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        out = bash_complete(WORDS("berth", ""));
        for (size_t i = 0; i < n; i++)
                EXPECT_LINE(out, verbs[i].name);
        cr_expect_eq(count_lines(out), n, "%s", out);
        some = bash_complete(WORDS("berth", "--socket", "/tmp/s", "de"));
        cr_expect_str_eq(some, "describe\ndelete\n");
}

Test(cli_completion, bash_offers_exactly_the_flags_each_verb_reads)
{
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *out = NULL;
                size_t expected = 0;
                CliFlagInfo fi;

                if (verbs[i].agent)
                        continue;
                out = bash_complete(WORDS("berth", verbs[i].name, "-"));
                for (size_t j = 0; cli_flag_info(j, verbs[i].name, &fi); j++) {
                        _cleanup_free_ char *l = strjoin("--", fi.name, NULL);
                        char s[3] = {'-', fi.shorthand, 0};
                        if (!cli_verbs_takes_flag(&verbs[i], fi.name)) {
                                EXPECT_NO_LINE(out, l);
                                continue;
                        }
                        EXPECT_LINE(out, l);
                        if (fi.shorthand)
                                EXPECT_LINE(out, s);
                        expected += 1 + (fi.shorthand != 0);
                }
                cr_expect_eq(count_lines(out), expected, "berth %s -: %s", verbs[i].name, out);
        }
}

Test(cli_completion, bash_knows_the_letters_logs_and_cron_give_other_meanings)
{
        _cleanup_free_ char *flags = NULL, *after_f = NULL, *after_n = NULL;

        /* logs -f is --follow, a boolean: the next word is the pod, not a file */
        after_f = bash_complete(WORDS(env.fake, "logs", "-f", ""));
        cr_expect_str_eq(after_f, "web\ndb\n");
        /* cron -n is --count: its value is a number, not a namespace */
        after_n = bash_complete(WORDS("berth", "cron", "-n", "3", ""));
        cr_expect_str_eq(after_n, "next\n");
        flags = bash_complete(WORDS("berth", "cron", "next", "--n"));
        cr_expect_str_eq(flags, "--namespace\n");
}

Test(cli_completion, bash_offers_every_kind_name_to_the_object_verbs)
{
        size_t n, n_verbs;
        const KindInfo *k = kind_table(&n);
        const CliVerb *verbs = cli_verbs(&n_verbs);

        for (size_t v = 0; v < n_verbs; v++) {
                _cleanup_free_ char *out = NULL;

                if (verbs[v].args != CLI_VERB_ARGS_OBJECTS)
                        continue;
                out = bash_complete(WORDS("berth", verbs[v].name, ""));
                for (size_t i = 0; i < n; i++) {
                        EXPECT_LINE(out, k[i].plural);
                        EXPECT_LINE(out, k[i].singular);
                        if (k[i].short_name)
                                EXPECT_LINE(out, k[i].short_name);
                }
        }
}

Test(cli_completion, bash_offers_the_output_formats_get_accepts)
{
        _cleanup_free_ char *out = NULL, *split = NULL, *after_eq = NULL;
        const CliFlagDoc *d = cli_verbs_flag_doc("output");
        size_t n = 0;

        out = bash_complete(WORDS("berth", "get", "pods", "-o", ""));
        for (const char *const *v = d->values; *v; v++, n++) {
                _cleanup_free_ char *err = NULL;
                CliOutput o;
                EXPECT_LINE(out, *v);
                cr_expect_eq(cli_output_parse(*v, &o, &err), 0, "get refuses -o %s", *v);
        }
        cr_expect_eq(count_lines(out), n, "%s", out);
        /* "--output=j": readline hands the words "--output", "=", "j" */
        split = bash_complete(WORDS("berth", "get", "--output", "=", "j"));
        cr_expect_str_eq(split, "json\n");
        after_eq = bash_complete(WORDS("berth", "delete", "--cascade", "=", ""));
        cr_expect_str_eq(after_eq, "background\nforeground\norphan\n");
}

Test(cli_completion, bash_asks_berth_for_the_names_with_the_namespace_and_socket_given)
{
        _cleanup_free_ char *names = NULL, *slash = NULL, *args = NULL, *none = NULL;

        names = bash_complete(WORDS(env.fake, "-n", "prod", "get", "pods", "--socket=/tmp/x.sock", ""));
        cr_expect_str_eq(names, "web\ndb\n");
        slash = bash_complete(WORDS(env.fake, "describe", "po/w"));
        cr_expect_str_eq(slash, "po/web\n");
        cr_assert_eq(read_full_file(env.args, 4096, &args, NULL), 0);
        cr_expect_str_eq(args, "get pods -o name --namespace=prod --socket=/tmp/x.sock\nget po -o name\n");
        /* the fake fails for jobs: nothing offered, nothing printed (bash_complete checks stderr) */
        none = bash_complete(WORDS(env.fake, "delete", "jobs", ""));
        cr_expect_str_eq(none, "");
}

Test(cli_completion, bash_offers_files_to_filename_and_a_verbs_words)
{
        _cleanup_free_ char *files = NULL, *inline_files = NULL, *words = NULL, *create = NULL,
                            *agent = NULL, *level = NULL, *file_prefix = NULL, *import = NULL,
                            *import_word = NULL;

        file_prefix = strjoin(env.dir, "/berth.b", NULL);
        files = bash_complete(WORDS("berth", "apply", "-f", file_prefix));
        EXPECT_LINE(files, env.bash);
        cr_expect_eq(count_lines(files), 1, "%s", files);
        inline_files = bash_complete(WORDS("berth", "apply", "--filename", "=", file_prefix));
        EXPECT_LINE(inline_files, env.bash);
        import = bash_complete(WORDS("berth", "import", "crontab", file_prefix));
        EXPECT_LINE(import, env.bash);
        import_word = bash_complete(WORDS("berth", "import", ""));
        cr_expect_str_eq(import_word, "crontab\n");
        words = bash_complete(WORDS("berth", "completion", ""));
        cr_expect_str_eq(words, "bash\nzsh\n");
        create = bash_complete(WORDS("berth", "create", ""));
        cr_expect_str_eq(create, "job\n");
        agent = bash_complete(WORDS("berth", "agent", "--log"));
        cr_expect_str_eq(agent, "--log-dir\n--log-level\n");
        level = bash_complete(WORDS("berth", "agent", "--log-level", "w"));
        cr_expect_str_eq(level, "warning\n");
}

Test(cli_completion, bash_offers_nothing_after_the_end_of_flags_but_arguments)
{
        _cleanup_free_ char *out = NULL;

        out = bash_complete(WORDS("berth", "get", "--", "-"));
        cr_expect_str_eq(out, "");
}

Test(cli_completion, zsh_parses_the_script_and_describes_verbs_and_flags)
{
        _cleanup_free_ char *out = NULL, *verbs = NULL, *flags = NULL, *values = NULL, *files = NULL,
                            *names = NULL;

        cr_assert_eq(run((char *[]){"zsh", "-n", env.zsh, NULL}, &out, NULL), 0);
        verbs = zsh_complete(WORDS("berth", ""));
        EXPECT_LINE(verbs, "get:Show objects in kubectl's columns");
        EXPECT_LINE(verbs, "completion:Print a shell completion script");
        flags = zsh_complete(WORDS("berth", "logs", "-"));
        EXPECT_LINE(flags, "-f:Keep printing new lines until the container ends or SIGINT");
        EXPECT_NO_LINE(flags, "--filename");
        values = zsh_complete(WORDS("berth", "get", "--output=j"));
        EXPECT_LINE(values, "--output=json");
        files = zsh_complete(WORDS("berth", "apply", "--filename=/tmp/x"));
        cr_expect_str_eq(files, "@files:/tmp/x\n");
        names = zsh_complete(WORDS(env.fake, "get", "pods", ""));
        cr_expect_str_eq(names, "web\ndb\n");
}

Test(cli_completion, the_verb_prints_the_script_or_says_which_shells_exist)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        char *argv[] = {"berth", "completion", "fish", NULL};
        size_t osize, esize;
        CliArgs a;

        cr_assert_eq(cli_args_parse(&a, 3, argv, &err), 0);
        FILE *o = open_memstream(&out, &osize), *e = open_memstream(&err, &esize);
        cr_assert(o && e);
        cr_expect_eq(cli_verb_completion(&a, o, e), 1);
        fclose(o);
        fclose(e);
        cr_expect_str_eq(out, "");
        cr_expect_str_eq(err, "error: unsupported shell \"fish\": supported shells: \"bash\", \"zsh\"\n");
        cli_args_done(&a);
        out = mfree(out);
        err = mfree(err);

        argv[2] = "zsh";
        cr_assert_eq(cli_args_parse(&a, 3, argv, &err), 0);
        o = open_memstream(&out, &osize);
        e = open_memstream(&err, &esize);
        cr_assert(o && e);
        cr_expect_eq(cli_verb_completion(&a, o, e), 0);
        fclose(o);
        fclose(e);
        cr_expect(startswith(out, "#compdef berth\n"), "%s", out);
        cr_expect_str_eq(err, "");
        cli_args_done(&a);
}

/* ---- the real berth against the API tests' in-process server ---- */
static ApiTest t;

static void agent_setup(void)
{
        api_test_start(&t, false);
        env_setup();
}

static void agent_teardown(void)
{
        env_done();
        api_test_stop(&t);
}

TestSuite(cli_completion_agent, .init = agent_setup, .fini = agent_teardown);

static int complete_with_real_berth(void *userdata)
{
        _cleanup_free_ char *out =
            bash_complete(WORDS(getenv("BERTH_BIN"), "--socket", t.socket_path, "get", "pods", ""));

        fputs(out, stdout);
        return 0;
}

Test(cli_completion_agent, bash_completes_the_names_of_the_agents_objects)
{
        _cleanup_free_ char *web = api_test_pod("web", "web"), *db = api_test_pod("db", "db");
        ApiTestRun r;

        cr_assert_not_null(getenv("BERTH_BIN"), "meson sets BERTH_BIN to the built berth");
        cli_test_create(&t, "/api/v1/namespaces/default/pods", web);
        cli_test_create(&t, "/api/v1/namespaces/default/pods", db);
        api_test_run(&t, complete_with_real_berth, NULL, &r);
        cr_expect_eq(r.status, 0, "%s", r.err);
        cr_expect_str_eq(r.out, "db\nweb\n");
        api_test_run_done(&r);
}

Test(cli_completion_agent, bash_stays_silent_when_the_agent_cannot_be_reached)
{
        _cleanup_free_ char *out = NULL;

        cr_assert_not_null(getenv("BERTH_BIN"), "meson sets BERTH_BIN to the built berth");
        /* bash_complete fails the test when anything reaches stderr */
        out = bash_complete(
            WORDS(getenv("BERTH_BIN"), "--socket", "/tmp/test-cli-completion-none.sock", "get", "pods", ""));
        cr_expect_str_eq(out, "");
}
