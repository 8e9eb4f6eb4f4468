/* The CRI v1 messages for a pod's sandbox and its containers, as the kubelet makes them from the
 * Pod object (kuberuntime_sandbox.go, kuberuntime_container*.go, security_context.go,
 * qos/policy.go, network/dns/dns.go). A tree is built from borrowed strings and arena memory,
 * then packed and unpacked once, so that the caller owns one protobuf-c tree. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cri-config.h"
#include "json-util.h"
#include "macro.h"
#include "util.h"

/* cm/helpers_linux.go, kuberuntime/helpers_linux.go */
#define CPU_PERIOD_USEC 100000
#define CPU_MIN_QUOTA_USEC 1000
#define CPU_MIN_SHARES 2
#define CPU_MAX_SHARES 262144
/* qos/policy.go */
#define OOM_SCORE_ADJ_GUARANTEED (-997)
#define OOM_SCORE_ADJ_BEST_EFFORT 1000
#define OOM_SCORE_ADJ_BURSTABLE_MAX 999
#define SYSTEM_CRITICAL_PRIORITY 2000000000
/* validation.go: MaxDNSNameservers, MaxDNSSearchPathsExpanded, MaxDNSSearchListCharsExpanded */
#define DNS_MAX_SERVERS 3
#define DNS_MAX_SEARCHES 32
#define DNS_MAX_SEARCH_CHARS 2048
#define DNS_MAX_SEARCH_LEN 253
#define HOSTNAME_MAX_LEN 63

/* securitycontext.defaultMaskedPaths / defaultReadonlyPaths */
static const char *const default_masked_paths[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
static const char *const default_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static inline const char *strempty(const char *s)
{
        return s ?: "";
}

/* Every allocation of a tree under construction; freed at once after packing. */
typedef struct ArenaChunk {
        struct ArenaChunk *next;
        max_align_t data[];
} ArenaChunk;

typedef struct Arena {
        ArenaChunk *chunks;
} Arena;

static void arena_done(Arena *a)
{
        while (a->chunks) {
                ArenaChunk *c = a->chunks;

                a->chunks = c->next;
                free(c);
        }
}

static void *arena_alloc(Arena *a, size_t n, size_t size)
{
        ArenaChunk *c;

        if (size > 0 && n > (SIZE_MAX - sizeof(ArenaChunk)) / size)
                return NULL;
        c = calloc(1, sizeof(ArenaChunk) + n * size);
        if (!c)
                return NULL;
        c->next = a->chunks;
        a->chunks = c;
        return c->data;
}

static void *arena_copy(Arena *a, const void *p, size_t size)
{
        void *q = arena_alloc(a, 1, size);

        return q ? memcpy(q, p, size) : NULL;
}

/* A message of type with its generated initializer: ARENA_NEW(a, Runtime__V1__Mount,
 * RUNTIME__V1__MOUNT__INIT) */
#define ARENA_NEW(a, type, init) ((type *)arena_copy((a), &(type)init, sizeof(type)))

_printf_(2, 3) static char *arena_printf(Arena *a, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        s = arena_alloc(a, (size_t)n + 1, 1);
        if (!s)
                return NULL;
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
        return s;
}

/* A growing array of pointers in the arena: the repeated fields and maps under construction. */
typedef struct PtrList {
        void **v;
        size_t n, cap;
} PtrList;

static int list_push(Arena *a, PtrList *l, const void *p)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 8;
                void **v = arena_alloc(a, cap, sizeof(void *));

                if (!v)
                        return -ENOMEM;
                if (l->n > 0)
                        memcpy(v, l->v, l->n * sizeof(void *));
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = (void *)p;
        return 0;
}

static bool list_has_str(const PtrList *l, const char *s)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i], s))
                        return true;
        return false;
}

/* Every map<string, string> of api.proto generates an entry message of this layout. */
typedef struct MapEntry {
        ProtobufCMessage base;
        char *key;
        char *value;
} MapEntry;
_Static_assert(sizeof(MapEntry) == sizeof(Runtime__V1__PodSandboxConfig__LabelsEntry), "map entry layout");
_Static_assert(offsetof(MapEntry, value) == offsetof(Runtime__V1__ContainerConfig__AnnotationsEntry, value),
               "map entry layout");

/* Sets key (a later value replaces an earlier one, as in a Go map) in a map field of entries of desc. */
static int map_put(Arena *a, PtrList *l, const ProtobufCMessageDescriptor *desc, const char *key,
                   const char *value)
{
        MapEntry *e;

        for (size_t i = 0; i < l->n; i++) {
                e = l->v[i];
                if (streq(e->key, key)) {
                        e->value = (char *)value;
                        return 0;
                }
        }
        e = arena_alloc(a, 1, sizeof(MapEntry));
        if (!e)
                return -ENOMEM;
        protobuf_c_message_init(desc, e);
        e->key = (char *)key;
        e->value = (char *)value;
        return list_push(a, l, e);
}

