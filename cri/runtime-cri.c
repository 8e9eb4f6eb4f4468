/* The cri backend (runtime-cri.h): pods as CRI sandboxes, containers in them, every call
 * asynchronous on the agent's loop through cri-client.h, state from a relist. */
#include <string.h>
#include <sys/stat.h>

#include "cri-client.h"
#include "cri-config.h"
#include "log.h"
#include "runtime-cri.h"
#include "runtime-host.h"

/* The kubelet's generic PLEG relists every second. */
#define RELIST_USEC USEC_PER_SEC
/* A sandbox with no container left goes after this many relists: a container of the pod
 * that is being replaced (a retried start) finds it still there. */
#define IDLE_RELISTS 2
/* A GetContainerEvents stream that ended is opened again after this. */
#define EVENTS_RETRY_USEC (5 * USEC_PER_SEC)
/* A container the runtime no longer lists is lost after this many relists (one list may
 * race with a create). */
#define MISSING_RELISTS 2
#define RESERVED_RETRIES 3
#define BOOTSTRAP_USEC (20 * USEC_PER_SEC)
#define LOST_EXIT_CODE 137
#define LOST_REASON "ContainerStatusUnknown"

typedef enum Step {
        STEP_SANDBOX,
        STEP_IMAGE,
        STEP_CREATE,
        STEP_START_WAIT,
        STEP_START,
        STEP_DONE,
} Step;

typedef struct CriCtr {
        RuntimeContainer info; /* id: berth's; runtime_id: the CRI container id once made */
        Step step;
        bool busy; /* a call of the start chain is in flight */
        /* the image is resolved (ImageStatus, PullImage) while the sandbox is made */
        bool image_busy, image_done;
        bool hidden; /* removed by the caller while busy: removed when the call is answered */
        bool stop_requested, never_started, exit_reported, start_reported;
        bool status_busy, status_again, stop_retry;
        int64_t grace_s;
        unsigned missing;
        char *pull_policy, *image, *log_directory;
        Runtime__V1__ContainerConfig *config; /* until created */
        sd_event_source *start_timer, *report_source;
        usec_t start_at;
        RuntimeCri *rc;
} CriCtr;

typedef enum SandboxState {
        SB_NONE,
        SB_CREATING,
        SB_READY,
} SandboxState;

typedef struct CriPod {
        char *uid, *sandbox_id;
        char *ip; /* the sandbox's, once asked (PodSandboxStatus); NULL: the node's network */
        bool ip_known;
        SandboxState state;
        unsigned attempt; /* of the next sandbox made */
        unsigned idle, reserved_retries;
        bool released; /* the pod is gone: the sandbox goes with the last container */
        Runtime__V1__PodSandboxConfig *config; /* the newest built; NULL for an adopted sandbox */
} CriPod;

typedef struct CriOp CriOp;
typedef void (*op_cont_t)(CriOp *op, const CriError *e, const void *resp);

struct CriOp {
        RuntimeCri *rc;
        CriOp *prev, *next;
        CriCall *call;
        CriMethod method;
        usec_t started;
        op_cont_t cont;
        char *key; /* a container's berth id, a pod uid or a CRI id, per continuation */
        void *exec;
};

typedef struct CriExec {
        RuntimeType backend; /* first: runtime_exec_cancel() dispatches on it */
        RuntimeCri *rc;
        CriOp *op;
        runtime_exec_done_t done;
        void *userdata;
        size_t max_output;
} CriExec;

struct RuntimeCri {
        Runtime *owner;
        sd_event *event;
        CurlLoop *curl;
        CriClient *client;
        char *endpoint, *instance, *seccomp_root, *scheme;
        char *resolv_conf; /* the node's, read at start: what pods' DNS is merged into */
        CriCtr **ctrs;
        size_t n_ctrs;
        CriPod **pods;
        size_t n_pods;
        char **removing; /* CRI container ids being removed: a relist must not adopt them */
        size_t n_removing;
        CriOp *ops;
        sd_event_source *relist_timer, *events_timer;
        CriCall *events; /* GetContainerEvents, where the runtime has it */
        bool relisting, relist_again, unavailable, bootstrapping;
        runtime_call_observer_t observer;
        void *observer_userdata;
};

static const char *const method_names[_CRI_METHOD_MAX] = {
    [CRI_METHOD_VERSION] = "Version",
    [CRI_METHOD_STATUS] = "Status",
    [CRI_METHOD_RUN_POD_SANDBOX] = "RunPodSandbox",
    [CRI_METHOD_STOP_POD_SANDBOX] = "StopPodSandbox",
    [CRI_METHOD_REMOVE_POD_SANDBOX] = "RemovePodSandbox",
    [CRI_METHOD_POD_SANDBOX_STATUS] = "PodSandboxStatus",
    [CRI_METHOD_LIST_POD_SANDBOX] = "ListPodSandbox",
    [CRI_METHOD_CREATE_CONTAINER] = "CreateContainer",
    [CRI_METHOD_START_CONTAINER] = "StartContainer",
    [CRI_METHOD_STOP_CONTAINER] = "StopContainer",
    [CRI_METHOD_REMOVE_CONTAINER] = "RemoveContainer",
    [CRI_METHOD_LIST_CONTAINERS] = "ListContainers",
    [CRI_METHOD_CONTAINER_STATUS] = "ContainerStatus",
    [CRI_METHOD_EXEC_SYNC] = "ExecSync",
    [CRI_METHOD_GET_CONTAINER_EVENTS] = "GetContainerEvents",
    [CRI_METHOD_LIST_IMAGES] = "ListImages",
    [CRI_METHOD_IMAGE_STATUS] = "ImageStatus",
    [CRI_METHOD_PULL_IMAGE] = "PullImage",
    [CRI_METHOD_REMOVE_IMAGE] = "RemoveImage",
};

static void chain_advance(CriCtr *t);
static void relist(RuntimeCri *rc);

/* --- calls ------------------------------------------------------------------------------ */

static void op_free(CriOp *op)
{
        if (!op)
                return;
        if (op->prev)
                op->prev->next = op->next;
        else if (op->rc->ops == op)
                op->rc->ops = op->next;
        if (op->next)
                op->next->prev = op->prev;
        free(op->key);
        free(op);
}

static void op_done(const CriError *e, const void *resp, void *userdata)
{
        CriOp *op = userdata;
        RuntimeCri *rc = op->rc;

        if (rc->observer && (size_t)op->method < ELEMENTSOF(method_names))
                rc->observer(method_names[op->method], now_usec(CLOCK_MONOTONIC) - op->started,
                             e ? e->status : GRPC_STATUS_OK, rc->observer_userdata);
        if (e && e->status == GRPC_STATUS_UNAVAILABLE && !rc->unavailable) {
                rc->unavailable = true;
                log_warning("The container runtime at %s does not answer (%s): keeping what is known "
                            "and retrying.",
                            rc->endpoint, e->desc ?: e->message ?: "unavailable");
        }
        op->call = NULL;
        op->cont(op, e, resp);
        op_free(op);
}

/* A call about key; cont runs with the answer (or the error). */
static CriOp *op_new(RuntimeCri *rc, CriMethod m, const char *key, op_cont_t cont)
{
        CriOp *op = calloc(1, sizeof(*op));

        if (!op)
                return NULL;
        op->rc = rc;
        op->method = m;
        op->cont = cont;
        op->started = now_usec(CLOCK_MONOTONIC);
        if (key && !(op->key = strdup(key))) {
                free(op);
                return NULL;
        }
        op->next = rc->ops;
        if (rc->ops)
                rc->ops->prev = op;
        rc->ops = op;
        return op;
}

/* After the call was started (r is its result): on failure the op goes, and the error
 * reaches the continuation later from the loop as an INTERNAL error would not: the callers
 * handle r themselves. */
static int op_started(CriOp *op, int r)
{
        if (r < 0)
                op_free(op);
        return r;
}

/* --- lookups ---------------------------------------------------------------------------- */

static CriCtr *ctr_by_id(RuntimeCri *rc, const char *id)
{
        for (size_t i = 0; i < rc->n_ctrs; i++)
                if (streq(rc->ctrs[i]->info.id, id))
                        return rc->ctrs[i];
        return NULL;
}

