/* The man pages: the templates of docs/man expanded as the build does, then checked for
 * every verb, flag, kind, agent flag and config key of the tables, and rendered by man(1)
 * without a groff warning. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

#include "berth-config.h"
#include "cli-doc.h"

static char *expand(const char *text, int *ret, char **ret_error)
{
        char *out = NULL;
        size_t size;
        FILE *f = open_memstream(&out, &size);

        cr_assert_not_null(f);
        *ret = cli_man_expand(f, "test.in", text, ret_error);
        cr_assert_eq(fclose(f), 0);
        return out;
}

/* The page a template of docs/man makes. */
static char *page(const char *name)
{
        const char *dir = getenv("MAN_TEMPLATES");
        _cleanup_free_ char *path = NULL, *text = NULL, *err = NULL;
        char *out;
        int r;

        cr_assert_not_null(dir, "meson sets MAN_TEMPLATES to docs/man");
        path = strjoin(dir, "/", name, ".in", NULL);
        cr_assert_not_null(path);
        cr_assert_eq(read_full_file(path, 1024 * 1024, &text, NULL), 0, "%s", path);
        out = expand(text, &r, &err);
        cr_assert_eq(r, 0, "%s", err);
        return out;
}

/* text as cli_man_roff() prints it, between before and after (malloc'd) */
static char *roff(const char *before, const char *text, const char *after)
{
        char *out = NULL;
        size_t size;
        FILE *f = open_memstream(&out, &size);

        cr_assert_not_null(f);
        fputs(before, f);
        cli_man_roff(f, text);
        fputs(after, f);
        cr_assert_eq(fclose(f), 0);
        return out;
}

#define EXPECT_IN(hay, needle) cr_expect(strstr(hay, needle), "no \"%s\" in the page", needle)

Test(cli_man, expands_sections_and_values_and_keeps_comments)
{
        _cleanup_free_ char *err = NULL;
        int r;
        _cleanup_free_ char *out = expand(".\\\" @KINDS@ stays\n"
                                          ".TH X 1 \"\" \"berth @VERSION@\"\n"
                                          "socket @CONFIG:socket@, mail me@example.org\n"
                                          "@KINDS@\n",
                                          &r, &err);

        cr_assert_eq(r, 0, "%s", err);
        cr_expect(startswith(out, ".\\\" @KINDS@ stays\n.TH X 1 \"\" \"berth " BERTH_VERSION "\"\n"
                                  "socket /run/berth/berth.sock, mail me@example.org\n.TP\n"),
                  "%s", out);
        EXPECT_IN(out, "\\fBpods\\fR, \\fBpod\\fR, \\fBpo\\fR\nPod (v1), namespaced.\n");
}

Test(cli_man, names_the_line_of_an_unknown_marker)
{
        _cleanup_free_ char *err = NULL, *out = NULL, *err2 = NULL, *out2 = NULL;
        int r;

        out = expand("one\ntwo @NOPE@\n", &r, &err);
        cr_expect_eq(r, -EINVAL);
        cr_expect_str_eq(err, "test.in:2: unknown marker @NOPE@");
        out2 = expand("@CONFIG:noSuchKey@\n", &r, &err2);
        cr_expect_eq(r, -EINVAL);
        cr_expect_str_eq(err2, "test.in:1: unknown marker @CONFIG:noSuchKey@");
}

Test(cli_man, escapes_text_for_roff)
{
        _cleanup_free_ char *out = NULL;
        size_t size;
        FILE *f = open_memstream(&out, &size);

        cr_assert_not_null(f);
        cli_man_roff(f, ".hidden 'quote' a\\b --flag\n'x");
        cr_assert_eq(fclose(f), 0);
        cr_expect_str_eq(out, "\\&.hidden 'quote' a\\eb \\-\\-flag\n\\&'x");
}

