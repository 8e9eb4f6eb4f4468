/* The cgroups of a host container: hierarchy discovery (pure v2, or v1 controllers plus the
 * unified hierarchy), creation, limits with the kubelet's arithmetic, entering, killing,
 * counting, the OOM kill counter, and removal. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "host-cgroup.h"
#include "util.h"

#define MIN_SHARES 2
#define MAX_SHARES 262144
#define MIN_QUOTA_USEC 1000

uint64_t host_cgroup_cpu_shares(int64_t request_milli)
{
        /* kubelet MilliCPUToShares */
        if (request_milli <= 0)
                return MIN_SHARES;
        if (request_milli > INT64_MAX / 1024)
                return MAX_SHARES;
        int64_t shares = request_milli * 1024 / 1000;
        return (uint64_t)MIN(MAX(shares, (int64_t)MIN_SHARES), (int64_t)MAX_SHARES);
}

uint64_t host_cgroup_cpu_weight(uint64_t shares)
{
        /* runc/kubelet: 1 + ((shares - 2) * 9999) / 262142, i.e. [2, 262144] onto [1, 10000] */
        if (shares < MIN_SHARES)
                shares = MIN_SHARES;
        if (shares > MAX_SHARES)
                shares = MAX_SHARES;
        return 1 + ((shares - 2) * 9999) / 262142;
}

int64_t host_cgroup_cpu_quota(int64_t limit_milli)
{
        /* kubelet MilliCPUToQuota: 0 = no quota, at least 1 ms */
        if (limit_milli <= 0)
                return 0;
        if (limit_milli > INT64_MAX / HOST_CGROUP_CPU_PERIOD_USEC)
                return INT64_MAX / 1000;
        return MAX(limit_milli * HOST_CGROUP_CPU_PERIOD_USEC / 1000, (int64_t)MIN_QUOTA_USEC);
}

