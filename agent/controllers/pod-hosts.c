/* The hosts file of a pod with a subdomain (a StatefulSet's, named by its headless Service):
 * the kubelet's managed /etc/hosts plus one line per pod of the same subdomain and namespace,
 * "<ip> <pod>.<service>.<ns>.svc.cluster.local <pod>.<service> <pod>", so that the pods of a
 * set find each other by their stable names without a cluster DNS. Rewritten in place (the
 * file is bind-mounted: a rename would leave the containers on the old inode) whenever a peer
 * comes, goes or gets its address. In cluster mode the peers include the other nodes' pods of
 * the fleet, named at an address that reaches them from here. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "pod-internal.h"
#include "util.h"

#define CLUSTER_DOMAIN "cluster.local"

static bool pod_counts(const cJSON *pod)
{
        const char *phase = json_str(pod, "status.phase");

        return !json_str(pod, "metadata.deletionTimestamp") && !streq_ptr(phase, "Succeeded") &&
               !streq_ptr(phase, "Failed");
}

static const char *hostname_of(const cJSON *pod)
{
        return json_str(pod, "spec.hostname") ?: json_str(pod, "metadata.name");
}

bool pod_hosts_wanted(const cJSON *pod)
{
        return !isempty(json_str(pod, "spec.subdomain")) && !json_bool(pod, "spec.hostNetwork", false);
}

/* 127.0.0.0/8, ::1 and their IPv4-mapped forms: the host runtime's podIP, which names the
 * pod only on its own node. */
