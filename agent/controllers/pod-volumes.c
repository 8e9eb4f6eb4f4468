/* Pod volumes on the host: emptyDir (a directory, or a tmpfs for medium Memory), hostPath
 * (checked, then bound as it is), configMap and secret (projected by the atomic writer; a
 * secret's directory is a tmpfs). Directories live in <pods_dir>/<uid>/volumes/<kind>/<name>
 * as the kubelet lays them out; every step is idempotent, so setup runs on each sync. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic-writer.h"
#include "hostpath.h"
#include "json-util.h"
#include "log.h"
#include "manifest-internal.h"
#include "mount-util.h"
#include "pod-internal.h"
#include "util.h"

#define KIND_EMPTY_DIR "kubernetes.io~empty-dir"
#define KIND_CONFIGMAP "kubernetes.io~configmap"
#define KIND_SECRET "kubernetes.io~secret"
#define KIND_LOCAL "kubernetes.io~local-volume"

/* The source of a volume: the first member besides its name. */
static const char *volume_source(const cJSON *v)
{
        const cJSON *m;

        cJSON_ArrayForEach (m, v)
                if (m->string && !streq(m->string, "name") && !cJSON_IsNull(m))
                        return m->string;
        return "emptyDir"; /* SetDefaults_Volume */
}

static const char *kind_dir(const char *source)
{
        if (streq(source, "emptyDir"))
                return KIND_EMPTY_DIR;
        if (streq(source, "configMap"))
                return KIND_CONFIGMAP;
        if (streq(source, "secret"))
                return KIND_SECRET;
        if (streq(source, "persistentVolumeClaim"))
                return KIND_LOCAL;
        return NULL;
}

static char *volume_dir(PodController *c, const char *uid, const char *kind, const char *name)
{
        return strjoin(c->pods_dir, "/", uid, "/volumes/", kind, "/", name, NULL);
}

void pod_volume_table_free(PodVolumeTable *t)
{
        for (size_t i = 0; i < t->n_owned; i++)
                free(t->owned[i]);
        free(t->owned);
        free(t->volumes);
        *t = (PodVolumeTable){0};
}

int pod_volume_table_build(PodController *c, const cJSON *pod, PodVolumeTable *ret)
{
        const cJSON *vols = json_path(pod, "spec.volumes"), *v;
        const char *uid = json_str(pod, "metadata.uid") ?: "";
        int n = cJSON_GetArraySize(vols), r;

        *ret = (PodVolumeTable){0};
        if (n <= 0)
                return 0;
        ret->volumes = calloc((size_t)n, sizeof(PodVolumeHostPath));
        if (!ret->volumes)
                return -ENOMEM;
        cJSON_ArrayForEach (v, vols) {
                const char *source = volume_source(v), *kind = kind_dir(source);
                PodVolumeHostPath *e = &ret->volumes[ret->n];

                e->name = json_str(v, "name");
                if (!e->name)
                        continue;
                if (streq(source, "hostPath"))
                        e->host_path = json_str(v, "hostPath.path");
                else if (kind && c->pods_dir) {
                        _cleanup_free_ char *p = volume_dir(c, uid, kind, e->name);

                        r = p ? strv_push_copy(&ret->owned, &ret->n_owned, p) : -ENOMEM;
                        if (r < 0) {
                                pod_volume_table_free(ret);
                                return -ENOMEM;
                        }
                        e->host_path = ret->owned[ret->n_owned - 1];
                }
                if (e->host_path)
                        ret->n++;
        }
        return 0;
}

static int setup_empty_dir(const cJSON *v, const char *path, char **ret_error)
{
        const char *medium = json_str(v, "emptyDir.medium") ?: "";
        const cJSON *limit = json_path(v, "emptyDir.sizeLimit");
        int64_t milli = 0;
        int r;

        if (streq(medium, "Memory")) {
                if (limit && quantity_from_json(limit, &milli) < 0) {
                        asprintf_safe(ret_error, "invalid emptyDir sizeLimit");
                        return -EINVAL;
                }
                r = mkdir_p(path, 0755);
                if (r >= 0)
                        r = mount_tmpfs(path, milli > 0 ? (uint64_t)(milli / 1000) : 0, 0777);
                return r;
        }
        if (!isempty(medium)) {
                asprintf_safe(ret_error, "emptyDir medium %s is not supported yet by this agent", medium);
                return -EINVAL;
        }
        r = mkdir_p(path, 0755);
        if (r < 0)
                return r;
        /* as the kubelet's: every user of the pod may write, whatever its runAsUser */
        return chmod(path, 0777) < 0 ? negative_errno() : 0;
}

static int setup_host_path(const cJSON *v, char **ret_error)
{
        const char *path = json_str(v, "hostPath.path"), *type = json_str(v, "hostPath.type");
        HostPathType t = HOSTPATH_UNSET;

        if (isempty(path) || path[0] != '/') {
                asprintf_safe(ret_error, "hostPath path must be absolute");
                return -EINVAL;
        }
        if (!isempty(type) && hostpath_type_from_string(type, &t) < 0) {
                asprintf_safe(ret_error, "hostPath type %s is not known", type);
                return -EINVAL;
        }
        return hostpath_check(path, t, ret_error);
}