static CriCtr *ctr_by_runtime_id(RuntimeCri *rc, const char *rid)
{
        for (size_t i = 0; i < rc->n_ctrs; i++)
                if (streq_ptr(rc->ctrs[i]->info.runtime_id, rid))
                        return rc->ctrs[i];
        return NULL;
}

static CriPod *pod_by_uid(RuntimeCri *rc, const char *uid)
{
        for (size_t i = 0; i < rc->n_pods; i++)
                if (streq(rc->pods[i]->uid, uid))
                        return rc->pods[i];
        return NULL;
}

static size_t pod_containers(RuntimeCri *rc, const char *uid)
{
        size_t n = 0;

        for (size_t i = 0; i < rc->n_ctrs; i++)
                if (streq_ptr(rc->ctrs[i]->info.pod_uid, uid))
                        n++;
        return n;
}

static CriPod *pod_get(RuntimeCri *rc, const char *uid)
{
        CriPod *p = pod_by_uid(rc, uid), **l;

        if (p)
                return p;
        p = calloc(1, sizeof(*p));
        l = reallocarray(rc->pods, rc->n_pods + 1, sizeof(*l));
        if (!p || !l || !(p->uid = strdup(uid))) {
                free(p);
                if (l)
                        rc->pods = l;
                return NULL;
        }
        rc->pods = l;
        rc->pods[rc->n_pods++] = p;
        return p;
}

static void pod_free(RuntimeCri *rc, CriPod *p)
{
        for (size_t i = 0; i < rc->n_pods; i++)
                if (rc->pods[i] == p) {
                        rc->pods[i] = rc->pods[--rc->n_pods];
                        break;
                }
        free(p->uid);
        free(p->sandbox_id);
        free(p->ip);
        cri_config_free(p->config);
        free(p);
}

static void sandbox_remove(RuntimeCri *rc, const char *sandbox_id);

/* A released pod with no container left: its sandbox goes now. */
static void pod_maybe_remove(RuntimeCri *rc, const char *uid)
{
        CriPod *p = uid ? pod_by_uid(rc, uid) : NULL;

        if (!p || !p->released || p->state == SB_CREATING || pod_containers(rc, uid) > 0)
                return;
        if (p->sandbox_id)
                sandbox_remove(rc, p->sandbox_id);
        pod_free(rc, p);
}

static bool removing_has(RuntimeCri *rc, const char *rid)
{
        for (size_t i = 0; i < rc->n_removing; i++)
                if (streq(rc->removing[i], rid))
                        return true;
        return false;
}

static void removing_drop(RuntimeCri *rc, const char *rid)
{
        for (size_t i = 0; i < rc->n_removing; i++)
                if (streq(rc->removing[i], rid)) {
                        free(rc->removing[i]);
                        rc->removing[i] = rc->removing[--rc->n_removing];
                        return;
                }
}

/* --- containers ------------------------------------------------------------------------- */

static void ctr_free(CriCtr *t)
{
        RuntimeCri *rc = t->rc;

        for (size_t i = 0; i < rc->n_ctrs; i++)
                if (rc->ctrs[i] == t) {
                        rc->ctrs[i] = rc->ctrs[--rc->n_ctrs];
                        break;
                }
        sd_event_source_disable_unref(t->start_timer);
        sd_event_source_disable_unref(t->report_source);
        cri_config_free(t->config);
        runtime_container_done(&t->info);
        free(t->pull_policy);
        free(t->image);
        free(t->log_directory);
        free(t);
}

static CriCtr *ctr_new(RuntimeCri *rc, const char *id)
{
        CriCtr *t = calloc(1, sizeof(*t)), **l;

        if (!t)
                return NULL;
        l = reallocarray(rc->ctrs, rc->n_ctrs + 1, sizeof(*l));
        if (!l || !(t->info.id = strdup(id))) {
                free(t);
                if (l)
                        rc->ctrs = l;
                return NULL;
        }
        t->rc = rc;
        rc->ctrs = l;
        rc->ctrs[rc->n_ctrs++] = t;
        return t;
}

static int set_str(char **p, const char *s)
{
        char *n = NULL;

        if (s && !isempty(s) && !(n = strdup(s)))
                return -ENOMEM;
        free(*p);
        *p = n;
        return 0;
}

static int on_report(sd_event_source *s, void *userdata)
{
        CriCtr *t = userdata;
        Runtime *owner = t->rc->owner;
        _cleanup_free_ char *id = strdup(t->info.id);

        t->report_source = sd_event_source_disable_unref(t->report_source);
        if (!id)
                return 0;
        if (t->info.state == CONTAINER_EXITED && !t->exit_reported) {
                t->exit_reported = true;
                if (owner->on_exit)
                        owner->on_exit(owner, id, owner->userdata);
        } else if (t->info.state == CONTAINER_RUNNING && !t->start_reported) {
                t->start_reported = true;
                if (owner->on_start)
                        owner->on_start(owner, id, owner->start_userdata);
        }
        return 0;
}

/* Tells the owner what changed, from the loop (never from inside a runtime_* call). */
static void ctr_report(CriCtr *t)
{
        if (t->rc->bootstrapping) { /* the owner lists everything once it is up */
                t->exit_reported |= t->info.state == CONTAINER_EXITED;
                t->start_reported |= t->info.state != CONTAINER_CREATED;
                return;
        }
        if (t->report_source)
                return;
        if (sd_event_add_defer(t->rc->event, &t->report_source, on_report, t) < 0)
                log_warning("Cannot report the state of container %s.", t->info.id);
}

static void ctr_exited(CriCtr *t, int code, const char *reason, const char *message)
{
        t->info.state = CONTAINER_EXITED;
        t->info.pid = 0;
        t->info.exit_code = code;
        t->info.finished_at = now_usec(CLOCK_REALTIME);
        if (t->info.finished_at < t->info.started_at)
                t->info.finished_at = t->info.started_at;
        (void)set_str(&t->info.reason, reason);
        (void)set_str(&t->info.message, message);
        t->step = STEP_DONE;
        ctr_report(t);
}

/* The runtime never made it: the caller removes the record and tries again later. */
static void ctr_waiting(CriCtr *t, const char *reason, const char *message)
{
        t->info.waiting = true;
        ctr_exited(t, 0, reason, message);
        t->info.finished_at = 0;
}

/* Stopped before its command ran. */
static void ctr_never_started(CriCtr *t)
{
        t->never_started = true;
        ctr_exited(t, LOST_EXIT_CODE, "Error", "stopped before it started");
}

static void container_removed(CriOp *op, const CriError *e, const void *resp)
{
        (void)resp;
        if (e && e->status != GRPC_STATUS_NOT_FOUND)
                log_warning("Failed to remove CRI container %s: %s", op->key, e->message);
        removing_drop(op->rc, op->key);
}

/* The record goes now; the runtime's container (if made) goes in the background. */
static void ctr_drop(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        const char *rid = t->info.runtime_id;

        if (rid) {
                CriOp *op = op_new(rc, CRI_METHOD_REMOVE_CONTAINER, rid, container_removed);
                char **l = reallocarray(rc->removing, rc->n_removing + 1, sizeof(*l));

                if (l) {
                        rc->removing = l;
                        if ((l[rc->n_removing] = strdup(rid)))
                                rc->n_removing++;
                }
                if (!op || op_started(op, cri_client_remove_container(rc->client, rid, 0, op_done, op,
                                                                      &op->call)) < 0)
                        log_warning("Cannot remove CRI container %s now; it goes once its pod is gone.",
                                    rid);
        }
        _cleanup_free_ char *uid = t->info.pod_uid ? strdup(t->info.pod_uid) : NULL;
        ctr_free(t);
        pod_maybe_remove(rc, uid);
}

void runtime_cri_release_pod(RuntimeCri *rc, const char *pod_uid)
{
        CriPod *p = pod_by_uid(rc, pod_uid);

        if (!p)
                return;
        p->released = true;
        pod_maybe_remove(rc, pod_uid);
}

static usec_t ns_to_usec(int64_t ns)
{
        return ns > 0 ? (usec_t)ns / 1000 : 0;
}

static ContainerState state_from_cri(Runtime__V1__ContainerState s, bool never_started)
{
        switch (s) {
        case RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED:
                return never_started ? CONTAINER_EXITED : CONTAINER_CREATED;
        case RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING:
                return CONTAINER_RUNNING;
        case RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED:
                return CONTAINER_EXITED;
        default:
                return CONTAINER_UNKNOWN;
        }
}

