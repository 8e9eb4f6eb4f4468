/* Deleting another node's pod through any agent (`berth delete pod` on the fleet's view): a
 * request under pod-deletions/<node>/<ns>/<name>, {"uid": ..., "gracePeriodSeconds": N}, not
 * leased, so that it waits for a node that is away. The node it names runs it when it sees it
 * (watch, or the list after a reconnection) as its own API would — only on the pod with that
 * uid, so a pod made since under the same name stays — and then deletes the request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-internal.h"
#include "json-util.h"
#include "log.h"

static void on_request_sent(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        if (e)
                log_warning("fleet: a request to delete a pod of another node was not written: %s", e->text);
}

int fleet_delete_pod(Fleet *f, const cJSON *pod, int64_t grace_sec)
{
        const char *node = json_str(pod, "spec.nodeName"),
                   *ns = json_str(pod, "metadata.namespace") ?: "default",
                   *name = json_str(pod, "metadata.name"), *uid = json_str(pod, "metadata.uid");
        _cleanup_json_ cJSON *req = cJSON_CreateObject();
        _cleanup_free_ char *rel = NULL, *key = NULL, *value = NULL;

        if (isempty(node) || isempty(name) || strchr(node, '/') || strchr(ns, '/') || strchr(name, '/'))
                return -EINVAL;
        if (!f->synced || coordinator_state(f->co) != COORDINATOR_READY)
                return -EAGAIN;
        if (!req || (uid && json_set_string(req, "uid", uid) < 0) ||
            (grace_sec >= 0 && json_set_int(req, "gracePeriodSeconds", grace_sec) < 0))
                return -ENOMEM;
        rel = strjoin(node, "/", ns, "/", name, NULL);
        key = rel ? fleet_key(f, "pod-deletions/", rel) : NULL;
        value = cJSON_PrintUnformatted(req);
        if (!key || !value)
                return -ENOMEM;
        /* once written, the request stays until its node has run it */
        return etcd_put(coordinator_etcd(f->co), key, value, strlen(value), 0, on_request_sent, NULL, NULL);
}

static void on_request_deleted(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        /* a request left behind runs again at the next list: on the same uid, it is a no-op */
        if (e)
                log_debug("fleet: a pod deletion request stays: %s", e->text);
}

void fleet_deletion_seen(Fleet *f, const char *rel, const char *value)
{
        _cleanup_free_ char *node = NULL, *ns = NULL, *name = NULL, *key = NULL;
        _cleanup_json_ cJSON *req = cJSON_Parse(value ?: ""), *pod = NULL;
        const char *uid = json_str(req, "uid");
        int64_t grace = json_int(req, "gracePeriodSeconds", -1);
        int r;

        if (fleet_key_split(rel, &node, &ns, &name) < 0 || !streq(node, f->node))
                return;
        key = fleet_key(f, "pod-deletions/", rel);
        r = store_get(f->store, "Pod", ns, name, &pod);
        if (r >= 0 && (!uid || streq_ptr(json_str(pod, "metadata.uid"), uid))) {
                log_info("Deleting pod %s/%s as another agent asked.", ns, name);
                r = store_delete_object(f->store, "Pod", ns, name, grace < 0 ? -1 : grace,
                                        STORE_PROPAGATE_BACKGROUND, NULL);
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Cannot delete pod %s/%s as another agent asked: %m", ns, name);
        }
        if (key && etcd_delete(coordinator_etcd(f->co), key, false, on_request_deleted, NULL, NULL) < 0)
                log_debug("fleet: cannot delete the request %s", key);
}
