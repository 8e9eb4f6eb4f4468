/* Internal: the cri backend behind runtime.c. A pod is a CRI sandbox, made when its first
 * container starts and removed with its last container; a container is a CRI container in it.
 * berth's id of a container is "<pod uid>-<container>-<attempt>", known before the runtime
 * made anything, so that runtime_start_container() can return at once while the chain
 * (sandbox, image per imagePullPolicy, CreateContainer, StartContainer) runs on the loop.
 * Every sandbox and container carries the kubelet's labels and io.berth.instance, which is
 * how a restarted agent knows them again.
 *
 * State comes from a relist every second (ListPodSandbox + ListContainers, then
 * ContainerStatus only for what changed), as the kubelet's generic PLEG does; where the
 * runtime streams GetContainerEvents, the events trigger the relist at once. A runtime that
 * stops answering (restarting) changes nothing: the cache is kept and the relist resumes
 * when it answers again. */
#pragma once

#include "runtime.h"

typedef struct RuntimeCri RuntimeCri;

/* Connects to opts->endpoint (NULL: containerd's socket, else CRI-O's), checks Version and
 * that the runtime and its network are ready, and lists what this agent made before: all of
 * it before returning (on a private loop, bounded in time), so that the pod controller never
 * starts a container that already runs. Errors are logged in the user's words. */
int runtime_cri_new(RuntimeCri **ret, Runtime *owner, sd_event *e, const RuntimeOptions *opts);
RuntimeCri *runtime_cri_free(RuntimeCri *c); /* leaves sandboxes and containers running */
DEFINE_TRIVIAL_CLEANUP_FUNC(RuntimeCri *, runtime_cri_free);
/* "containerd", "cri-o": the scheme of container ids in pod statuses, as the kubelet's */
const char *runtime_cri_scheme(RuntimeCri *c);
int runtime_cri_start(RuntimeCri *c, const RuntimeContainerConfig *cfg, char **ret_id);
int runtime_cri_stop(RuntimeCri *c, const char *id, usec_t grace);
int runtime_cri_remove(RuntimeCri *c, const char *id);
void runtime_cri_release_pod(RuntimeCri *c, const char *pod_uid);
int runtime_cri_status(RuntimeCri *c, const char *id, RuntimeContainer *ret);
int runtime_cri_list(RuntimeCri *c, RuntimeContainer **ret, size_t *ret_n);
int runtime_cri_exec(RuntimeCri *c, const char *id, char *const *argv, usec_t timeout, size_t max_output,
                     runtime_exec_done_t done, void *userdata, RuntimeExec **ret);
void runtime_cri_exec_cancel(RuntimeExec *x);
void runtime_cri_set_observer(RuntimeCri *c, runtime_call_observer_t cb, void *userdata);
