/* The verb table and the help of every flag: the one place `berth help`, `berth VERB --help`,
 * the completion scripts and the man pages take verbs, synopses and flag texts from. Which
 * flags exist and how they parse is cli-args.c's table, read through cli_flag_info(). */
#include <string.h>

#include "cli-doc.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The help of every flag of cli-args.c's table, in its order. */
static const CliFlagDoc flag_docs[] = {
    {.name = "socket",
     .arg = "PATH",
     .help = "The agent's API socket (default $BERTH_SOCKET, else " CLI_DEFAULT_SOCKET ")",
     .files = true,
     .global = true},
    {.name = "namespace",
     .arg = "NS",
     .help = "The namespace (default \"" CLI_DEFAULT_NAMESPACE "\")",
     .global = true},
    {.name = "all-namespaces", .help = "Objects of every namespace"},
    {.name = "selector",
     .arg = "SELECTOR",
     .help = "Only objects whose labels match, e.g. app=web,tier!=db"},
    {.name = "output",
     .arg = "FORMAT",
     .help = "Print wide tables, json, yaml, or only kind/name",
     .values = WORDS("wide", "json", "yaml", "name")},
    {.name = "filename",
     .arg = "FILE",
     .help = "A manifest file, a directory of them, or - for standard input; may be repeated",
     .files = true},
    {.name = "recursive", .help = "Read the directories given with -f and their subdirectories"},
    {.name = "dry-run",
     .arg = "MODE",
     .help = "none, client (check and print only) or server (the agent checks, stores nothing)",
     .values = WORDS("none", "client", "server")},
    {.name = "show-labels", .help = "Add each object's labels as the last column"},
    {.name = "container", .arg = "NAME", .help = "The container (default the only one, else the first)"},
    {.name = "follow", .help = "Keep printing new lines until the container ends or SIGINT"},
    {.name = "previous", .help = "The log of the previous instance of the container"},
    {.name = "timestamps", .help = "Start each line with its RFC 3339 time stamp"},
    {.name = "tail", .arg = "N", .help = "Only the last N lines (default all)"},
    {.name = "grace-period",
     .arg = "SECONDS",
     .help = "Seconds the objects get to stop (default the object's own; 0 needs --force)"},
    {.name = "now", .help = "Stop at once: a grace period of 1 second"},
    {.name = "force", .help = "Remove the objects without waiting for their processes to end"},
    {.name = "all", .help = "Every object of the kind in the namespace"},
    {.name = "ignore-not-found", .help = "A missing object is not an error"},
    {.name = "client", .help = "Print the client's version only, without contacting the agent"},
    {.name = "help", .help = "Print the help of berth or of the command", .global = true},
    {.name = "wait", .help = "Wait until the objects are gone (default true)"},
    {.name = "cascade",
     .arg = "MODE",
     .help = "What becomes of dependents: background (default), foreground or orphan",
     .values = WORDS("background", "foreground", "orphan")},
    {.name = "timeout",
     .arg = "DURATION",
     .help = "How long to wait, e.g. 90s or 5m (delete: 5m, wait: 30s, rollout status: no limit; scale "
             "waits only when given)"},
    {.name = "for",
     .arg = "CONDITION",
     .help = "condition=NAME[=VALUE] (VALUE default True), or delete",
     .values = WORDS("delete", "condition=Ready", "condition=Complete", "condition=Failed")},
    {.name = "tz", .arg = "ZONE", .help = "An IANA time zone such as Europe/Paris (default the local zone)"},
    {.name = "from",
     .arg = "FROM",
     .help = "cron next: an RFC 3339 time to start after (default now); create job: cronjob/NAME"},
    {.name = "count",
     .arg = "N",
     .help = "How many times to print (default " STR(CLI_CRON_DEFAULT_COUNT) ", at most " STR(
         CLI_CRON_MAX_COUNT) ")"},
    {.name = "user",
     .arg = "USER",
     .help = "The owner of a user crontab (default its spool file's name, else you)"},
    {.name = "system",
     .help = "The crontabs have a user column after the times, as /etc/crontab and /etc/cron.d have"},
    {.name = "skip-invalid", .help = "Leave out the lines that cannot be imported instead of failing"},
    {.name = "replicas", .arg = "COUNT", .help = "The new number of replicas (required)"},
    {.name = "current-replicas",
     .arg = "COUNT",
     .help = "Scale only when the object has this many replicas now (default -1: any)"},
    {.name = "watch",
     .arg = "BOOL",
     .help = "Keep polling until the rollout is complete (default true); =false prints the state once",
     .values = WORDS("true", "false")},
};

