/* The etcd backend's DaemonSet roll-out slots and `berth release` of a sticky binding. A slot
 * claim reads the DaemonSet's slots, then creates the lowest free one in a transaction that
 * also holds only while no other slot below max is bound to this node's lease; a node's slot
 * requests of one DaemonSet are sent one after the other, so that two of them never take two
 * slots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator-internal.h"
#include "log.h"

/* A claim's transactions after its read: another node may take the free slot seen each time. */
#define SLOT_MAX_TXNS 4
/* Slot indices above this are nobody's doing: ignored. */
#define SLOT_INDEX_MAX 1000000U

/* --- `berth release` --- */

static void on_sticky_released(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        CoordinatorRequest *r = userdata;

        r->call = NULL;
        if (e)
                return request_answer(r, e->error, false, NULL, 0);
        if (resp->n_responses != 1)
                return request_answer(r, -EBADMSG, false, NULL, 0);
        request_answer(r, 0, false, resp->responses[0].n_kvs > 0 ? resp->responses[0].kvs[0].value : NULL,
                       0);
}

int etcd_release_sticky_start(CoordinatorRequest *r)
{
        /* whatever node it names: the operator's decision; prev_kv says whose it was */
        EtcdOp del = {.type = ETCD_OP_DELETE, .key = r->sticky_key, .prev_kv = true};

        return etcd_txn(r->co->etcd, &(EtcdTxn){.success = &del, .n_success = 1}, on_sticky_released, r,
                        &r->call);
}

/* --- slots --- */

/* What a read of the DaemonSet's slots says to a request. */
typedef struct SlotView {
        const EtcdKeyValue *ours;   /* held under the request's lease */
        const EtcdKeyValue *before; /* this node's under another lease (before a crash) */
        const EtcdKeyValue *other;  /* the lowest slot below max held by another node */
        unsigned free;              /* the lowest free slot below max; max: none */
        size_t n_ours;
        const EtcdKeyValue *all_ours[8]; /* the first of them, for a release */
} SlotView;

static bool slot_index(const CoordinatorRequest *r, const char *key, unsigned *ret)
{
        const char *s = key + strlen(r->key);
        char *end;
        unsigned long v;

        if (!startswith(key, r->key) || *s < '0' || *s > '9')
                return false;
        v = strtoul(s, &end, 10);
        if (*end || v >= SLOT_INDEX_MAX)
                return false;
        *ret = (unsigned)v;
        return true;
}

static void slot_view(const CoordinatorRequest *r, const EtcdOpResponse *o, SlotView *v)
{
        const char *node = r->co->node_name;
        bool taken[COORDINATOR_MAX_SLOTS] = {};

        *v = (SlotView){.free = r->max};
        for (size_t i = 0; i < o->n_kvs; i++) {
                const EtcdKeyValue *kv = &o->kvs[i];
                unsigned idx;

                if (!slot_index(r, kv->key, &idx))
                        continue;
                if (idx < r->max)
                        taken[idx] = true;
                if (streq(kv->value, node) && r->lease != 0 && kv->lease == r->lease) {
                        v->ours = v->ours ?: kv;
                        if (v->n_ours < ELEMENTSOF(v->all_ours))
                                v->all_ours[v->n_ours++] = kv;
                } else if (streq(kv->value, node))
                        v->before = kv;
                else if (idx < r->max) {
                        unsigned cur;

                        if (!v->other || (slot_index(r, v->other->key, &cur) && idx < cur))
                                v->other = kv;
                }
        }
        for (unsigned i = 0; i < r->max; i++)
                if (!taken[i]) {
                        v->free = i;
                        break;
                }
}

static void on_slot_done(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata);

/* Creates slot idx, while no other slot below max is bound to this lease; else reads them all. */
static int slot_create_txn(CoordinatorRequest *r, unsigned idx)
{
        Coordinator *co = r->co;
        const char *node = co->node_name;
        _cleanup_free_ EtcdCompare *cmp = calloc(r->max, sizeof(EtcdCompare));
        _cleanup_free_ char *keys = NULL, *key = NULL;
        size_t klen = strlen(r->key) + 12;
        EtcdOp put = {.type = ETCD_OP_PUT, .value = node, .value_size = strlen(node), .lease = r->lease},
               get = {.type = ETCD_OP_RANGE, .key = r->key, .prefix = true};

        keys = malloc(klen * r->max);
        if (!cmp || !keys)
                return -ENOMEM;
        for (unsigned i = 0; i < r->max; i++) {
                char *k = keys + klen * i;

                snprintf(k, klen, "%s%u", r->key, i);
                /* a slot this node took in a request whose outcome it never learnt counts too */
                cmp[i] = i == idx ? (EtcdCompare){.key = k,
                                                  .target = ETCD_COMPARE_CREATE,
                                                  .result = ETCD_COMPARE_EQUAL,
                                                  .number = 0}
                                  : (EtcdCompare){.key = k,
                                                  .target = ETCD_COMPARE_LEASE,
                                                  .result = ETCD_COMPARE_NOT_EQUAL,
                                                  .number = r->lease};
        }
        put.key = keys + klen * idx;
        r->txns++;
        return etcd_txn(co->etcd,
                        &(EtcdTxn){.compares = cmp,
                                   .n_compares = r->max,
                                   .success = &put,
                                   .n_success = 1,
                                   .failure = &get,
                                   .n_failure = 1},
                        on_slot_done, r, &r->call);
}