Test(cli_man, berth_1_has_every_verb_flag_and_kind)
{
        _cleanup_free_ char *p = page("berth.1");
        size_t n;
        const CliVerb *verbs = cli_verbs(&n);
        const KindInfo *k;
        CliFlagInfo fi;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *cmd = strjoin(".TP\n\\fBberth ", verbs[i].name, "\\fR", NULL);
                EXPECT_IN(p, cmd);
        }
        for (size_t i = 0; cli_flag_info(i, NULL, &fi); i++) {
                const CliFlagDoc *d = cli_verbs_flag_doc(fi.name);
                _cleanup_free_ char *l = roff("\\fB\\-\\-", fi.name, "\\fR"), *help = NULL;

                cr_assert_not_null(d, "--%s", fi.name);
                help = roff("", d->help, "");
                EXPECT_IN(p, l);
                EXPECT_IN(p, help);
        }
        k = kind_table(&n);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *names = strjoin("\\fB", k[i].plural, "\\fR, \\fB", k[i].singular, NULL);
                EXPECT_IN(p, names);
        }
        EXPECT_IN(p, "\nberth \\- control the berth node agent");
}

Test(cli_man, berth_agent_8_has_every_option_of_the_agent)
{
        _cleanup_free_ char *p = page("berth-agent.8");
        size_t n;
        const CliFlagDoc *flags = cli_verbs_agent_flags(&n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *l = roff("\\fB\\-\\-", flags[i].name, "\\fR");
                EXPECT_IN(p, l);
        }
        EXPECT_IN(p, ".SH SIGNALS\n");
        EXPECT_IN(p, "SIGHUP");
        EXPECT_IN(p, ".I /var/lib/berth/berth.db\n");
        EXPECT_IN(p, BERTH_LIBEXECDIR);
}

Test(cli_man, berth_yaml_5_has_every_config_and_storage_class_key)
{
        _cleanup_free_ char *p = page("berth.yaml.5");
        size_t n;
        const CliConfigField *f = cli_man_config_fields(&n);

        for (size_t i = 0; i < n; i++) {
                /* a section's keys are listed under it by their last part */
                const char *dot = strrchr(f[i].key, '.');
                _cleanup_free_ char *l = strjoin(".TP\n\\fB", dot ? dot + 1 : f[i].key, "\\fR (\\fI", NULL);
                EXPECT_IN(p, l);
        }
        f = cli_man_config_storage_class_fields(&n);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *l = strjoin(".TP\n\\fB", f[i].key, "\\fR (\\fI", NULL);
                EXPECT_IN(p, l);
        }
        EXPECT_IN(p, ".RS\n.TP\n\\fBtype\\fR (\\fIstring\\fR, default \\fBhost\\fR)\n");
}

/* Runs argv with stdout to /dev/null; returns its exit status and its stderr. */
static int run(char *const argv[], char **ret_err)
{
        int p[2], status;
        size_t n = 0;
        pid_t pid;
        FILE *f;

        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (dup2(null, STDOUT_FILENO) < 0 || dup2(p[1], STDERR_FILENO) < 0 ||
                    setenv("LC_ALL", "C.UTF-8", 1) < 0 || setenv("MANWIDTH", "80", 1) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(p[1]);
        f = fdopen(p[0], "r");
        cr_assert_not_null(f);
        *ret_err = NULL;
        if (getdelim(ret_err, &n, 0, f) < 0)
                *ret_err = strdup("");
        fclose(f);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* where the_pages_render... writes the pages, removed after it also when it fails */
static char dir[] = "/tmp/test-cli-man-XXXXXX";

static void make_dir(void)
{
        cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
        (void)rm_rf(dir);
}

Test(cli_man, the_pages_render_without_groff_warnings_and_have_a_name_line, .init = make_dir,
     .fini = remove_dir)
{
        static const char *const pages[] = {"berth.1", "berth-agent.8", "berth.yaml.5"};

        for (size_t i = 0; i < ELEMENTSOF(pages); i++) {
                _cleanup_free_ char *text = page(pages[i]), *path = strjoin(dir, "/", pages[i], NULL),
                                    *warnings = NULL, *lexgrog = NULL;
                cr_assert_not_null(path);
                cr_assert_eq(write_file_atomic(path, text, strlen(text), 0644), 0);
                cr_expect_eq(run((char *[]){"man", "--warnings", "-l", path, NULL}, &warnings), 0, "%s",
                             warnings);
                cr_expect_str_eq(warnings, "", "%s: %s", pages[i], warnings);
                cr_expect_eq(run((char *[]){"lexgrog", path, NULL}, &lexgrog), 0, "%s: %s", pages[i],
                             lexgrog);
        }
}