int host_cgroup_format_cpu_max(int64_t limit_milli, char *buf, size_t size)
{
        int64_t q = host_cgroup_cpu_quota(limit_milli);
        int n = q == 0 ? snprintf(buf, size, "max %d", HOST_CGROUP_CPU_PERIOD_USEC)
                       : snprintf(buf, size, "%lld %d", (long long)q, HOST_CGROUP_CPU_PERIOD_USEC);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

int host_cgroup_format_memory_max(int64_t bytes, char *buf, size_t size)
{
        int n = bytes <= 0 ? snprintf(buf, size, "max") : snprintf(buf, size, "%lld", (long long)bytes);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

static bool component_ok(const char *s)
{
        return !isempty(s) && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") && !strchr(s, '\n');
}

int host_cgroup_relative(const char *cgroup_name, const char *pod_uid, const char *id, char **ret)
{
        if (!component_ok(cgroup_name) || !component_ok(pod_uid) || !component_ok(id))
                return -EINVAL;
        int r = asprintf_safe(ret, "%s/pod-%s/%s", cgroup_name, pod_uid, id);
        return r < 0 ? r : 0;
}

HostCgroup *host_cgroup_free(HostCgroup *cg)
{
        if (!cg)
                return NULL;
        for (size_t i = 0; i < cg->n; i++) {
                free(cg->roots[i]);
                free(cg->dirs[i]);
        }
        free(cg->roots);
        free(cg->dirs);
        free(cg->masks);
        free(cg);
        return NULL;
}

int host_cgroup_build(HostCgroup **ret, bool v2, const HostCgroupHierarchy *h, size_t n,
                      const char *relative)
{
        _cleanup_(host_cgroup_freep) HostCgroup *cg = NULL;

        if (n == 0 || isempty(relative) || relative[0] == '/')
                return -EINVAL;
        cg = calloc(1, sizeof(*cg));
        if (!cg)
                return -ENOMEM;
        cg->v2 = v2;
        cg->roots = calloc(n, sizeof(char *));
        cg->dirs = calloc(n, sizeof(char *));
        cg->masks = calloc(n, sizeof(unsigned));
        if (!cg->roots || !cg->dirs || !cg->masks)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                cg->roots[i] = strdup(h[i].root);
                cg->dirs[i] = strjoin(h[i].root, "/", relative, NULL);
                cg->masks[i] = h[i].mask;
                cg->n = i + 1;
                if (!cg->roots[i] || !cg->dirs[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(cg);
        return 0;
}

static bool is_fs(const char *path, long magic)
{
        struct statfs fs;

        return statfs(path, &fs) == 0 && fs.f_type == magic;
}

int host_cgroup_new(HostCgroup **ret, const char *root, const char *relative)
{
        static const struct {
                const char *name;
                unsigned mask;
        } v1[] = {
            {"memory", HOST_CGROUP_MEMORY},   {"cpu", HOST_CGROUP_CPU},
            {"cpuacct", HOST_CGROUP_CPUACCT}, {"pids", HOST_CGROUP_PIDS},
            {"freezer", HOST_CGROUP_FREEZER},
        };
        char resolved[ELEMENTSOF(v1) + 1][PATH_MAX];
        HostCgroupHierarchy h[ELEMENTSOF(v1) + 1];
        size_t n = 0;

        if (!root)
                root = HOST_CGROUP_ROOT;
        if (is_fs(root, CGROUP2_SUPER_MAGIC)) {
                h[0] = (HostCgroupHierarchy){root, HOST_CGROUP_UNIFIED | HOST_CGROUP_MEMORY |
                                                       HOST_CGROUP_CPU | HOST_CGROUP_PIDS};
                return host_cgroup_build(ret, true, h, 1, relative);
        }
        for (size_t i = 0; i < ELEMENTSOF(v1); i++) {
                _cleanup_free_ char *p = strjoin(root, "/", v1[i].name, NULL);
                if (!p)
                        return -ENOMEM;
                if (!is_fs(p, CGROUP_SUPER_MAGIC) || !realpath(p, resolved[n]))
                        continue;
                /* co-mounted controllers ("cpu,cpuacct") resolve to one directory */
                size_t j;
                for (j = 0; j < n; j++)
                        if (streq(h[j].root, resolved[n]))
                                break;
                if (j < n) {
                        h[j].mask |= v1[i].mask;
                        continue;
                }
                h[n] = (HostCgroupHierarchy){resolved[n], v1[i].mask};
                n++;
        }
        _cleanup_free_ char *unified = strjoin(root, "/unified", NULL);
        if (!unified)
                return -ENOMEM;
        if (is_fs(unified, CGROUP2_SUPER_MAGIC))
                h[n++] = (HostCgroupHierarchy){unified, HOST_CGROUP_UNIFIED};
        if (n == 0)
                return -EOPNOTSUPP;
        return host_cgroup_build(ret, false, h, n, relative);
}

static int write_attr(const char *dir, const char *attr, const char *value)
{
        _cleanup_free_ char *p = strjoin(dir, "/", attr, NULL);
        if (!p)
                return -ENOMEM;
        return write_string_file(p, value);
}

/* Enables the controllers for the children of every ancestor of the container's cgroup
 * (pure v2 only: "no internal processes" holds, the ancestors are ours and empty). */
static void enable_in(const char *dir)
{
        /* each controller alone: one the kernel lacks must not block the others */
        (void)write_attr(dir, "cgroup.subtree_control", "+memory");
        (void)write_attr(dir, "cgroup.subtree_control", "+cpu");
        (void)write_attr(dir, "cgroup.subtree_control", "+pids");
}

static int enable_controllers(HostCgroup *cg)
{
        _cleanup_free_ char *p = strdup(cg->dirs[0]);
        size_t rootlen = strlen(cg->roots[0]);

        if (!p)
                return -ENOMEM;
        char *leaf = strrchr(p, '/');
        if (!leaf || (size_t)(leaf - p) < rootlen)
                return -EINVAL;
        *leaf = 0;
        /* top-down: the root, then each ancestor down to the pod's cgroup */
        for (char *s = p + rootlen; s && *s; s = strchr(s + 1, '/')) {
                *s = 0;
                enable_in(p);
                *s = '/';
        }
        enable_in(p);
        return 0;
}

int host_cgroup_create(HostCgroup *cg)
{
        int r;

        for (size_t i = 0; i < cg->n; i++) {
                r = mkdir_p(cg->dirs[i], 0755);
                if (r < 0)
                        return r;
        }
        if (cg->v2)
                return enable_controllers(cg);
        return 0;
}

int host_cgroup_set_limits(HostCgroup *cg, int64_t memory_bytes, int64_t cpu_limit_milli,
                           int64_t cpu_request_milli)
{
        char buf[64];
        int r;

        for (size_t i = 0; i < cg->n; i++) {
                const char *d = cg->dirs[i];
                unsigned m = cg->masks[i];

                if (cg->v2) {
                        if (memory_bytes > 0) {
                                host_cgroup_format_memory_max(memory_bytes, buf, sizeof(buf));
                                r = write_attr(d, "memory.max", buf);
                                if (r < 0)
                                        return r;
                        }
                        if (cpu_limit_milli > 0) {
                                host_cgroup_format_cpu_max(cpu_limit_milli, buf, sizeof(buf));
                                r = write_attr(d, "cpu.max", buf);
                                if (r < 0)
                                        return r;
                        }
                        if (cpu_request_milli > 0) {
                                uint64_t w =
                                    host_cgroup_cpu_weight(host_cgroup_cpu_shares(cpu_request_milli));
                                snprintf(buf, sizeof(buf), "%llu", (unsigned long long)w);
                                r = write_attr(d, "cpu.weight", buf);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if ((m & HOST_CGROUP_MEMORY) && memory_bytes > 0) {
                        snprintf(buf, sizeof(buf), "%lld", (long long)memory_bytes);
                        r = write_attr(d, "memory.limit_in_bytes", buf);
                        if (r < 0)
                                return r;
                }
                if ((m & HOST_CGROUP_CPU) && cpu_limit_milli > 0) {
                        snprintf(buf, sizeof(buf), "%d", HOST_CGROUP_CPU_PERIOD_USEC);
                        r = write_attr(d, "cpu.cfs_period_us", buf);
                        if (r < 0)
                                return r;
                        snprintf(buf, sizeof(buf), "%lld",
                                 (long long)host_cgroup_cpu_quota(cpu_limit_milli));
                        r = write_attr(d, "cpu.cfs_quota_us", buf);
                        if (r < 0)
                                return r;
                }
                if ((m & HOST_CGROUP_CPU) && cpu_request_milli > 0) {
                        snprintf(buf, sizeof(buf), "%llu",
                                 (unsigned long long)host_cgroup_cpu_shares(cpu_request_milli));
                        r = write_attr(d, "cpu.shares", buf);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int host_cgroup_enter(HostCgroup *cg, pid_t pid)
{
        char buf[32];
        int r;

        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t i = 0; i < cg->n; i++) {
                r = write_attr(cg->dirs[i], "cgroup.procs", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Calls kill(pid, sig) (sig 0: only counts) for every pid listed in one directory. */
static int kill_dir(const char *dir, int sig)
{
        _cleanup_free_ char *p = strjoin(dir, "/cgroup.procs", NULL);
        _cleanup_fclose_ FILE *f = NULL;
        int n = 0, pid;

        if (!p)
                return -ENOMEM;
        f = fopen(p, "re");
        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        while (fscanf(f, "%d", &pid) == 1) {
                if (pid <= 0)
                        continue;
                n++;
                if (sig != 0)
                        (void)kill(pid, sig);
        }
        return n;
}

int host_cgroup_kill(HostCgroup *cg, int sig)
{
        int total = 0;

        for (size_t i = 0; i < cg->n; i++) {
                int k = kill_dir(cg->dirs[i], sig);
                if (k < 0)
                        return k;
                total = MAX(total, k);
                if (sig == SIGKILL && (cg->masks[i] & HOST_CGROUP_UNIFIED))
                        (void)write_attr(cg->dirs[i], "cgroup.kill", "1"); /* kernel >= 5.14 */
        }
        return total;
}

int host_cgroup_count(HostCgroup *cg)
{
        return host_cgroup_kill(cg, 0);
}

/* The value of "key N" in a flat-keyed cgroup file. */
static int read_key(const char *dir, const char *attr, const char *key, uint64_t *ret)
{
        _cleanup_free_ char *p = strjoin(dir, "/", attr, NULL), *buf = NULL;
        size_t klen = strlen(key);
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, 65536, &buf, NULL);
        if (r < 0)
                return r;
        for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
                        *ret = strtoull(line + klen + 1, NULL, 10);
                        return 0;
                }
        return -ENODATA;
}

int host_cgroup_oom_kills(HostCgroup *cg, uint64_t *ret)
{
        *ret = 0;
        for (size_t i = 0; i < cg->n; i++) {
                if (!(cg->masks[i] & HOST_CGROUP_MEMORY))
                        continue;
                if (cg->v2)
                        return read_key(cg->dirs[i], "memory.events", "oom_kill", ret);
                return read_key(cg->dirs[i], "memory.oom_control", "oom_kill", ret);
        }
        return -ENODATA;
}

int host_cgroup_remove(HostCgroup *cg)
{
        int r = 0;

        for (size_t i = 0; i < cg->n; i++) {
                if (rmdir(cg->dirs[i]) < 0 && errno != ENOENT && r == 0)
                        r = negative_errno();
                /* the pod's cgroup goes with its last container */
                _cleanup_free_ char *pod = strdup(cg->dirs[i]);
                if (!pod)
                        return -ENOMEM;
                char *slash = strrchr(pod, '/');
                if (slash && (size_t)(slash - pod) > strlen(cg->roots[i])) {
                        *slash = 0;
                        (void)rmdir(pod);
                }
        }
        return r;
}