static void status_answered(CriOp *op, const CriError *e, const void *resp);

static void ctr_refresh(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        CriOp *op;

        if (!t->info.runtime_id)
                return;
        if (t->status_busy) {
                t->status_again = true;
                return;
        }
        op = op_new(rc, CRI_METHOD_CONTAINER_STATUS, t->info.id, status_answered);
        if (!op || op_started(op, cri_client_container_status(rc->client, t->info.runtime_id, false, 0,
                                                              op_done, op, &op->call)) < 0)
                return; /* the next relist tries again */
        t->status_busy = true;
}

static void status_answered(CriOp *op, const CriError *e, const void *resp)
{
        CriCtr *t = ctr_by_id(op->rc, op->key);
        const Runtime__V1__ContainerStatusResponse *r = resp;
        const Runtime__V1__ContainerStatus *s;
        ContainerState was;

        if (!t)
                return;
        t->status_busy = false;
        if (e) {
                if (e->status == GRPC_STATUS_NOT_FOUND && t->info.state != CONTAINER_EXITED)
                        ctr_exited(t, LOST_EXIT_CODE, LOST_REASON,
                                   "The container could not be located when the pod was terminated");
                return;
        }
        s = r->status;
        was = t->info.state;
        t->info.state = state_from_cri(s->state, t->never_started);
        if (!t->never_started) {
                t->info.created_at = ns_to_usec(s->created_at) ?: t->info.created_at;
                t->info.started_at = ns_to_usec(s->started_at);
                t->info.finished_at = ns_to_usec(s->finished_at);
                /* short commands: the runtime may stamp the end before the start */
                if (t->info.finished_at && t->info.finished_at < t->info.started_at)
                        t->info.finished_at = t->info.started_at;
                if (t->info.state == CONTAINER_EXITED) {
                        t->info.exit_code = s->exit_code;
                        (void)set_str(&t->info.reason, !isempty(s->reason) ? s->reason
                                                       : s->exit_code == 0 ? "Completed"
                                                                           : "Error");
                        (void)set_str(&t->info.message, s->message);
                }
        }
        (void)set_str(&t->info.image_id, s->image_ref);
        if (!isempty(s->log_path))
                (void)set_str(&t->info.log_path, s->log_path);
        if (t->info.state != was || !t->exit_reported || !t->start_reported)
                ctr_report(t);
        if (t->status_again) {
                t->status_again = false;
                ctr_refresh(t);
        }
}

/* --- the start chain -------------------------------------------------------------------- */

static void chain_fail_pod(RuntimeCri *rc, CriPod *p, const char *reason, const char *message)
{
        for (size_t i = rc->n_ctrs; i > 0; i--) {
                CriCtr *t = rc->ctrs[i - 1];
                if (t->step == STEP_SANDBOX && streq_ptr(t->info.pod_uid, p->uid) && !t->busy) {
                        if (t->hidden)
                                ctr_free(t);
                        else
                                ctr_waiting(t, reason, message);
                }
        }
}

static void chain_advance_pod(RuntimeCri *rc, CriPod *p)
{
        for (size_t i = 0; i < rc->n_ctrs; i++) {
                CriCtr *t = rc->ctrs[i];
                if (t->step == STEP_SANDBOX && streq_ptr(t->info.pod_uid, p->uid) && !t->busy) {
                        chain_advance(t);
                        /* chain_advance may free t and reorder the array: start over */
                        i = (size_t)-1;
                        if (p->state != SB_READY)
                                return;
                }
        }
}

static void sandbox_run(RuntimeCri *rc, CriPod *p);
static void sandbox_ready(RuntimeCri *rc, CriPod *p);

static void sandbox_removed(CriOp *op, const CriError *e, const void *resp)
{
        (void)resp;
        if (e && e->status != GRPC_STATUS_NOT_FOUND)
                log_warning("Failed to remove pod sandbox %s: %s", op->key, e->message);
}

static void sandbox_stopped(CriOp *op, const CriError *e, const void *resp)
{
        RuntimeCri *rc = op->rc;
        CriOp *next;

        (void)resp;
        if (e && e->status != GRPC_STATUS_NOT_FOUND) {
                log_warning("Failed to stop pod sandbox %s: %s", op->key, e->message);
                return; /* still listed: the next relists try again */
        }
        next = op_new(rc, CRI_METHOD_REMOVE_POD_SANDBOX, op->key, sandbox_removed);
        if (next)
                (void)op_started(
                    next, cri_client_remove_pod_sandbox(rc->client, op->key, 0, op_done, next, &next->call));
}

static void sandbox_remove(RuntimeCri *rc, const char *sandbox_id)
{
        CriOp *op = op_new(rc, CRI_METHOD_STOP_POD_SANDBOX, sandbox_id, sandbox_stopped);

        if (op)
                (void)op_started(
                    op, cri_client_stop_pod_sandbox(rc->client, sandbox_id, 0, op_done, op, &op->call));
}

static const char *label_of(void *const *entries, size_t n, const char *key)
{
        return cri_map_get(entries, n, key);
}

/* After "name is reserved": the runtime holds a sandbox of this pod and attempt that berth
 * lost track of (an agent killed mid-call). Reuse it when ready, else remove it and make the
 * next attempt. */
static void reserved_listed(CriOp *op, const CriError *e, const void *resp)
{
        RuntimeCri *rc = op->rc;
        CriPod *p = pod_by_uid(rc, op->key);
        const Runtime__V1__ListPodSandboxResponse *r = resp;
        bool reused = false;

        if (!p)
                return;
        if (e) {
                p->state = SB_NONE;
                chain_fail_pod(rc, p, "CreatePodSandboxError", e->message);
                return;
        }
        for (size_t i = 0; i < r->n_items; i++) {
                const Runtime__V1__PodSandbox *s = r->items[i];
                if (s->metadata && s->metadata->attempt >= p->attempt)
                        p->attempt = s->metadata->attempt + 1;
                if (s->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY && !reused &&
                    set_str(&p->sandbox_id, s->id) >= 0) {
                        log_info("Reusing pod sandbox %s of pod %s.", s->id, p->uid);
                        reused = true;
                } else
                        sandbox_remove(rc, s->id);
        }
        if (p->sandbox_id && p->state == SB_CREATING && reused)
                sandbox_ready(rc, p);
        else
                sandbox_run(rc, p);
}

static void pod_set_ip(RuntimeCri *rc, CriPod *p, const char *ip)
{
        (void)set_str(&p->ip, ip);
        p->ip_known = true;
        for (size_t i = 0; i < rc->n_ctrs; i++)
                if (streq_ptr(rc->ctrs[i]->info.pod_uid, p->uid))
                        (void)set_str(&rc->ctrs[i]->info.pod_ip, p->ip);
}

static void sandbox_status_answered(CriOp *op, const CriError *e, const void *resp)
{
        RuntimeCri *rc = op->rc;
        CriPod *p = pod_by_uid(rc, op->key);
        const Runtime__V1__PodSandboxStatusResponse *r = resp;

        if (!p)
                return;
        /* without an answer the pod goes on with the node's address: probes still reach
         * host-network pods, and the next sandbox asks again */
        pod_set_ip(rc, p, !e && r->status && r->status->network ? r->status->network->ip : NULL);
        if (e)
                log_warning("Cannot read the address of pod sandbox %s: %s", op->key, e->message);
        if (p->state == SB_CREATING) {
                p->state = SB_READY;
                chain_advance_pod(rc, p);
        }
}

/* The sandbox runs: its address is read before any container starts, so that the pod's
 * status (and the probes made from it) name it from the start. */
static void sandbox_ready(RuntimeCri *rc, CriPod *p)
{
        CriOp *op = op_new(rc, CRI_METHOD_POD_SANDBOX_STATUS, p->uid, sandbox_status_answered);

        p->ip_known = false;
        if (!op || op_started(op, cri_client_pod_sandbox_status(rc->client, p->sandbox_id, false, 0, op_done,
                                                                op, &op->call)) < 0) {
                pod_set_ip(rc, p, NULL);
                p->state = SB_READY;
                chain_advance_pod(rc, p);
        }
}

