/* wait: --for=condition=C[=value] and --for=delete on KIND/NAME, KIND NAME..., or KIND
 * with -l/--all; polls every 200 ms until every object meets the condition or --timeout
 * (30s by default) runs out. */
#include <string.h>
#include <strings.h>

#include "cli-internal.h"
#include "json-util.h"

typedef struct WaitFor {
        bool delete;
        char *type;
        char *value; /* "True" unless given */
} WaitFor;

static void wait_for_done(WaitFor *w)
{
        free(w->type);
        free(w->value);
}

int cli_wait_parse_for(const char *s, WaitFor *ret);
int cli_wait_parse_for(const char *s, WaitFor *ret)
{
        const char *eq;

        *ret = (WaitFor){};
        if (isempty(s))
                return -EINVAL;
        if (streq(s, "delete")) {
                ret->delete = true;
                return 0;
        }
        if (strncasecmp(s, "condition=", 10) != 0 || isempty(s + 10))
                return -EINVAL;
        s += 10;
        eq = strchr(s, '=');
        ret->type = eq ? strndup(s, (size_t)(eq - s)) : strdup(s);
        ret->value = strdup(eq ? eq + 1 : "True");
        if (!ret->type || !ret->value) {
                wait_for_done(ret);
                return -ENOMEM;
        }
        return 0;
}

static bool condition_met(const cJSON *obj, const WaitFor *w)
{
        const cJSON *c;

        cJSON_ArrayForEach (c, json_path(obj, "status.conditions")) {
                const char *t = json_str(c, "type"), *s = json_str(c, "status");
                if (t && s && strcasecmp(t, w->type) == 0 && strcasecmp(s, w->value) == 0)
                        return true;
        }
        return false;
}

/* 1 when met, 0 when not yet, -1 on a hard error (printed). */
static int check(CliHttp *h, const char *path, const WaitFor *w)
{
        _cleanup_json_ cJSON *obj = NULL;
        CliResponse resp = {};
        int r = cli_http_get_json(h, path, &obj, &resp);

        if (r == 404) {
                cli_response_done(&resp);
                if (w->delete)
                        return 1;
                return 0;
        }
        if (r > 0) {
                cli_report_response(&resp);
                cli_response_done(&resp);
                return -1;
        }
        if (r < 0)
                return -1;
        return w->delete ? 0 : condition_met(obj, w);
}

static int wait_one(CliHttp *h, const CliArgs *a, const KindInfo *k, const char *name, const WaitFor *w,
                    usec_t deadline)
{
        _cleanup_free_ char *path = cli_http_path(k, cli_args_namespace(a), name),
                            *res = cli_kind_resource_name(k);

        if (!path || !res)
                return 1;
        for (;;) {
                int r = check(h, path, w);
                if (r < 0)
                        return 1;
                if (r > 0) {
                        printf("%s/%s %s\n", res, name, w->delete ? "deleted" : "condition met");
                        return 0;
                }
                if (cli_interrupted || now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                cli_sleep(CLI_WAIT_POLL_USEC);
        }
        fprintf(stderr, "error: timed out waiting for the condition on %s/%s\n", k->plural, name);
        return 1;
}

int cli_verb_wait(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ CliTarget *t = NULL;
        _cleanup_json_ cJSON *items = NULL;
        usec_t deadline;
        WaitFor w;
        int n, rc = 0;

        if (cli_wait_parse_for(a->for_cond, &w) < 0) {
                fprintf(stderr,
                        "error: --for must be set to \"delete\" or \"condition=condition-name[=value]\"\n");
                return 1;
        }
        n = cli_targets_parse(a->pos, a->n_pos, &t);
        if (n < 0 || cli_connect(a, &h) < 0) {
                wait_for_done(&w);
                return 1;
        }
        deadline = now_usec(CLOCK_MONOTONIC) + (a->timeout_set ? a->timeout : CLI_WAIT_DEFAULT_TIMEOUT_USEC);
        cli_catch_sigint();
        if (n == 1 && !t[0].name) {
                const cJSON *it;
                if (!a->all && isempty(a->selector)) {
                        fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
                        rc = 1;
                } else if (cli_http_list(h, t[0].kind, cli_args_namespace(a), a->selector, &items) != 0)
                        rc = 1;
                else if (cJSON_GetArraySize(items) == 0) {
                        fprintf(stderr, "error: no matching resources found\n");
                        rc = 1;
                } else
                        cJSON_ArrayForEach (it, items)
                                rc |= wait_one(h, a, t[0].kind, json_str(it, "metadata.name") ?: "", &w,
                                               deadline);
        } else
                for (int i = 0; i < n; i++)
                        rc |= wait_one(h, a, t[i].kind, t[i].name, &w, deadline);
        wait_for_done(&w);
        return rc;
}
