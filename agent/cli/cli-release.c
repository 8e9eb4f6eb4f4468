/* release: `berth release statefulset/NAME ORDINAL` asks the agent (cluster mode) to drop the
 * sticky binding of one ordinal of a StatefulSet to the node that holds its local volumes, so
 * that another node may run it. The data on the old node is given up, so the arguments are
 * checked here before anything is sent, and the agent's refusals are printed as it words them. */
#include <inttypes.h>
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

#define USAGE "berth release statefulset/NAME ORDINAL"

/* A whole number >= 0 in decimal digits only: no sign, blank, fraction or exponent, since a
 * typo here releases the wrong ordinal's data. StatefulSet ordinals are int32. */
static int parse_ordinal(const char *s, int64_t *ret, char **ret_error)
{
        char *end;
        unsigned long long v;

        if (isempty(s) || strspn(s, "0123456789") != strlen(s)) {
                asprintf_safe(ret_error, "invalid ordinal \"%s\": must be a whole number >= 0", s);
                return -EINVAL;
        }
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v > INT32_MAX) {
                asprintf_safe(ret_error, "invalid ordinal \"%s\": must be at most %d", s, INT32_MAX);
                return -EINVAL;
        }
        *ret = (int64_t)v;
        return 0;
}

int cli_release_parse(char **pos, size_t n_pos, const char **ret_name, int64_t *ret_ordinal,
                      char **ret_error)
{
        const char *slash, *name, *ordinal;
        _cleanup_free_ char *kind = NULL;
        const KindInfo *k;
        size_t n_want;

        *ret_error = NULL;
        if (n_pos == 0) {
                *ret_error = strdup("a statefulset and an ordinal are required: " USAGE);
                return -EINVAL;
        }
        slash = strchr(pos[0], '/');
        kind = slash ? strndup(pos[0], (size_t)(slash - pos[0])) : strdup(pos[0]);
        if (!kind)
                return -ENOMEM;
        k = kind_lookup(kind);
        if (!k) {
                asprintf_safe(ret_error, "the server doesn't have a resource type \"%s\"", kind);
                return -EINVAL;
        }
        if (!streq(k->kind, "StatefulSet")) {
                *ret_error = strdup("release works on statefulsets only");
                return -EINVAL;
        }
        n_want = slash ? 2 : 3;
        name = slash ? slash + 1 : n_pos > 1 ? pos[1] : NULL;
        if (isempty(name)) {
                *ret_error = strdup("the name of the statefulset is required: " USAGE);
                return -EINVAL;
        }
        /* the name becomes a segment of the request's path */
        if (strchr(name, '/')) {
                asprintf_safe(ret_error, "invalid statefulset name \"%s\"", name);
                return -EINVAL;
        }
        if (n_pos < n_want) {
                *ret_error = strdup("the ordinal to release is required: " USAGE);
                return -EINVAL;
        }
        if (n_pos > n_want) {
                asprintf_safe(ret_error, "unexpected argument \"%s\": " USAGE, pos[n_want]);
                return -EINVAL;
        }
        ordinal = pos[n_want - 1];
        if (parse_ordinal(ordinal, ret_ordinal, ret_error) < 0)
                return -EINVAL;
        *ret_name = name;
        return 0;
}

/* POSTs the release and reports the answer; returns the exit status. */
static int post_release(CliHttp *h, const char *ns, const char *name, int64_t ordinal)
{
        const KindInfo *k = kind_by_kind("StatefulSet");
        _cleanup_free_ char *base = NULL, *path = NULL, *body = NULL, *res = NULL;
        CliResponse resp = {};
        int rc = 0;

        base = k ? cli_http_path(k, ns, name) : NULL;
        path = base ? strjoin(base, "/release", NULL) : NULL;
        res = k ? cli_kind_resource_name(k) : NULL;
        if (asprintf_safe(&body, "{\"ordinal\":%" PRIi64 "}", ordinal) < 0 || !path || !res) {
                fputs("error: out of memory\n", stderr);
                return 1;
        }
        if (cli_http_request(h, "POST", path, body, &resp) < 0)
                return 1;
        if (resp.status >= 200 && resp.status < 300)
                printf("%s/%s ordinal %" PRIi64 " released\n", res, name, ordinal);
        else {
                _cleanup_json_ cJSON *st = cli_response_json(&resp);
                const char *msg = json_str(st, "message");

                /* the agent's message says why (not found, not bound, not cluster mode) */
                if (!isempty(msg))
                        fprintf(stderr, "error: %s\n", msg);
                else
                        cli_report_response(&resp);
                rc = 1;
        }
        cli_response_done(&resp);
        return rc;
}

int cli_verb_release(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ char *err = NULL;
        const char *name = NULL;
        int64_t ordinal;

        if (cli_release_parse(a->pos, a->n_pos, &name, &ordinal, &err) < 0) {
                fprintf(stderr, "error: %s\n", err ?: "out of memory");
                return 1;
        }
        if (cli_connect(a, &h) < 0)
                return 1;
        return post_release(h, cli_args_namespace(a), name, ordinal);
}
