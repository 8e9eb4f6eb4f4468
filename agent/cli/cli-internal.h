/* Internal interfaces between the CLI's files: the parsed command line, the HTTP client
 * for the agent's socket, output helpers (tables, JSON, YAML, names) and the verbs.
 * Everything that prints takes a FILE * so unit tests can capture it. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "manifest.h"
#include "util.h"

#define CLI_DEFAULT_SOCKET "/run/berth/berth.sock"
#define CLI_DEFAULT_NAMESPACE "default"
#define CLI_WAIT_POLL_USEC (200 * USEC_PER_MSEC)
#define CLI_LOGS_POLL_USEC (250 * USEC_PER_MSEC)
#define CLI_WAIT_DEFAULT_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define CLI_DELETE_DEFAULT_TIMEOUT_USEC (300 * USEC_PER_SEC)

/* ---- cli-args.c: the command line ---- */
typedef struct CliArgs {
        const char *verb;
        char **pos; /* positional arguments after the verb (borrowed from argv) */
        size_t n_pos;
        char **files; /* -f/--filename, repeatable (borrowed) */
        size_t n_files;

        const char *socket;
        const char *namespace;
        bool all_namespaces;
        const char *selector;
        const char *output;
        bool recursive;
        const char *dry_run; /* NULL, "none", "client" or "server" */
        bool show_labels;
        const char *container;
        bool follow, previous, timestamps;
        int64_t tail;         /* -1 = all */
        int64_t grace_period; /* -1 = the object's default */
        bool now, force, all, ignore_not_found, client, help;
        bool wait; /* default true */
        const char *cascade;
        usec_t timeout;
        bool timeout_set;
        const char *for_cond;
        const char *tz;   /* cron next --tz */
        const char *from; /* cron next --from RFC3339; create job --from=cronjob/NAME */
        int64_t count;    /* cron next -n/--count, -1 = unset */

        const char *crontab_user;          /* import crontab --user */
        bool system_crontab, skip_invalid; /* import crontab --system, --skip-invalid */

        /* scale --replicas and --current-replicas as given (NULL = not given; parsed by the verb
         * so that an unset flag differs from 0), rollout status -w/--watch (NULL = true) */
        const char *replicas;
        const char *current_replicas;
        const char *watch;
} CliArgs;

/* Parses argv (argv[0] = program name). On a usage error returns -EINVAL and sets
 * *ret_error to the message without the "error: " prefix. */
int cli_args_parse(CliArgs *a, int argc, char **argv, char **ret_error);
void cli_args_done(CliArgs *a);
/* The namespace to use: -n, else "default". */
const char *cli_args_namespace(const CliArgs *a);

/* ---- cli-http.c: requests to the agent ---- */
typedef struct CliResponse {
        long status;
        char *body;
        size_t size;
        char *log_offset; /* X-Berth-Log-Offset, or NULL */
        char **warnings;  /* texts of Warning headers */
        size_t n_warnings;
} CliResponse;

typedef struct CliHttp CliHttp;