static void sandbox_answered(CriOp *op, const CriError *e, const void *resp)
{
        RuntimeCri *rc = op->rc;
        CriPod *p = pod_by_uid(rc, op->key);
        const Runtime__V1__RunPodSandboxResponse *r = resp;

        if (!p) {
                if (r)
                        sandbox_remove(rc, r->pod_sandbox_id);
                return;
        }
        if (e && e->desc && strstr(e->desc, "is reserved") && p->reserved_retries++ < RESERVED_RETRIES) {
                Runtime__V1__PodSandboxFilter f = RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
                Runtime__V1__PodSandboxFilter__LabelSelectorEntry uid =
                    RUNTIME__V1__POD_SANDBOX_FILTER__LABEL_SELECTOR_ENTRY__INIT;
                Runtime__V1__PodSandboxFilter__LabelSelectorEntry *sel[] = {&uid};
                CriOp *next = op_new(rc, CRI_METHOD_LIST_POD_SANDBOX, p->uid, reserved_listed);

                uid.key = (char *)CRI_LABEL_POD_UID;
                uid.value = p->uid;
                f.n_label_selector = 1;
                f.label_selector = sel;
                if (next && op_started(next, cri_client_list_pod_sandbox(rc->client, &f, 0, op_done, next,
                                                                         &next->call)) >= 0)
                        return;
        }
        if (e) {
                p->state = SB_NONE;
                log_warning("Failed to create the sandbox of pod %s: %s", p->uid, e->message);
                chain_fail_pod(rc, p, "CreatePodSandboxError", e->message);
                return;
        }
        if (set_str(&p->sandbox_id, r->pod_sandbox_id) < 0) {
                p->state = SB_NONE;
                chain_fail_pod(rc, p, "CreatePodSandboxError", "out of memory");
                return;
        }
        p->attempt++;
        p->reserved_retries = 0;
        sandbox_ready(rc, p);
}

static void sandbox_run(RuntimeCri *rc, CriPod *p)
{
        CriOp *op;
        int r;

        p->state = SB_CREATING;
        p->config->metadata->attempt = p->attempt;
        op = op_new(rc, CRI_METHOD_RUN_POD_SANDBOX, p->uid, sandbox_answered);
        r = op ? op_started(
                     op, cri_client_run_pod_sandbox(rc->client, p->config, NULL, 0, op_done, op, &op->call))
               : -ENOMEM;
        if (r < 0) {
                p->state = SB_NONE;
                chain_fail_pod(rc, p, "CreatePodSandboxError", strerror(-r));
        }
}

/* Ends a chain step: a container removed meanwhile goes; one stopped meanwhile stops. */
static bool chain_interrupted(CriCtr *t)
{
        if (t->hidden) {
                ctr_drop(t);
                return true;
        }
        if (t->stop_requested && t->step != STEP_DONE) {
                ctr_never_started(t);
                return true;
        }
        return false;
}

static void image_answered(CriOp *op, const CriError *e, const void *resp);

static void image_pull(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        CriPod *p = pod_by_uid(rc, t->info.pod_uid);
        CriOp *op = op_new(rc, CRI_METHOD_PULL_IMAGE, t->info.id, image_answered);
        int r;

        r = op ? op_started(op, cri_client_pull_image(rc->client, t->image, NULL, p ? p->config : NULL, 0,
                                                      op_done, op, &op->call))
               : -ENOMEM;
        if (r < 0)
                ctr_waiting(t, "ErrImagePull", strerror(-r));
        else
                t->image_busy = true;
}

static int set_image_ref(CriCtr *t, const char *ref)
{
        char *s = strdup(ref);

        if (!s)
                return -ENOMEM;
        free(t->config->image->image);
        t->config->image->image = s;
        return 0;
}

static void image_answered(CriOp *op, const CriError *e, const void *resp)
{
        CriCtr *t = ctr_by_id(op->rc, op->key);
        _cleanup_free_ char *m = NULL;

        if (!t)
                return;
        t->image_busy = false;
        if (t->step == STEP_DONE) { /* failed or stopped meanwhile */
                if (t->hidden && !t->busy)
                        ctr_drop(t);
                return;
        }
        if (!t->busy && chain_interrupted(t))
                return;
        if (op->method == CRI_METHOD_PULL_IMAGE) {
                const Runtime__V1__PullImageResponse *r = resp;
                if (e) {
                        (void)asprintf_safe(&m, "Failed to pull image \"%s\": %s", t->info.image,
                                            e->message);
                        ctr_waiting(t, "ErrImagePull", m ?: e->message);
                        return;
                }
                if (set_image_ref(t, r->image_ref) < 0) {
                        ctr_waiting(t, "ErrImagePull", "out of memory");
                        return;
                }
        } else {
                const Runtime__V1__ImageStatusResponse *r = resp;
                if (e) {
                        (void)asprintf_safe(&m, "Failed to inspect image \"%s\": %s", t->info.image,
                                            e->message);
                        ctr_waiting(t, "ImageInspectError", m ?: e->message);
                        return;
                }
                if (!r->image) {
                        if (streq_ptr(t->pull_policy, "Never")) {
                                (void)asprintf_safe(&m,
                                                    "Container image \"%s\" is not present with pull policy "
                                                    "of Never",
                                                    t->info.image);
                                ctr_waiting(t, "ErrImageNeverPull", m ?: "image not present");
                                return;
                        }
                        image_pull(t);
                        return;
                }
                if (set_image_ref(t, r->image->id) < 0) {
                        ctr_waiting(t, "ErrImagePull", "out of memory");
                        return;
                }
        }
        t->image_done = true;
        if (t->step == STEP_IMAGE) { /* the sandbox is ready: go on */
                t->step = STEP_CREATE;
                chain_advance(t);
        }
}

static void image_step(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        CriOp *op;
        int r;

        if (streq_ptr(t->pull_policy, "Always")) {
                image_pull(t);
                return;
        }
        op = op_new(rc, CRI_METHOD_IMAGE_STATUS, t->info.id, image_answered);
        r = op ? op_started(op,
                            cri_client_image_status(rc->client, t->image, false, 0, op_done, op, &op->call))
               : -ENOMEM;
        if (r < 0)
                ctr_waiting(t, "ImageInspectError", strerror(-r));
        else
                t->image_busy = true;
}

static void created_answered(CriOp *op, const CriError *e, const void *resp)
{
        CriCtr *t = ctr_by_id(op->rc, op->key);
        const Runtime__V1__CreateContainerResponse *r = resp;

        if (!t) {
                if (r) { /* its record went meanwhile: what was made goes too */
                        CriOp *rm =
                            op_new(op->rc, CRI_METHOD_REMOVE_CONTAINER, r->container_id, container_removed);
                        if (rm)
                                (void)op_started(rm,
                                                 cri_client_remove_container(op->rc->client, r->container_id,
                                                                             0, op_done, rm, &rm->call));
                }
                return;
        }
        t->busy = false;
        if (e) {
                if (t->hidden)
                        ctr_free(t);
                else
                        ctr_waiting(t, "CreateContainerError", e->desc ?: e->message);
                return;
        }
        if (set_str(&t->info.runtime_id, r->container_id) < 0) {
                ctr_waiting(t, "CreateContainerError", "out of memory");
                return;
        }
        cri_config_free(t->config);
        t->config = NULL;
        if (chain_interrupted(t))
                return;
        t->step = STEP_START_WAIT;
        chain_advance(t);
}

static void create_step(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        CriPod *p = pod_by_uid(rc, t->info.pod_uid);
        _cleanup_free_ char *dir = NULL;
        CriOp *op;
        int r;

        /* the runtime writes the log file but makes no directory for it */
        if (t->info.log_path && (dir = strdup(t->info.log_path))) {
                char *slash = strrchr(dir, '/');
                if (slash && slash != dir) {
                        *slash = 0;
                        (void)mkdir_p(dir, 0755);
                }
        }
        if (!p || p->state != SB_READY) {
                t->step = STEP_SANDBOX;
                chain_advance(t);
                return;
        }
        op = op_new(rc, CRI_METHOD_CREATE_CONTAINER, t->info.id, created_answered);
        r = op ? op_started(op, cri_client_create_container(rc->client, p->sandbox_id, t->config, p->config,
                                                            0, op_done, op, &op->call))
               : -ENOMEM;
        if (r < 0)
                ctr_waiting(t, "CreateContainerError", strerror(-r));
        else
                t->busy = true;
}

