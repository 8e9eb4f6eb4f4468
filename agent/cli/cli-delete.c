/* delete: by name, KIND/NAME, -f FILE, --all or -l; DeleteOptions from --grace-period,
 * --now, --force and --cascade; then, as kubectl does, waits until the objects are gone. */
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

typedef struct Victim {
        const KindInfo *kind;
        char *ns;
        char *name;
        char *uid; /* of the object the DELETE answered with: a new one of that name is not it */
} Victim;

typedef struct Victims {
        Victim *v;
        size_t n;
} Victims;

static void victims_done(Victims *vs)
{
        for (size_t i = 0; i < vs->n; i++) {
                free(vs->v[i].ns);
                free(vs->v[i].name);
                free(vs->v[i].uid);
        }
        free(vs->v);
}

static int victims_add(Victims *vs, const KindInfo *k, const char *ns, const char *name)
{
        Victim *v = reallocarray(vs->v, vs->n + 1, sizeof(Victim));

        if (!v)
                return -ENOMEM;
        vs->v = v;
        v[vs->n] = (Victim){.kind = k, .ns = strdup(ns), .name = strdup(name)};
        if (!v[vs->n].ns || !v[vs->n].name) {
                free(v[vs->n].ns);
                free(v[vs->n].name);
                return -ENOMEM;
        }
        vs->n++;
        return 0;
}

static int from_files(const CliArgs *a, Victims *vs)
{
        CliDocs d = {};
        int r = cli_docs_load(&d, a->files, a->n_files, a->recursive, stderr);

        for (size_t i = 0; r >= 0 && i < d.n_docs; i++) {
                const cJSON *obj = manifest_doc_object(d.docs[i]);
                const char *kind = json_str(obj, "kind"), *name = json_str(obj, "metadata.name");
                const char *ns = json_str(obj, "metadata.namespace");
                const KindInfo *k = kind ? kind_by_kind(kind) : NULL;
                if (!k || isempty(name)) {
                        fprintf(stderr, "error: %s:%u: the object has no known kind and name\n",
                                manifest_doc_source(d.docs[i]), manifest_doc_line(d.docs[i], "kind"));
                        r = -EINVAL;
                        break;
                }
                r = victims_add(vs, k, isempty(ns) ? cli_args_namespace(a) : ns, name);
        }
        cli_docs_done(&d);
        return r;
}

/* --all or -l: every object of the kind that matches. */
static int from_list(CliHttp *h, const CliArgs *a, const KindInfo *k, Victims *vs)
{
        _cleanup_json_ cJSON *items = NULL;
        const cJSON *obj;
        int r = cli_http_list(h, k, cli_args_namespace(a), a->selector, &items);

        if (r != 0)
                return r > 0 ? -EIO : r;
        cJSON_ArrayForEach (obj, items) {
                const char *ns = json_str(obj, "metadata.namespace");
                r = victims_add(vs, k, isempty(ns) ? cli_args_namespace(a) : ns,
                                json_str(obj, "metadata.name") ?: "");
                if (r < 0)
                        return r;
        }
        if (vs->n == 0)
                fprintf(stderr, "No resources found\n");
        return 0;
}

static int collect(CliHttp *h, const CliArgs *a, Victims *vs)
{
        _cleanup_free_ CliTarget *t = NULL;
        int n, r = 0;

        if (a->n_files > 0) {
                if (a->n_pos > 0) {
                        fprintf(stderr,
                                "error: when paths, URLs, or stdin is provided as input, you may not "
                                "specify resources as arguments as well\n");
                        return -EINVAL;
                }
                return from_files(a, vs);
        }
        if (a->n_pos == 0) {
                fprintf(stderr, "error: You must provide one or more resources by argument or filename.\n");
                return -EINVAL;
        }
        n = cli_targets_parse(a->pos, a->n_pos, &t);
        if (n < 0)
                return n;
        if (n == 1 && !t[0].name) {
                if (!a->all && isempty(a->selector)) {
                        fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
                        return -EINVAL;
                }
                return from_list(h, a, t[0].kind, vs);
        }
        if (a->all || !isempty(a->selector)) {
                fprintf(stderr, "error: name cannot be provided when a selector or --all is specified\n");
                return -EINVAL;
        }
        for (int i = 0; r >= 0 && i < n; i++)
                r = victims_add(vs, t[i].kind, cli_args_namespace(a), t[i].name);
        return r;
}