int cli_http_new(CliHttp **ret, const char *socket_path);
CliHttp *cli_http_free(CliHttp *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(CliHttp *, cli_http_free);
/* Performs one request. Returns 0 (whatever the HTTP status) or -ECONNREFUSED & co when
 * the agent cannot be reached, after printing the "cannot reach" line on stderr. Prints
 * every Warning header as "Warning: ..." on stderr. */
int cli_http_request(CliHttp *h, const char *method, const char *path, const char *body, CliResponse *ret);
void cli_response_done(CliResponse *r);
/* Formats a non-2xx response as kubectl does ("Error from server (NotFound): ..."). */
char *cli_http_error_message(const CliResponse *r);
/* GET path and parse a 2xx JSON body. Returns the HTTP status when not 2xx (> 0, body
 * kept in *ret_resp when non-NULL), 0 with *ret set, or a negative errno. */
int cli_http_get_json(CliHttp *h, const char *path, cJSON **ret, CliResponse *ret_resp);
/* GETs the list of kind k (ns NULL = all namespaces), with ?labelSelector= when selector is
 * set, into *ret_items (an empty array when the list has none). Returns 0, or after
 * printing the error the HTTP status (> 0) or a negative errno. */
int cli_http_list(CliHttp *h, const KindInfo *k, const char *ns, const char *selector, cJSON **ret_items);
/* URL-escapes s (malloc'd). */
char *cli_http_escape(const char *s);
/* The REST path of a kind: "/api/v1/namespaces/ns/pods[/name]"; ns NULL = all namespaces. */
char *cli_http_path(const KindInfo *k, const char *ns, const char *name);
/* Prints err as "error: ..." or the server's message on stderr and returns 1. */
int cli_report_response(const CliResponse *r);

/* ---- cli-tabwriter.c: Go's text/tabwriter ---- */
/* Formats text whose cells are tab-terminated into aligned columns, as Go's tabwriter
 * with the given minimum width and padding (flags 0, pad char ' '). */
void cli_tabwriter_print(FILE *out, const char *text, size_t minwidth, size_t padding);

/* ---- cli-yaml.c / cli-json: object output ---- */
/* YAML as kubectl -o yaml prints it (block style, 2-space indentation, keys in order). */
int cli_yaml_print(FILE *out, const cJSON *j);
/* JSON with 4-space indentation as kubectl -o json prints it. */
void cli_json_print(FILE *out, const cJSON *j);

/* ---- cli-columns.c: kubectl's columns per kind ---- */
typedef struct CliPrintOptions {
        usec_t now;
        bool wide;
        bool with_namespace;
        bool show_labels;
        bool show_kind; /* NAME as "pod/web", as kubectl prints it when several kinds are listed */
} CliPrintOptions;

typedef struct CliPodSummary {
        char ready[32];
        char *status; /* malloc'd */
        char *restarts;
        unsigned n_restarts;
} CliPodSummary;

int cli_pod_summary(const cJSON *pod, usec_t now, CliPodSummary *ret);
void cli_pod_summary_done(CliPodSummary *s);
/* Prints items (a JSON array of objects of kind k) as kubectl's table. */
int cli_columns_print(FILE *out, const KindInfo *k, const cJSON *items, const CliPrintOptions *o);
/* "5m" since an RFC 3339 time stamp, "<unknown>" when missing or unparsable. */
void cli_age(const char *rfc3339, usec_t now, char *buf, size_t size);
/* "app=web,tier=db" sorted by key, "<none>" when empty (malloc'd). */
char *cli_format_labels(const cJSON *labels);

/* ---- cli-print.c: choosing the output ---- */
typedef enum CliOutput {
        CLI_OUTPUT_TABLE,
        CLI_OUTPUT_WIDE,
        CLI_OUTPUT_JSON,
        CLI_OUTPUT_YAML,
        CLI_OUTPUT_NAME,
} CliOutput;

int cli_output_parse(const char *s, CliOutput *ret, char **ret_error);
/* "pod", "job.batch" (kubectl's resource prefix for -o name and messages). */
char *cli_kind_resource_name(const KindInfo *k);
/* Prints objects: -o json/yaml as one object when single, else as a v1 List. */
int cli_print_objects(FILE *out, const KindInfo *k, cJSON *items, bool single, CliOutput o,
                      const CliPrintOptions *po);

/* ---- cli-apply.c ---- */
typedef struct CliDocs {
        ManifestSet **sets;
        size_t n_sets;
        ManifestDoc **docs; /* every document of every set, in order */
        size_t n_docs;
} CliDocs;

/* Loads every -f argument (FILE, DIR, "-"). Prints errors on err. */
int cli_docs_load(CliDocs *d, char **files, size_t n_files, bool recursive, FILE *err);
void cli_docs_done(CliDocs *d);
/* Defaults and validates every document; prints errors on err and warnings on err.
 * Returns the number of invalid documents or a negative errno. */
int cli_docs_check(CliDocs *d, const char *default_ns, FILE *err);
/* Maps a 422 Status's causes ("items[i].path") to "file:line: path: message" lines on err.
 * Returns the number of lines printed. */
int cli_apply_print_causes(const CliDocs *d, const cJSON *status, FILE *err);
/* Prints ApplyResult items as "pod/web created" lines. */
int cli_apply_print_result(const cJSON *result, const char *suffix, FILE *out);

int cli_verb_apply(const CliArgs *a);
int cli_verb_validate(const CliArgs *a, FILE *out, FILE *err);

/* ---- verbs (cli-get.c, cli-delete.c, cli-describe.c, cli-logs.c, cli-wait.c) ---- */
/* Resolves "pods", "po", "jobs.batch". Returns NULL after printing the kubectl error. */
const KindInfo *cli_kind_resolve(const char *name);
/* --socket, else $BERTH_SOCKET, else the default. */
const char *cli_socket_path(const CliArgs *a);
/* Creates the HTTP client for the socket (prints the error). */
int cli_connect(const CliArgs *a, CliHttp **ret);

/* What the positional arguments name: "KIND [NAME...]" or "KIND/NAME...". */
typedef struct CliTarget {
        const KindInfo *kind;
        const char *name; /* NULL = every object of the kind */
} CliTarget;
/* Returns the number of targets (> 0) or -EINVAL after printing the error. */
int cli_targets_parse(char **pos, size_t n_pos, CliTarget **ret);
int cli_verb_get(const CliArgs *a);
int cli_verb_delete(const CliArgs *a);
int cli_verb_describe(const CliArgs *a);
int cli_verb_logs(const CliArgs *a);
int cli_verb_wait(const CliArgs *a);

/* kubectl's access-mode abbreviations ("RWO,RWOP"): each known mode once, in kubectl's order. */
void cli_access_modes(const cJSON *modes, char *buf, size_t size);
/* The class of a PersistentVolume or PersistentVolumeClaim, beta annotation first ("" when none). */
const char *cli_storage_class_name(const cJSON *obj);
/* Whether a StorageClass has the (beta) is-default-class annotation set to "true". */
bool cli_storage_class_is_default(const cJSON *sc);

/* Pieces of describe pages (cli-describe.c) and the storage kinds' pages
 * (cli-describe-storage.c; pods: the claim's namespace's pods, for "Used By"). */
void cli_describe_rfc1123z(const char *rfc3339, char *buf, size_t size);
void cli_describe_labels(FILE *f, int level, const char *title, const cJSON *map);
void cli_describe_annotations(FILE *f, const char *title, const cJSON *map);
void cli_describe_pvc(FILE *f, const cJSON *pvc, const cJSON *pods, usec_t now);
void cli_describe_pv(FILE *f, const cJSON *pv, usec_t now);
void cli_describe_storageclass(FILE *f, const cJSON *sc);

/* Describe text for one object (pods detailed, others generic), events as given.
 * related: for a Pod its live probe states (GET .../probes), for a PersistentVolumeClaim the
 * pods of its namespace (Used By), else NULL. */
int cli_describe_print(FILE *out, const KindInfo *k, const cJSON *obj, const cJSON *events,
                       const cJSON *probes, usec_t now);

/* Sleeps for usec, returns early on a signal. */
void cli_sleep(usec_t usec);
/* Set by the SIGINT handler the logs/wait loops install. */
extern volatile int cli_interrupted;
void cli_catch_sigint(void);

/* ---- cli-cron.c: `berth cron next` (needs no agent) ---- */
#define CLI_CRON_DEFAULT_COUNT 1
#define CLI_CRON_MAX_COUNT 1000
/* Prints the next activation times of a schedule; the clock is now_sec unless --from. */
int cli_verb_cron(const CliArgs *a, int64_t now_sec, FILE *out, FILE *err);

/* ---- cli-import.c: `berth import crontab [FILE|-]...` (needs no agent) ---- */
/* Prints the CronJobs replacing the crontabs' jobs on out, reports on err; "-" reads in.
 * Returns the exit status. */
int cli_verb_import(const CliArgs *a, FILE *in, FILE *out, FILE *err);

/* ---- cli-create.c: `berth create job NAME --from=cronjob/NAME` ---- */
/* Builds the Job kubectl's `create job --from=cronjob/...` posts, from the CronJob object.
 * Returns 0 and a new object, -EINVAL when the CronJob has no spec.jobTemplate, -ENOMEM. */
int cli_create_job_from_cronjob(const cJSON *cronjob, const char *name, const char *ns, cJSON **ret);
int cli_verb_create(const CliArgs *a);

/* Go's strconv.ParseBool: 1 t T true TRUE True, 0 f F false FALSE False; else -EINVAL. */
int cli_parse_bool(const char *s, bool *ret);

/* ---- cli-collect.c: the objects a verb acts on ---- */
typedef struct CliObjectRef {
        const KindInfo *kind;
        char *ns;
        char *name;
        char *uid; /* delete: of the object the DELETE answered with, or NULL */
} CliObjectRef;

typedef struct CliObjectRefs {
        CliObjectRef *v;
        size_t n;
} CliObjectRefs;

void cli_object_refs_done(CliObjectRefs *l);
/* -f FILE..., TYPE NAME..., TYPE/NAME..., or TYPE with --all or -l (listed from the API), as
 * kubectl finds them. Returns 0, 1 when the objects came from a list (which may be empty), or
 * a negative errno after printing the error in kubectl's words. */
int cli_collect_objects(CliHttp *h, const CliArgs *a, CliObjectRefs *ret);

/* ---- cli-scale.c: `berth scale` (StatefulSets) ---- */
/* kubectl retries a write that lost to a concurrent change (409) for up to 5 minutes. */
#define CLI_SCALE_RETRY_USEC (300 * USEC_PER_SEC)
/* Reads --replicas and --current-replicas (-1 when not given). Returns 0, or -EINVAL with
 * kubectl's message (without "error: ") in *ret_error. */
int cli_scale_parse_options(const CliArgs *a, int64_t *ret_replicas, int64_t *ret_current, char **ret_error);
/* Checks the --current-replicas precondition (current -1: none) against obj's spec.replicas
 * and sets spec.replicas to replicas. Returns 0, -ESTALE with kubectl's precondition message
 * in *ret_error ("Expected replicas to be 3, was 2"), or -ENOMEM. */
int cli_scale_set_replicas(cJSON *obj, int64_t replicas, int64_t current, char **ret_error);
/* kubectl's scaleHasDesiredReplicas: spec.replicas and status.replicas are both replicas,
 * or something else has set spec.replicas since. */
bool cli_scale_synced(const cJSON *obj, int64_t replicas);
int cli_verb_scale(const CliArgs *a);

/* ---- cli-rollout.c: `berth rollout status` (StatefulSets, DaemonSets) ---- */
/* kubectl's status viewer of obj, of kind k: sets *ret_msg (malloc'd, ending in a newline)
 * and returns 1 when the rollout is complete, 0 when it is not yet; returns -EINVAL (a strategy
 * without rollout status) or -EOPNOTSUPP (a kind without a viewer) with kubectl's error
 * (without "error: ") in *ret_msg; -ENOMEM. */
int cli_rollout_status_message(const KindInfo *k, const cJSON *obj, char **ret_msg);
int cli_verb_rollout(const CliArgs *a);

/* ---- cli-release.c: `berth release` (StatefulSets in cluster mode) ---- */
/* Reads "KIND/NAME ORDINAL" or "KIND NAME ORDINAL" (KIND a StatefulSet's name). Returns 0 with
 * *ret_name borrowed from pos, -EINVAL with the message (without "error: ") in *ret_error, or
 * -ENOMEM. */
int cli_release_parse(char **pos, size_t n_pos, const char **ret_name, int64_t *ret_ordinal,
                      char **ret_error);
int cli_verb_release(const CliArgs *a);

/* Parses a JSON body of a response (NULL when not JSON). */
cJSON *cli_response_json(const CliResponse *r);