/* Deletes this node's slots of the DaemonSet while they are bound to this lease. */
static int slot_delete_txn(CoordinatorRequest *r, const SlotView *v)
{
        EtcdCompare cmp[ELEMENTSOF(v->all_ours)];
        EtcdOp del[ELEMENTSOF(v->all_ours)];

        for (size_t i = 0; i < v->n_ours; i++) {
                cmp[i] = (EtcdCompare){.key = v->all_ours[i]->key,
                                       .target = ETCD_COMPARE_LEASE,
                                       .result = ETCD_COMPARE_EQUAL,
                                       .number = r->lease};
                del[i] = (EtcdOp){.type = ETCD_OP_DELETE, .key = v->all_ours[i]->key};
        }
        r->txns++;
        return etcd_txn(
            r->co->etcd,
            &(EtcdTxn){.compares = cmp, .n_compares = v->n_ours, .success = del, .n_success = v->n_ours},
            on_slot_done, r, &r->call);
}

/* A read of the slots answers the request, or sends its next transaction. */
static void slot_decide(CoordinatorRequest *r, const EtcdOpResponse *o)
{
        const char *node = r->co->node_name;
        SlotView v;
        int k;

        slot_view(r, o, &v);
        if (r->kind == REQUEST_RELEASE_SLOT) {
                if (v.n_ours == 0)
                        return request_answer(r, 0, false, NULL, 0);
                k = slot_delete_txn(r, &v);
        } else if (v.ours)
                return request_answer(r, 0, true, node, v.ours->create_revision);
        else if (v.before)
                return request_answer(r, 0, false, node, 0);
        else if (v.free >= r->max)
                return request_answer(r, 0, false, v.other ? v.other->value : NULL, 0);
        else if (r->txns >= SLOT_MAX_TXNS)
                return request_answer(r, -EAGAIN, false, NULL, 0);
        else
                k = slot_create_txn(r, v.free);
        if (k < 0)
                request_answer(r, k, false, NULL, 0);
}

static void on_slot_done(EtcdClient *c, const EtcdResponse *resp, const EtcdError *e, void *userdata)
{
        CoordinatorRequest *r = userdata;

        r->call = NULL;
        if (e)
                return request_answer(r, e->error, false, NULL, 0);
        if (r->txns == 0) /* the first read */
                return slot_decide(r, &resp->op);
        if (r->kind == REQUEST_RELEASE_SLOT)
                return request_answer(r, 0, false, NULL, 0);
        if (resp->succeeded)
                return request_answer(r, 0, true, r->co->node_name, resp->revision);
        if (resp->n_responses != 1)
                return request_answer(r, -EBADMSG, false, NULL, 0);
        slot_decide(r, &resp->responses[0]);
}

static int slot_begin(CoordinatorRequest *r)
{
        Coordinator *co = r->co;

        r->slot_active = true;
        r->lease = co->lease_id;
        if (r->kind == REQUEST_SLOT && co->state != COORDINATOR_READY)
                return request_defer(r, -EAGAIN, false, NULL, 0);
        if (r->kind == REQUEST_RELEASE_SLOT && r->lease == 0) /* no lease, no slot */
                return request_defer(r, 0, false, NULL, 0);
        return etcd_range(co->etcd, r->key, &(EtcdRangeOptions){.prefix = true}, on_slot_done, r, &r->call);
}

static bool same_daemonset(const CoordinatorRequest *a, const CoordinatorRequest *b)
{
        return a != b && request_kind_slot(a->kind) && request_kind_slot(b->kind) && streq(a->ns, b->ns) &&
               streq(a->set, b->set);
}

int etcd_slot_start(CoordinatorRequest *r)
{
        for (CoordinatorRequest *o = r->co->requests; o; o = o->next)
                if (same_daemonset(o, r) && (o->slot_active || o->slot_queued)) {
                        r->slot_queued = true;
                        return 0;
                }
        return slot_begin(r);
}

void etcd_slot_next(Coordinator *co, const CoordinatorRequest *done)
{
        CoordinatorRequest *next = NULL;
        int k;

        /* requests are listed newest first: the oldest waiting goes */
        for (CoordinatorRequest *o = co->requests; o; o = o->next)
                if (same_daemonset(o, done) && o->slot_queued)
                        next = o;
        if (!next)
                return;
        next->slot_queued = false;
        k = slot_begin(next);
        if (k < 0 && request_defer(next, k, false, NULL, 0) < 0)
                log_debug("coordinator: cannot answer the slot request of %s/%s", next->ns, next->set);
}
