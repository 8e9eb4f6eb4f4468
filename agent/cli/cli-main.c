/* The CLI's entry: parses the command line, dispatches to the verb, and holds what every
 * verb shares (the socket path, kind names, sleeping and SIGINT for the polling verbs,
 * help and version). */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "berth-config.h"
#include "cli-doc.h"
#include "cli-internal.h"
#include "cli.h"
#include "json-util.h"

volatile int cli_interrupted = 0;

static void on_sigint(int sig)
{
        cli_interrupted = 1;
}

void cli_catch_sigint(void)
{
        struct sigaction sa = {.sa_handler = on_sigint};

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
}

void cli_sleep(usec_t usec)
{
        struct timespec ts = {.tv_sec = (time_t)(usec / USEC_PER_SEC),
                              .tv_nsec = (long)((usec % USEC_PER_SEC) * NSEC_PER_USEC)};

        if (!cli_interrupted)
                nanosleep(&ts, NULL);
}

const char *cli_socket_path(const CliArgs *a)
{
        const char *e = getenv("BERTH_SOCKET");

        if (!isempty(a->socket))
                return a->socket;
        return !isempty(e) ? e : CLI_DEFAULT_SOCKET;
}

int cli_connect(const CliArgs *a, CliHttp **ret)
{
        int r = cli_http_new(ret, cli_socket_path(a));

        if (r < 0)
                fprintf(stderr, "error: %s\n", strerror(-r));
        return r;
}

const KindInfo *cli_kind_resolve(const char *name)
{
        const KindInfo *k = kind_lookup(name);

        if (!k)
                fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", name);
        return k;
}

static int verb_version(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_json_ cJSON *v = NULL;
        const char *gv;
        int r;

        printf("Client Version: v%s\n", BERTH_VERSION);
        if (a->client)
                return 0;
        r = cli_connect(a, &h);
        if (r < 0)
                return 1;
        r = cli_http_get_json(h, "/version", &v, NULL);
        if (r != 0)
                return 1;
        gv = json_str(v, "gitVersion");
        if (gv)
                printf("Server Version: %s\n", gv);
        else
                printf("Server Version: v%s.%s\n", json_str(v, "major") ?: "?", json_str(v, "minor") ?: "?");
        return 0;
}

static int verb_events(CliArgs *a)
{
        static char events[] = "events";
        char *pos[] = {events};

        if (a->n_pos > 0) {
                fprintf(stderr, "error: unexpected argument \"%s\" for \"events\"\n", a->pos[0]);
                return 1;
        }
        a->pos = pos;
        a->n_pos = 1;
        int r = cli_verb_get(a);
        a->pos = NULL;
        a->n_pos = 0;
        return r;
}

int cli_main(int argc, char **argv)
{
        _cleanup_free_ char *err = NULL;
        CliArgs a;
        int r;

        if (cli_args_parse(&a, argc, argv, &err) < 0) {
                fprintf(stderr, "error: %s\n", err ? err : "invalid arguments");
                return 1;
        }
        if (!a.verb || streq(a.verb, "help") || a.help) {
                /* "berth help get" is "berth get --help" */
                cli_verbs_print_help(stdout,
                                     a.verb && streq(a.verb, "help") && a.n_pos > 0 ? a.pos[0] : a.verb);
                r = 0;
        } else if (streq(a.verb, "version"))
                r = verb_version(&a);
        else if (streq(a.verb, "validate"))
                r = cli_verb_validate(&a, stdout, stderr);
        else if (streq(a.verb, "apply"))
                r = cli_verb_apply(&a);
        else if (streq(a.verb, "get"))
                r = cli_verb_get(&a);
        else if (streq(a.verb, "events"))
                r = verb_events(&a);
        else if (streq(a.verb, "describe"))
                r = cli_verb_describe(&a);
        else if (streq(a.verb, "delete"))
                r = cli_verb_delete(&a);
        else if (streq(a.verb, "logs"))
                r = cli_verb_logs(&a);
        else if (streq(a.verb, "wait"))
                r = cli_verb_wait(&a);
        else if (streq(a.verb, "scale"))
                r = cli_verb_scale(&a);
        else if (streq(a.verb, "rollout"))
                r = cli_verb_rollout(&a);
        else if (streq(a.verb, "release"))
                r = cli_verb_release(&a);
        else if (streq(a.verb, "create"))
                r = cli_verb_create(&a);
        else if (streq(a.verb, "completion"))
                r = cli_verb_completion(&a, stdout, stderr);
        else if (streq(a.verb, "cron"))
                r = cli_verb_cron(&a, (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_SEC), stdout, stderr);
        else if (streq(a.verb, "import"))
                r = cli_verb_import(&a, stdin, stdout, stderr);
        else {
                fprintf(stderr, "error: unknown command \"%s\" for \"berth\"\n", a.verb);
                r = 1;
        }
        cli_args_done(&a);
        return r;
}
