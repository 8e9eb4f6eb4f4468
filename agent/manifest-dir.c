/* inotify watch of the manifests directory and the apply/delete of its files. */
#include <dirent.h>
#include <string.h>
#include <sys/inotify.h>

#include "json-util.h"
#include "log.h"
#include "manifest-dir.h"
#include "manifest.h"
#include "util.h"

#define DEBOUNCE_USEC (100 * USEC_PER_MSEC)

struct ManifestDir {
        sd_event *event;
        Store *store;
        AdmissionContext admission;
        char *dir;
        int inotify_fd;
        sd_event_source *io, *timer;
        char **dirty;
        size_t n_dirty;
};

/* The file an object came from (the annotation key has dots: no json_str() path). */
static const char *source_of(const cJSON *obj)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json_path(obj, "metadata.annotations"),
                                                          MANIFEST_FILE_ANNOTATION);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_manifest_name(const char *name)
{
        return name[0] != '.' &&
               (endswith(name, ".yaml") || endswith(name, ".yml") || endswith(name, ".json"));
}

static bool in_set(const ManifestSet *set, const cJSON *obj)
{
        for (size_t i = 0; i < manifest_set_size(set); i++) {
                const cJSON *o = manifest_doc_object(manifest_set_get(set, i));
                if (streq_ptr(json_str(o, "kind"), json_str(obj, "kind")) &&
                    streq_ptr(json_str(o, "metadata.name"), json_str(obj, "metadata.name")) &&
                    streq_ptr(json_str(o, "metadata.namespace") ?: "default",
                              json_str(obj, "metadata.namespace") ?: "default"))
                        return true;
        }
        return false;
}

/* Every stored object that came from a manifest file (any kind but events and nodes). */
static int list_sourced(ManifestDir *d, cJSON **ret)
{
        _cleanup_json_ cJSON *all = cJSON_CreateArray();
        size_t n_kinds;
        const KindInfo *kinds = kind_table(&n_kinds);
        int r;

        if (!all)
                return -ENOMEM;
        for (size_t k = 0; k < n_kinds; k++) {
                _cleanup_json_ cJSON *list = NULL;

                if (streq(kinds[k].kind, "Event") || streq(kinds[k].kind, "Node"))
                        continue;
                r = store_list(d->store, kinds[k].kind, NULL, NULL, &list);
                if (r < 0)
                        return r;
                while (cJSON_GetArraySize(list) > 0) {
                        cJSON *obj = cJSON_DetachItemFromArray(list, 0);
                        if (source_of(obj))
                                cJSON_AddItemToArray(all, obj);
                        else
                                cJSON_Delete(obj);
                }
        }
        *ret = TAKE_PTR(all);
        return 0;
}

