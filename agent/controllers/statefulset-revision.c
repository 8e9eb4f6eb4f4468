/* Revisions of a StatefulSet's pod template (SEMANTICS.md 5.5, controller_history.go): the
 * hash of the canonical template as Kubernetes prints it (FNV-32 and SafeEncodeString),
 * ControllerRevision objects "<set>-<hash>" owned by the set, holding the template so that a
 * pod recreated below the partition gets the current revision's template, re-numbered on
 * rollback, and their history trimmed to revisionHistoryLimit. */
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "statefulset-internal.h"

#define FNV32_PRIME 16777619u

uint32_t sts_fnv32(const void *data, size_t size, uint32_t h)
{
        const unsigned char *p = data;

        /* FNV-1 (hash/fnv New32), not FNV-1a: multiply, then xor */
        for (size_t i = 0; i < size; i++) {
                h *= FNV32_PRIME;
                h ^= p[i];
        }
        return h;
}

void sts_safe_encode(char *s)
{
        static const char alphanums[] = "bcdfghjklmnpqrstvwxz2456789";

        for (; s && *s; s++)
                *s = alphanums[(unsigned char)*s % (sizeof alphanums - 1)];
}

static int key_order(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

        return strcmp(x->string ?: "", y->string ?: "");
}

cJSON *sts_json_canonical(const cJSON *j)
{
        _cleanup_free_ const cJSON **v = NULL;
        _cleanup_json_ cJSON *out = NULL;
        const cJSON *c;
        size_t n = 0;

        if (!cJSON_IsArray(j) && !cJSON_IsObject(j))
                return cJSON_Duplicate(j, true);
        out = cJSON_IsArray(j) ? cJSON_CreateArray() : cJSON_CreateObject();
        cJSON_ArrayForEach (c, j)
                n++;
        v = calloc(n + 1, sizeof(cJSON *));
        if (!out || !v)
                return NULL;
        n = 0;
        cJSON_ArrayForEach (c, j)
                v[n++] = c;
        if (cJSON_IsObject(j))
                qsort(v, n, sizeof(cJSON *), key_order);
        for (size_t i = 0; i < n; i++) {
                cJSON *d = sts_json_canonical(v[i]);
                bool ok = d && (cJSON_IsArray(j) ? cJSON_AddItemToArray(out, d)
                                                 : cJSON_AddItemToObject(out, v[i]->string, d));

                if (!ok)
                        return cJSON_Delete(d), NULL;
        }
        return TAKE_PTR(out);
}

int sts_revision_data(const cJSON *tmpl, cJSON **ret)
{
        _cleanup_json_ cJSON *t = cJSON_IsObject(tmpl) ? cJSON_Duplicate(tmpl, true) : cJSON_CreateObject();
        _cleanup_json_ cJSON *wrapped = cJSON_CreateObject(), *data = NULL;
        cJSON *spec;

        if (!t || !wrapped)
                return -ENOMEM;
        /* getPatch: the template alone, replacing whatever the set holds when applied */
        cJSON_DeleteItemFromObjectCaseSensitive(t, "$patch");
        if (json_set_string(t, "$patch", "replace") < 0)
                return -ENOMEM;
        spec = cJSON_AddObjectToObject(wrapped, "spec");
        if (!spec || json_set(spec, "template", TAKE_PTR(t)) < 0)
                return -ENOMEM;
        data = sts_json_canonical(wrapped);
        if (!data)
                return -ENOMEM;
        *ret = TAKE_PTR(data);
        return 0;
}

int sts_revision_hash(const cJSON *data, int64_t collision_count, char *buf, size_t size)
{
        _cleanup_free_ char *raw = json_print(data);
        char probe[32];
        uint32_t h;

        if (!raw)
                return -ENOMEM;
        if (size < 16)
                return -ENOBUFS;
        h = sts_fnv32(raw, strlen(raw), STS_FNV32_OFFSET);
        /* the StatefulSet controller always passes its collision count as the probe */
        snprintf(probe, sizeof probe, "%lld", (long long)collision_count);
        h = sts_fnv32(probe, strlen(probe), h);
        snprintf(buf, size, "%u", h);
        sts_safe_encode(buf);
        return 0;
}

cJSON *sts_revision_template(const cJSON *revision)
{
        const cJSON *t = json_path(revision, "data.spec.template");
        cJSON *copy;

        if (!cJSON_IsObject(t))
                return NULL;
        copy = cJSON_Duplicate(t, true);
        if (copy)
                cJSON_DeleteItemFromObjectCaseSensitive(copy, "$patch");
        return copy;
}

static const cJSON *controller_of(const cJSON *obj)
{
        const cJSON *ref;

        cJSON_ArrayForEach (ref, json_path(obj, "metadata.ownerReferences"))
                if (json_bool(ref, "controller", false))
                        return ref;
        return NULL;
}

