/* get: fetches lists (with -l, -A) or named objects and prints them as a table or
 * -o json|yaml|name; plus the target syntax shared by get, delete, describe and wait
 * ("KIND NAME..." or "KIND/NAME..."). */
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

int cli_targets_parse(char **pos, size_t n_pos, CliTarget **ret)
{
        _cleanup_free_ CliTarget *t = NULL;
        bool slash = n_pos > 0 && strchr(pos[0], '/');
        size_t n = 0;

        if (n_pos == 0) {
                fprintf(stderr, "error: you must specify the type of resource\n");
                return -EINVAL;
        }
        t = calloc(MAX(n_pos, 1u), sizeof(CliTarget));
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < n_pos; i++) {
                const char *s = pos[i], *sl = strchr(s, '/');
                if (slash != !!sl) {
                        fprintf(stderr, "error: arguments in resource/name form must have a single resource "
                                        "and name\n");
                        return -EINVAL;
                }
                if (slash) {
                        _cleanup_free_ char *kind = strndup(s, (size_t)(sl - s));
                        if (!kind)
                                return -ENOMEM;
                        if (isempty(sl + 1) || !(t[n].kind = cli_kind_resolve(kind))) {
                                if (isempty(sl + 1))
                                        fprintf(stderr, "error: arguments in resource/name form must have a "
                                                        "single resource and name\n");
                                return -EINVAL;
                        }
                        t[n++].name = sl + 1;
                } else if (i == 0) {
                        if (!(t[0].kind = cli_kind_resolve(s)))
                                return -EINVAL;
                        n = 1;
                } else {
                        t[n].kind = t[0].kind;
                        t[n++].name = s;
                        if (i == 1)
                                memmove(&t[0], &t[1], sizeof(CliTarget)), n = 1;
                }
        }
        *ret = TAKE_PTR(t);
        return (int)n;
}

static int cmp_event_time(const cJSON *a, const cJSON *b)
{
        const char *keys[] = {"series.lastObservedTime", "lastTimestamp", "eventTime", "firstTimestamp"};
        usec_t ta = 0, tb = 0;

        for (size_t i = 0; i < ELEMENTSOF(keys) && ta == 0; i++)
                if (json_str(a, keys[i]))
                        (void)parse_rfc3339(json_str(a, keys[i]), &ta);
        for (size_t i = 0; i < ELEMENTSOF(keys) && tb == 0; i++)
                if (json_str(b, keys[i]))
                        (void)parse_rfc3339(json_str(b, keys[i]), &tb);
        return ta < tb ? -1 : ta > tb;
}

/* Sorts events by their last time (insertion sort: lists are short). */
static void sort_events(cJSON *items)
{
        int n = cJSON_GetArraySize(items);

        for (int i = 1; i < n; i++)
                for (int j = i; j > 0; j--) {
                        cJSON *a = cJSON_GetArrayItem(items, j - 1), *b = cJSON_GetArrayItem(items, j);
                        if (cmp_event_time(a, b) <= 0)
                                break;
                        cJSON_DetachItemViaPointer(items, b);
                        cJSON_InsertItemInArray(items, j - 1, b);
                }
}

/* GETs one object; on 404 prints the error unless ignore. Returns 0, 1 on failure. */
static int fetch_one(CliHttp *h, const KindInfo *k, const char *ns, const char *name, bool ignore,
                     cJSON *items)
{
        _cleanup_free_ char *path = cli_http_path(k, ns, name);
        cJSON *obj = NULL;
        CliResponse resp = {};
        int r;

        if (!path)
                return 1;
        r = cli_http_get_json(h, path, &obj, &resp);
        if (r == 404 && ignore) {
                cli_response_done(&resp);
                return 0;
        }
        if (r > 0) {
                cli_report_response(&resp);
                cli_response_done(&resp);
                return 1;
        }
        if (r < 0)
                return 1;
        cJSON_AddItemToArray(items, obj);
        return 0;
}

static void no_resources(const KindInfo *k, const char *ns)
{
        if (k->namespaced && ns)
                fprintf(stderr, "No resources found in %s namespace.\n", ns);
        else
                fprintf(stderr, "No resources found\n");
}