static const CliVerb verbs[] = {
    {.name = "apply",
     .synopsis = "apply -f FILE|DIR|- [-R] [--dry-run[=MODE]]",
     .summary = "Create or update objects from manifests",
     .details = "Reads YAML or JSON manifests, several documents per file, checks each object as "
                "the apiserver does and applies them all or none. An error names the file, the line "
                "and the field.",
     .flags = WORDS("filename", "recursive", "dry-run")},
    {.name = "validate",
     .synopsis = "validate -f FILE|DIR|- [-R]",
     .summary = "Check manifests without contacting the agent",
     .details = "Defaults and validates every object as apply does and prints one line per valid "
                "file; needs no agent.",
     .flags = WORDS("filename", "recursive")},
    {.name = "get",
     .synopsis = "get KIND[,KIND...] [NAME...] | KIND/NAME... [-o FORMAT] [-l SELECTOR] [-A]",
     .summary = "Show objects in kubectl's columns",
     .flags = WORDS("output", "selector", "all-namespaces", "show-labels", "ignore-not-found"),
     .args = CLI_VERB_ARGS_OBJECTS},
    {.name = "describe",
     .synopsis = "describe KIND [NAME...] | KIND/NAME... [-l SELECTOR] [-A]",
     .summary = "Show objects in detail, with their events",
     .flags = WORDS("selector", "all-namespaces"),
     .args = CLI_VERB_ARGS_OBJECTS},
    {.name = "delete",
     .synopsis = "delete KIND NAME... | KIND/NAME... | -f FILE | KIND --all | KIND -l SELECTOR",
     .summary = "Delete objects and wait until they are gone",
     .flags = WORDS("filename", "recursive", "selector", "all", "cascade", "grace-period", "now", "force",
                    "ignore-not-found", "wait", "timeout"),
     .args = CLI_VERB_ARGS_OBJECTS},
    {.name = "logs",
     .synopsis = "logs POD [-c CONTAINER] [-f] [-p] [--timestamps] [--tail N]",
     .summary = "Print the log of a pod's container",
     .details = "-f is --follow and -p is --previous here, as in kubectl.",
     .flags = WORDS("container", "follow", "previous", "timestamps", "tail"),
     .args = CLI_VERB_ARGS_POD},
    {.name = "wait",
     .synopsis = "wait --for=condition=NAME[=VALUE]|delete KIND/NAME... | KIND NAME... | KIND --all",
     .summary = "Wait for a condition of objects, or for their deletion",
     .details = "Polls the agent until every object meets the condition; fails after --timeout.",
     .flags = WORDS("for", "timeout", "selector", "all"),
     .args = CLI_VERB_ARGS_OBJECTS},
    {.name = "scale",
     .synopsis = "scale --replicas=COUNT [--current-replicas=COUNT] [--timeout=DURATION] KIND NAME... | "
                 "KIND/NAME... | -f FILE | KIND --all | KIND -l SELECTOR",
     .summary = "Set the number of replicas of StatefulSets",
     .details = "Reads each object, checks --current-replicas when given, and writes it back with the new "
                "spec.replicas; a change made by someone else in between makes it read and try again. With "
                "--timeout, waits until the StatefulSet has that many pods.",
     .flags = WORDS("replicas", "current-replicas", "filename", "recursive", "selector", "all", "timeout"),
     .args = CLI_VERB_ARGS_OBJECTS},
    {.name = "rollout",
     .synopsis = "rollout status KIND NAME | KIND/NAME [--watch=false] [--timeout=DURATION]",
     .summary = "Show the rollout status of a StatefulSet or DaemonSet",
     .details = "Polls the object and prints each new state until the rollout is complete (exit 0) or "
                "--timeout runs out (exit 1); --watch=false prints the state once. Only the RollingUpdate "
                "strategy has a rollout status.",
     .flags = WORDS("watch", "selector", "timeout"),
     .args = CLI_VERB_ARGS_WORDS,
     .words = WORDS("status")},
    {.name = "release",
     .synopsis = "release KIND/NAME ORDINAL | KIND NAME ORDINAL",
     .summary = "Let another node run an ordinal of a StatefulSet, giving up its local data",
     .details = "Cluster mode: an ordinal whose pod has node-local volumes runs only on the node holding "
                "its data; use release when that node is lost or its data no longer matters, so that "
                "another node may start the ordinal afresh. The data on the old node is abandoned. "
                "KIND is statefulset (sts).",
     .args = CLI_VERB_ARGS_OBJECTS},
    {.name = "create",
     .synopsis = "create job NAME --from=cronjob/CRONJOB",
     .summary = "Run a CronJob now: create a Job from its jobTemplate",
     .flags = WORDS("from"),
     .args = CLI_VERB_ARGS_WORDS,
     .words = WORDS("job")},
    {.name = "cron",
     .synopsis = "cron next SCHEDULE [--tz ZONE] [--from RFC3339] [-n COUNT]",
     .summary = "Print the next activation times of a CronJob schedule",
     .details = "Needs no agent. Times are strictly after --from, in RFC 3339 with the zone's offset. "
                "A schedule that never fires within five years prints no more times and a note on "
                "stderr, and exits 0. -n is --count here.",
     .flags = WORDS("tz", "from", "count"),
     .args = CLI_VERB_ARGS_WORDS,
     .words = WORDS("next")},
    {.name = "import",
     .synopsis = "import crontab [FILE|-]... [--user USER] [--system] [--skip-invalid]",
     .summary = "Print CronJobs that replace a crontab's jobs",
     .details = "Needs no agent; the output is YAML for berth apply -f - or the manifests directory. "
                "Without FILE, or with -, reads standard input. A line that cannot be imported fails "
                "the whole import, nothing printed, unless --skip-invalid.",
     .flags = WORDS("user", "system", "skip-invalid"),
     .args = CLI_VERB_ARGS_WORDS,
     .words = WORDS("crontab"),
     .file_args = true},
    {.name = "events",
     .synopsis = "events [-o FORMAT] [-l SELECTOR] [-A]",
     .summary = "Show events, as get events does",
     .flags = WORDS("output", "selector", "all-namespaces", "show-labels")},
    {.name = "version",
     .synopsis = "version [--client]",
     .summary = "Show the client's and the agent's versions",
     .flags = WORDS("client")},
    {.name = "completion",
     .synopsis = "completion bash|zsh",
     .summary = "Print a shell completion script",
     .details = "Source the output to complete verbs, flags, kinds and the names of objects "
                "(asked from the agent at completion time): "
                "source <(berth completion bash) in ~/.bashrc, or save berth completion zsh as "
                "_berth in a directory of $fpath.",
     .args = CLI_VERB_ARGS_WORDS,
     .words = WORDS("bash", "zsh")},
    {.name = "agent",
     .synopsis = "agent [OPTIONS]",
     .summary = "Run the node agent in the foreground (see berth-agent(8))",
     .agent = true},
    {.name = "help", .synopsis = "help [COMMAND]", .summary = "Show the help of berth or of a command"},
};