static void stop_step(CriCtr *t);

static void started_answered(CriOp *op, const CriError *e, const void *resp)
{
        CriCtr *t = ctr_by_id(op->rc, op->key);

        (void)resp;
        if (!t)
                return;
        t->busy = false;
        t->step = STEP_DONE;
        if (t->hidden) {
                ctr_drop(t);
                return;
        }
        if (e) {
                t->info.started_at = 0;
                ctr_exited(t, 128, "StartError", e->desc ?: e->message);
                ctr_refresh(t); /* the runtime's own words and times, when it has them */
                return;
        }
        t->info.state = CONTAINER_RUNNING;
        t->info.started_at = now_usec(CLOCK_REALTIME);
        ctr_report(t);
        ctr_refresh(t);
        if (t->stop_requested)
                stop_step(t);
}

static int on_start_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        CriCtr *t = userdata;

        (void)s;
        (void)usec;
        t->start_timer = sd_event_source_disable_unref(t->start_timer);
        t->step = STEP_START;
        chain_advance(t);
        return 0;
}

static void start_step(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        CriOp *op = op_new(rc, CRI_METHOD_START_CONTAINER, t->info.id, started_answered);
        int r;

        r = op ? op_started(op, cri_client_start_container(rc->client, t->info.runtime_id, 0, op_done, op,
                                                           &op->call))
               : -ENOMEM;
        if (r < 0)
                ctr_exited(t, 128, "StartError", strerror(-r));
        else
                t->busy = true;
}

static void chain_advance(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        CriPod *p;

        if (t->busy || chain_interrupted(t))
                return;
        switch (t->step) {
        case STEP_SANDBOX:
                p = pod_by_uid(rc, t->info.pod_uid);
                if (!p) {
                        ctr_waiting(t, "CreatePodSandboxError", "no pod sandbox configuration");
                        return;
                }
                if (p->state == SB_READY) {
                        t->step = STEP_IMAGE;
                        chain_advance(t);
                } else if (p->state == SB_NONE)
                        sandbox_run(rc, p);
                return;
        case STEP_IMAGE:
                if (t->image_done) {
                        t->step = STEP_CREATE;
                        chain_advance(t);
                } else if (!t->image_busy)
                        image_step(t);
                return;
        case STEP_CREATE:
                create_step(t);
                return;
        case STEP_START_WAIT:
                if (t->start_at > now_usec(CLOCK_REALTIME)) {
                        if (!t->start_timer && sd_event_add_time(rc->event, &t->start_timer, CLOCK_REALTIME,
                                                                 t->start_at, 0, on_start_timer, t) < 0)
                                ctr_exited(t, 128, "StartError", "cannot schedule the start");
                        return;
                }
                t->step = STEP_START;
                __attribute__((fallthrough));
        case STEP_START:
                start_step(t);
                return;
        case STEP_DONE:
                return;
        }
}

/* --- stop, remove ----------------------------------------------------------------------- */

static void stop_answered(CriOp *op, const CriError *e, const void *resp)
{
        CriCtr *t = ctr_by_id(op->rc, op->key);

        (void)resp;
        if (!t)
                return;
        if (e && e->status != GRPC_STATUS_NOT_FOUND) {
                log_warning("Failed to stop container %s: %s; trying again.", t->info.id, e->message);
                t->stop_retry = true;
                return;
        }
        ctr_refresh(t);
}

static void stop_step(CriCtr *t)
{
        RuntimeCri *rc = t->rc;
        CriOp *op = op_new(rc, CRI_METHOD_STOP_CONTAINER, t->info.id, stop_answered);

        t->stop_retry = false;
        if (!op || op_started(op, cri_client_stop_container(rc->client, t->info.runtime_id, t->grace_s, 0,
                                                            op_done, op, &op->call)) < 0)
                t->stop_retry = true;
}

int runtime_cri_stop(RuntimeCri *rc, const char *id, usec_t grace)
{
        CriCtr *t = ctr_by_id(rc, id);

        if (!t || t->hidden)
                return -ENOENT;
        if (t->info.state == CONTAINER_EXITED)
                return 0;
        t->stop_requested = true;
        t->grace_s = (int64_t)((grace + USEC_PER_SEC - 1) / USEC_PER_SEC);
        if (t->step == STEP_DONE) {
                stop_step(t);
                return 0;
        }
        if (t->busy) /* the answer to the call in flight ends the chain */
                return 0;
        t->start_timer = sd_event_source_disable_unref(t->start_timer);
        ctr_never_started(t);
        return 0;
}

int runtime_cri_remove(RuntimeCri *rc, const char *id)
{
        CriCtr *t = ctr_by_id(rc, id);

        if (!t || t->hidden)
                return -ENOENT;
        if (t->info.state == CONTAINER_RUNNING || (t->info.state == CONTAINER_CREATED && !t->busy))
                return -EBUSY;
        if (t->busy || t->image_busy) {
                t->hidden = true;
                return 0;
        }
        ctr_drop(t);
        return 0;
}

/* --- start ------------------------------------------------------------------------------ */

static int pod_log_directory(const char *log_path, char **ret)
{
        /* <log dir>/<ns>_<name>_<uid>/<container>/<attempt>.log */
        char *d = strdup(log_path), *s;

        if (!d)
                return -ENOMEM;
        for (int i = 0; i < 2; i++) {
                s = strrchr(d, '/');
                if (!s || s == d) {
                        free(d);
                        return -EINVAL;
                }
                *s = 0;
        }
        *ret = d;
        return 0;
}

int runtime_cri_start(RuntimeCri *rc, const RuntimeContainerConfig *cfg, char **ret_id)
{
        _cleanup_free_ char *id = NULL, *logdir = NULL, *err = NULL, *image = NULL;
        Runtime__V1__PodSandboxConfig *sandbox = NULL;
        Runtime__V1__ContainerConfig *config = NULL;
        CriCtr *t;
        CriPod *p;
        int r;

        if (!cfg->pod || !cfg->container || isempty(cfg->pod_uid) || isempty(cfg->container_name) ||
            isempty(cfg->image) || !cfg->log_path)
                return -EINVAL;
        r = asprintf_safe(&id, "%s-%s-%u", cfg->pod_uid, cfg->container_name, cfg->attempt);
        if (r < 0)
                return r;
        t = ctr_by_id(rc, id);
        if (t && !t->hidden)
                return -EEXIST;
        r = pod_log_directory(cfg->log_path, &logdir);
        if (r < 0)
                return r;
        r = cri_client_normalize_image(cfg->image, &image);
        if (r == -ENOMEM)
                return r;
        r = cri_sandbox_config_new(&(CriSandboxParams){.pod = cfg->pod,
                                                       .log_directory = logdir,
                                                       .instance = rc->instance,
                                                       .resolv_conf = rc->resolv_conf},
                                   &sandbox, &err);
        if (r >= 0)
                r = cri_container_config_new(&(CriContainerParams){.cfg = cfg,
                                                                   .log_directory = logdir,
                                                                   .instance = rc->instance,
                                                                   .seccomp_root = rc->seccomp_root},
                                             &config, &err);
        if (r < 0) {
                cri_config_free(sandbox);
                if (err)
                        log_warning("Cannot run container %s of pod %s/%s: %s", cfg->container_name,
                                    cfg->pod_namespace, cfg->pod_name, err);
                return r;
        }
        p = pod_get(rc, cfg->pod_uid);
        t = p ? ctr_new(rc, id) : NULL;
        if (!t) {
                cri_config_free(sandbox);
                cri_config_free(config);
                return -ENOMEM;
        }
        cri_config_free(p->config);
        p->config = sandbox;
        p->idle = 0;
        t->config = config;
        t->start_at = cfg->start_at;
        t->info.state = CONTAINER_CREATED;
        t->info.attempt = cfg->attempt;
        t->info.created_at = now_usec(CLOCK_REALTIME);
        if (set_str(&t->info.pod_uid, cfg->pod_uid) < 0 || set_str(&t->info.pod_name, cfg->pod_name) < 0 ||
            set_str(&t->info.pod_namespace, cfg->pod_namespace) < 0 ||
            set_str(&t->info.container_name, cfg->container_name) < 0 ||
            set_str(&t->info.image, cfg->image) < 0 || set_str(&t->info.log_path, cfg->log_path) < 0 ||
            set_str(&t->pull_policy,
                    cJSON_GetStringValue(cJSON_GetObjectItem(cfg->container, "imagePullPolicy"))) < 0) {
                ctr_free(t);
                return -ENOMEM;
        }
        t->log_directory = TAKE_PTR(logdir);
        if (p->ip_known && set_str(&t->info.pod_ip, p->ip) < 0) {
                ctr_free(t);
                return -ENOMEM;
        }
        if (!image) {
                _cleanup_free_ char *m = NULL;
                (void)asprintf_safe(&m,
                                    "Failed to apply default image tag \"%s\": couldn't parse image name "
                                    "\"%s\": invalid reference format",
                                    cfg->image, cfg->image);
                ctr_waiting(t, "InvalidImageName", m ?: "invalid image name");
        } else {
                t->image = TAKE_PTR(image);
                t->step = STEP_SANDBOX;
                /* the image and the sandbox at once: neither needs the other */
                image_step(t);
                if (t->step != STEP_DONE)
                        chain_advance(t);
        }
        *ret_id = TAKE_PTR(id);
        return 0;
}

