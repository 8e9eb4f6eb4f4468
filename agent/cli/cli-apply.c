/* apply and validate: loads -f FILE|DIR|- into manifest documents, defaults and validates
 * them locally (all-or-nothing, errors as file:line: path: message), sends every document
 * in one apply request and maps the server's field errors back to file:line. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "cli-internal.h"
#include "json-util.h"

void cli_docs_done(CliDocs *d)
{
        for (size_t i = 0; i < d->n_sets; i++)
                manifest_set_free(d->sets[i]);
        free(d->sets);
        free(d->docs);
        *d = (CliDocs){};
}

static int docs_add_set(CliDocs *d, ManifestSet *set)
{
        size_t n = manifest_set_size(set);
        ManifestSet **s = reallocarray(d->sets, d->n_sets + 1, sizeof(ManifestSet *));
        ManifestDoc **docs;

        if (!s) {
                manifest_set_free(set);
                return -ENOMEM;
        }
        d->sets = s;
        d->sets[d->n_sets++] = set;
        docs = reallocarray(d->docs, d->n_docs + n + 1, sizeof(ManifestDoc *));
        if (!docs)
                return -ENOMEM;
        d->docs = docs;
        for (size_t i = 0; i < n; i++)
                d->docs[d->n_docs++] = manifest_set_get(set, i);
        return 0;
}

static int load_one(CliDocs *d, const char *path, FILE *err)
{
        _cleanup_free_ char *error = NULL, *data = NULL;
        ManifestSet *set = NULL;
        size_t size;
        int r;

        if (streq(path, "-")) {
                r = read_full_fd(STDIN_FILENO, MANIFEST_MAX_BYTES, &data, &size);
                if (r < 0) {
                        fprintf(err, "error: reading standard input: %s\n", strerror(-r));
                        return r;
                }
                r = manifest_parse("-", data, size, &set, &error);
        } else
                r = manifest_parse_file(path, &set, &error);
        if (r < 0) {
                fprintf(err, "error: %s\n", error ? error : strerror(-r));
                return r;
        }
        return docs_add_set(d, set);
}

static bool manifest_name(const char *n)
{
        return endswith(n, ".yaml") || endswith(n, ".yml") || endswith(n, ".json");
}

static int load_path(CliDocs *d, const char *path, bool recursive, FILE *err);

static int load_dir(CliDocs *d, const char *path, bool recursive, FILE *err)
{
        struct dirent **names = NULL;
        int n = scandir(path, &names, NULL, alphasort), r = 0;

        if (n < 0) {
                r = negative_errno();
                fprintf(err, "error: reading directory %s: %s\n", path, strerror(-r));
                return r;
        }
        for (int i = 0; i < n; i++) {
                const char *e = names[i]->d_name;
                _cleanup_free_ char *child = NULL;
                struct stat st;

                if (r >= 0 && e[0] != '.' &&
                    (child = strjoin(path, endswith(path, "/") ? "" : "/", e, NULL)) &&
                    stat(child, &st) >= 0) {
                        if (S_ISDIR(st.st_mode) && recursive)
                                r = load_path(d, child, recursive, err);
                        else if (S_ISREG(st.st_mode) && manifest_name(e))
                                r = load_one(d, child, err);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

static int load_path(CliDocs *d, const char *path, bool recursive, FILE *err)
{
        struct stat st;

        if (streq(path, "-"))
                return load_one(d, path, err);
        if (stat(path, &st) < 0) {
                fprintf(err, "error: the path \"%s\" does not exist\n", path);
                return -ENOENT;
        }
        if (S_ISDIR(st.st_mode))
                return load_dir(d, path, recursive, err);
        return load_one(d, path, err);
}

int cli_docs_load(CliDocs *d, char **files, size_t n_files, bool recursive, FILE *err)
{
        *d = (CliDocs){};
        if (n_files == 0) {
                fprintf(err, "error: must specify one of -f and -k\n");
                return -EINVAL;
        }
        for (size_t i = 0; i < n_files; i++) {
                int r = load_path(d, files[i], recursive, err);
                if (r < 0) {
                        cli_docs_done(d);
                        return r;
                }
        }
        return 0;
}

static void print_warnings(const ManifestDoc *doc, const FieldErrors *w, FILE *err)
{
        for (size_t i = 0; i < w->n; i++) {
                _cleanup_free_ char *s = field_error_format(&w->items[i]);
                fprintf(err, "Warning: %s:%u: %s\n", manifest_doc_source(doc),
                        manifest_doc_line(doc, w->items[i].path), s ? s : "unknown field");
        }
}

/* Sets metadata.namespace from -n on namespaced objects that have none; refuses a
 * different one, as kubectl does. */
