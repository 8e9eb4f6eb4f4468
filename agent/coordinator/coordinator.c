/* The coordinator's backend-neutral part: options, claims as requests answered once, the
 * mirror of registered nodes, claimed ordinals, sticky bindings and roll-out slots that
 * coordinator_nodes(), coordinator_ordinals(), coordinator_sticky() and coordinator_slots()
 * read, the ordinals this node holds, and the local backend (one node, every claim won). The
 * etcd backend is in coordinator-etcd.c and coordinator-slots.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator-internal.h"
#include "log.h"

static bool name_valid(const char *s)
{
        return !isempty(s) && !strchr(s, '/');
}

void coordinator_set_state(Coordinator *co, CoordinatorState state)
{
        if (co->state == state)
                return;
        co->state = state;
        if (co->cb.on_state)
                co->cb.on_state(co, state, co->cb.userdata);
}

void coordinator_notify_change(Coordinator *co)
{
        if (co->cb.on_change)
                co->cb.on_change(co, co->cb.userdata);
}

/* --- the mirror --- */

int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const Entry *)a)->key, ((const Entry *)b)->key);
}

static void entry_clear(Entry *e)
{
        free(e->key);
        free(e->value);
        cJSON_Delete(e->node);
}

void entries_free(Entry *entries, size_t n)
{
        for (size_t i = 0; i < n; i++)
                entry_clear(&entries[i]);
        free(entries);
}