/* --- status, list ----------------------------------------------------------------------- */

int runtime_cri_status(RuntimeCri *rc, const char *id, RuntimeContainer *ret)
{
        CriCtr *t = ctr_by_id(rc, id);

        if (!t || t->hidden)
                return -ENOENT;
        return runtime_container_copy(&t->info, ret);
}

static const RuntimeContainer *visible_at(void *userdata, size_t i)
{
        RuntimeCri *rc = userdata;

        for (size_t k = 0; k < rc->n_ctrs; k++)
                if (!rc->ctrs[k]->hidden && i-- == 0)
                        return &rc->ctrs[k]->info;
        return NULL;
}

int runtime_cri_list(RuntimeCri *rc, RuntimeContainer **ret, size_t *ret_n)
{
        size_t n = 0;

        for (size_t k = 0; k < rc->n_ctrs; k++)
                n += !rc->ctrs[k]->hidden;
        return runtime_container_list_copy(n, visible_at, rc, ret, ret_n);
}

const char *runtime_cri_scheme(RuntimeCri *rc)
{
        return rc->scheme;
}

/* --- exec ------------------------------------------------------------------------------- */

static void exec_answered(CriOp *op, const CriError *e, const void *resp)
{
        CriExec *x = op->exec;
        const Runtime__V1__ExecSyncResponse *r = resp;
        RuntimeExecResult res = {0};
        _cleanup_free_ char *out = NULL;

        x->op = NULL;
        if (e) {
                bool timeout = e->status == GRPC_STATUS_DEADLINE_EXCEEDED ||
                               (e->desc && strstr(e->desc, "timeout") && strstr(e->desc, "exceeded"));
                if (timeout) {
                        res.timed_out = true;
                        res.exit_code = LOST_EXIT_CODE;
                } else {
                        res.error = e->status == GRPC_STATUS_NOT_FOUND ? -ENOENT : -EIO;
                        res.message = e->message;
                }
                res.output = "";
        } else {
                size_t n1 = MIN(r->stdout.len, x->max_output);
                size_t n2 = MIN(r->stderr.len, x->max_output - n1);

                out = malloc(n1 + n2 + 1);
                if (!out) {
                        res.error = -ENOMEM;
                        res.message = "out of memory";
                        res.output = "";
                } else {
                        if (n1)
                                memcpy(out, r->stdout.data, n1);
                        if (n2)
                                memcpy(out + n1, r->stderr.data, n2);
                        out[n1 + n2] = 0;
                        res.output = out;
                        res.output_size = n1 + n2;
                        res.exit_code = r->exit_code;
                }
        }
        x->done(&res, x->userdata);
        free(x);
}

int runtime_cri_exec(RuntimeCri *rc, const char *id, char *const *argv, usec_t timeout, size_t max_output,
                     runtime_exec_done_t done, void *userdata, RuntimeExec **ret)
{
        CriCtr *t = ctr_by_id(rc, id);
        CriExec *x;
        CriOp *op;
        int r;

        if (!t || t->hidden)
                return -ENOENT;
        if (t->info.state != CONTAINER_RUNNING || !t->info.runtime_id)
                return -ESRCH;
        x = calloc(1, sizeof(*x));
        op = x ? op_new(rc, CRI_METHOD_EXEC_SYNC, id, exec_answered) : NULL;
        if (!op) {
                free(x);
                return -ENOMEM;
        }
        *x = (CriExec){.backend = RUNTIME_CRI,
                       .rc = rc,
                       .op = op,
                       .done = done,
                       .userdata = userdata,
                       .max_output = max_output};
        op->exec = x;
        r = op_started(op, cri_client_exec_sync(rc->client, t->info.runtime_id, argv, timeout, 0, op_done,
                                                op, &op->call));
        if (r < 0) {
                free(x);
                return r;
        }
        if (ret)
                *ret = (RuntimeExec *)x;
        return 0;
}

void runtime_cri_exec_cancel(RuntimeExec *e)
{
        CriExec *x = (CriExec *)e;

        if (!x)
                return;
        if (x->op) {
                cri_client_cancel(x->op->call);
                op_free(x->op);
        }
        free(x);
}

/* --- relist ----------------------------------------------------------------------------- */

static CriCtr *adopt(RuntimeCri *rc, const Runtime__V1__Container *c)
{
        const char *uid = label_of((void *const *)c->labels, c->n_labels, CRI_LABEL_POD_UID);
        const char *name = label_of((void *const *)c->labels, c->n_labels, CRI_LABEL_POD_NAME);
        const char *ns = label_of((void *const *)c->labels, c->n_labels, CRI_LABEL_POD_NAMESPACE);
        const char *cname = label_of((void *const *)c->labels, c->n_labels, CRI_LABEL_CONTAINER_NAME);
        unsigned attempt = c->metadata ? c->metadata->attempt : 0;
        _cleanup_free_ char *id = NULL;
        CriCtr *t;

        if (!uid || !name || !ns || !cname || asprintf_safe(&id, "%s-%s-%u", uid, cname, attempt) < 0)
                return NULL;
        t = ctr_by_id(rc, id);
        if (t && !t->info.runtime_id) { /* made by a create whose answer is still on its way */
                if (set_str(&t->info.runtime_id, c->id) < 0)
                        return NULL;
                return t;
        }
        if (t) /* two runtime containers for one berth id: leave the second alone */
                return NULL;
        t = ctr_new(rc, id);
        if (!t)
                return NULL;
        t->step = STEP_DONE;
        t->info.attempt = attempt;
        t->info.state = state_from_cri(c->state, false);
        t->info.created_at = ns_to_usec(c->created_at);
        if (set_str(&t->info.runtime_id, c->id) < 0 || set_str(&t->info.pod_uid, uid) < 0 ||
            set_str(&t->info.pod_name, name) < 0 || set_str(&t->info.pod_namespace, ns) < 0 ||
            set_str(&t->info.container_name, cname) < 0 ||
            set_str(&t->info.image, c->image ? c->image->user_specified_image : NULL) < 0 ||
            !pod_get(rc, uid)) {
                ctr_free(t);
                return NULL;
        }
        if (!t->info.image)
                (void)set_str(&t->info.image, c->image ? c->image->image : NULL);
        /* what was seen before the agent went needs no news; the owner lists it */
        t->start_reported = rc->bootstrapping && t->info.state != CONTAINER_CREATED;
        t->exit_reported = rc->bootstrapping && t->info.state == CONTAINER_EXITED;
        if (!rc->bootstrapping)
                log_info("Found container %s (%s) of pod %s/%s in the runtime.", t->info.id, c->id, ns,
                         name);
        return t;
}

