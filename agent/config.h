/* The agent's configuration: /etc/berth/config.yaml (YAML or JSON), overridden by
 * command-line flags, with embedded defaults for everything. */
#pragma once

#include <cjson/cJSON.h>

#include "macro.h"

#define CONFIG_DEFAULT_PATH "/etc/berth/config.yaml"

typedef struct Config {
        char *node_name;       /* default: the host name */
        char *node_address;    /* as other nodes reach it; default: node_address_detect() */
        cJSON *labels;         /* node labels: object of strings */
        cJSON *taints;         /* array of {key, value, effect} */
        char *state_dir;       /* /var/lib/berth */
        char *manifests_dir;   /* /etc/berth/manifests.d */
        char *socket_path;     /* /run/berth/berth.sock */
        char *socket_group;    /* group owning the socket, default "berth" when it exists */
        char *log_dir;         /* /var/log/pods */
        char *metrics_address; /* "" = off; "127.0.0.1:10255" style */
        char *runtime_type;    /* "host" | "cri" | "systemd" */
        char *runtime_endpoint;
        char *coordinator_type;         /* "local" | "etcd" */
        cJSON *coordinator_endpoints;   /* array of strings */
        unsigned coordinator_lease_ttl; /* seconds; 10 */
        cJSON *storage_classes;         /* object NAME -> {type, path, fsType, reclaimPolicy} */
        char *default_storage_class;
        bool seccomp_default; /* RuntimeDefault for containers that do not say */
        unsigned events_max;  /* 1000 */
        char *log_level;      /* "info" */
        char *shim_path;   /* NULL: berth-shim next to berth, then in BERTH_LIBEXECDIR, then "berth shim" */
        char *cgroup_root; /* "berth": containers live in <hierarchy>/<cgroup_root>/pod-<uid>/<id> */
} Config;

/* Fills defaults. */
int config_init(Config *c);
void config_done(Config *c);
/* Loads path over the defaults. missing_ok: a missing file is not an error. Errors name
 * the file and the field: "config.yaml: runtime.type: Unsupported value: \"x\": ...". */
int config_load(Config *c, const char *path, bool missing_ok, char **ret_error);
/* The i-th key config_load() accepts ("stateDir", a section's as "runtime.type"), NULL past
 * the last: what berth.yaml(5) is checked against. */
const char *config_key(size_t i);
/* Checks the combined result (after flags). */
int config_check(const Config *c, char **ret_error);