/* berth agent's flags: main.c parses them with getopt_long. */
static const CliFlagDoc agent_flags[] = {
    {.name = "config",
     .arg = "FILE",
     .help = "The configuration file (default " CLI_DOC_CONFIG_PATH "; see berth.yaml(5))",
     .files = true},
    {.name = "state-dir", .arg = "DIR", .help = "The state directory (config key stateDir)", .files = true},
    {.name = "socket", .arg = "PATH", .help = "The API socket (config key socket)", .files = true},
    {.name = "manifests-dir",
     .arg = "DIR",
     .help = "The watched manifests directory (config key manifestsDir)",
     .files = true},
    {.name = "node-name", .arg = "NAME", .help = "This node's name (config key nodeName)"},
    {.name = "log-dir", .arg = "DIR", .help = "The pods' log directory (config key logDir)", .files = true},
    {.name = "log-level",
     .arg = "LEVEL",
     .help = "debug, info, notice, warning or error (config key logLevel)",
     .values = WORDS("debug", "info", "notice", "warning", "error")},
    {.name = "drain", .help = "On SIGTERM, stop every workload before exiting"},
    {.name = "help", .shorthand = 'h', .help = "Print the agent's help"},
};

const CliVerb *cli_verbs(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(verbs);
        return verbs;
}

const CliVerb *cli_verbs_find(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

const CliFlagDoc *cli_verbs_flag_docs(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(flag_docs);
        return flag_docs;
}

const CliFlagDoc *cli_verbs_flag_doc(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(flag_docs); i++)
                if (streq(flag_docs[i].name, name))
                        return &flag_docs[i];
        return NULL;
}

const CliFlagDoc *cli_verbs_agent_flags(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(agent_flags);
        return agent_flags;
}

