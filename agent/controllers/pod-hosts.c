/* The hosts file of a pod with a subdomain (a StatefulSet's, named by its headless Service):
 * the kubelet's managed /etc/hosts plus one line per pod of the same subdomain and namespace,
 * "<ip> <pod>.<service>.<ns>.svc.cluster.local <pod>.<service> <pod>", so that the pods of a
 * set find each other by their stable names without a cluster DNS. Rewritten in place (the
 * file is bind-mounted: a rename would leave the containers on the old inode) whenever a peer
 * comes, goes or gets its address. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "pod-internal.h"

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
