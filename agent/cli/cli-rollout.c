/* rollout status: kubectl's status viewers of StatefulSets and DaemonSets (the message and
 * whether the rollout is complete, from the object alone) and the verb, which polls the
 * object and prints each new message once until the rollout is complete or --timeout. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

/* What kubectl's typed conversion sees for an int32 pointer field: set or nil. */
static bool int_field(const cJSON *obj, const char *path, int64_t *ret)
{
        const cJSON *v = json_path(obj, path);

        if (!cJSON_IsNumber(v))
                return false;
        *ret = json_int(obj, path, 0);
        return true;
}

static int message(char **ret, int done, const char *fmt, ...) _printf_(3, 4);
static int message(char **ret, int done, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (r < 0)
                *ret = NULL;
        return r < 0 ? -ENOMEM : done;
}

/* The apiserver defaults updateStrategy.type to RollingUpdate; only another type has no status. */
static int check_strategy(const cJSON *obj, char **ret)
{
        const char *type = json_str(obj, "spec.updateStrategy.type");

        if (isempty(type) || streq(type, "RollingUpdate"))
                return 0;
        return message(ret, -EINVAL, "rollout status is only available for RollingUpdate strategy type");
}

static int statefulset_status(const cJSON *sts, char **ret)
{
        int64_t gen = json_int(sts, "metadata.generation", 0),
                observed = json_int(sts, "status.observedGeneration", 0);
        int64_t ready = json_int(sts, "status.readyReplicas", 0),
                updated = json_int(sts, "status.updatedReplicas", 0);
        const char *cur = json_str(sts, "status.currentRevision") ?: "",
                   *upd = json_str(sts, "status.updateRevision") ?: "";
        int64_t replicas = 0, partition = 0;
        bool has_replicas = int_field(sts, "spec.replicas", &replicas);
        int r = check_strategy(sts, ret);

        if (r < 0)
                return r;
        if (observed == 0 || gen > observed)
                return message(ret, 0, "Waiting for statefulset spec update to be observed...\n");
        if (has_replicas && ready < replicas)
                return message(ret, 0, "Waiting for %" PRIi64 " pods to be ready...\n", replicas - ready);
        if (cJSON_IsObject(json_path(sts, "spec.updateStrategy.rollingUpdate"))) {
                if (has_replicas &&
                    int_field(sts, "spec.updateStrategy.rollingUpdate.partition", &partition) &&
                    updated < replicas - partition)
                        return message(ret, 0,
                                       "Waiting for partitioned roll out to finish: %" PRIi64
                                       " out of %" PRIi64 " new pods have been updated...\n",
                                       updated, replicas - partition);
                return message(ret, 1,
                               "partitioned roll out complete: %" PRIi64 " new pods have been updated...\n",
                               updated);
        }
        if (!streq(upd, cur))
                return message(ret, 0,
                               "waiting for statefulset rolling update to complete %" PRIi64
                               " pods at revision %s...\n",
                               updated, upd);
        return message(ret, 1, "statefulset rolling update complete %" PRIi64 " pods at revision %s...\n",
                       json_int(sts, "status.currentReplicas", 0), cur);
}

static int daemonset_status(const cJSON *ds, char **ret)
{
        const char *name = json_str(ds, "metadata.name") ?: "";
        int64_t gen = json_int(ds, "metadata.generation", 0),
                observed = json_int(ds, "status.observedGeneration", 0);
        int64_t desired = json_int(ds, "status.desiredNumberScheduled", 0),
                updated = json_int(ds, "status.updatedNumberScheduled", 0),
                available = json_int(ds, "status.numberAvailable", 0);
        int r = check_strategy(ds, ret);

        if (r < 0)
                return r;
        if (gen > observed)
                return message(ret, 0, "Waiting for daemon set spec update to be observed...\n");
        if (updated < desired)
                return message(ret, 0,
                               "Waiting for daemon set \"%s\" rollout to finish: %" PRIi64 " out of %" PRIi64
                               " new pods have been updated...\n",
                               name, updated, desired);
        if (available < desired)
                return message(ret, 0,
                               "Waiting for daemon set \"%s\" rollout to finish: %" PRIi64 " of %" PRIi64
                               " updated pods are available...\n",
                               name, available, desired);
        return message(ret, 1, "daemon set \"%s\" successfully rolled out\n", name);
}

int cli_rollout_status_message(const KindInfo *k, const cJSON *obj, char **ret_msg)
{
        *ret_msg = NULL;
        if (streq(k->kind, "StatefulSet"))
                return statefulset_status(obj, ret_msg);
        if (streq(k->kind, "DaemonSet"))
                return daemonset_status(obj, ret_msg);
        /* a GroupKind as Go prints it: "Pod", "Job.batch" */
        return message(ret_msg, -EOPNOTSUPP, "no status viewer has been implemented for %s%s%s", k->kind,
                       isempty(k->group) ? "" : ".", k->group);
}