static char *delete_options(const CliArgs *a)
{
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        int64_t grace = a->grace_period;
        const char *cascade = a->cascade ? a->cascade : "background";

        if (!o)
                return NULL;
        if (a->now)
                grace = 1;
        if (a->force && grace < 0)
                grace = 0;
        if (grace == 0 && !a->force)
                grace = 1; /* kubectl turns --grace-period=0 into 1 unless --force */
        cJSON_AddStringToObject(o, "kind", "DeleteOptions");
        cJSON_AddStringToObject(o, "apiVersion", "v1");
        if (grace >= 0)
                cJSON_AddNumberToObject(o, "gracePeriodSeconds", (double)grace);
        cJSON_AddStringToObject(o, "propagationPolicy",
                                streq(cascade, "foreground") ? "Foreground"
                                : streq(cascade, "orphan")   ? "Orphan"
                                                             : "Background");
        return json_print(o);
}

/* Returns 1 when the object was deleted, 0 when it was not found (and ignored), -1 on error. */
static int delete_one(CliHttp *h, const CliArgs *a, Victim *v, const char *body)
{
        _cleanup_free_ char *path = cli_http_path(v->kind, v->ns, v->name),
                            *res = cli_kind_resource_name(v->kind);
        CliResponse resp;
        int r;

        if (!path || !res)
                return -1;
        r = cli_http_request(h, "DELETE", path, body, &resp);
        if (r < 0)
                return -1;
        if (resp.status == 404 && a->ignore_not_found) {
                cli_response_done(&resp);
                return 0;
        }
        if (resp.status < 200 || resp.status >= 300) {
                cli_report_response(&resp);
                cli_response_done(&resp);
                return -1;
        }
        _cleanup_json_ cJSON *obj = resp.body ? cJSON_Parse(resp.body) : NULL;
        const char *uid = json_str(obj, "metadata.uid");
        if (uid && !streq_ptr(json_str(obj, "kind"), "Status"))
                v->uid = strdup(uid);
        cli_response_done(&resp);
        printf("%s \"%s\" %sdeleted\n", res, v->name, a->force ? "force " : "");
        return 1;
}

/* Polls until the object is gone; 0, or 1 after printing the timeout. */
static int wait_gone(CliHttp *h, const Victim *v, usec_t deadline)
{
        _cleanup_free_ char *path = cli_http_path(v->kind, v->ns, v->name);

        while (path && !cli_interrupted) {
                CliResponse resp;
                if (cli_http_request(h, "GET", path, NULL, &resp) < 0)
                        return 1;
                long status = resp.status;
                _cleanup_json_ cJSON *obj = status == 200 && resp.body ? cJSON_Parse(resp.body) : NULL;
                cli_response_done(&resp);
                /* gone, or replaced by a new object of the same name (a StatefulSet's pod) */
                if (status == 404 || (v->uid && obj && !streq_ptr(json_str(obj, "metadata.uid"), v->uid)))
                        return 0;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                cli_sleep(CLI_WAIT_POLL_USEC);
        }
        fprintf(stderr, "error: timed out waiting for the condition on %s/%s\n", v->kind->plural, v->name);
        return 1;
}

int cli_verb_delete(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ char *body = NULL;
        _cleanup_free_ bool *deleted = NULL;
        Victims vs = {};
        int rc = 0;

        if (a->force && a->grace_period != 0 && a->grace_period != -1) {
                fprintf(stderr, "error: --force requires --grace-period=0\n");
                return 1;
        }
        if (a->cascade && !streq(a->cascade, "background") && !streq(a->cascade, "foreground") &&
            !streq(a->cascade, "orphan") && !streq(a->cascade, "true") && !streq(a->cascade, "false")) {
                fprintf(stderr,
                        "error: invalid cascade value (%s). Must be \"background\", \"foreground\", or "
                        "\"orphan\"\n",
                        a->cascade);
                return 1;
        }
        if (cli_connect(a, &h) < 0 || collect(h, a, &vs) < 0) {
                victims_done(&vs);
                return 1;
        }
        body = delete_options(a);
        deleted = calloc(vs.n + 1, sizeof(bool));
        if (!body || !deleted) {
                victims_done(&vs);
                return 1;
        }
        if (a->force)
                fprintf(stderr,
                        "Warning: Immediate deletion does not wait for confirmation that the running "
                        "resource has been terminated. The resource may continue to run on the cluster "
                        "indefinitely.\n");
        for (size_t i = 0; i < vs.n; i++) {
                int r = delete_one(h, a, &vs.v[i], body);
                deleted[i] = r > 0;
                rc |= r < 0;
        }
        if (a->wait) {
                usec_t timeout =
                    a->timeout_set && a->timeout > 0 ? a->timeout : CLI_DELETE_DEFAULT_TIMEOUT_USEC;
                usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout;
                cli_catch_sigint();
                for (size_t i = 0; i < vs.n; i++)
                        if (deleted[i])
                                rc |= wait_gone(h, &vs.v[i], deadline);
        }
        victims_done(&vs);
        return rc;
}