static int setup_projection(PodController *c, const cJSON *pod, const cJSON *v, bool secret,
                            const char *path, char **ret_error)
{
        const cJSON *src = json_path(v, secret ? "secret" : "configMap");
        const char *name = json_str(src, secret ? "secretName" : "name");
        _cleanup_json_ cJSON *obj = NULL;
        ProjectedFile *files = NULL;
        size_t n = 0;
        int r;

        r = name ? store_get(c->store, secret ? "Secret" : "ConfigMap",
                             json_str(pod, "metadata.namespace") ?: "default", name, &obj)
                 : -ENOENT;
        if (r < 0 && r != -ENOENT)
                return r;
        r = projection_build(src, obj, secret, &files, &n, ret_error);
        if (r < 0)
                return r;
        r = mkdir_p(path, 0755);
        /* secret data lives in memory only, never on the state dir's disk */
        if (r >= 0 && secret)
                r = mount_tmpfs(path, 0, 0755);
        if (r >= 0)
                r = atomic_write_dir(path, files, n, ret_error);
        projected_files_free(files, n);
        if (r > 0)
                log_debug("Volume %s of pod %s/%s projected anew.", json_str(v, "name"),
                          json_str(pod, "metadata.namespace"), json_str(pod, "metadata.name"));
        return r < 0 ? r : 0;
}

/* A claim's volume, published by the volume controller once per node, then bound into the
 * pod's directory (one mount per pod; a device node for volumeMode Block). */
static int setup_claim(PodController *c, const cJSON *pod, const cJSON *v, const char *path,
                       char **ret_error)
{
        _cleanup_free_ char *published = NULL;
        bool block;
        int r;

        if (!c->volumes)
                return set_errorf(ret_error, -EINVAL, "this agent has no volume controller for claims");
        r = volume_controller_publish_claim(c->volumes, pod, v, &published, &block, ret_error);
        if (r < 0)
                return r;
        return mount_bind(published, path, !block && json_bool(v, "persistentVolumeClaim.readOnly", false),
                          false);
}

static int setup_volume(PodController *c, const cJSON *pod, const cJSON *v, char **ret_error)
{
        const char *source = volume_source(v), *kind = kind_dir(source);
        const char *uid = json_str(pod, "metadata.uid") ?: "";
        _cleanup_free_ char *path = NULL;

        if (streq(source, "hostPath"))
                return setup_host_path(v, ret_error);
        if (!kind) {
                asprintf_safe(ret_error, "volume type %s is not supported yet by this agent", source);
                return -EINVAL;
        }
        if (!c->pods_dir) {
                asprintf_safe(ret_error, "this agent has no pods directory for volumes");
                return -EINVAL;
        }
        path = volume_dir(c, uid, kind, json_str(v, "name"));
        if (!path)
                return -ENOMEM;
        if (streq(source, "emptyDir"))
                return setup_empty_dir(v, path, ret_error);
        if (streq(source, "persistentVolumeClaim"))
                return setup_claim(c, pod, v, path, ret_error);
        return setup_projection(c, pod, v, streq(source, "secret"), path, ret_error);
}

int pod_volumes_setup(PodController *c, const cJSON *pod, char **ret_error)
{
        const cJSON *v;

        *ret_error = NULL;
        cJSON_ArrayForEach (v, json_path(pod, "spec.volumes")) {
                const char *name = json_str(v, "name") ?: "";
                _cleanup_free_ char *err = NULL;
                int r;

                if (isempty(name))
                        continue;
                r = setup_volume(c, pod, v, &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        /* any failure, a user's or the host's, makes the pod wait and retry */
                        if (asprintf_safe(ret_error, "MountVolume.SetUp failed for volume \"%s\" : %s", name,
                                          err ?: strerror(-r)) < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }
        }
        return 0;
}

int pod_volumes_teardown(PodController *c, const char *uid)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        if (!c->pods_dir || isempty(uid) || strchr(uid, '/') || streq(uid, ".") || streq(uid, ".."))
                return 0;
        dir = strjoin(c->pods_dir, "/", uid, NULL);
        if (!dir)
                return -ENOMEM;
        if (access(dir, F_OK) < 0)
                return 0;
        r = mount_umount_below(dir);
        if (r < 0)
                return log_warning_errno(r, "Failed to unmount the volumes below %s: %m", dir);
        /* rm_rf never crosses into a file system that is still mounted */
        r = rm_rf(dir);
        if (r < 0)
                return log_warning_errno(r, "Failed to remove %s: %m", dir);
        return 0;
}

static bool uid_in_use(const cJSON *pods, const RuntimeContainer *all, size_t n, const char *uid)
{
        const cJSON *p;

        cJSON_ArrayForEach (p, pods)
                if (streq_ptr(json_str(p, "metadata.uid"), uid))
                        return true;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(all[i].pod_uid, uid))
                        return true;
        return false;
}

int pod_volumes_collect(PodController *c)
{
        _cleanup_json_ cJSON *pods = NULL;
        RuntimeContainer *all = NULL;
        size_t n = 0;
        DIR *d;
        int r;

        if (!c->pods_dir)
                return 0;
        d = opendir(c->pods_dir);
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        r = store_list(c->store, "Pod", NULL, NULL, &pods);
        if (r >= 0)
                r = runtime_list_containers(c->runtime, &all, &n);
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                if (de->d_name[0] == '.' || uid_in_use(pods, all, n, de->d_name))
                        continue;
                log_debug("Removing the volumes of gone pod %s.", de->d_name);
                (void)pod_volumes_teardown(c, de->d_name);
        }
        closedir(d);
        runtime_container_array_free(all, n);
        return r < 0 ? r : 0;
}

bool pod_volumes_use(const cJSON *pod, const char *kind, const char *name)
{
        const char *field = streq_ptr(kind, "Secret")                  ? "secret.secretName"
                            : streq_ptr(kind, "PersistentVolumeClaim") ? "persistentVolumeClaim.claimName"
                                                                       : "configMap.name";
        const cJSON *v;

        cJSON_ArrayForEach (v, json_path(pod, "spec.volumes"))
                if (streq_ptr(json_str(v, field), name))
                        return true;
        return false;
}