/* The string members of a JSON object as map entries (labels, annotations). */
static int map_put_json(Arena *a, PtrList *l, const ProtobufCMessageDescriptor *desc, const cJSON *obj)
{
        const cJSON *i;
        int r;

        cJSON_ArrayForEach (i, (cJSON_IsObject(obj) ? obj : NULL))
                if (cJSON_IsString(i)) {
                        r = map_put(a, l, desc, i->string, i->valuestring);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static bool json_integer(const cJSON *j, int64_t min, int64_t max, int64_t *ret)
{
        if (!cJSON_IsNumber(j) || j->valuedouble < (double)min || j->valuedouble > (double)max ||
            j->valuedouble != (double)(int64_t)j->valuedouble)
                return false;
        *ret = (int64_t)j->valuedouble;
        return true;
}

static Runtime__V1__Int64Value *int64_value(Arena *a, const cJSON *j)
{
        Runtime__V1__Int64Value *v = ARENA_NEW(a, Runtime__V1__Int64Value, RUNTIME__V1__INT64_VALUE__INIT);

        if (v)
                v->value = (int64_t)j->valuedouble;
        return v;
}

/* A Kubernetes quantity ("250m", "64Mi", "0.5", "1e3") in milli-units, rounded up as
 * Quantity.MilliValue() does. The manifest module has the validating parser, which the cri
 * module cannot link: this one serves the QoS class of an already validated pod. */
static int quantity_milli(const cJSON *j, __int128 *ret)
{
        static const struct {
                const char *suffix;
                int exp10, exp2;
        } suffixes[] = {
            {"", 0, 0},    {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},   {"G", 9, 0},
            {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
            {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
        };
        const __int128 limit = (__int128)1 << 100;
        __int128 n = 0;
        const char *s;
        bool neg = false, digits = false, rest = false;
        int exp10 = 3, exp2 = -1;

        if (cJSON_IsNumber(j)) {
                double v = j->valuedouble * 1000.0;

                if (!(v > -1e29 && v < 1e29))
                        return -ERANGE;
                n = (__int128)v;
                *ret = n + ((double)n < v);
                return 0;
        }
        if (!cJSON_IsString(j))
                return -EINVAL;
        s = j->valuestring;
        if (*s == '+' || *s == '-')
                neg = *s++ == '-';
        for (; *s >= '0' && *s <= '9'; s++, digits = true) {
                if (n > limit / 10)
                        return -ERANGE;
                n = n * 10 + (*s - '0');
        }
        if (*s == '.')
                for (s++; *s >= '0' && *s <= '9'; s++, digits = true, exp10--) {
                        if (n > limit / 10)
                                return -ERANGE;
                        n = n * 10 + (*s - '0');
                }
        if (!digits)
                return -EINVAL;
        if ((*s == 'e' || *s == 'E') && s[1] != '\0') {
                char *end;
                long e = strtol(s + 1, &end, 10);

                if (*end || end == s + 1 || e > 40 || e < -40)
                        return -EINVAL;
                exp10 += (int)e;
                exp2 = 0;
        } else
                for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                        if (streq(s, suffixes[i].suffix)) {
                                exp10 += suffixes[i].exp10;
                                exp2 = suffixes[i].exp2;
                        }
        if (exp2 < 0)
                return -EINVAL;
        for (; exp2 > 0; exp2--, n *= 2)
                if (n > limit)
                        return -ERANGE;
        for (; exp10 > 0; exp10--, n *= 10)
                if (n > limit)
                        return -ERANGE;
        for (; exp10 < 0; exp10++) {
                rest = rest || n % 10 != 0;
                n /= 10;
        }
        n += rest && !neg;
        *ret = neg ? -n : n;
        return 0;
}

typedef enum PodQos {
        POD_QOS_BEST_EFFORT,
        POD_QOS_BURSTABLE,
        POD_QOS_GUARANTEED,
} PodQos;

/* v1qos.ComputePodQOS: the sums of every container's cpu and memory requests and limits (a
 * limit without a request being the request too, as the API defaults it). */
static int pod_qos(const cJSON *spec, PodQos *ret)
{
        static const char *const lists[] = {"containers", "initContainers"};
        static const char *const names[] = {"cpu", "memory"};
        __int128 req[2] = {}, lim[2] = {}, q;
        bool has_req[2] = {}, has_lim[2] = {}, guaranteed = true;
        const cJSON *c, *v;
        int r;

        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(spec, lists[l])) {
                        const cJSON *limits = json_path(c, "resources.limits");
                        const cJSON *requests = json_path(c, "resources.requests");

                        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                                bool found = false;

                                v = cJSON_GetObjectItemCaseSensitive(limits, names[i]);
                                if (v) {
                                        r = quantity_milli(v, &q);
                                        if (r < 0)
                                                return r;
                                        if (q > 0) {
                                                lim[i] += q;
                                                has_lim[i] = found = true;
                                        }
                                }
                                v = cJSON_GetObjectItemCaseSensitive(requests, names[i]) ?: v;
                                if (v) {
                                        r = quantity_milli(v, &q);
                                        if (r < 0)
                                                return r;
                                        if (q > 0) {
                                                req[i] += q;
                                                has_req[i] = true;
                                        }
                                }
                                guaranteed = guaranteed && found;
                        }
                }
        if (!has_req[0] && !has_req[1] && !has_lim[0] && !has_lim[1]) {
                *ret = POD_QOS_BEST_EFFORT;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (has_req[i] != has_lim[i] || (has_req[i] && req[i] != lim[i]))
                        guaranteed = false;
        *ret = guaranteed ? POD_QOS_GUARANTEED : POD_QOS_BURSTABLE;
        return 0;
}

const char *cri_pod_qos_class(const cJSON *pod_spec)
{
        PodQos qos;

        /* a validated pod's quantities parse; anything else has no resources worth a class */
        if (pod_qos(pod_spec, &qos) < 0)
                return "BestEffort";
        return qos == POD_QOS_GUARANTEED  ? "Guaranteed"
               : qos == POD_QOS_BURSTABLE ? "Burstable"
                                          : "BestEffort";
}

/* types.IsNodeCriticalPod: system-node-critical, and critical by priority or as a static pod. */
static bool pod_is_node_critical(const cJSON *pod)
{
        const cJSON *annotations = json_path(pod, "metadata.annotations");
        /* keys with dots: not paths for json_str() */
        const char *source = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(annotations, "kubernetes.io/config.source"));

        if (!streq_ptr(json_str(pod, "spec.priorityClassName"), "system-node-critical"))
                return false;
        return json_int(pod, "spec.priority", 0) >= SYSTEM_CRITICAL_PRIORITY ||
               (source && !streq(source, "api")) ||
               cJSON_GetObjectItemCaseSensitive(annotations, "kubernetes.io/config.mirror");
}

/* qos.GetContainerOOMScoreAdjust for a node of unknown memory capacity: a Burstable container
 * gets the upper bound of the formula. */
static int oom_score_adj(const cJSON *pod, int64_t *ret)
{
        PodQos qos;
        int r;

        if (pod_is_node_critical(pod)) {
                *ret = OOM_SCORE_ADJ_GUARANTEED;
                return 0;
        }
        r = pod_qos(json_path(pod, "spec"), &qos);
        if (r < 0)
                return r;
        *ret = qos == POD_QOS_GUARANTEED    ? OOM_SCORE_ADJ_GUARANTEED
               : qos == POD_QOS_BEST_EFFORT ? OOM_SCORE_ADJ_BEST_EFFORT
                                            : OOM_SCORE_ADJ_BURSTABLE_MAX;
        return 0;
}

/* runtimeutil.NamespacesForPod */
static Runtime__V1__NamespaceOption *namespace_options(Arena *a, const cJSON *spec)
{
        Runtime__V1__NamespaceOption *ns =
            ARENA_NEW(a, Runtime__V1__NamespaceOption, RUNTIME__V1__NAMESPACE_OPTION__INIT);

        if (!ns)
                return NULL;
        ns->network = json_bool(spec, "hostNetwork", false) ? RUNTIME__V1__NAMESPACE_MODE__NODE
                                                            : RUNTIME__V1__NAMESPACE_MODE__POD;
        ns->ipc = json_bool(spec, "hostIPC", false) ? RUNTIME__V1__NAMESPACE_MODE__NODE
                                                    : RUNTIME__V1__NAMESPACE_MODE__POD;
        ns->pid = json_bool(spec, "hostPID", false)                 ? RUNTIME__V1__NAMESPACE_MODE__NODE
                  : json_bool(spec, "shareProcessNamespace", false) ? RUNTIME__V1__NAMESPACE_MODE__POD
                                                                    : RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
        return ns;
}

/* The pod's fsGroup, then its supplementalGroups, as the kubelet orders them. */
static int supplemental_groups(Arena *a, const cJSON *spec, bool use_gids, const gid_t *gids, size_t n_gids,
                               int64_t **ret, size_t *ret_n)
{
        const cJSON *sc = json_path(spec, "securityContext"), *g;
        const cJSON *groups = cJSON_GetObjectItemCaseSensitive(sc, "supplementalGroups");
        size_t n = 0, max = 1 + (size_t)cJSON_GetArraySize(groups) + n_gids;
        int64_t *v = arena_alloc(a, max, sizeof(int64_t)), id;

        if (!v)
                return -ENOMEM;
        if (json_integer(cJSON_GetObjectItemCaseSensitive(sc, "fsGroup"), 0, UINT32_MAX, &id))
                v[n++] = id;
        if (use_gids)
                for (size_t i = 0; i < n_gids; i++)
                        v[n++] = gids[i];
        else
                cJSON_ArrayForEach (g, groups)
                        if (json_integer(g, 0, UINT32_MAX, &id))
                                v[n++] = id;
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool any_container_privileged(const cJSON *spec)
{
        static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
        const cJSON *c;

        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(spec, lists[l]))
                        if (json_bool(c, "securityContext.privileged", false))
                                return true;
        return false;
}

/* GeneratePodHostNameAndDomain and truncatePodHostnameIfNeeded: at most 63 characters, not
 * ending in '-' or '.'. */
static int sandbox_hostname(Arena *a, const cJSON *spec, const char *name, char **ret, char **ret_error)
{
        const char *h = json_str(spec, "hostname");
        size_t len;

        if (isempty(h))
                h = name;
        len = strlen(h);
        if (len <= HOSTNAME_MAX_LEN) {
                *ret = (char *)h;
                return 0;
        }
        for (len = HOSTNAME_MAX_LEN; len > 0 && (h[len - 1] == '-' || h[len - 1] == '.'); len--)
                ;
        if (len == 0)
                return set_errorf(ret_error, -EINVAL, "hostname for pod %s was invalid: %s", name, h);
        *ret = arena_printf(a, "%.*s", (int)len, h);
        return *ret ? 0 : -ENOMEM;
}

static int dns_put_option(Arena *a, PtrList *options, const char *name, const char *value)
{
        char *opt = isempty(value) ? (char *)name : arena_printf(a, "%s:%s", name, value);
        size_t len = strlen(name);

        if (!opt)
                return -ENOMEM;
        /* mergeDNSOptions: one entry per name, the pod's replacing the node's */
        for (size_t i = 0; i < options->n; i++) {
                const char *o = options->v[i];

                if (strneq(o, name, len) && (o[len] == '\0' || o[len] == ':')) {
                        options->v[i] = opt;
                        return 0;
                }
        }
        return list_push(a, options, opt);
}

/* parseResolvConf: nameservers accumulate, the last search and options lines win. */
static int dns_parse_resolv_conf(Arena *a, const char *text, PtrList *servers, PtrList *searches,
                                 PtrList *options)
{
        char *copy = arena_printf(a, "%s", text), *line, *save, *w, *f, *colon;
        int r;

        if (!copy)
                return -ENOMEM;
        while ((line = strsep(&copy, "\n"))) {
                w = strtok_r(line, " \t\r\f\v", &save);
                if (!w || w[0] == '#')
                        continue;
                if (streq(w, "nameserver")) {
                        f = strtok_r(NULL, " \t\r\f\v", &save);
                        if (f && !list_has_str(servers, f) && (r = list_push(a, servers, f)) < 0)
                                return r;
                } else if (streq(w, "search")) {
                        searches->n = 0;
                        while ((f = strtok_r(NULL, " \t\r\f\v", &save))) {
                                size_t len = strlen(f);

                                if (len > 1 && f[len - 1] == '.')
                                        f[len - 1] = '\0';
                                if (!streq(f, ".") && !list_has_str(searches, f) &&
                                    (r = list_push(a, searches, f)) < 0)
                                        return r;
                        }
                } else if (streq(w, "options")) {
                        options->n = 0;
                        while ((f = strtok_r(NULL, " \t\r\f\v", &save))) {
                                colon = strchr(f, ':');
                                if (colon)
                                        *colon = '\0';
                                r = dns_put_option(a, options, f, colon ? colon + 1 : NULL);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

/* validatePodDNSConfig: the API server's checks of spec.dnsConfig. */
static int dns_validate(const cJSON *dc, bool none, char **ret_error)
{
        const cJSON *servers = cJSON_GetObjectItemCaseSensitive(dc, "nameservers");
        const cJSON *searches = cJSON_GetObjectItemCaseSensitive(dc, "searches"), *i;
        size_t chars = 0;

        if (none && !cJSON_IsObject(dc))
                return set_errorf(
                    ret_error, -EINVAL,
                    "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None");
        if (none && cJSON_GetArraySize(servers) == 0)
                return set_errorf(
                    ret_error, -EINVAL,
                    "spec.dnsConfig.nameservers: Required value: must provide at least one DNS "
                    "nameserver when `dnsPolicy` is None");
        if (cJSON_GetArraySize(servers) > DNS_MAX_SERVERS)
                return set_errorf(
                    ret_error, -EINVAL,
                    "spec.dnsConfig.nameservers: Invalid value: must not have more than %d nameservers",
                    DNS_MAX_SERVERS);
        if (cJSON_GetArraySize(searches) > DNS_MAX_SEARCHES)
                return set_errorf(
                    ret_error, -EINVAL,
                    "spec.dnsConfig.searches: Invalid value: must not have more than %d search paths",
                    DNS_MAX_SEARCHES);
        cJSON_ArrayForEach (i, searches)
                chars += (cJSON_IsString(i) ? strlen(i->valuestring) : 0) + (chars > 0);
        if (chars > DNS_MAX_SEARCH_CHARS)
                return set_errorf(
                    ret_error, -EINVAL,
                    "spec.dnsConfig.searches: Invalid value: must not have more than %d characters "
                    "(including spaces) in the search list",
                    DNS_MAX_SEARCH_CHARS);
        cJSON_ArrayForEach (i, cJSON_GetObjectItemCaseSensitive(dc, "options"))
                if (isempty(json_str(i, "name")))
                        return set_errorf(ret_error, -EINVAL, "spec.dnsConfig.options.name: Required value");
        return 0;
}

/* formDNSSearchFitsLimits: what the kubelet cuts from the merged search line. */
static void dns_fit_searches(PtrList *searches)
{
        size_t n = 0, chars = 0;

        for (size_t i = 0; i < MIN(searches->n, (size_t)DNS_MAX_SEARCHES); i++) {
                size_t len = strlen(searches->v[i]);

                if (len > DNS_MAX_SEARCH_LEN)
                        continue;
                if (chars + (n > 0) + len > DNS_MAX_SEARCH_CHARS)
                        break;
                chars += (n > 0) + len;
                searches->v[n++] = searches->v[i];
        }
        searches->n = n;
}

/* GetPodDNS: None starts empty, every other policy from the node's resolv.conf (ClusterFirst
 * falls back to it, no cluster DNS existing); spec.dnsConfig is merged into that. */
static int sandbox_dns(Arena *a, const CriSandboxParams *p, const cJSON *spec, Runtime__V1__DNSConfig **ret,
                       char **ret_error)
{
        const char *policy = json_str(spec, "dnsPolicy") ?: "ClusterFirst";
        const cJSON *dc = cJSON_GetObjectItemCaseSensitive(spec, "dnsConfig"), *i;
        PtrList servers = {}, searches = {}, options = {};
        Runtime__V1__DNSConfig *d;
        bool none = streq(policy, "None");
        int r;

        if (!none && !streq(policy, "ClusterFirst") && !streq(policy, "ClusterFirstWithHostNet") &&
            !streq(policy, "Default"))
                return set_errorf(
                    ret_error, -EINVAL,
                    "spec.dnsPolicy: Unsupported value: \"%s\": supported values: \"ClusterFirst\", "
                    "\"ClusterFirstWithHostNet\", \"Default\", \"None\"",
                    policy);
        r = dns_validate(dc, none, ret_error);
        if (r < 0)
                return r;
        if (!none && p->resolv_conf) {
                r = dns_parse_resolv_conf(a, p->resolv_conf, &servers, &searches, &options);
                if (r < 0)
                        return r;
        }
        cJSON_ArrayForEach (i, cJSON_GetObjectItemCaseSensitive(dc, "nameservers"))
                if (cJSON_IsString(i) && !list_has_str(&servers, i->valuestring) &&
                    (r = list_push(a, &servers, i->valuestring)) < 0)
                        return r;
        cJSON_ArrayForEach (i, cJSON_GetObjectItemCaseSensitive(dc, "searches"))
                if (cJSON_IsString(i) && !list_has_str(&searches, i->valuestring) &&
                    (r = list_push(a, &searches, i->valuestring)) < 0)
                        return r;
        cJSON_ArrayForEach (i, cJSON_GetObjectItemCaseSensitive(dc, "options"))
                if ((r = dns_put_option(a, &options, json_str(i, "name"), json_str(i, "value"))) < 0)
                        return r;
        servers.n = MIN(servers.n, (size_t)DNS_MAX_SERVERS);
        dns_fit_searches(&searches);

        d = ARENA_NEW(a, Runtime__V1__DNSConfig, RUNTIME__V1__DNSCONFIG__INIT);
        if (!d)
                return -ENOMEM;
        d->servers = (char **)servers.v;
        d->n_servers = servers.n;
        d->searches = (char **)searches.v;
        d->n_searches = searches.n;
        d->options = (char **)options.v;
        d->n_options = options.n;
        *ret = d;
        return 0;
}

static int port_error(char **ret_error, size_t c, size_t i, const char *field, const char *what)
{
        return set_errorf(ret_error, -EINVAL, "spec.containers[%zu].ports[%zu].%s: %s", c, i, field, what);
}

/* One entry of kubecontainer.MakePortMappings; 0 with *ret NULL: a duplicate, skipped. */
static int port_mapping(Arena *a, const cJSON *port, bool host_network, size_t c, size_t i, PtrList *names,
                        Runtime__V1__PortMapping **ret, char **ret_error)
{
        const char *protocol = json_str(port, "protocol") ?: "TCP",
                   *host_ip = json_str(port, "hostIP") ?: "";
        const char *name = json_str(port, "name");
        Runtime__V1__PortMapping *m;
        int64_t container_port, host_port = 0;
        int r;

        *ret = NULL;
        if (!json_integer(cJSON_GetObjectItemCaseSensitive(port, "containerPort"), 1, 65535,
                          &container_port))
                return port_error(ret_error, c, i, "containerPort",
                                  "Invalid value: must be between 1 and 65535, inclusive");
        if (cJSON_GetObjectItemCaseSensitive(port, "hostPort") &&
            !json_integer(cJSON_GetObjectItemCaseSensitive(port, "hostPort"), 0, 65535, &host_port))
                return port_error(ret_error, c, i, "hostPort",
                                  "Invalid value: must be between 1 and 65535, inclusive");
        m = ARENA_NEW(a, Runtime__V1__PortMapping, RUNTIME__V1__PORT_MAPPING__INIT);
        if (!m)
                return -ENOMEM;
        if (streq(protocol, "TCP"))
                m->protocol = RUNTIME__V1__PROTOCOL__TCP;
        else if (streq(protocol, "UDP"))
                m->protocol = RUNTIME__V1__PROTOCOL__UDP;
        else if (streq(protocol, "SCTP"))
                m->protocol = RUNTIME__V1__PROTOCOL__SCTP;
        else
                return set_errorf(
                    ret_error, -EINVAL,
                    "spec.containers[%zu].ports[%zu].protocol: Unsupported value: \"%s\": supported "
                    "values: \"SCTP\", \"TCP\", \"UDP\"",
                    c, i, protocol);
        /* SetDefaults_Pod: a host-network pod's ports are the node's */
        if (host_network && host_port == 0)
                host_port = container_port;
        /* the same name (or the same family, protocol, IP and ports) twice in a container: once */
        if (isempty(name)) {
                name = arena_printf(a, "%s-%s-%s:%" PRId64 ":%" PRId64,
                                    isempty(host_ip)       ? "any"
                                    : strchr(host_ip, ':') ? "v6"
                                                           : "v4",
                                    protocol, host_ip, container_port, host_port);
                if (!name)
                        return -ENOMEM;
        }
        if (list_has_str(names, name))
                return 0;
        r = list_push(a, names, name);
        if (r < 0)
                return r;
        m->container_port = (int32_t)container_port;
        m->host_port = (int32_t)host_port;
        m->host_ip = (char *)host_ip;
        *ret = m;
        return 0;
}

/* generatePodSandboxConfig: every port of every (regular) container, with or without hostPort:
 * the runtime maps those that have one. */
static int sandbox_ports(Arena *a, const cJSON *spec, Runtime__V1__PodSandboxConfig *c, char **ret_error)
{
        bool host_network = json_bool(spec, "hostNetwork", false);
        const cJSON *ctr, *port;
        PtrList l = {};
        size_t ci = 0;
        int r;

        cJSON_ArrayForEach (ctr, cJSON_GetObjectItemCaseSensitive(spec, "containers")) {
                PtrList names = {};
                size_t pi = 0;

                cJSON_ArrayForEach (port, cJSON_GetObjectItemCaseSensitive(ctr, "ports")) {
                        Runtime__V1__PortMapping *m;

                        r = port_mapping(a, port, host_network, ci, pi++, &names, &m, ret_error);
                        if (r < 0)
                                return r;
                        if (m && (r = list_push(a, &l, m)) < 0)
                                return r;
                }
                ci++;
        }
        c->port_mappings = (Runtime__V1__PortMapping **)l.v;
        c->n_port_mappings = l.n;
        return 0;
}

/* generatePodSandboxLinuxConfig */
static int sandbox_linux(Arena *a, const CriSandboxParams *p, const cJSON *spec,
                         Runtime__V1__LinuxPodSandboxConfig **ret)
{
        const cJSON *sc = json_path(spec, "securityContext"), *s;
        Runtime__V1__LinuxPodSandboxConfig *lx;
        Runtime__V1__LinuxSandboxSecurityContext *ssc;
        PtrList sysctls = {};
        int r;

        lx = ARENA_NEW(a, Runtime__V1__LinuxPodSandboxConfig, RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT);
        ssc = ARENA_NEW(a, Runtime__V1__LinuxSandboxSecurityContext,
                        RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT);
        if (!lx || !ssc)
                return -ENOMEM;
        lx->cgroup_parent = (char *)(p->cgroup_parent ?: "");
        lx->security_context = ssc;
        ssc->namespace_options = namespace_options(a, spec);
        /* the sandbox always runs RuntimeDefault, so that pods may use stricter profiles */
        ssc->seccomp = ARENA_NEW(a, Runtime__V1__SecurityProfile, RUNTIME__V1__SECURITY_PROFILE__INIT);
        if (!ssc->namespace_options || !ssc->seccomp)
                return -ENOMEM;
        ssc->privileged = any_container_privileged(spec);
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sc, "runAsUser")) &&
            !(ssc->run_as_user = int64_value(a, cJSON_GetObjectItemCaseSensitive(sc, "runAsUser"))))
                return -ENOMEM;
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sc, "runAsGroup")) &&
            !(ssc->run_as_group = int64_value(a, cJSON_GetObjectItemCaseSensitive(sc, "runAsGroup"))))
                return -ENOMEM;
        r = supplemental_groups(a, spec, false, NULL, 0, &ssc->supplemental_groups,
                                &ssc->n_supplemental_groups);
        if (r < 0)
                return r;
        cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(sc, "sysctls"))
                if (json_str(s, "name") &&
                    (r = map_put(a, &sysctls,
                                 &runtime__v1__linux_pod_sandbox_config__sysctls_entry__descriptor,
                                 json_str(s, "name"), json_str(s, "value") ?: "")) < 0)
                        return r;
        lx->sysctls = (Runtime__V1__LinuxPodSandboxConfig__SysctlsEntry **)sysctls.v;
        lx->n_sysctls = sysctls.n;
        *ret = lx;
        return 0;
}

