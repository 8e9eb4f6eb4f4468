/* The HTTP/JSON API on a unix socket: the Kubernetes REST paths over the object store,
 * served by libmicrohttpd inside the agent's sd-event loop (no threads). */
#pragma once

#include <systemd/sd-event.h>

#include "macro.h"
#include "field-errors.h"
#include "store.h"

typedef struct ApiServer ApiServer;

typedef struct ApiOptions {
        const char *socket_path;  /* created (0660) unless listen_fd >= 0 */
        int listen_fd;            /* an inherited listening socket (socket activation), or -1 */
        const char *socket_group; /* group owning the socket; NULL = root's group only */
        const char *log_dir;      /* pod logs, as runtime_log_path() lays them out */
        const char *node_name;
} ApiOptions;

/* Hooks the agent gives the API for what is not plain storage. Any may be NULL. */
typedef struct ApiHooks {
        /* Extra text for GET /metrics (Prometheus); malloc'd. */
        int (*metrics)(void *userdata, char **ret);
        /* The agent's own admission of an object about to be created or replaced, after the
         * API rules passed: appends to errs, returns the number of errors or -errno. */
        int (*admit)(void *userdata, const cJSON *obj, FieldErrors *errs);
        /* The live state of a pod's probes (GET .../pods/NAME/probes): a JSON array, malloc'd. */
        int (*pod_probes)(void *userdata, const char *pod_uid, cJSON **ret);
        /* Cluster mode: the other nodes' pods in ns (NULL: all), a JSON array (copy). They are
         * listed and read beside this node's own, never changed through this API. */
        int (*fleet_pods)(void *userdata, const char *ns, cJSON **ret);
        /* Cluster mode: DELETE of another node's pod (one of fleet_pods') asks that node to
         * delete it (grace_sec < 0: the pod's own). 0 once asked, or a negative errno. */
        int (*delete_fleet_pod)(void *userdata, const cJSON *pod, int64_t grace_sec);
        /* POST .../statefulsets/NAME/release {"ordinal": N}: `berth release`; a negative errno
         * or 0 once sent, with *ret_error (malloc'd, may stay NULL) saying what was wrong. */
        int (*release_ordinal)(void *userdata, const char *ns, const char *set, int64_t ordinal,
                               char **ret_error);
        void *userdata;
} ApiHooks;

int api_server_new(ApiServer **ret, sd_event *e, Store *store, const ApiOptions *opts,
                   const ApiHooks *hooks);
/* The text of GET /metrics (malloc'd): the agent's (ApiHooks.metrics) followed by the API's
 * own counters, for another listener (metricsAddress) to serve the same. */
int api_server_metrics_text(ApiServer *api, char **ret);
/* Stops listening, closes connections, removes the socket file it created. */
ApiServer *api_server_free(ApiServer *api);
DEFINE_TRIVIAL_CLEANUP_FUNC(ApiServer *, api_server_free);