bool cli_verbs_flag_info(const char *name, const char *verb, CliFlagInfo *ret)
{
        for (size_t i = 0; cli_flag_info(i, verb, ret); i++)
                if (streq(ret->name, name))
                        return true;
        return false;
}

static bool in_list(const char *const *list, const char *s)
{
        for (; list && *list; list++)
                if (streq(*list, s))
                        return true;
        return false;
}

/* A flag no verb names yet is read by all of them (the parser accepts every flag anywhere). */
static bool is_global(const char *flag)
{
        const CliFlagDoc *d = cli_verbs_flag_doc(flag);

        if (d && d->global)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (in_list(verbs[i].flags, flag))
                        return false;
        return true;
}

bool cli_verbs_takes_flag(const CliVerb *v, const char *flag)
{
        return !v->agent && (in_list(v->flags, flag) || is_global(flag));
}

/* "-n, --namespace NS", "    --cascade[=MODE]", "-f, --filename FILE". */
static void print_spelling(FILE *out, const CliFlagInfo *fi, const CliFlagDoc *d, int width)
{
        char buf[128];
        const char *arg = d && d->arg ? d->arg : "VALUE";

        if (fi->shorthand)
                snprintf(buf, sizeof(buf), "-%c, --%s", fi->shorthand, fi->name);
        else
                snprintf(buf, sizeof(buf), "    --%s", fi->name);
        if (fi->value == CLI_FLAG_VALUE_REQUIRED)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s", arg);
        else if (fi->value == CLI_FLAG_VALUE_OPTIONAL)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "[=%s]", arg);
        fprintf(out, "  %-*s  %s\n", width, buf, d ? d->help : "");
}

/* Prints the flags of the table that v reads: its own, or (global) the others; v NULL:
 * the global flags. */
static void print_flags(FILE *out, const CliVerb *v, bool global)
{
        CliFlagInfo fi;

        for (size_t i = 0; cli_flag_info(i, v ? v->name : NULL, &fi); i++) {
                bool own = v && in_list(v->flags, fi.name);

                if (global ? !own && is_global(fi.name) : own)
                        print_spelling(out, &fi, cli_verbs_flag_doc(fi.name), 28);
        }
}

static void print_agent_flags(FILE *out)
{
        for (size_t i = 0; i < ELEMENTSOF(agent_flags); i++) {
                const CliFlagDoc *d = &agent_flags[i];
                CliFlagInfo fi = {.name = d->name,
                                  .shorthand = d->shorthand,
                                  .value = d->arg ? CLI_FLAG_VALUE_REQUIRED : CLI_FLAG_VALUE_NONE};
                print_spelling(out, &fi, d, 28);
        }
}

/* Prints text wrapped at 100 columns, each line indented by two spaces. */
static void print_wrapped(FILE *out, const char *text)
{
        size_t col = 0;

        while (*text) {
                size_t len = strcspn(text, " ");

                if (col > 0 && col + 1 + len > 100) {
                        fputc('\n', out);
                        col = 0;
                }
                fprintf(out, "%s%.*s", col == 0 ? "  " : " ", (int)len, text);
                col += (col == 0 ? 2 : 1) + len;
                text += len;
                text += strspn(text, " ");
        }
        fputc('\n', out);
}

static void print_overview(FILE *out)
{
        fputs("berth controls the berth node agent (kubectl's verbs and flags).\n"
              "\n"
              "Usage:\n"
              "  berth [flags] <command> [args] [flags]\n"
              "\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(out, "  %-12s%s\n", verbs[i].name, verbs[i].summary);
        fputs("\nGlobal flags:\n", out);
        print_flags(out, NULL, true);
        fputs("\nUse \"berth <command> --help\" for the synopsis and the flags of a command.\n", out);
}

void cli_verbs_print_help(FILE *out, const char *verb)
{
        const CliVerb *v = cli_verbs_find(verb);

        if (!v || streq(v->name, "help")) {
                print_overview(out);
                return;
        }
        fprintf(out, "%s.\n\nUsage:\n  berth %s\n", v->summary, v->synopsis);
        if (v->details) {
                fputc('\n', out);
                print_wrapped(out, v->details);
        }
        if (v->agent) {
                fputs("\nOptions:\n", out);
                print_agent_flags(out);
                return;
        }
        if (v->flags) {
                fputs("\nFlags:\n", out);
                print_flags(out, v, false);
        }
        fputs("\nGlobal flags:\n", out);
        print_flags(out, v, true);
}