static int apply_namespace(const ManifestDoc *doc, const char *ns, FILE *err)
{
        cJSON *obj = manifest_doc_object(doc);
        const KindInfo *k = kind_by_kind(json_str(obj, "kind") ?: "");
        const char *have = json_str(obj, "metadata.namespace");
        cJSON *meta;

        if (!ns || !k || !k->namespaced)
                return 0;
        if (have && !streq(have, ns)) {
                fprintf(err,
                        "error: the namespace from the provided object \"%s\" does not match the namespace "
                        "\"%s\". "
                        "You must pass '--namespace=%s' to perform this operation.\n",
                        have, ns, have);
                return -EINVAL;
        }
        meta = json_ensure_object(obj, "metadata");
        return meta ? json_set_string(meta, "namespace", ns) : -ENOMEM;
}

int cli_docs_check(CliDocs *d, const char *ns, FILE *err)
{
        int bad = 0, r;

        for (size_t i = 0; i < d->n_docs; i++) {
                ManifestDoc *doc = d->docs[i];
                cJSON *obj = manifest_doc_object(doc);
                FieldErrors errs, warns;

                if (apply_namespace(doc, ns, err) < 0) {
                        bad++;
                        continue;
                }
                field_errors_init(&errs);
                field_errors_init(&warns);
                r = manifest_unknown_fields(obj, &warns);
                if (r >= 0)
                        print_warnings(doc, &warns, err);
                r = manifest_default(obj);
                if (r >= 0)
                        r = manifest_validate(obj, &errs);
                if (r > 0) {
                        _cleanup_free_ char *s = manifest_format_errors(doc, &errs);
                        fprintf(err, "%s\n", s ? s : "error: out of memory");
                        bad++;
                }
                field_errors_done(&errs);
                field_errors_done(&warns);
                if (r < 0)
                        return r;
        }
        return bad;
}

/* "items[12].spec.x" -> 12 and "spec.x". */
static bool split_items_field(const char *field, size_t *ret_i, const char **ret_path)
{
        char *end;
        unsigned long i;

        if (!field || !startswith(field, "items["))
                return false;
        errno = 0;
        i = strtoul(field + 6, &end, 10);
        if (errno != 0 || end == field + 6 || *end != ']')
                return false;
        *ret_i = i;
        *ret_path = end[1] == '.' ? end + 2 : end + 1;
        return true;
}

int cli_apply_print_causes(const CliDocs *d, const cJSON *status, FILE *err)
{
        const cJSON *c;
        int n = 0;

        cJSON_ArrayForEach (c, json_path(status, "details.causes")) {
                const char *field = json_str(c, "field"), *msg = json_str(c, "message"), *path;
                size_t i;

                if (split_items_field(field, &i, &path) && i < d->n_docs)
                        fprintf(err, "%s:%u: %s: %s\n", manifest_doc_source(d->docs[i]),
                                manifest_doc_line(d->docs[i], path), path, msg ? msg : "invalid");
                else if (field)
                        fprintf(err, "error: %s: %s\n", field, msg ? msg : "invalid");
                else
                        fprintf(err, "error: %s\n", msg ? msg : "invalid");
                n++;
        }
        return n;
}

int cli_apply_print_result(const cJSON *result, const char *suffix, FILE *out)
{
        const cJSON *it;

        cJSON_ArrayForEach (it, json_path(result, "items")) {
                const char *kind = json_str(it, "kind") ?: "", *name = json_str(it, "name") ?: "";
                const char *what = json_str(it, "result") ?: "configured";
                const KindInfo *k = kind_by_kind(kind);
                _cleanup_free_ char *res = k ? cli_kind_resource_name(k) : strdup(kind);

                for (char *p = res; p && *p; p++)
                        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                fprintf(out, "%s/%s %s%s\n", res ? res : kind, name, what, suffix);
        }
        return 0;
}