/* Packs the tree built in the arena and unpacks it into one allocation tree of protobuf-c's. */
static int tree_finish(const ProtobufCMessage *m, ProtobufCMessage **ret)
{
        size_t size = protobuf_c_message_get_packed_size(m);
        _cleanup_free_ uint8_t *buf = malloc(size ?: 1);
        ProtobufCMessage *out;

        if (!buf)
                return -ENOMEM;
        protobuf_c_message_pack(m, buf);
        out = protobuf_c_message_unpack(m->descriptor, NULL, size, buf);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

int cri_sandbox_config_new(const CriSandboxParams *p, Runtime__V1__PodSandboxConfig **ret, char **ret_error)
{
        _cleanup_(arena_done) Arena a = {};
        const cJSON *spec = json_path(p->pod, "spec");
        const char *name = json_str(p->pod, "metadata.name"), *uid = json_str(p->pod, "metadata.uid");
        const char *ns = json_str(p->pod, "metadata.namespace");
        Runtime__V1__PodSandboxConfig *c;
        ProtobufCMessage *out;
        PtrList labels = {}, annotations = {};
        const ProtobufCMessageDescriptor *ld = &runtime__v1__pod_sandbox_config__labels_entry__descriptor;
        int r;

        if (isempty(name) || isempty(uid))
                return set_errorf(ret_error, -EINVAL, "metadata.%s: Required value",
                                  isempty(name) ? "name" : "uid");
        if (isempty(ns))
                ns = "default";
        c = ARENA_NEW(&a, Runtime__V1__PodSandboxConfig, RUNTIME__V1__POD_SANDBOX_CONFIG__INIT);
        if (!c || !(c->metadata = ARENA_NEW(&a, Runtime__V1__PodSandboxMetadata,
                                            RUNTIME__V1__POD_SANDBOX_METADATA__INIT)))
                return -ENOMEM;
        c->metadata->name = (char *)name;
        c->metadata->uid = (char *)uid;
        c->metadata->namespace_ = (char *)ns;
        c->metadata->attempt = p->attempt;
        c->log_directory = (char *)(p->log_directory ?: "");
        /* a host-network pod keeps the node's name: runc cannot set one without a UTS namespace */
        if (!json_bool(spec, "hostNetwork", false) &&
            (r = sandbox_hostname(&a, spec, name, &c->hostname, ret_error)) < 0)
                return r;
        r = sandbox_dns(&a, p, spec, &c->dns_config, ret_error);
        if (r < 0)
                return r;
        r = sandbox_ports(&a, spec, c, ret_error);
        if (r < 0)
                return r;
        if ((r = map_put_json(&a, &labels, ld, json_path(p->pod, "metadata.labels"))) < 0 ||
            (r = map_put(&a, &labels, ld, CRI_LABEL_POD_NAME, name)) < 0 ||
            (r = map_put(&a, &labels, ld, CRI_LABEL_POD_NAMESPACE, ns)) < 0 ||
            (r = map_put(&a, &labels, ld, CRI_LABEL_POD_UID, uid)) < 0 ||
            (!isempty(p->instance) && (r = map_put(&a, &labels, ld, CRI_LABEL_INSTANCE, p->instance)) < 0))
                return r;
        r = map_put_json(&a, &annotations, &runtime__v1__pod_sandbox_config__annotations_entry__descriptor,
                         json_path(p->pod, "metadata.annotations"));
        if (r < 0)
                return r;
        c->labels = (Runtime__V1__PodSandboxConfig__LabelsEntry **)labels.v;
        c->n_labels = labels.n;
        c->annotations = (Runtime__V1__PodSandboxConfig__AnnotationsEntry **)annotations.v;
        c->n_annotations = annotations.n;
        r = sandbox_linux(&a, p, spec, &c->linux);
        if (r < 0)
                return r;
        r = tree_finish(&c->base, &out);
        if (r < 0)
                return r;
        *ret = (Runtime__V1__PodSandboxConfig *)out;
        return 0;
}

/* The container's securityContext.seccompProfile, else the pod's; validated as the API server
 * validates localhostProfile (relative, no ".." element). */
static int container_seccomp(Arena *a, const CriContainerParams *p, bool privileged,
                             Runtime__V1__SecurityProfile **ret, char **ret_error)
{
        const RuntimeContainerConfig *cfg = p->cfg;
        const cJSON *prof = json_path(cfg->container, "securityContext.seccompProfile");
        const char *where = "securityContext.seccompProfile", *type, *local;
        Runtime__V1__SecurityProfile *sp;

        if (!prof) {
                prof = json_path(cfg->pod, "spec.securityContext.seccompProfile");
                where = "spec.securityContext.seccompProfile";
        }
        sp = ARENA_NEW(a, Runtime__V1__SecurityProfile, RUNTIME__V1__SECURITY_PROFILE__INIT);
        if (!sp)
                return -ENOMEM;
        type = json_str(prof, "type");
        if (!prof)
                sp->profile_type = cfg->seccomp_runtime_default
                                       ? RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault
                                       : RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined;
        else if (streq_ptr(type, "RuntimeDefault"))
                sp->profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault;
        else if (streq_ptr(type, "Unconfined"))
                sp->profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined;
        else if (streq_ptr(type, "Localhost")) {
                local = json_str(prof, "localhostProfile");
                if (isempty(local))
                        return set_errorf(ret_error, -EINVAL,
                                          "container %s: %s.localhostProfile: Required value",
                                          cfg->container_name, where);
                if (local[0] == '/' || streq(local, "..") || startswith(local, "../") ||
                    strstr(local, "/../") || endswith(local, "/.."))
                        return set_errorf(
                            ret_error, -EINVAL,
                            "container %s: %s.localhostProfile: Invalid value: \"%s\": must be a "
                            "relative path without '..'",
                            cfg->container_name, where, local);
                if (isempty(p->seccomp_root) || p->seccomp_root[0] != '/')
                        return set_errorf(ret_error, -EINVAL, "container %s: no seccomp profile root for %s",
                                          cfg->container_name, local);
                sp->profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost;
                sp->localhost_ref = arena_printf(a, "%s%s%s", p->seccomp_root,
                                                 endswith(p->seccomp_root, "/") ? "" : "/", local);
                if (!sp->localhost_ref)
                        return -ENOMEM;
        } else
                return set_errorf(ret_error, -EINVAL,
                                  "container %s: %s.type: Unsupported value: \"%s\": supported values: "
                                  "\"Localhost\", \"RuntimeDefault\", \"Unconfined\"",
                                  cfg->container_name, where, strempty(type));
        /* what runtimes do with a privileged container anyway */
        if (privileged) {
                sp->profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined;
                sp->localhost_ref = NULL;
        }
        *ret = sp;
        return 0;
}

static int string_array(Arena *a, const cJSON *arr, char ***ret, size_t *ret_n)
{
        const cJSON *i;
        PtrList l = {};
        int r;

        cJSON_ArrayForEach (i, (cJSON_IsArray(arr) ? arr : NULL))
                if (cJSON_IsString(i) && (r = list_push(a, &l, i->valuestring)) < 0)
                        return r;
        *ret = (char **)l.v;
        *ret_n = l.n;
        return 0;
}

/* determineEffectiveSecurityContext: privileged, capabilities, readOnlyRootFilesystem,
 * allowPrivilegeEscalation and procMount are the container's; the user and group the
 * container's over the pod's. */
static int container_security(Arena *a, const CriContainerParams *p,
                              Runtime__V1__LinuxContainerSecurityContext **ret, char **ret_error)
{
        const RuntimeContainerConfig *cfg = p->cfg;
        const cJSON *spec = json_path(cfg->pod, "spec"), *csc = json_path(cfg->container, "securityContext");
        const cJSON *caps = cJSON_GetObjectItemCaseSensitive(csc, "capabilities"), *group;
        Runtime__V1__LinuxContainerSecurityContext *sc;
        bool unmasked;
        int r;

        sc = ARENA_NEW(a, Runtime__V1__LinuxContainerSecurityContext,
                       RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT);
        if (!sc || !(sc->namespace_options = namespace_options(a, spec)))
                return -ENOMEM;
        sc->privileged = json_bool(csc, "privileged", false);
        sc->readonly_rootfs = json_bool(csc, "readOnlyRootFilesystem", false);
        /* AddNoNewPrivileges: only an explicit allowPrivilegeEscalation: false */
        sc->no_new_privs = !json_bool(csc, "allowPrivilegeEscalation", true);
        if (cJSON_IsObject(caps)) {
                sc->capabilities = ARENA_NEW(a, Runtime__V1__Capability, RUNTIME__V1__CAPABILITY__INIT);
                if (!sc->capabilities)
                        return -ENOMEM;
                if ((r = string_array(a, cJSON_GetObjectItemCaseSensitive(caps, "add"),
                                      &sc->capabilities->add_capabilities,
                                      &sc->capabilities->n_add_capabilities)) < 0 ||
                    (r = string_array(a, cJSON_GetObjectItemCaseSensitive(caps, "drop"),
                                      &sc->capabilities->drop_capabilities,
                                      &sc->capabilities->n_drop_capabilities)) < 0)
                        return r;
        }
        if (cfg->set_uid) {
                sc->run_as_user = ARENA_NEW(a, Runtime__V1__Int64Value, RUNTIME__V1__INT64_VALUE__INIT);
                if (!sc->run_as_user)
                        return -ENOMEM;
                sc->run_as_user->value = cfg->uid;
        }
        /* only a runAsGroup written in the pod: without one the runtime takes the user's group
         * from the image, where the host backend's fallback (the uid) would be wrong */
        group = json_path(csc, "runAsGroup") ?: json_path(spec, "securityContext.runAsGroup");
        if (cfg->set_gid && cJSON_IsNumber(group)) {
                sc->run_as_group = ARENA_NEW(a, Runtime__V1__Int64Value, RUNTIME__V1__INT64_VALUE__INIT);
                if (!sc->run_as_group)
                        return -ENOMEM;
                sc->run_as_group->value = cfg->gid;
        }
        r = supplemental_groups(a, spec, true, cfg->supplementary_gids, cfg->n_supplementary_gids,
                                &sc->supplemental_groups, &sc->n_supplemental_groups);
        if (r < 0)
                return r;
        r = container_seccomp(a, p, sc->privileged, &sc->seccomp, ret_error);
        if (r < 0)
                return r;
        unmasked = sc->privileged || streq_ptr(json_str(csc, "procMount"), "Unmasked");
        if (!unmasked) {
                sc->masked_paths = (char **)default_masked_paths;
                sc->n_masked_paths = ELEMENTSOF(default_masked_paths);
                sc->readonly_paths = (char **)default_readonly_paths;
                sc->n_readonly_paths = ELEMENTSOF(default_readonly_paths);
        }
        *ret = sc;
        return 0;
}

/* MilliCPUToShares, milliCPUToQuota */
static int64_t cpu_shares(int64_t milli)
{
        int64_t shares = milli / 1000 * 1024 + milli % 1000 * 1024 / 1000;

        return milli <= 0 ? CPU_MIN_SHARES : MAX(MIN(shares, CPU_MAX_SHARES), CPU_MIN_SHARES);
}

static int64_t cpu_quota(int64_t milli)
{
        const int64_t per_milli = CPU_PERIOD_USEC / 1000;

        if (milli <= 0)
                return 0;
        return MAX(milli > INT64_MAX / per_milli ? INT64_MAX : milli * per_milli, CPU_MIN_QUOTA_USEC);
}

static int container_resources(Arena *a, const RuntimeContainerConfig *cfg,
                               Runtime__V1__LinuxContainerResources **ret, char **ret_error)
{
        Runtime__V1__LinuxContainerResources *res;
        int r;

        res =
            ARENA_NEW(a, Runtime__V1__LinuxContainerResources, RUNTIME__V1__LINUX_CONTAINER_RESOURCES__INIT);
        if (!res)
                return -ENOMEM;
        res->cpu_period = CPU_PERIOD_USEC;
        res->cpu_quota = cpu_quota(cfg->cpu_limit_milli);
        res->cpu_shares = cpu_shares(cfg->cpu_request_milli);
        res->memory_limit_in_bytes = MAX(cfg->memory_limit_bytes, 0);
        r = oom_score_adj(cfg->pod, &res->oom_score_adj);
        if (r < 0)
                return set_errorf(ret_error, r, "pod %s: a container's resources are not quantities",
                                  strempty(cfg->pod_name));
        *ret = res;
        return 0;
}

static int container_mounts(Arena *a, const RuntimeContainerConfig *cfg, Runtime__V1__ContainerConfig *c,
                            char **ret_error)
{
        static const Runtime__V1__MountPropagation propagation[_RUNTIME_MOUNT_PROPAGATION_MAX] = {
            [RUNTIME_MOUNT_PROPAGATION_PRIVATE] = RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE,
            [RUNTIME_MOUNT_PROPAGATION_HOST_TO_CONTAINER] =
                RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER,
            [RUNTIME_MOUNT_PROPAGATION_BIDIRECTIONAL] =
                RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL,
        };
        Runtime__V1__Mount **v = arena_alloc(a, cfg->n_mounts, sizeof(Runtime__V1__Mount *));

        if (!v && cfg->n_mounts > 0)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                const RuntimeMount *m = &cfg->mounts[i];

                if (isempty(m->host_path) || isempty(m->container_path) ||
                    (unsigned)m->propagation >= _RUNTIME_MOUNT_PROPAGATION_MAX)
                        return set_errorf(ret_error, -EINVAL, "container %s: mount %zu is incomplete",
                                          cfg->container_name, i);
                v[i] = ARENA_NEW(a, Runtime__V1__Mount, RUNTIME__V1__MOUNT__INIT);
                if (!v[i])
                        return -ENOMEM;
                v[i]->host_path = (char *)m->host_path;
                v[i]->container_path = (char *)m->container_path;
                v[i]->readonly = m->read_only;
                v[i]->propagation = propagation[m->propagation];
        }
        c->mounts = v;
        c->n_mounts = cfg->n_mounts;
        return 0;
}