/* The first entry whose key is not below key. */
static size_t entry_lower_bound(const Coordinator *co, const char *key)
{
        size_t lo = 0, hi = co->n_entries;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(co->entries[mid].key, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Whether a key with value is this node's own doing (its registration, or its claim). */
static bool entry_own(const Coordinator *co, const char *key, const char *value)
{
        if (startswith(key, "nodes/"))
                return streq(key + strlen("nodes/"), co->node_name);
        return streq_ptr(value, co->node_name);
}

/* Whether a key going is news to this node: another node's, or a sticky binding of this node
 * (released by the operator; a release of this node's own is told too, a harmless re-sync). */
static bool entry_gone_news(const Coordinator *co, const char *key, const char *value)
{
        return !entry_own(co, key, value) || startswith(key, "sticky/");
}

static void entries_changed(Coordinator *co, const char *key)
{
        if (!key || startswith(key, "nodes/"))
                co->nodes_cache = (cJSON_Delete(co->nodes_cache), NULL);
}

int entry_set(Coordinator *co, const char *key, const char *value, int64_t lease, bool *ret_others)
{
        size_t i = entry_lower_bound(co, key);
        bool exists = i < co->n_entries && streq(co->entries[i].key, key);
        _cleanup_free_ char *v = strdup(value);
        cJSON *node = NULL;

        *ret_others = false;
        if (!v)
                return -ENOMEM;
        if (exists && streq(co->entries[i].value, value) && co->entries[i].lease == lease)
                return 0;
        if (startswith(key, "nodes/"))
                node = cJSON_Parse(value); /* a registration that is no JSON is listed as nothing */
        if (exists) {
                Entry *e = &co->entries[i];

                *ret_others = !entry_own(co, key, e->value) || !entry_own(co, key, value);
                free(e->value);
                cJSON_Delete(e->node);
                e->value = TAKE_PTR(v);
                e->node = node;
                e->lease = lease;
        } else {
                Entry *n = realloc(co->entries, (co->n_entries + 1) * sizeof(Entry));
                char *k = strdup(key);

                if (n)
                        co->entries = n;
                if (!n || !k) {
                        free(k);
                        cJSON_Delete(node);
                        return -ENOMEM;
                }
                memmove(&co->entries[i + 1], &co->entries[i], (co->n_entries - i) * sizeof(Entry));
                co->entries[i] = (Entry){.key = k, .value = TAKE_PTR(v), .lease = lease, .node = node};
                co->n_entries++;
                *ret_others = !entry_own(co, key, value);
        }
        entries_changed(co, key);
        return 0;
}

void entry_remove(Coordinator *co, const char *key, bool *ret_others)
{
        size_t i = entry_lower_bound(co, key);

        *ret_others = false;
        if (i >= co->n_entries || !streq(co->entries[i].key, key))
                return;
        *ret_others = entry_gone_news(co, key, co->entries[i].value);
        entries_changed(co, key);
        entry_clear(&co->entries[i]);
        memmove(&co->entries[i], &co->entries[i + 1], (co->n_entries - i - 1) * sizeof(Entry));
        co->n_entries--;
}

void entries_replace(Coordinator *co, Entry *entries, size_t n, bool *ret_others)
{
        size_t i = 0, j = 0;
        bool others = false;

        /* a merge of the two sorted lists: what came, went or changed, and whose */
        while (!others && (i < co->n_entries || j < n)) {
                const Entry *a = i < co->n_entries ? &co->entries[i] : NULL, *b = j < n ? &entries[j] : NULL;
                int c = !a ? 1 : !b ? -1 : strcmp(a->key, b->key);

                if (c < 0)
                        others = entry_gone_news(co, a->key, a->value), i++;
                else if (c > 0)
                        others = !entry_own(co, b->key, b->value), j++;
                else {
                        if (!streq(a->value, b->value))
                                others =
                                    !entry_own(co, a->key, a->value) || !entry_own(co, b->key, b->value);
                        i++, j++;
                }
        }
        entries_free(co->entries, co->n_entries);
        co->entries = entries;
        co->n_entries = n;
        entries_changed(co, NULL);
        *ret_others = others;
}

/* --- the ordinals this node holds --- */

static CoordinatorHeld *held_find(Coordinator *co, const char *ns, const char *set, unsigned ordinal)
{
        for (size_t i = 0; i < co->n_held; i++)
                if (co->held[i].ordinal == ordinal && streq(co->held[i].ns, ns) &&
                    streq(co->held[i].set, set))
                        return &co->held[i];
        return NULL;
}

int held_update(Coordinator *co, const char *ns, const char *set, unsigned ordinal, bool sticky,
                int64_t token)
{
        CoordinatorHeld *h = held_find(co, ns, set, ordinal), *n;
        char *a, *b;

        if (h) {
                h->sticky = h->sticky || sticky;
                h->token = token;
                return 0;
        }
        n = realloc(co->held, (co->n_held + 1) * sizeof(CoordinatorHeld));
        if (!n)
                return -ENOMEM;
        co->held = n;
        a = strdup(ns);
        b = strdup(set);
        if (!a || !b) {
                free(a);
                free(b);
                return -ENOMEM;
        }
        co->held[co->n_held++] =
            (CoordinatorHeld){.ns = a, .set = b, .ordinal = ordinal, .sticky = sticky, .token = token};
        return 0;
}

void held_remove(Coordinator *co, const char *ns, const char *set, unsigned ordinal)
{
        CoordinatorHeld *h = held_find(co, ns, set, ordinal);

        if (!h)
                return;
        free((char *)h->ns);
        free((char *)h->set);
        *h = co->held[--co->n_held];
}

size_t coordinator_claims(Coordinator *co, const CoordinatorHeld **ret)
{
        *ret = co->held;
        return co->n_held;
}

/* --- requests --- */

static CoordinatorRequest *request_free(CoordinatorRequest *r)
{
        if (!r)
                return NULL;
        if (r->prev)
                r->prev->next = r->next;
        else if (r->co && r->co->requests == r)
                r->co->requests = r->next;
        if (r->next)
                r->next->prev = r->prev;
        r->prev = r->next = NULL;
        /* answered or cancelled: the DaemonSet's next slot request may go */
        if (r->co && r->slot_active && !r->co->stopping)
                etcd_slot_next(r->co, r);
        etcd_request_cancel(r->call);
        sd_event_source_disable_unref(r->defer);
        free(r->ns);
        free(r->set);
        free(r->key);
        free(r->sticky_key);
        free(r->holder);
        return mfree(r);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CoordinatorRequest *, request_free);

void coordinator_request_cancel(CoordinatorRequest *r)
{
        if (!r || r->in_done)
                return;
        request_free(r);
}

static int request_new(Coordinator *co, RequestKind kind, const char *ns, const char *set, unsigned ordinal,
                       CoordinatorRequest **ret)
{
        _cleanup_(request_freep) CoordinatorRequest *r = NULL;

        if (!name_valid(ns) || !name_valid(set))
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->kind = kind;
        r->ordinal = ordinal;
        r->ns = strdup(ns);
        r->set = strdup(set);
        if (!r->ns || !r->set)
                return -ENOMEM;
        if (request_kind_slot(kind)) {
                if (asprintf_safe(&r->key, "%sslots/%s/%s/", co->prefix, ns, set) < 0)
                        return -ENOMEM;
        } else if (kind != REQUEST_CRON &&
                   (asprintf_safe(&r->key, "%sordinals/%s/%s/%u", co->prefix, ns, set, ordinal) < 0 ||
                    asprintf_safe(&r->sticky_key, "%ssticky/%s/%s/%u", co->prefix, ns, set, ordinal) < 0))
                return -ENOMEM;
        r->co = co;
        r->next = co->requests;
        if (r->next)
                r->next->prev = r;
        co->requests = r;
        *ret = TAKE_PTR(r);
        return 0;
}

CoordinatorRequest *request_new_internal(Coordinator *co, RequestKind kind, const char *ns, const char *set,
                                         unsigned ordinal, bool sticky)
{
        CoordinatorRequest *r = NULL;

        if (request_new(co, kind, ns, set, ordinal, &r) < 0)
                return NULL;
        r->internal = true;
        r->sticky = sticky;
        return r;
}

/* What an answer changes in what this node knows of its own claims. */
static void request_account(CoordinatorRequest *r, const CoordinatorClaim *c)
{
        Coordinator *co = r->co;
        char key[512];
        bool others;

        /* a sticky binding released leaves the ordinal to whoever holds it */
        if (c->error < 0 || (r->kind != REQUEST_ORDINAL && r->kind != REQUEST_RELEASE))
                return;
        snprintf(key, sizeof(key), "ordinals/%s/%s/%u", r->ns, r->set, r->ordinal);
        if (c->won) {
                if (held_update(co, r->ns, r->set, r->ordinal, r->sticky, c->token) < 0)
                        log_debug("coordinator: out of memory recording the claim of %s", key);
                if (co->type == COORDINATOR_LOCAL)
                        (void)entry_set(co, key, co->node_name, 0, &others);
        } else {
                held_remove(co, r->ns, r->set, r->ordinal);
                if (co->type == COORDINATOR_LOCAL && r->kind == REQUEST_RELEASE)
                        entry_remove(co, key, &others);
        }
}

void request_answer(CoordinatorRequest *r, int error, bool won, const char *holder, int64_t token)
{
        Coordinator *co = r->co;
        CoordinatorClaim c = {.error = error, .won = won && error >= 0, .holder = holder, .token = token};

        r->call = NULL; /* answered: the etcd call that brought the answer frees itself */
        if (r->internal) {
                r->in_done = true; /* a failed reconnection cancels the other re-claims, not this one */
                etcd_reclaim_done(co, r, error, c.won, token);
                request_free(r);
                return;
        }
        /* a claim decided while the lease went, or under one that is gone, is not decided */
        if (c.won && co->type == COORDINATOR_ETCD &&
            (co->state != COORDINATOR_READY ||
             ((r->kind == REQUEST_ORDINAL || r->kind == REQUEST_SLOT) && r->lease != co->lease_id)))
                c = (CoordinatorClaim){.error = -EAGAIN};
        request_account(r, &c);
        if (r->done) {
                r->in_done = true;
                r->done(co, &c, r->userdata);
        }
        if (co->type == COORDINATOR_ETCD && r->kind == REQUEST_CRON && c.error >= 0)
                etcd_cron_cleanup_maybe(co);
        request_free(r);
}

static int on_defer(sd_event_source *s, void *userdata)
{
        CoordinatorRequest *r = userdata;

        request_answer(r, r->claim.error, r->claim.won, r->holder, r->claim.token);
        return 0;
}

int request_defer(CoordinatorRequest *r, int error, bool won, const char *holder, int64_t token)
{
        int k;

        r->claim = (CoordinatorClaim){.error = error, .won = won, .token = token};
        if (holder && !(r->holder = strdup(holder)))
                return -ENOMEM;
        k = sd_event_add_defer(r->co->event, &r->defer, on_defer, r);
        if (k < 0)
                return k;
        (void)sd_event_source_set_description(r->defer, "coordinator-answer");
        return 0;
}

/* Answers a claim at once (local, or not READY) or sends it to etcd. */
static int request_start(CoordinatorRequest *r, coordinator_claim_done_t done, void *userdata,
                         CoordinatorRequest **ret)
{
        _cleanup_(request_freep) CoordinatorRequest *owned = r;
        Coordinator *co = r->co;
        /* releases win nothing; those of what this node holds go in any state (a sticky binding
         * is another node's as well: its release waits for READY like a claim) */
        bool release = r->kind == REQUEST_RELEASE || r->kind == REQUEST_RELEASE_STICKY ||
                       r->kind == REQUEST_RELEASE_SLOT,
             any_state = r->kind == REQUEST_RELEASE || r->kind == REQUEST_RELEASE_SLOT;
        int k;

        r->done = done;
        r->userdata = userdata;
        if (co->type == COORDINATOR_LOCAL)
                k = release ? request_defer(r, 0, false, NULL, 0)
                            : request_defer(r, 0, true, co->node_name, 1);
        else if (co->state != COORDINATOR_READY && !any_state)
                k = request_defer(r, -EAGAIN, false, NULL, 0);
        else
                k = etcd_claim_start(r);
        if (k < 0)
                return k;
        if (ret)
                *ret = r;
        TAKE_PTR(owned);
        return 0;
}

int coordinator_claim_cron(Coordinator *co, const char *ns, const char *cronjob, usec_t scheduled,
                           coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret)
{
        usec_t now = now_usec(CLOCK_REALTIME);
        CoordinatorRequest *r = NULL;
        int k;

        if (!co || !done)
                return -EINVAL;
        if (scheduled + COORDINATOR_CRON_KEEP < now)
                return -ESTALE;
        k = request_new(co, REQUEST_CRON, ns, cronjob, 0, &r);
        if (k < 0)
                return k;
        if (asprintf_safe(&r->key, "%scron/%s/%s/%llu", co->prefix, ns, cronjob,
                          (unsigned long long)(scheduled / (60 * USEC_PER_SEC))) < 0) {
                request_free(r);
                return -ENOMEM;
        }
        return request_start(r, done, userdata, ret);
}

int coordinator_claim_ordinal(Coordinator *co, const char *ns, const char *set, unsigned ordinal,
                              bool sticky, coordinator_claim_done_t done, void *userdata,
                              CoordinatorRequest **ret)
{
        CoordinatorRequest *r = NULL;
        int k;

        if (!co || !done)
                return -EINVAL;
        k = request_new(co, REQUEST_ORDINAL, ns, set, ordinal, &r);
        if (k < 0)
                return k;
        r->sticky = sticky;
        return request_start(r, done, userdata, ret);
}

int coordinator_release_ordinal(Coordinator *co, const char *ns, const char *set, unsigned ordinal,
                                bool keep_sticky, coordinator_claim_done_t done, void *userdata,
                                CoordinatorRequest **ret)
{
        CoordinatorRequest *r = NULL;
        int k;

        if (!co || !done)
                return -EINVAL;
        k = request_new(co, REQUEST_RELEASE, ns, set, ordinal, &r);
        if (k < 0)
                return k;
        r->keep_sticky = keep_sticky;
        return request_start(r, done, userdata, ret);
}

int coordinator_release_sticky(Coordinator *co, const char *ns, const char *set, unsigned ordinal,
                               coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret)
{
        CoordinatorRequest *r = NULL;
        int k;

        if (!co || !done)
                return -EINVAL;
        k = request_new(co, REQUEST_RELEASE_STICKY, ns, set, ordinal, &r);
        if (k < 0)
                return k;
        return request_start(r, done, userdata, ret);
}

int coordinator_claim_slot(Coordinator *co, const char *ns, const char *daemonset, unsigned max,
                           coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret)
{
        CoordinatorRequest *r = NULL;
        int k;

        if (!co || !done || max == 0 || max > COORDINATOR_MAX_SLOTS)
                return -EINVAL;
        k = request_new(co, REQUEST_SLOT, ns, daemonset, 0, &r);
        if (k < 0)
                return k;
        r->max = max;
        return request_start(r, done, userdata, ret);
}

int coordinator_release_slot(Coordinator *co, const char *ns, const char *daemonset,
                             coordinator_claim_done_t done, void *userdata, CoordinatorRequest **ret)
{
        CoordinatorRequest *r = NULL;
        int k;

        if (!co || !done)
                return -EINVAL;
        k = request_new(co, REQUEST_RELEASE_SLOT, ns, daemonset, 0, &r);
        if (k < 0)
                return k;
        return request_start(r, done, userdata, ret);
}

/* --- reading the mirror --- */

/* The values of the keys <what>/<ns>/<set>/<index> by index, into *cache (the last answer). */
static int mirror_indexed(Coordinator *co, const char *what, const char *ns, const char *set,
                          const char ***cache, const char ***ret_holders, size_t *ret_n)
{
        _cleanup_free_ char *prefix = NULL;
        const char **holders;
        size_t first, n = 0;

        if (!co || !name_valid(ns) || !name_valid(set) || !ret_holders || !ret_n)
                return -EINVAL;
        if (asprintf_safe(&prefix, "%s/%s/%s/", what, ns, set) < 0)
                return -ENOMEM;
        *cache = mfree(*cache);
        *ret_holders = NULL;
        *ret_n = 0;
        first = entry_lower_bound(co, prefix);
        /* indices sort as strings ("10" before "2"): find the largest first */
        for (size_t i = first; i < co->n_entries && startswith(co->entries[i].key, prefix); i++) {
                const char *s = co->entries[i].key + strlen(prefix);
                char *end;
                unsigned long v = strtoul(s, &end, 10);

                if (*s >= '0' && *s <= '9' && !*end && v < 1000000)
                        n = MAX(n, (size_t)v + 1);
        }
        if (n == 0)
                return 0;
        holders = calloc(n, sizeof(char *));
        if (!holders)
                return -ENOMEM;
        for (size_t i = first; i < co->n_entries && startswith(co->entries[i].key, prefix); i++) {
                const char *s = co->entries[i].key + strlen(prefix);
                char *end;
                unsigned long v = strtoul(s, &end, 10);

                if (*s >= '0' && *s <= '9' && !*end && v < n)
                        holders[v] = co->entries[i].value;
        }
        *cache = holders;
        *ret_holders = holders;
        *ret_n = n;
        return 0;
}

int coordinator_ordinals(Coordinator *co, const char *ns, const char *set, const char ***ret_holders,
                         size_t *ret_n)
{
        return mirror_indexed(co, "ordinals", ns, set, co ? &co->ordinals : NULL, ret_holders, ret_n);
}

int coordinator_sticky(Coordinator *co, const char *ns, const char *set, const char ***ret_holders,
                       size_t *ret_n)
{
        return mirror_indexed(co, "sticky", ns, set, co ? &co->sticky : NULL, ret_holders, ret_n);
}

int coordinator_slots(Coordinator *co, const char *ns, const char *daemonset, const char ***ret_holders,
                      size_t *ret_n)
{
        return mirror_indexed(co, "slots", ns, daemonset, co ? &co->slots : NULL, ret_holders, ret_n);
}

const cJSON *coordinator_nodes(Coordinator *co)
{
        cJSON *a;

        if (co->nodes_cache)
                return co->nodes_cache;
        a = cJSON_CreateArray();
        if (!a)
                return NULL;
        for (size_t i = entry_lower_bound(co, "nodes/");
             i < co->n_entries && startswith(co->entries[i].key, "nodes/"); i++) {
                cJSON *d;

                if (!co->entries[i].node)
                        continue;
                d = cJSON_Duplicate(co->entries[i].node, true);
                if (!d || !cJSON_AddItemToArray(a, d)) {
                        cJSON_Delete(d);
                        cJSON_Delete(a);
                        return NULL;
                }
        }
        co->nodes_cache = a;
        return a;
}

/* --- the object --- */

CoordinatorState coordinator_state(const Coordinator *co)
{
        return co->state;
}

CoordinatorType coordinator_type(const Coordinator *co)
{
        return co->type;
}

struct EtcdClient *coordinator_etcd(Coordinator *co)
{
        return co->type == COORDINATOR_ETCD ? co->etcd : NULL;
}

int64_t coordinator_lease(const Coordinator *co)
{
        return co->type == COORDINATOR_ETCD && co->registered ? co->lease_id : 0;
}

const char *coordinator_prefix(const Coordinator *co)
{
        return co->prefix;
}

const char *coordinator_node_name(const Coordinator *co)
{
        return co->node_name;
}

usec_t coordinator_last_renewal(const Coordinator *co)
{
        return co->type == COORDINATOR_ETCD && co->registered ? co->last_renewal : 0;
}

static int node_json(const char *name, const cJSON *node, cJSON **ret)
{
        cJSON *j;

        if (node)
                j = cJSON_Duplicate(node, true);
        else {
                cJSON *m;

                j = cJSON_CreateObject();
                m = j ? cJSON_AddObjectToObject(j, "metadata") : NULL;
                if (!m || !cJSON_AddStringToObject(m, "name", name))
                        j = (cJSON_Delete(j), NULL);
        }
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

/* The local backend's registration: the mirror holds the one node. */
static int local_register(Coordinator *co)
{
        _cleanup_free_ char *key = NULL, *value = cJSON_PrintUnformatted(co->node);
        bool others;

        if (!value || asprintf_safe(&key, "nodes/%s", co->node_name) < 0)
                return -ENOMEM;
        return entry_set(co, key, value, 0, &others);
}

int coordinator_set_node(Coordinator *co, const cJSON *node)
{
        cJSON *j = NULL;
        int r;

        r = node_json(co->node_name, node, &j);
        if (r < 0)
                return r;
        cJSON_Delete(co->node);
        co->node = j;
        return co->type == COORDINATOR_LOCAL ? local_register(co) : etcd_backend_register(co);
}

int coordinator_new(Coordinator **ret, sd_event *e, CurlLoop *curl, const CoordinatorOptions *o,
                    const CoordinatorCallbacks *cb, char **ret_error)
{
        _cleanup_(coordinator_freep) Coordinator *co = NULL;
        const char *prefix = o && o->prefix ? o->prefix : COORDINATOR_DEFAULT_PREFIX;
        int r;

        if (!ret || !e || !o)
                return -EINVAL;
        if (!name_valid(o->node_name))
                return set_errorf(ret_error, -EINVAL,
                                  "coordinator: the node name '%s' is empty or holds a '/'",
                                  o->node_name ?: "");
        if (prefix[0] != '/' || !endswith(prefix, "/"))
                return set_errorf(ret_error, -EINVAL,
                                  "coordinator: the key prefix '%s' must start and end with '/'", prefix);
        if (o->type != COORDINATOR_LOCAL && o->type != COORDINATOR_ETCD)
                return set_errorf(ret_error, -EINVAL, "coordinator: unknown type %d", (int)o->type);
        co = calloc(1, sizeof(*co));
        if (!co)
                return -ENOMEM;
        co->type = o->type;
        co->event = sd_event_ref(e);
        co->curl = curl;
        if (cb)
                co->cb = *cb;
        co->node_name = strdup(o->node_name);
        co->prefix = strdup(prefix);
        if (!co->node_name || !co->prefix)
                return -ENOMEM;
        r = node_json(o->node_name, o->node, &co->node);
        if (r < 0)
                return r;
        if (co->type == COORDINATOR_LOCAL) {
                co->state = COORDINATOR_READY;
                r = local_register(co);
        } else {
                co->state = COORDINATOR_CONNECTING;
                r = etcd_backend_start(co, o, ret_error);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(co);
        return 0;
}

Coordinator *coordinator_free(Coordinator *co)
{
        if (!co)
                return NULL;
        co->stopping = true;
        while (co->requests)
                request_free(co->requests);
        if (co->type == COORDINATOR_ETCD)
                etcd_backend_stop(co);
        entries_free(co->entries, co->n_entries);
        cJSON_Delete(co->nodes_cache);
        free(co->ordinals);
        free(co->sticky);
        free(co->slots);
        for (size_t i = 0; i < co->n_held; i++) {
                free((char *)co->held[i].ns);
                free((char *)co->held[i].set);
        }
        free(co->held);
        cJSON_Delete(co->node);
        free(co->node_name);
        free(co->prefix);
        sd_event_unref(co->event);
        return mfree(co);
}