/* Deletes the objects that came from path and are not in set (NULL = all of them). */
static int prune(ManifestDir *d, const char *path, const ManifestSet *set)
{
        _cleanup_json_ cJSON *sourced = NULL;
        const cJSON *obj;
        int r;

        r = list_sourced(d, &sourced);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (obj, sourced) {
                if (!streq_ptr(source_of(obj), path) || (set && in_set(set, obj)))
                        continue;
                if (json_str(obj, "metadata.deletionTimestamp"))
                        continue;
                r = store_delete_object(d->store, json_str(obj, "kind"), json_str(obj, "metadata.namespace"),
                                        json_str(obj, "metadata.name"), -1, STORE_PROPAGATE_BACKGROUND,
                                        NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
                log_info("%s: deleted %s %s/%s (no longer in the file)", path, json_str(obj, "kind"),
                         json_str(obj, "metadata.namespace") ?: "", json_str(obj, "metadata.name"));
        }
        return 0;
}

/* Defaults and validates one document, as an update when the object exists. */
static int check_doc(ManifestDir *d, ManifestDoc *doc, FieldErrors *e)
{
        cJSON *obj = manifest_doc_object(doc);
        const KindInfo *k = kind_by_kind(json_str(obj, "kind") ?: "");
        _cleanup_json_ cJSON *old = NULL;
        int r;

        if (k && k->namespaced && !json_str(obj, "metadata.namespace")) {
                cJSON *meta = json_ensure_object(obj, "metadata");
                if (!meta || json_set_string(meta, "namespace", "default") < 0)
                        return -ENOMEM;
        }
        r = manifest_default(obj);
        if (r >= 0)
                r = manifest_validate(obj, e);
        if (r >= 0 && k &&
            store_get(d->store, k->kind, json_str(obj, "metadata.namespace"),
                      json_str(obj, "metadata.name") ?: "", &old) >= 0) {
                r = manifest_inherit_server_fields(obj, old, false);
                if (r >= 0)
                        r = manifest_validate_update(obj, old, e);
        }
        if (r >= 0 && field_errors_count(e) == 0)
                r = admission_check(&d->admission, obj, e);
        return r;
}

/* Defaults and validates every document; logs all errors. Returns -EINVAL if any. */
static int check_set(ManifestDir *d, ManifestSet *set, const char *path)
{
        int errors = 0;

        for (size_t i = 0; i < manifest_set_size(set); i++) {
                ManifestDoc *doc = manifest_set_get(set, i);
                cJSON *obj = manifest_doc_object(doc), *ann;
                _cleanup_free_ char *key = NULL;
                FieldErrors e;
                int r;

                field_errors_init(&e);
                r = check_doc(d, doc, &e);
                key = manifest_object_key(obj);
                if (r < 0 || !key) {
                        field_errors_done(&e);
                        return r < 0 ? r : -ENOMEM;
                }
                for (size_t j = 0; j < i; j++) {
                        _cleanup_free_ char *k2 =
                            manifest_object_key(manifest_doc_object(manifest_set_get(set, j)));
                        if (k2 && streq(k2, key))
                                field_error_add_str(&e, FIELD_ERROR_DUPLICATE, "metadata.name",
                                                    json_str(obj, "metadata.name"), NULL);
                }
                if (field_errors_count(&e) > 0) {
                        _cleanup_free_ char *msg = manifest_format_errors(doc, &e);
                        log_error("%s", msg ?: "invalid manifest");
                        errors++;
                }
                field_errors_done(&e);
                /* remember where the object came from, so a removed file removes it */
                ann = json_ensure_object(json_ensure_object(obj, "metadata"), "annotations");
                if (!ann || json_set_string(ann, MANIFEST_FILE_ANNOTATION, path) < 0)
                        return -ENOMEM;
        }
        return errors > 0 ? -EINVAL : 0;
}

int manifest_dir_sync_file(ManifestDir *d, const char *name)
{
        _cleanup_free_ char *path = strjoin(d->dir, "/", name, NULL), *err = NULL;
        _cleanup_manifest_set_ ManifestSet *set = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = manifest_parse_file(path, &set, &err);
        if (r == -ENOENT)
                return prune(d, path, NULL);
        if (r < 0)
                return log_error_errno(r, "%s", err ?: "Failed to read manifest file.");
        r = check_set(d, set, path);
        if (r == -EINVAL)
                return log_error_errno(r, "%s: not applied; the objects it held stay as they were.", path);
        if (r < 0)
                return r;
        r = store_begin(d->store);
        if (r < 0)
                return r;
        for (size_t i = 0; i < manifest_set_size(set) && r >= 0; i++) {
                bool created = false, changed = false;
                const cJSON *obj = manifest_doc_object(manifest_set_get(set, i));
                r = store_apply(d->store, obj, NULL, &created, &changed);
                if (r >= 0 && changed)
                        log_info("%s: %s %s/%s %s", path, json_str(obj, "kind"),
                                 json_str(obj, "metadata.namespace") ?: "default",
                                 json_str(obj, "metadata.name"), created ? "created" : "configured");
        }
        if (r >= 0)
                r = prune(d, path, set);
        if (r < 0) {
                store_rollback(d->store);
                return log_error_errno(r, "%s: failed to apply: %m", path);
        }
        return store_commit(d->store);
}

/* Objects whose manifest file is gone (removed while the agent was not running). */
static int prune_missing_files(ManifestDir *d)
{
        _cleanup_json_ cJSON *sourced = NULL;
        const cJSON *obj;
        int r;

        r = list_sourced(d, &sourced);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (obj, sourced) {
                const char *src = source_of(obj);
                if (startswith(src, d->dir) && access(src, F_OK) < 0 && errno == ENOENT)
                        (void)prune(d, src, NULL);
        }
        return 0;
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

int manifest_dir_rescan(ManifestDir *d)
{
        _cleanup_(closedirp) DIR *dir = opendir(d->dir);
        struct dirent *de;

        if (!dir)
                return log_error_errno(errno, "Failed to open %s: %m", d->dir);
        while ((de = readdir(dir)))
                if (is_manifest_name(de->d_name))
                        (void)manifest_dir_sync_file(d, de->d_name);
        /* files removed while the agent was away */
        return prune_missing_files(d);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        ManifestDir *d = userdata;

        while (d->n_dirty > 0) {
                char *name = d->dirty[--d->n_dirty];
                (void)manifest_dir_sync_file(d, name);
                free(name);
        }
        return 0;
}

static void mark_dirty(ManifestDir *d, const char *name)
{
        char **v;

        for (size_t i = 0; i < d->n_dirty; i++)
                if (streq(d->dirty[i], name))
                        goto arm;
        v = realloc(d->dirty, (d->n_dirty + 1) * sizeof(char *));
        if (!v)
                return (void)log_oom();
        d->dirty = v;
        d->dirty[d->n_dirty] = strdup(name);
        if (!d->dirty[d->n_dirty])
                return (void)log_oom();
        d->n_dirty++;
arm:
        /* editors write in several steps: wait for the writes to settle */
        (void)sd_event_source_set_time_relative(d->timer, DEBOUNCE_USEC);
        (void)sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        ManifestDir *d = userdata;
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;

        for (;;) {
                n = read(fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        if (ev->len > 0 && is_manifest_name(ev->name))
                                mark_dirty(d, ev->name);
                        if (ev->mask & IN_Q_OVERFLOW)
                                (void)manifest_dir_rescan(d);
                        p += sizeof(struct inotify_event) + ev->len;
                }
        }
        return 0;
}

int manifest_dir_new(ManifestDir **ret, sd_event *e, Store *store, const char *dir,
                     const AdmissionContext *admission)
{
        _cleanup_(manifest_dir_freep) ManifestDir *d = calloc(1, sizeof(ManifestDir));
        int r;

        if (!d)
                return -ENOMEM;
        d->inotify_fd = -EBADF;
        d->event = sd_event_ref(e);
        d->store = store;
        d->admission = *admission;
        d->dir = strdup(dir);
        if (!d->dir)
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", dir);
        d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (d->inotify_fd < 0)
                return log_error_errno(errno, "Failed to create an inotify watch: %m");
        if (inotify_add_watch(d->inotify_fd, dir,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0)
                return log_error_errno(errno, "Failed to watch %s: %m", dir);
        r = sd_event_add_io(e, &d->io, d->inotify_fd, EPOLLIN, on_inotify, d);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(d->io, "manifests-inotify");
        r = sd_event_add_time_relative(e, &d->timer, CLOCK_MONOTONIC, DEBOUNCE_USEC, 0, on_timer, d);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(d->timer, "manifests-debounce");
        (void)sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        r = manifest_dir_rescan(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

ManifestDir *manifest_dir_free(ManifestDir *d)
{
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->io);
        sd_event_source_disable_unref(d->timer);
        safe_close(d->inotify_fd);
        for (size_t i = 0; i < d->n_dirty; i++)
                free(d->dirty[i]);
        free(d->dirty);
        free(d->dir);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}
