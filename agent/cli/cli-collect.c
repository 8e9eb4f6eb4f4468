/* The objects a verb acts on (delete, scale), found as kubectl finds them: -f FILE..., TYPE
 * NAME..., TYPE/NAME..., TYPE,TYPE NAME..., or TYPE[,TYPE] with --all or -l (listed from the
 * API). */
#include <string.h>

#include "cli-internal.h"
#include "json-util.h"

void cli_object_refs_done(CliObjectRefs *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].ns);
                free(l->v[i].name);
                free(l->v[i].uid);
        }
        free(l->v);
        *l = (CliObjectRefs){0};
}

static int refs_add(CliObjectRefs *l, const KindInfo *k, const char *ns, const char *name)
{
        CliObjectRef *v = reallocarray(l->v, l->n + 1, sizeof(CliObjectRef));

        if (!v)
                return -ENOMEM;
        l->v = v;
        v[l->n] = (CliObjectRef){.kind = k, .ns = strdup(ns), .name = strdup(name)};
        if (!v[l->n].ns || !v[l->n].name) {
                free(v[l->n].ns);
                free(v[l->n].name);
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

static int from_files(const CliArgs *a, CliObjectRefs *l)
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
                r = refs_add(l, k, isempty(ns) ? cli_args_namespace(a) : ns, name);
        }
        cli_docs_done(&d);
        return r;
}

/* --all or -l: every object of the kind that matches. */
static int from_list(CliHttp *h, const CliArgs *a, const KindInfo *k, CliObjectRefs *l)
{
        _cleanup_json_ cJSON *items = NULL;
        const cJSON *obj;
        int r = cli_http_list(h, k, cli_args_namespace(a), a->selector, &items);

        if (r != 0)
                return r > 0 ? -EIO : r;
        cJSON_ArrayForEach (obj, items) {
                const char *ns = json_str(obj, "metadata.namespace");
                r = refs_add(l, k, isempty(ns) ? cli_args_namespace(a) : ns,
                             json_str(obj, "metadata.name") ?: "");
                if (r < 0)
                        return r;
        }
        return 1;
}

/* "TYPE,TYPE... [NAME...]" as kubectl takes it: each name of each type, or with --all or -l every
 * object of each type that matches. */
static int from_kinds(CliHttp *h, const CliArgs *a, CliObjectRefs *l)
{
        _cleanup_free_ char *copy = strdup(a->pos[0]);
        bool listing = a->n_pos == 1;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        if (listing && !a->all && isempty(a->selector)) {
                fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
                return -EINVAL;
        }
        if (!listing && (a->all || !isempty(a->selector))) {
                fprintf(stderr, "error: name cannot be provided when a selector or --all is specified\n");
                return -EINVAL;
        }
        for (char *save = NULL, *w = strtok_r(copy, ",", &save); w && r >= 0;
             w = strtok_r(NULL, ",", &save)) {
                const KindInfo *k = cli_kind_resolve(w);

                if (!k)
                        return -EINVAL;
                if (listing)
                        r = from_list(h, a, k, l);
                for (size_t i = 1; !listing && r >= 0 && i < a->n_pos; i++)
                        r = refs_add(l, k, cli_args_namespace(a), a->pos[i]);
        }
        return r < 0 ? r : listing;
}

int cli_collect_objects(CliHttp *h, const CliArgs *a, CliObjectRefs *ret)
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
                return from_files(a, ret);
        }
        if (a->n_pos == 0) {
                fprintf(stderr, "error: You must provide one or more resources by argument or filename.\n");
                return -EINVAL;
        }
        if (!strchr(a->pos[0], '/') && strchr(a->pos[0], ','))
                return from_kinds(h, a, ret);
        n = cli_targets_parse(a->pos, a->n_pos, &t);
        if (n < 0)
                return n;
        if (n == 1 && !t[0].name) {
                if (!a->all && isempty(a->selector)) {
                        fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
                        return -EINVAL;
                }
                return from_list(h, a, t[0].kind, ret);
        }
        if (a->all || !isempty(a->selector)) {
                fprintf(stderr, "error: name cannot be provided when a selector or --all is specified\n");
                return -EINVAL;
        }
        for (int i = 0; r >= 0 && i < n; i++)
                r = refs_add(ret, t[i].kind, cli_args_namespace(a), t[i].name);
        return r;
}