static int container_env(Arena *a, const RuntimeContainerConfig *cfg, Runtime__V1__ContainerConfig *c)
{
        PtrList l = {};
        int r;

        for (char **e = cfg->env; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                Runtime__V1__KeyValue *kv =
                    ARENA_NEW(a, Runtime__V1__KeyValue, RUNTIME__V1__KEY_VALUE__INIT);

                if (!kv)
                        return -ENOMEM;
                kv->key = eq ? arena_printf(a, "%.*s", (int)(eq - *e), *e) : *e;
                kv->value = (char *)(eq ? eq + 1 : "");
                if (!kv->key || (r = list_push(a, &l, kv)) < 0)
                        return -ENOMEM;
        }
        c->envs = (Runtime__V1__KeyValue **)l.v;
        c->n_envs = l.n;
        return 0;
}

/* The log path below the sandbox's log directory, as CRI wants it. */
static int container_log_path(const CriContainerParams *p, char **ret, char **ret_error)
{
        const char *dir = p->log_directory, *path = p->cfg->log_path, *rest;
        size_t n = dir ? strlen(dir) : 0;

        while (n > 0 && dir[n - 1] == '/')
                n--;
        if (isempty(dir) || isempty(path) || dir[0] != '/' || !strneq(path, dir, n) || path[n] != '/')
                goto not_below;
        for (rest = path + n; *rest == '/'; rest++)
                ;
        if (!*rest || streq(rest, "..") || startswith(rest, "../") || strstr(rest, "/../") ||
            endswith(rest, "/.."))
                goto not_below;
        *ret = (char *)rest;
        return 0;
not_below:
        return set_errorf(ret_error, -EINVAL,
                          "container %s: log path %s is not below the pod's log directory %s",
                          strempty(p->cfg->container_name), strempty(path), strempty(dir));
}

