/* Private interface between pod.c (pod spec, volumes, defaults, updates) and
 * pod-container.c (containers, init containers, probes, env, ports, resources). */
#pragma once

#include <cjson/cJSON.h>

#include "field-errors.h"

/* Validates spec.initContainers and spec.containers at spec_path: names unique across
 * both, volume mounts against the pod's volume names (a cJSON array of strings). */
void pod_containers_validate(const cJSON *spec, const char *spec_path, const cJSON *volume_names,
                             FieldErrors *e);
/* Container defaults (SetDefaults_Container, probes, ports, env field refs). */
int pod_container_set_defaults(cJSON *c);
/* securityContext checks shared by pod and container levels. */
void pod_validate_security_context(const cJSON *sc, const char *path, FieldErrors *e);
/* httpGet scheme/path defaults (SetDefaults_HTTPGetAction). */
int pod_http_get_set_defaults(cJSON *http_get);
/* Appends "<parent>.<field>" or "<parent>[i]" to e on OOM-safe paths: malloc'd or NULL. */
char *pod_path(const char *parent, const char *child);