static char *apply_body(const CliDocs *d)
{
        _cleanup_json_ cJSON *list = cJSON_CreateObject();
        cJSON *items;

        if (!list || !cJSON_AddStringToObject(list, "kind", "List") ||
            !cJSON_AddStringToObject(list, "apiVersion", "v1") ||
            !(items = cJSON_AddArrayToObject(list, "items")))
                return NULL;
        for (size_t i = 0; i < d->n_docs; i++) {
                cJSON *dup = cJSON_Duplicate(manifest_doc_object(d->docs[i]), true);
                if (!dup)
                        return NULL;
                cJSON_AddItemToArray(items, dup);
        }
        return json_print(list);
}

static int send_apply(const CliArgs *a, const CliDocs *d, bool server_dry_run)
{
        _cleanup_(cli_http_freep) CliHttp *h = NULL;
        _cleanup_free_ char *body = apply_body(d);
        _cleanup_json_ cJSON *j = NULL;
        CliResponse resp;
        int rc = 0;

        if (!body || cli_connect(a, &h) < 0)
                return 1;
        if (cli_http_request(h, "POST",
                             server_dry_run ? "/apis/berth.dev/v1/apply?dryRun=All"
                                            : "/apis/berth.dev/v1/apply",
                             body, &resp) < 0)
                return 1;
        j = cli_response_json(&resp);
        if (resp.status >= 200 && resp.status < 300)
                cli_apply_print_result(j, server_dry_run ? " (server dry run)" : "", stdout);
        else if (resp.status == 422 && cJSON_GetArraySize(json_path(j, "details.causes")) > 0)
                rc = cli_apply_print_causes(d, j, stderr) > 0;
        else
                rc = cli_report_response(&resp);
        cli_response_done(&resp);
        return rc;
}

static int print_client_dry_run(const CliDocs *d)
{
        for (size_t i = 0; i < d->n_docs; i++) {
                const cJSON *obj = manifest_doc_object(d->docs[i]);
                const KindInfo *k = kind_by_kind(json_str(obj, "kind") ?: "");
                _cleanup_free_ char *res = k ? cli_kind_resource_name(k) : NULL;
                printf("%s/%s configured (dry run)\n", res ? res : json_str(obj, "kind") ?: "",
                       json_str(obj, "metadata.name") ?: "");
        }
        return 0;
}

int cli_verb_apply(const CliArgs *a)
{
        CliDocs d;
        const char *dry = a->dry_run ? a->dry_run : "none";
        int r;

        if (!streq(dry, "none") && !streq(dry, "client") && !streq(dry, "server")) {
                fprintf(stderr,
                        "error: Invalid dry-run value (%s). Must be \"none\", \"server\", or \"client\".\n",
                        dry);
                return 1;
        }
        if (a->n_pos > 0) {
                fprintf(stderr, "error: Unexpected args: [%s]\n", a->pos[0]);
                return 1;
        }
        if (cli_docs_load(&d, a->files, a->n_files, a->recursive, stderr) < 0)
                return 1;
        if (d.n_docs == 0) {
                fprintf(stderr, "error: no objects passed to apply\n");
                cli_docs_done(&d);
                return 1;
        }
        r = cli_docs_check(&d, a->namespace, stderr);
        if (r != 0)
                r = 1;
        else if (streq(dry, "client"))
                r = print_client_dry_run(&d);
        else
                r = send_apply(a, &d, streq(dry, "server"));
        cli_docs_done(&d);
        return r;
}

int cli_verb_validate(const CliArgs *a, FILE *out, FILE *err)
{
        CliDocs d;
        size_t doc = 0;
        int r;

        if (cli_docs_load(&d, a->files, a->n_files, a->recursive, err) < 0)
                return 1;
        r = cli_docs_check(&d, a->namespace, err);
        if (r == 0)
                for (size_t s = 0; s < d.n_sets; s++) {
                        size_t n = manifest_set_size(d.sets[s]);
                        const char *src = n > 0 ? manifest_doc_source(d.docs[doc]) : NULL;
                        if (src)
                                fprintf(out, "%s: valid (%zu object%s)\n", src, n, n == 1 ? "" : "s");
                        doc += n;
                }
        cli_docs_done(&d);
        return r == 0 ? 0 : 1;
}