/* The one object the arguments name: KIND NAME, KIND/NAME, or a KIND (with -l) that has
 * exactly one. Returns 0 with *ret_kind and *ret_name set, or 1 after printing the error. */
static int resolve(CliHttp *h, const CliArgs *a, const KindInfo **ret_kind, char **ret_name)
{
        _cleanup_free_ CliTarget *t = NULL;
        _cleanup_json_ cJSON *items = NULL;
        int n;

        if (a->n_pos < 2) {
                fprintf(stderr, "error: required resource not specified\n");
                return 1;
        }
        n = cli_targets_parse(a->pos + 1, a->n_pos - 1, &t);
        if (n < 0)
                return 1;
        *ret_kind = t[0].kind;
        if (n == 1 && t[0].name) {
                *ret_name = strdup(t[0].name);
                return *ret_name ? 0 : 1;
        }
        if (n == 1) {
                if (cli_http_list(h, t[0].kind, cli_args_namespace(a), a->selector, &items) != 0)
                        return 1;
                n = cJSON_GetArraySize(items);
        }
        if (n != 1) {
                fprintf(stderr,
                        "error: rollout status is only supported on individual resources and resource "
                        "collections - %d resources were found\n",
                        n);
                return 1;
        }
        *ret_name = strdup(json_str(cJSON_GetArrayItem(items, 0), "metadata.name") ?: "");
        return *ret_name ? 0 : 1;
}

/* GETs the object: 0 with *ret set, 1 after printing the error. */
static int fetch(CliHttp *h, const char *path, bool deleted_error, cJSON **ret)
{
        CliResponse resp = {};
        int r = cli_http_get_json(h, path, ret, &resp);

        if (r == 404 && deleted_error) {
                fprintf(stderr, "error: object has been deleted\n");
                r = 1;
        } else if (r > 0)
                cli_report_response(&resp);
        cli_response_done(&resp);
        return r == 0 ? 0 : 1;
}

/* Prints each new message until done, not watching, or the deadline (0: none). */
static int watch_status(CliHttp *h, const KindInfo *k, const char *path, bool watch, usec_t deadline)
{
        _cleanup_free_ char *last = NULL;

        for (bool first = true;; first = false) {
                _cleanup_json_ cJSON *obj = NULL;
                _cleanup_free_ char *msg = NULL;
                int r;

                if (fetch(h, path, !first, &obj) != 0)
                        return 1;
                r = cli_rollout_status_message(k, obj, &msg);
                if (r == -ENOMEM)
                        return 1;
                if (r < 0) {
                        fprintf(stderr, "error: %s\n", msg);
                        return 1;
                }
                if (!streq_ptr(msg, last)) {
                        fputs(msg, stdout);
                        fflush(stdout);
                        free(last);
                        last = TAKE_PTR(msg);
                }
                if (r > 0 || !watch)
                        return 0;
                if (cli_interrupted || (deadline > 0 && now_usec(CLOCK_MONOTONIC) >= deadline))
                        break;
                cli_sleep(CLI_WAIT_POLL_USEC);
        }
        fprintf(stderr, "error: timed out waiting for the condition\n");
        return 1;
}

int cli_verb_rollout(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ char *name = NULL, *path = NULL;
        const KindInfo *k = NULL;
        bool watch = true;

        if (a->n_pos < 1 || !streq(a->pos[0], "status")) {
                fprintf(stderr,
                        "error: unknown command \"%s\" for \"berth rollout\" (only \"rollout status\")\n",
                        a->n_pos > 0 ? a->pos[0] : "");
                return 1;
        }
        if (a->watch && cli_parse_bool(a->watch, &watch) < 0) {
                fprintf(stderr, "error: invalid argument \"%s\" for \"-w, --watch\" flag\n", a->watch);
                return 1;
        }
        if (a->n_files > 0) {
                fprintf(stderr, "error: rollout status takes TYPE NAME or TYPE/NAME, not -f\n");
                return 1;
        }
        if (cli_connect(a, &h) < 0 || resolve(h, a, &k, &name) != 0)
                return 1;
        path = cli_http_path(k, cli_args_namespace(a), name);
        if (!path)
                return 1;
        cli_catch_sigint();
        return watch_status(h, k, path, watch,
                            a->timeout_set && a->timeout > 0 ? now_usec(CLOCK_MONOTONIC) + a->timeout : 0);
}
