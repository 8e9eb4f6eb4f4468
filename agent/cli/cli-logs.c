/* logs: a pod container's log from the agent (-c, -p, --timestamps, --tail), and -f by
 * polling with the X-Berth-Log-Offset the API hands back, until the pod is gone or the
 * container has terminated with nothing more to read, or until SIGINT. */
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

/* The container to read: -c, the only one, or kubectl's default-container annotation /
 * the first (with kubectl's notice on stderr). */
static char *pick_container(const CliArgs *a, const cJSON *pod)
{
        const cJSON *cs = json_path(pod, "spec.containers"), *c;
        const char *def;

        if (a->container)
                return strdup(a->container);
        if (cJSON_GetArraySize(cs) == 1)
                return strdup(json_str(cJSON_GetArrayItem(cs, 0), "name") ?: "");
        if (cJSON_GetArraySize(cs) == 0)
                return strdup("");
        c = cJSON_GetObjectItem(json_path(pod, "metadata.annotations"),
                                "kubectl.kubernetes.io/default-container");
        def = cJSON_IsString(c) ? c->valuestring : NULL;
        def = def ? def : json_str(cJSON_GetArrayItem(cs, 0), "name");
        fprintf(stderr, "Defaulted container \"%s\" out of: ", def ? def : "");
        cJSON_ArrayForEach (c, cs)
                fprintf(stderr, "%s%s", c == cs->child ? "" : ", ", json_str(c, "name") ?: "");
        fputc('\n', stderr);
        return strdup(def ? def : "");
}

/* Is the pod gone (1), its container terminated (1), or still running (0)? */
static int container_done(CliHttp *h, const char *pod_path, const char *container)
{
        _cleanup_json_ cJSON *pod = NULL;
        CliResponse resp = {};
        const cJSON *s;
        int r = cli_http_get_json(h, pod_path, &pod, &resp);

        cli_response_done(&resp);
        if (r == 404)
                return 1;
        if (r != 0)
                return r < 0 ? r : 0;
        cJSON_ArrayForEach (s, json_path(pod, "status.containerStatuses")) {
                const char *n = json_str(s, "name");
                if (n && streq(n, container))
                        return json_path(s, "state.terminated") != NULL;
        }
        /* no status yet: done only when the pod itself has finished */
        const char *phase = json_str(pod, "status.phase");
        return phase && (streq(phase, "Succeeded") || streq(phase, "Failed"));
}

/* One log request; prints the text. Returns the bytes read (>= 0) or -1 on error. */
static long fetch_log(CliHttp *h, const char *base, const char *offset, char **next_offset)
{
        _cleanup_free_ char *path = offset ? strjoin(base, "&offset=", offset, NULL) : strdup(base);
        CliResponse resp;
        long n;

        if (!path || cli_http_request(h, "GET", path, NULL, &resp) < 0)
                return -1;
        if (resp.status < 200 || resp.status >= 300) {
                cli_report_response(&resp);
                cli_response_done(&resp);
                return -1;
        }
        if (resp.size > 0) {
                fwrite(resp.body, 1, resp.size, stdout);
                fflush(stdout);
        }
        if (resp.log_offset) {
                free(*next_offset);
                *next_offset = TAKE_PTR(resp.log_offset);
        }
        n = (long)resp.size;
        cli_response_done(&resp);
        return n;
}

static int parse_pod_arg(const CliArgs *a, const char **ret_name)
{
        const char *s, *sl;

        if (a->n_pos == 0 || a->n_pos > 2 || (a->n_pos == 2 && a->container)) {
                fprintf(stderr, "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'\n");
                return -EINVAL;
        }
        s = a->pos[0];
        sl = strchr(s, '/');
        if (sl) {
                _cleanup_free_ char *kind = strndup(s, (size_t)(sl - s));
                const KindInfo *k = kind ? cli_kind_resolve(kind) : NULL;
                if (!k)
                        return -EINVAL;
                if (!streq(k->kind, "Pod")) {
                        fprintf(stderr, "error: cannot get the logs of a %s, only of pods\n", k->kind);
                        return -EINVAL;
                }
                s = sl + 1;
        }
        *ret_name = s;
        return 0;
}

static char *log_path(const CliArgs *a, const char *pod_path, const char *container)
{
        _cleanup_free_ char *esc = cli_http_escape(container);
        char *p = NULL;

        if (!esc)
                return NULL;
        asprintf_safe(&p, "%s/log?container=%s%s%s", pod_path, esc, a->previous ? "&previous=true" : "",
                      a->timestamps ? "&timestamps=true" : "");
        return p;
}

int cli_verb_logs(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ char *pod_path = NULL, *container = NULL, *base = NULL, *first = NULL, *offset = NULL;
        _cleanup_json_ cJSON *pod = NULL;
        const KindInfo *pk = kind_by_kind("Pod");
        CliResponse resp = {};
        const char *name;
        int r;

        if (!pk || parse_pod_arg(a, &name) < 0 || cli_connect(a, &h) < 0)
                return 1;
        pod_path = cli_http_path(pk, cli_args_namespace(a), name);
        if (!pod_path)
                return 1;
        r = cli_http_get_json(h, pod_path, &pod, &resp);
        if (r != 0) {
                if (r > 0)
                        cli_report_response(&resp);
                cli_response_done(&resp);
                return 1;
        }
        container = a->n_pos == 2 ? strdup(a->pos[1]) : pick_container(a, pod);
        base = container ? log_path(a, pod_path, container) : NULL;
        if (!base)
                return 1;
        if (a->tail >= 0)
                asprintf_safe(&first, "%s&tailLines=%lld", base, (long long)a->tail);
        if (fetch_log(h, first ? first : base, NULL, &offset) < 0)
                return 1;
        if (!a->follow || !offset)
                return 0;
        cli_catch_sigint();
        while (!cli_interrupted) {
                int done;
                cli_sleep(CLI_LOGS_POLL_USEC);
                if (cli_interrupted)
                        break;
                /* check the state before reading, so output written before the end is not lost */
                done = container_done(h, pod_path, container);
                if (done < 0)
                        return 1;
                long n = fetch_log(h, base, offset, &offset);
                if (n < 0)
                        return done > 0 ? 0 : 1;
                if (n == 0 && done > 0)
                        break;
        }
        return 0;
}