static void reconcile_sandboxes(RuntimeCri *rc, const Runtime__V1__ListPodSandboxResponse *l,
                                const Runtime__V1__ListContainersResponse *cl)
{
        for (size_t i = 0; i < l->n_items; i++) {
                const Runtime__V1__PodSandbox *s = l->items[i];
                const char *uid = label_of((void *const *)s->labels, s->n_labels, CRI_LABEL_POD_UID);
                bool ready = s->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY, used = false;
                CriPod *p;

                if (!uid)
                        continue;
                p = pod_by_uid(rc, uid);
                if (ready && !p && (p = pod_get(rc, uid)) && set_str(&p->sandbox_id, s->id) >= 0) {
                        p->state = SB_CREATING; /* until its address is known */
                        sandbox_ready(rc, p);
                }
                if (p && s->metadata && s->metadata->attempt >= p->attempt)
                        p->attempt = s->metadata->attempt + 1;
                if (p && ready && p->state == SB_NONE && set_str(&p->sandbox_id, s->id) >= 0) {
                        p->state = SB_CREATING;
                        sandbox_ready(rc, p);
                }
                for (size_t k = 0; k < cl->n_containers && !used; k++)
                        used = streq(cl->containers[k]->pod_sandbox_id, s->id);
                /* a dead sandbox nothing runs in any more, as the kubelet's GC removes them */
                if (!ready && !used && (!p || !streq_ptr(p->sandbox_id, s->id)))
                        sandbox_remove(rc, s->id);
        }
        for (size_t i = rc->n_pods; i > 0; i--) {
                CriPod *p = rc->pods[i - 1];
                bool listed = false, ready = false;

                for (size_t k = 0; k < l->n_items; k++)
                        if (streq_ptr(p->sandbox_id, l->items[k]->id)) {
                                listed = true;
                                ready = l->items[k]->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY;
                        }
                if (p->state == SB_READY && !ready) {
                        /* gone or dead: the next container of the pod makes a new one */
                        p->state = SB_NONE;
                        if (!listed)
                                p->sandbox_id = mfree(p->sandbox_id);
                }
                if (p->state == SB_CREATING || pod_containers(rc, p->uid) > 0) {
                        p->idle = 0;
                        continue;
                }
                /* at start-up the pod controller may still want it */
                if (rc->bootstrapping || ++p->idle < IDLE_RELISTS)
                        continue;
                if (p->sandbox_id && listed)
                        sandbox_remove(rc, p->sandbox_id);
                pod_free(rc, p);
        }
}

static void reconcile_containers(RuntimeCri *rc, const Runtime__V1__ListContainersResponse *l)
{
        bool *seen = calloc(rc->n_ctrs + l->n_containers + 1, sizeof(bool));

        if (!seen)
                return;
        for (size_t i = 0; i < l->n_containers; i++) {
                const Runtime__V1__Container *c = l->containers[i];
                CriCtr *t;

                if (removing_has(rc, c->id))
                        continue;
                t = ctr_by_runtime_id(rc, c->id) ?: adopt(rc, c);
                if (!t)
                        continue;
                t->missing = 0;
                for (size_t k = 0; k < rc->n_ctrs; k++)
                        if (rc->ctrs[k] == t)
                                seen[k] = true;
                if (t->busy)
                        continue;
                if (state_from_cri(c->state, t->never_started) != t->info.state ||
                    (t->info.state == CONTAINER_EXITED && !t->exit_reported) ||
                    (t->info.state == CONTAINER_RUNNING && !t->start_reported) || !t->info.log_path)
                        ctr_refresh(t);
                if (t->stop_retry && t->info.state != CONTAINER_EXITED)
                        stop_step(t);
        }
        for (size_t k = rc->n_ctrs; k > 0; k--) {
                CriCtr *t = rc->ctrs[k - 1];
                if (seen[k - 1] || !t->info.runtime_id || t->busy || t->info.state == CONTAINER_EXITED)
                        continue;
                if (++t->missing >= MISSING_RELISTS)
                        ctr_exited(t, LOST_EXIT_CODE, LOST_REASON,
                                   "The container could not be located when the pod was terminated");
        }
        free(seen);
}

static void relist_done(RuntimeCri *rc)
{
        rc->relisting = false;
        if (rc->relist_again) {
                rc->relist_again = false;
                relist(rc);
        }
}

static void containers_listed(CriOp *op, const CriError *e, const void *resp)
{
        RuntimeCri *rc = op->rc;
        Runtime__V1__ListPodSandboxResponse *sandboxes = op->exec;

        op->exec = NULL;
        if (!e) {
                if (rc->unavailable) {
                        rc->unavailable = false;
                        log_info("The container runtime at %s answers again.", rc->endpoint);
                }
                reconcile_containers(rc, resp);
                reconcile_sandboxes(rc, sandboxes, resp);
        }
        cri_config_free(sandboxes);
        relist_done(rc);
}

static void sandboxes_listed(CriOp *op, const CriError *e, const void *resp)
{
        RuntimeCri *rc = op->rc;
        Runtime__V1__ContainerFilter f = RUNTIME__V1__CONTAINER_FILTER__INIT;
        Runtime__V1__ContainerFilter__LabelSelectorEntry inst =
            RUNTIME__V1__CONTAINER_FILTER__LABEL_SELECTOR_ENTRY__INIT;
        Runtime__V1__ContainerFilter__LabelSelectorEntry *sel[] = {&inst};
        Runtime__V1__ListPodSandboxResponse *sandboxes;
        uint8_t *buf;
        size_t size;
        CriOp *next;

        if (e) {
                relist_done(rc);
                return;
        }
        /* keep the sandboxes for when the containers are in: a copy, the reply goes */
        size = protobuf_c_message_get_packed_size((const ProtobufCMessage *)resp);
        buf = malloc(size ?: 1);
        if (!buf) {
                relist_done(rc);
                return;
        }
        protobuf_c_message_pack((const ProtobufCMessage *)resp, buf);
        sandboxes = runtime__v1__list_pod_sandbox_response__unpack(NULL, size, buf);
        free(buf);
        next = sandboxes ? op_new(rc, CRI_METHOD_LIST_CONTAINERS, NULL, containers_listed) : NULL;
        if (!next) {
                cri_config_free(sandboxes);
                relist_done(rc);
                return;
        }
        next->exec = sandboxes;
        inst.key = (char *)CRI_LABEL_INSTANCE;
        inst.value = rc->instance;
        f.n_label_selector = 1;
        f.label_selector = sel;
        if (op_started(next, cri_client_list_containers(rc->client, &f, 0, op_done, next, &next->call)) <
            0) {
                cri_config_free(sandboxes);
                relist_done(rc);
        }
}

static void relist(RuntimeCri *rc)
{
        Runtime__V1__PodSandboxFilter f = RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry inst =
            RUNTIME__V1__POD_SANDBOX_FILTER__LABEL_SELECTOR_ENTRY__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry *sel[] = {&inst};
        CriOp *op;

        if (rc->relisting) {
                rc->relist_again = true;
                return;
        }
        inst.key = (char *)CRI_LABEL_INSTANCE;
        inst.value = rc->instance;
        f.n_label_selector = 1;
        f.label_selector = sel;
        op = op_new(rc, CRI_METHOD_LIST_POD_SANDBOX, NULL, sandboxes_listed);
        if (op &&
            op_started(op, cri_client_list_pod_sandbox(rc->client, &f, 0, op_done, op, &op->call)) >= 0)
                rc->relisting = true;
}

static int on_relist_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        RuntimeCri *rc = userdata;

        relist(rc);
        (void)sd_event_source_set_time(s, usec + RELIST_USEC);
        return 0;
}

/* --- container events ------------------------------------------------------------------ */

static void watch_events(RuntimeCri *rc);

/* An event says something changed: the relist finds what, at once rather than within a
 * second. The relist stays the source of truth (an event may be missed across a reconnect). */
static void on_container_event(const Runtime__V1__ContainerEventResponse *ev, void *userdata)
{
        (void)ev;
        relist(userdata);
}

static int on_events_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        RuntimeCri *rc = userdata;

        (void)usec;
        rc->events_timer = sd_event_source_disable_unref(s);
        watch_events(rc);
        return 0;
}

static void events_ended(const CriError *e, const void *resp, void *userdata)
{
        RuntimeCri *rc = userdata;

        (void)resp;
        rc->events = NULL;
        if (e && e->status == GRPC_STATUS_UNIMPLEMENTED) {
                log_info("The runtime at %s has no container events (GetContainerEvents): relisting "
                         "every second.",
                         rc->endpoint);
                return;
        }
        log_debug("Container events from %s ended (%s); watching again shortly.", rc->endpoint,
                  e ? e->message : "closed");
        if (sd_event_add_time_relative(rc->event, &rc->events_timer, CLOCK_MONOTONIC, EVENTS_RETRY_USEC, 0,
                                       on_events_timer, rc) < 0)
                log_warning("Cannot watch container events again; relisting only.");
}