static int revision_order(const void *a, const void *b)
{
        const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
        int64_t rx = json_int(x, "revision", 0), ry = json_int(y, "revision", 0);

        if (rx != ry)
                return rx < ry ? -1 : 1;
        return strcmp(json_str(x, "metadata.name") ?: "", json_str(y, "metadata.name") ?: "");
}

/* Adds the set as controller of an orphaned revision (AdoptControllerRevision). */
static int adopt(StsSync *s, cJSON *rev)
{
        cJSON *meta = json_ensure_object(rev, "metadata"), *refs, *ref;

        if (!meta)
                return -ENOMEM;
        refs = cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences");
        if (!cJSON_IsArray(refs)) {
                cJSON_DeleteItemFromObjectCaseSensitive(meta, "ownerReferences");
                refs = cJSON_AddArrayToObject(meta, "ownerReferences");
        }
        ref = sts_controller_ref("apps/v1", "StatefulSet", s->p.name, s->p.uid);
        if (!refs || !ref || !cJSON_AddItemToArray(refs, ref))
                return cJSON_Delete(ref), -ENOMEM;
        return store_update(s->c->store, rev, NULL);
}

/* ListControllerRevisions: the set's own revisions and orphans its selector matches
 * (adopted), sorted by revision number. */
static int list_revisions(StsSync *s)
{
        _cleanup_json_ cJSON *all = NULL, *mine = cJSON_CreateArray();
        _cleanup_free_ cJSON **v = NULL;
        size_t n = 0;
        int r;

        if (!mine)
                return -ENOMEM;
        r = store_list(s->c->store, "ControllerRevision", s->ns, s->sel, &all);
        if (r < 0)
                return r;
        while (cJSON_GetArraySize(all) > 0) {
                cJSON *rev = cJSON_DetachItemFromArray(all, 0);
                const cJSON *ref = controller_of(rev);

                if (ref && !streq_ptr(json_str(ref, "uid"), s->p.uid)) {
                        cJSON_Delete(rev);
                        continue;
                }
                r = ref ? 0 : adopt(s, rev);
                if (r < 0 || !cJSON_AddItemToArray(mine, rev)) {
                        cJSON_Delete(rev);
                        return r < 0 ? r : -ENOMEM;
                }
        }
        v = calloc((size_t)cJSON_GetArraySize(mine) + 1, sizeof(cJSON *));
        s->revisions = cJSON_CreateArray();
        if (!v || !s->revisions)
                return -ENOMEM;
        while (cJSON_GetArraySize(mine) > 0)
                v[n++] = cJSON_DetachItemFromArray(mine, 0);
        qsort(v, n, sizeof(cJSON *), revision_order);
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(s->revisions, v[i]);
        return 0;
}