static int container_labels(Arena *a, const CriContainerParams *p, Runtime__V1__ContainerConfig *c)
{
        const RuntimeContainerConfig *cfg = p->cfg;
        const ProtobufCMessageDescriptor *ld = &runtime__v1__container_config__labels_entry__descriptor;
        const ProtobufCMessageDescriptor *ad = &runtime__v1__container_config__annotations_entry__descriptor;
        const cJSON *grace = json_path(cfg->pod, "spec.terminationGracePeriodSeconds");
        const char *msg_path = json_str(cfg->container, "terminationMessagePath");
        const char *msg_policy = json_str(cfg->container, "terminationMessagePolicy");
        char *restarts = arena_printf(a, "%u", cfg->attempt);
        char *grace_s =
            arena_printf(a, "%" PRId64, cJSON_IsNumber(grace) ? (int64_t)grace->valuedouble : 30);
        PtrList labels = {}, annotations = {};
        int r;

        if (!restarts || !grace_s)
                return -ENOMEM;
        if ((r = map_put(a, &labels, ld, CRI_LABEL_POD_NAME, cfg->pod_name)) < 0 ||
            (r = map_put(a, &labels, ld, CRI_LABEL_POD_NAMESPACE, cfg->pod_namespace ?: "default")) < 0 ||
            (r = map_put(a, &labels, ld, CRI_LABEL_POD_UID, cfg->pod_uid)) < 0 ||
            (r = map_put(a, &labels, ld, CRI_LABEL_CONTAINER_NAME, cfg->container_name)) < 0 ||
            (!isempty(p->instance) && (r = map_put(a, &labels, ld, CRI_LABEL_INSTANCE, p->instance)) < 0))
                return r;
        if ((r = map_put(a, &annotations, ad, CRI_ANNOTATION_RESTART_COUNT, restarts)) < 0 ||
            (msg_path &&
             (r = map_put(a, &annotations, ad, CRI_ANNOTATION_TERMINATION_MESSAGE_PATH, msg_path)) < 0) ||
            (msg_policy && (r = map_put(a, &annotations, ad, CRI_ANNOTATION_TERMINATION_MESSAGE_POLICY,
                                        msg_policy)) < 0) ||
            (r = map_put(a, &annotations, ad, CRI_ANNOTATION_TERMINATION_GRACE, grace_s)) < 0)
                return r;
        c->labels = (Runtime__V1__ContainerConfig__LabelsEntry **)labels.v;
        c->n_labels = labels.n;
        c->annotations = (Runtime__V1__ContainerConfig__AnnotationsEntry **)annotations.v;
        c->n_annotations = annotations.n;
        return 0;
}