static bool address_is_loopback(const char *s)
{
        struct in6_addr a6;
        struct in_addr a4;

        if (inet_pton(AF_INET, s, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, s, &a6) != 1)
                return false;
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

static const char *node_internal_ip(const cJSON *nodes, const char *node_name)
{
        const cJSON *n, *a;

        cJSON_ArrayForEach (n, nodes) {
                if (!streq_ptr(json_str(n, "metadata.name"), node_name))
                        continue;
                cJSON_ArrayForEach (a, json_path(n, "status.addresses"))
                        if (streq_ptr(json_str(a, "type"), "InternalIP") && !isempty(json_str(a, "address")))
                                return json_str(a, "address");
                return NULL;
        }
        return NULL;
}

const char *pod_hosts_remote_address(const cJSON *remote, const cJSON *nodes)
{
        const char *ip = json_str(remote, "status.podIP");

        if (isempty(ip))
                return NULL;
        if (!address_is_loopback(ip))
                return ip;
        return isempty(json_str(remote, "spec.nodeName"))
                   ? NULL
                   : node_internal_ip(nodes, json_str(remote, "spec.nodeName"));
}

static bool same_set(const cJSON *a, const char *ns, const char *sub)
{
        return streq_ptr(json_str(a, "spec.subdomain"), sub) &&
               streq(json_str(a, "metadata.namespace") ?: "default", ns);
}

/* Whether a live pod of peers of namespace ns and subdomain sub has the host name name. */
static bool name_taken(const cJSON *peers, const char *ns, const char *sub, const char *name)
{
        const cJSON *p;

        cJSON_ArrayForEach (p, peers)
                if (pod_counts(p) && same_set(p, ns, sub) && streq_ptr(hostname_of(p), name))
                        return true;
        return false;
}

/* What the hosts lines need of a remote pod, at addr. */
static cJSON *remote_peer_new(const cJSON *p, const char *addr)
{
        _cleanup_json_ cJSON *j = cJSON_CreateObject();
        cJSON *meta = j ? json_ensure_object(j, "metadata") : NULL,
              *spec = j ? json_ensure_object(j, "spec") : NULL,
              *status = j ? json_ensure_object(j, "status") : NULL;

        if (!meta || !spec || !status ||
            json_set_string(meta, "namespace", json_str(p, "metadata.namespace") ?: "default") < 0 ||
            json_set_string(meta, "name", json_str(p, "metadata.name") ?: "") < 0 ||
            json_set_string(meta, "uid", json_str(p, "metadata.uid") ?: "") < 0 ||
            json_set_string(spec, "hostname", hostname_of(p) ?: "") < 0 ||
            json_set_string(spec, "subdomain", json_str(p, "spec.subdomain")) < 0 ||
            json_set_string(status, "podIP", addr) < 0)
                return NULL;
        return TAKE_PTR(j);
}

int pod_hosts_peers(const cJSON *pod, const cJSON *local, const cJSON *remote, const cJSON *nodes,
                    cJSON **ret)
{
        _cleanup_json_ cJSON *all = local ? cJSON_Duplicate(local, true) : cJSON_CreateArray();
        const char *ns = json_str(pod, "metadata.namespace") ?: "default",
                   *sub = json_str(pod, "spec.subdomain");
        const cJSON *p;

        if (!all)
                return -ENOMEM;
        if (isempty(sub))
                remote = NULL;
        cJSON_ArrayForEach (p, remote) {
                const char *addr = pod_hosts_remote_address(p, nodes);
                cJSON *copy;

                if (!addr || !pod_counts(p) || !same_set(p, ns, sub) ||
                    streq_ptr(hostname_of(p), hostname_of(pod)) ||
                    name_taken(local, ns, sub, hostname_of(p)))
                        continue;
                copy = remote_peer_new(p, addr);
                if (!copy || !cJSON_AddItemToArray(all, copy)) {
                        cJSON_Delete(copy);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(all);
        return 0;
}

int pod_hosts_render(const cJSON *pod, const char *pod_ip, const cJSON *peers, char **ret)
{
        const char *ns = json_str(pod, "metadata.namespace") ?: "default";
        const char *sub = json_str(pod, "spec.subdomain"), *self = json_str(pod, "metadata.uid");
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        const cJSON *p, *alias, *h;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs("# Kubernetes-managed hosts file.\n"
              "127.0.0.1\tlocalhost\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n"
              "fe00::0\tip6-localnet\n"
              "fe00::0\tip6-mcastprefix\n"
              "fe00::1\tip6-allnodes\n"
              "fe00::2\tip6-allrouters\n",
              f);
        /* the pod itself first, as the kubelet writes it */
        fprintf(f, "%s\t%s.%s.%s.svc.%s\t%s.%s\t%s\n", isempty(pod_ip) ? "127.0.0.1" : pod_ip,
                hostname_of(pod), sub, ns, CLUSTER_DOMAIN, hostname_of(pod), sub, hostname_of(pod));
        cJSON_ArrayForEach (p, peers) {
                const char *ip = json_str(p, "status.podIP");
                if (streq_ptr(json_str(p, "metadata.uid"), self) || !pod_counts(p) || isempty(ip) ||
                    !streq_ptr(json_str(p, "spec.subdomain"), sub) ||
                    !streq(json_str(p, "metadata.namespace") ?: "default", ns))
                        continue;
                fprintf(f, "%s\t%s.%s.%s.svc.%s\t%s.%s\n", ip, hostname_of(p), sub, ns, CLUSTER_DOMAIN,
                        hostname_of(p), sub);
        }
        cJSON_ArrayForEach (alias, json_path(pod, "spec.hostAliases")) {
                if (alias == json_path(pod, "spec.hostAliases")->child)
                        fputs("\n# Entries added by HostAliases.\n", f);
                fputs(json_str(alias, "ip") ?: "", f);
                cJSON_ArrayForEach (h, json_path(alias, "hostnames"))
                        if (cJSON_IsString(h))
                                fprintf(f, "\t%s", h->valuestring);
                fputc('\n', f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* In place: open, write, cut to length; only when it changed. */
static int write_in_place(const char *path, const char *text)
{
        _cleanup_free_ char *old = NULL;
        size_t n = strlen(text);
        _cleanup_close_ int fd = -EBADF;

        if (read_full_file(path, 1024 * 1024, &old, NULL) >= 0 && streq(old, text))
                return 0;
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        if (pwrite(fd, text, n, 0) != (ssize_t)n)
                return -EIO;
        if (ftruncate(fd, (off_t)n) < 0)
                return negative_errno();
        return 1;
}

int pod_hosts_sync(PodController *c, const cJSON *pod, const char *pod_ip, char **ret_path)
{
        _cleanup_json_ cJSON *peers = NULL;
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
        const char *uid = json_str(pod, "metadata.uid");
        int r;

        *ret_path = NULL;
        if (!pod_hosts_wanted(pod) || !c->pods_dir || isempty(uid))
                return 0;
        r = store_list(c->store, "Pod", json_str(pod, "metadata.namespace") ?: "default", NULL, &peers);
        if (r < 0)
                return r;
        if (c->fleet) {
                const cJSON *remote = fleet_pods(c->fleet, json_str(pod, "metadata.namespace") ?: "default");
                cJSON *all = NULL;

                if (!remote)
                        return -ENOMEM;
                r = pod_hosts_peers(pod, peers, remote,
                                    c->coordinator ? coordinator_nodes(c->coordinator) : NULL, &all);
                if (r < 0)
                        return r;
                cJSON_Delete(peers);
                peers = all;
        }
        r = pod_hosts_render(pod, pod_ip, peers, &text);
        if (r < 0)
                return r;
        dir = strjoin(c->pods_dir, "/", uid, NULL);
        path = strjoin(c->pods_dir, "/", uid, "/etc-hosts", NULL);
        if (!dir || !path)
                return -ENOMEM;
        r = mkdir_p(dir, 0750);
        if (r >= 0)
                r = write_in_place(path, text);
        if (r < 0)
                return log_warning_errno(r, "Pod %s: cannot write %s: %m", json_str(pod, "metadata.name"),
                                         path);
        *ret_path = TAKE_PTR(path);
        return 0;
}

void pod_hosts_peers_changed(PodController *c, const cJSON *pod)
{
        _cleanup_json_ cJSON *peers = NULL;
        const char *ns = json_str(pod, "metadata.namespace") ?: "default",
                   *sub = json_str(pod, "spec.subdomain");
        const cJSON *p;

        if (isempty(sub) || store_list(c->store, "Pod", ns, NULL, &peers) < 0)
                return;
        cJSON_ArrayForEach (p, peers)
                if (streq_ptr(json_str(p, "spec.subdomain"), sub) &&
                    !streq_ptr(json_str(p, "metadata.uid"), json_str(pod, "metadata.uid")))
                        pod_controller_enqueue(c, ns, json_str(p, "metadata.name"));
}

/* The line a remote pod gets in its subdomain's hosts files, "" when none. */
static int fleet_name_of(PodController *c, StoreChange change, const cJSON *pod, char **ret)
{
        const char *sub = json_str(pod, "spec.subdomain"), *addr = NULL;

        if (change != STORE_DELETED && !isempty(sub) && pod_counts(pod))
                addr =
                    pod_hosts_remote_address(pod, c->coordinator ? coordinator_nodes(c->coordinator) : NULL);
        *ret = addr ? strjoin(sub, " ", hostname_of(pod) ?: "", " ", addr, NULL) : strdup("");
        return *ret ? 0 : -ENOMEM;
}

void pod_hosts_fleet_pod_changed(PodController *c, StoreChange change, const cJSON *pod)
{
        _cleanup_free_ char *key = NULL, *now = NULL;
        const cJSON *before;

        if (!c->fleet_names && !(c->fleet_names = cJSON_CreateObject()))
                goto out_unknown;
        key = strjoin(json_str(pod, "metadata.namespace") ?: "default", "/",
                      json_str(pod, "metadata.name") ?: "", NULL);
        if (!key || fleet_name_of(c, change, pod, &now) < 0)
                goto out_unknown;
        before = cJSON_GetObjectItemCaseSensitive(c->fleet_names, key);
        if (streq(cJSON_IsString(before) ? before->valuestring : "", now))
                return;
        cJSON_DeleteItemFromObjectCaseSensitive(c->fleet_names, key);
        if (!isempty(now) && !cJSON_AddStringToObject(c->fleet_names, key, now))
                goto out_unknown;
        pod_hosts_peers_changed(c, pod);
        return;
out_unknown:
        /* out of memory: what is remembered may be wrong, so rewrite rather than miss a change */
        cJSON_Delete(c->fleet_names);
        c->fleet_names = NULL;
        pod_hosts_peers_changed(c, pod);
}