static int copy_annotations(cJSON *meta, const cJSON *set)
{
        const cJSON *a;
        cJSON *out = NULL;

        cJSON_ArrayForEach (a, json_path(set, "metadata.annotations")) {
                /* the agent's own bookkeeping (e.g. which manifest file the set came from)
                 * describes the set, not its history */
                if (!cJSON_IsString(a) || startswith(a->string, "berth.dev/"))
                        continue;
                if (!out && !(out = json_ensure_object(meta, "annotations")))
                        return -ENOMEM;
                if (json_set_string(out, a->string, a->valuestring) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* NewControllerRevision, named for the collision count. */
static int build_revision(StsSync *s, const cJSON *data, int64_t number, cJSON **ret)
{
        _cleanup_json_ cJSON *rev = cJSON_CreateObject();
        const cJSON *tlabels = json_path(s->set, "spec.template.metadata.labels");
        cJSON *meta, *labels, *refs, *ref, *d;
        char hash[32], *name = NULL;
        int r;

        r = sts_revision_hash(data, s->collision_count, hash, sizeof hash);
        if (r < 0)
                return r;
        meta = rev ? cJSON_AddObjectToObject(rev, "metadata") : NULL;
        if (!meta || json_set_string(rev, "apiVersion", "apps/v1") < 0 ||
            json_set_string(rev, "kind", "ControllerRevision") < 0 ||
            asprintf_safe(&name, "%.*s-%s", STS_MAX_REVISION_PREFIX, s->p.name, hash) < 0)
                return -ENOMEM;
        r = json_set_string(meta, "name", name);
        free(name);
        labels = cJSON_IsObject(tlabels) ? cJSON_Duplicate(tlabels, true) : cJSON_CreateObject();
        if (r < 0 || json_set_string(meta, "namespace", s->ns) < 0 || !labels ||
            json_set(meta, "labels", labels) < 0 ||
            json_set_string(labels, STS_LABEL_REVISION_HASH, hash) < 0 || copy_annotations(meta, s->set) < 0)
                return -ENOMEM;
        refs = cJSON_AddArrayToObject(meta, "ownerReferences");
        ref = sts_controller_ref("apps/v1", "StatefulSet", s->p.name, s->p.uid);
        if (!refs || !ref || !cJSON_AddItemToArray(refs, ref))
                return cJSON_Delete(ref), -ENOMEM;
        d = cJSON_Duplicate(data, true);
        if (!d || json_set(rev, "data", d) < 0 || json_set_int(rev, "revision", number) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(rev);
        return 0;
}

/* CreateControllerRevision: on a name taken by other data, count a collision and retry. */
static int create_revision(StsSync *s, const cJSON *data, int64_t number, cJSON **ret)
{
        for (unsigned tries = 0; tries < 100; tries++) {
                _cleanup_json_ cJSON *rev = NULL, *exists = NULL;
                int r;

                r = build_revision(s, data, number, &rev);
                if (r < 0)
                        return r;
                r = store_create(s->c->store, rev, ret);
                if (r != -EEXIST)
                        return r;
                r = store_get(s->c->store, "ControllerRevision", s->ns, json_str(rev, "metadata.name"),
                              &exists);
                if (r < 0)
                        return r;
                if (cJSON_Compare(json_path(exists, "data"), data, true)) {
                        *ret = TAKE_PTR(exists);
                        return 0;
                }
                s->collision_count++;
        }
        return -EEXIST;
}

/* The revision at index i becomes the newest with number (a rollback). */
static int renumber(StsSync *s, int i, int64_t number)
{
        cJSON *rev = cJSON_DetachItemFromArray(s->revisions, i), *updated = NULL;
        int r;

        if (json_set_int(rev, "revision", number) < 0)
                r = -ENOMEM;
        else
                r = store_update(s->c->store, rev, &updated);
        cJSON_Delete(rev);
        if (r < 0)
                return r;
        cJSON_AddItemToArray(s->revisions, updated);
        s->update_rev = updated;
        return 0;
}

int sts_revisions_prepare(StsSync *s)
{
        _cleanup_json_ cJSON *data = NULL;
        const char *current = json_str(s->status, "currentRevision");
        int n, last_equal = -1, i = 0;
        cJSON *rev;
        int r;

        r = list_revisions(s);
        if (r < 0)
                return r;
        s->collision_count = MAX(json_int(s->status, "collisionCount", 0), 0);
        r = sts_revision_data(json_path(s->set, "spec.template"), &data);
        if (r < 0)
                return r;
        n = cJSON_GetArraySize(s->revisions);
        cJSON_ArrayForEach (rev, s->revisions) {
                if (cJSON_Compare(json_path(rev, "data"), data, true))
                        last_equal = i;
                i++;
        }
        if (last_equal >= 0 && last_equal == n - 1)
                s->update_rev = cJSON_GetArrayItem(s->revisions, n - 1);
        else if (last_equal >= 0)
                r = renumber(s, last_equal,
                             json_int(cJSON_GetArrayItem(s->revisions, n - 1), "revision", 0) + 1);
        else {
                cJSON *created = NULL;

                r = create_revision(
                    s, data,
                    n > 0 ? json_int(cJSON_GetArrayItem(s->revisions, n - 1), "revision", 0) + 1 : 1,
                    &created);
                if (r >= 0) {
                        cJSON_AddItemToArray(s->revisions, created);
                        s->update_rev = created;
                }
        }
        if (r < 0)
                return r;
        cJSON_ArrayForEach (rev, s->revisions)
                if (current && streq_ptr(json_str(rev, "metadata.name"), current))
                        s->current_rev = rev;
        /* no known current revision: the history starts at the update revision */
        if (!s->current_rev)
                s->current_rev = s->update_rev;
        s->current_tmpl = sts_revision_template(s->current_rev);
        if (!s->current_tmpl)
                return log_debug_errno(EINVAL, "Revision %s holds no pod template.",
                                       json_str(s->current_rev, "metadata.name"));
        return 0;
}

int sts_revisions_truncate(StsSync *s)
{
        const char *cur = json_str(s->current_rev, "metadata.name"),
                   *upd = json_str(s->update_rev, "metadata.name");
        int64_t history = 0, extra;
        const cJSON *rev, *pod;

        /* live: the current and update revisions and any revision a pod runs */
        cJSON_ArrayForEach (rev, s->revisions) {
                const char *name = json_str(rev, "metadata.name");
                bool live = streq_ptr(name, cur) || streq_ptr(name, upd);

                cJSON_ArrayForEach (pod, s->pods)
                        live = live || streq_ptr(sts_pod_revision(pod), name);
                history += !live;
        }
        extra = history - s->p.revision_history_limit;
        cJSON_ArrayForEach (rev, s->revisions) {
                const char *name = json_str(rev, "metadata.name");
                bool live = streq_ptr(name, cur) || streq_ptr(name, upd);
                int r;

                if (extra <= 0)
                        break;
                cJSON_ArrayForEach (pod, s->pods)
                        live = live || streq_ptr(sts_pod_revision(pod), name);
                if (live)
                        continue;
                r = store_delete(s->c->store, "ControllerRevision", s->ns, name, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
                extra--;
        }
        return 0;
}