static int container_argv(const RuntimeContainerConfig *cfg, Runtime__V1__ContainerConfig *c,
                          char **ret_error)
{
        size_t n = 0;

        while (cfg->argv && cfg->argv[n])
                n++;
        if (cfg->n_command > n)
                return set_errorf(ret_error, -EINVAL,
                                  "container %s: a command of %zu words in an argv of %zu",
                                  cfg->container_name, cfg->n_command, n);
        c->command = cfg->n_command > 0 ? cfg->argv : NULL;
        c->n_command = cfg->n_command;
        c->args = n > cfg->n_command ? cfg->argv + cfg->n_command : NULL;
        c->n_args = n - cfg->n_command;
        return 0;
}

int cri_container_config_new(const CriContainerParams *p, Runtime__V1__ContainerConfig **ret,
                             char **ret_error)
{
        _cleanup_(arena_done) Arena a = {};
        const RuntimeContainerConfig *cfg = p->cfg;
        const char *image = p->image ?: cfg->image;
        Runtime__V1__ContainerConfig *c;
        ProtobufCMessage *out;
        int r;

        if (!cfg->pod || !cfg->container || isempty(cfg->container_name) || isempty(cfg->pod_name) ||
            isempty(cfg->pod_uid) || isempty(image))
                return set_errorf(ret_error, -EINVAL, "container %s: no pod, container, name, uid or image",
                                  strempty(cfg->container_name));
        c = ARENA_NEW(&a, Runtime__V1__ContainerConfig, RUNTIME__V1__CONTAINER_CONFIG__INIT);
        if (!c ||
            !(c->metadata =
                  ARENA_NEW(&a, Runtime__V1__ContainerMetadata, RUNTIME__V1__CONTAINER_METADATA__INIT)) ||
            !(c->image = ARENA_NEW(&a, Runtime__V1__ImageSpec, RUNTIME__V1__IMAGE_SPEC__INIT)) ||
            !(c->linux = ARENA_NEW(&a, Runtime__V1__LinuxContainerConfig,
                                   RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT)))
                return -ENOMEM;
        c->metadata->name = (char *)cfg->container_name;
        c->metadata->attempt = cfg->attempt;
        c->image->image = (char *)image;
        c->image->user_specified_image = (char *)(cfg->image ?: image);
        c->working_dir = (char *)(cfg->working_dir ?: "");
        if ((r = container_argv(cfg, c, ret_error)) < 0 || (r = container_env(&a, cfg, c)) < 0 ||
            (r = container_mounts(&a, cfg, c, ret_error)) < 0 || (r = container_labels(&a, p, c)) < 0 ||
            (r = container_log_path(p, &c->log_path, ret_error)) < 0 ||
            (r = container_resources(&a, cfg, &c->linux->resources, ret_error)) < 0 ||
            (r = container_security(&a, p, &c->linux->security_context, ret_error)) < 0)
                return r;
        r = tree_finish(&c->base, &out);
        if (r < 0)
                return r;
        *ret = (Runtime__V1__ContainerConfig *)out;
        return 0;
}

void cri_config_free(void *message)
{
        if (message)
                protobuf_c_message_free_unpacked(message, NULL);
}

const char *cri_map_get(void *const *entries, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++) {
                const MapEntry *e = entries[i];

                if (e && streq_ptr(e->key, key))
                        return e->value;
        }
        return NULL;
}