static int print_group(const KindInfo *k, cJSON *items, bool single, CliOutput o, const CliArgs *a,
                       const char *ns, bool *first, bool several_kinds)
{
        CliPrintOptions po = {
            .now = now_usec(CLOCK_REALTIME),
            .with_namespace = a->all_namespaces,
            .show_labels = a->show_labels,
            .show_kind = several_kinds,
        };

        if (streq(k->kind, "Event"))
                sort_events(items);
        if (cJSON_GetArraySize(items) == 0 && (o == CLI_OUTPUT_TABLE || o == CLI_OUTPUT_WIDE)) {
                if (!single)
                        no_resources(k, ns);
                return 0;
        }
        if (!*first && (o == CLI_OUTPUT_TABLE || o == CLI_OUTPUT_WIDE))
                fputc('\n', stdout);
        *first = false;
        return cli_print_objects(stdout, k, items, single, o, &po) < 0;
}

/* kubectl's "all" category, as far as berth has those kinds. */
static const char *const all_kinds[] = {"pods",         "services", "daemonsets",
                                        "statefulsets", "jobs",     "cronjobs"};

/* "get all" and "get po,svc": one listing per kind, names shown as kind/name. */
static int get_kinds(const CliArgs *a, const char *spec, CliOutput o)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ const KindInfo **kinds =
            calloc(strlen(spec) + ELEMENTSOF(all_kinds) + 1, sizeof(*kinds));
        _cleanup_free_ char *copy = strdup(spec);
        const char *ns = a->all_namespaces ? NULL : cli_args_namespace(a);
        size_t n = 0;
        bool first = true, any = false;
        int rc = 0;

        if (!kinds || !copy)
                return 1;
        for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                if (streq(w, "all")) {
                        for (size_t i = 0; i < ELEMENTSOF(all_kinds); i++)
                                kinds[n++] = kind_lookup(all_kinds[i]);
                        continue;
                }
                if (!(kinds[n++] = cli_kind_resolve(w)))
                        return 1;
        }
        if (a->n_pos > 1) {
                fprintf(stderr, "error: names cannot be given with several resource types\n");
                return 1;
        }
        if (cli_connect(a, &h) < 0)
                return 1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ cJSON *items = NULL;

                if (cli_http_list(h, kinds[i], ns, a->selector, &items) != 0)
                        return 1;
                if (cJSON_GetArraySize(items) == 0)
                        continue;
                any = true;
                rc |= print_group(kinds[i], items, false, o, a, ns, &first, n > 1);
        }
        if (!any && (o == CLI_OUTPUT_TABLE || o == CLI_OUTPUT_WIDE))
                fprintf(stderr, ns ? "No resources found in %s namespace.\n" : "No resources found%s\n",
                        ns ? ns : "");
        return rc;
}

int cli_verb_get(const CliArgs *a)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ CliTarget *t = NULL;
        _cleanup_free_ char *err = NULL;
        const char *ns = a->all_namespaces ? NULL : cli_args_namespace(a);
        bool first = true;
        CliOutput o;
        int n, rc = 0;

        if (cli_output_parse(a->output, &o, &err) < 0) {
                fprintf(stderr, "error: %s\n", err);
                return 1;
        }
        if (a->n_pos > 0 && !strchr(a->pos[0], '/') && (strchr(a->pos[0], ',') || streq(a->pos[0], "all")))
                return get_kinds(a, a->pos[0], o);
        n = cli_targets_parse(a->pos, a->n_pos, &t);
        if (n < 0)
                return 1;
        if (cli_connect(a, &h) < 0)
                return 1;
        for (int i = 0; i < n;) {
                _cleanup_json_ cJSON *items = NULL;
                int j = i;

                if (!t[i].name) {
                        if (cli_http_list(h, t[i].kind, ns, a->selector, &items) != 0)
                                return 1;
                        j = i + 1;
                } else {
                        /* consecutive names of one kind print as one table */
                        items = cJSON_CreateArray();
                        if (!items)
                                return 1;
                        for (; j < n && t[j].kind == t[i].kind && t[j].name; j++)
                                rc |= fetch_one(h, t[j].kind, cli_args_namespace(a), t[j].name,
                                                a->ignore_not_found, items);
                }
                bool single = t[i].name && n == 1;
                if (cJSON_GetArraySize(items) > 0 || !t[i].name)
                        rc |= print_group(t[i].kind, items, single, o, a, ns, &first, false);
                i = j;
        }
        return rc;
}