static void watch_events(RuntimeCri *rc)
{
        if (cri_client_get_container_events(rc->client, on_container_event, events_ended, rc, &rc->events) <
            0)
                log_warning("Cannot watch container events; relisting only.");
}

/* --- setup ------------------------------------------------------------------------------ */

typedef struct Bootstrap {
        int error;
        char *message;
        bool version_done, status_done;
} Bootstrap;

static Bootstrap *bootstrap_of(CriOp *op)
{
        return op->exec;
}

static void version_answered(CriOp *op, const CriError *e, const void *resp)
{
        Bootstrap *b = bootstrap_of(op);
        const Runtime__V1__VersionResponse *v = resp;

        b->version_done = true;
        if (e) {
                b->error = -ECONNREFUSED;
                (void)asprintf_safe(&b->message, "the CRI runtime at %s does not answer Version: %s",
                                    op->rc->endpoint, e->message);
                return;
        }
        free(op->rc->scheme);
        op->rc->scheme = strdup(isempty(v->runtime_name) ? "cri" : v->runtime_name);
        log_info("Container runtime %s %s (CRI %s) at %s.", v->runtime_name, v->runtime_version,
                 v->runtime_api_version, op->rc->endpoint);
}

static void status_checked(CriOp *op, const CriError *e, const void *resp)
{
        Bootstrap *b = bootstrap_of(op);
        const Runtime__V1__StatusResponse *s = resp;

        b->status_done = true;
        if (e) {
                b->error = -ECONNREFUSED;
                (void)asprintf_safe(&b->message, "the CRI runtime at %s does not answer Status: %s",
                                    op->rc->endpoint, e->message);
                return;
        }
        for (size_t i = 0; s->status && i < s->status->n_conditions; i++) {
                const Runtime__V1__RuntimeCondition *c = s->status->conditions[i];
                if ((streq(c->type, "RuntimeReady") || streq(c->type, "NetworkReady")) && !c->status) {
                        b->error = -EAGAIN;
                        (void)asprintf_safe(&b->message,
                                            "the CRI runtime at %s is not ready: %s is false (%s: %s)",
                                            op->rc->endpoint, c->type, c->reason, c->message);
                        return;
                }
        }
}

static int pump(sd_event *e, RuntimeCri *rc, bool (*done)(RuntimeCri *rc, void *userdata), void *userdata)
{
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + BOOTSTRAP_USEC;
        int r;

        while (!done(rc, userdata)) {
                if (now_usec(CLOCK_MONOTONIC) > deadline)
                        return -ETIMEDOUT;
                r = sd_event_run(e, 100 * USEC_PER_MSEC);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool checks_done(RuntimeCri *rc, void *userdata)
{
        Bootstrap *b = userdata;

        (void)rc;
        return b->version_done && b->status_done;
}

static bool idle(RuntimeCri *rc, void *userdata)
{
        (void)userdata;
        return !rc->ops;
}

/* Version, Status and the first relist on a loop of their own: nothing else of the agent runs
 * meanwhile, and the pod controller starts with the truth. */
static int bootstrap(RuntimeCri *rc)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Bootstrap b = {0};
        CriOp *op;
        int r;

        r = sd_event_new(&e);
        if (r < 0)
                return r;
        r = curl_loop_new(&rc->curl, e);
        if (r < 0)
                return r;
        r = cri_client_new(&rc->client, rc->curl, &(CriClientOptions){.endpoint = rc->endpoint}, &b.message);
        if (r < 0) {
                log_error("%s", b.message ?: strerror(-r));
                free(b.message);
                return r;
        }
        rc->bootstrapping = true;
        op = op_new(rc, CRI_METHOD_VERSION, NULL, version_answered);
        if (!op)
                return -ENOMEM;
        op->exec = &b;
        r = op_started(op, cri_client_version(rc->client, 10 * USEC_PER_SEC, op_done, op, &op->call));
        if (r < 0)
                return r;
        op = op_new(rc, CRI_METHOD_STATUS, NULL, status_checked);
        if (!op)
                return -ENOMEM;
        op->exec = &b;
        r = op_started(op, cri_client_status(rc->client, false, 10 * USEC_PER_SEC, op_done, op, &op->call));
        if (r >= 0)
                r = pump(e, rc, checks_done, &b);
        if (r >= 0 && b.error < 0) {
                log_error("Cannot use the container runtime: %s", b.message);
                r = b.error;
        }
        free(b.message);
        if (r >= 0) {
                relist(rc);
                r = pump(e, rc, idle, NULL);
        }
        if (r == -ETIMEDOUT)
                log_error("The CRI runtime at %s did not answer within %llus.", rc->endpoint,
                          (unsigned long long)(BOOTSTRAP_USEC / USEC_PER_SEC));
        rc->bootstrapping = false;
        /* the loop and client of the bootstrap go; the agent's own take over */
        for (CriOp *o = rc->ops; o; o = rc->ops) {
                cri_client_cancel(o->call);
                op_free(o);
        }
        rc->client = cri_client_free(rc->client);
        rc->curl = curl_loop_free(rc->curl);
        return r;
}

int runtime_cri_new(RuntimeCri **ret, Runtime *owner, sd_event *e, const RuntimeOptions *opts)
{
        _cleanup_(runtime_cri_freep) RuntimeCri *rc = calloc(1, sizeof(*rc));
        _cleanup_free_ char *err = NULL;
        int r;

        if (!rc)
                return -ENOMEM;
        rc->owner = owner;
        rc->event = sd_event_ref(e);
        rc->endpoint = strdup(opts->endpoint ?: cri_client_default_endpoint());
        rc->instance = strdup(opts->cgroup_name ?: "berth");
        rc->scheme = strdup("cri");
        if (!rc->endpoint || !rc->instance || !rc->scheme ||
            asprintf_safe(&rc->seccomp_root, "%s/seccomp", opts->state_dir ?: "/var/lib/berth") < 0)
                return -ENOMEM;
        /* a node without one leaves DNS to the runtime's default */
        (void)read_full_file("/etc/resolv.conf", 64 * 1024, &rc->resolv_conf, NULL);
        r = bootstrap(rc);
        if (r < 0)
                return r;
        r = curl_loop_new(&rc->curl, e);
        if (r < 0)
                return r;
        r = cri_client_new(&rc->client, rc->curl, &(CriClientOptions){.endpoint = rc->endpoint}, &err);
        if (r < 0) {
                log_error("%s", err ?: strerror(-r));
                return r;
        }
        r = sd_event_add_time_relative(e, &rc->relist_timer, CLOCK_MONOTONIC, RELIST_USEC, 0,
                                       on_relist_timer, rc);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(rc->relist_timer, SD_EVENT_ON);
        if (r < 0)
                return r;
        watch_events(rc);
        *ret = TAKE_PTR(rc);
        return 0;
}

RuntimeCri *runtime_cri_free(RuntimeCri *rc)
{
        if (!rc)
                return NULL;
        rc->relist_timer = sd_event_source_disable_unref(rc->relist_timer);
        rc->events_timer = sd_event_source_disable_unref(rc->events_timer);
        cri_client_cancel(rc->events);
        while (rc->ops) {
                CriOp *o = rc->ops;
                cri_client_cancel(o->call);
                if (o->cont == exec_answered)
                        free(o->exec); /* its handle dies with the runtime */
                else if (o->cont == containers_listed)
                        cri_config_free(o->exec);
                op_free(o);
        }
        while (rc->n_ctrs > 0)
                ctr_free(rc->ctrs[0]);
        while (rc->n_pods > 0)
                pod_free(rc, rc->pods[0]);
        for (size_t i = 0; i < rc->n_removing; i++)
                free(rc->removing[i]);
        free(rc->removing);
        free(rc->ctrs);
        free(rc->pods);
        cri_client_free(rc->client);
        curl_loop_free(rc->curl);
        sd_event_unref(rc->event);
        free(rc->endpoint);
        free(rc->instance);
        free(rc->seccomp_root);
        free(rc->scheme);
        free(rc->resolv_conf);
        free(rc);
        return NULL;
}

void runtime_cri_set_observer(RuntimeCri *rc, runtime_call_observer_t cb, void *userdata)
{
        rc->observer = cb;
        rc->observer_userdata = userdata;
}
