/* Internal: the cgroups of one host container, "<cgroup_name>/pod-<pod_uid>/<id>" below the
 * root of every hierarchy it uses (cgroup v1 memory, cpu, cpuacct, pids, freezer plus the
 * unified hierarchy on hybrid hosts; the single hierarchy on pure v2), and the kubelet's
 * arithmetic for cpu shares, weight and quota. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define HOST_CGROUP_ROOT "/sys/fs/cgroup"
#define HOST_CGROUP_CPU_PERIOD_USEC 100000

enum {
        HOST_CGROUP_MEMORY = 1u << 0,
        HOST_CGROUP_CPU = 1u << 1,
        HOST_CGROUP_CPUACCT = 1u << 2,
        HOST_CGROUP_PIDS = 1u << 3,
        HOST_CGROUP_FREEZER = 1u << 4,
        HOST_CGROUP_UNIFIED = 1u << 5, /* a cgroup2 hierarchy */
};

/* A mounted hierarchy: its root directory and the controllers it carries. */
typedef struct HostCgroupHierarchy {
        const char *root;
        unsigned mask;
} HostCgroupHierarchy;

typedef struct HostCgroup {
        bool v2; /* the only hierarchy is cgroup2 with controllers */
        size_t n;
        char **roots; /* hierarchy roots, n entries */
        char **dirs;  /* the container's directory in each, n entries */
        unsigned *masks;
} HostCgroup;

/* "<cgroup_name>/pod-<pod_uid>/<id>"; -EINVAL for empty or path-like components. */
int host_cgroup_relative(const char *cgroup_name, const char *pod_uid, const char *id, char **ret);
/* Finds the hierarchies mounted below root (statfs: cgroup2 = pure v2, else v1 + unified).
 * -EOPNOTSUPP when there are none. */
int host_cgroup_new(HostCgroup **ret, const char *root, const char *relative);
/* The same from an explicit list of hierarchies (tests, and what host_cgroup_new uses). */
int host_cgroup_build(HostCgroup **ret, bool v2, const HostCgroupHierarchy *h, size_t n,
                      const char *relative);
HostCgroup *host_cgroup_free(HostCgroup *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(HostCgroup *, host_cgroup_free);

/* mkdir -p in every hierarchy; on v2 enables cpu, memory, pids for the subtree. */
int host_cgroup_create(HostCgroup *cg);
int host_cgroup_set_limits(HostCgroup *cg, int64_t memory_bytes, int64_t cpu_limit_milli,
                           int64_t cpu_request_milli);
/* Moves pid (0 = the caller) into every hierarchy's container cgroup. */
int host_cgroup_enter(HostCgroup *cg, pid_t pid);
/* Sends sig to every process in the container cgroups; returns how many were found. */
int host_cgroup_kill(HostCgroup *cg, int sig);
/* Number of processes still in the container cgroups (0 also when they do not exist). */
int host_cgroup_count(HostCgroup *cg);
/* The memory controller's OOM kill counter (0 when unknown). */
int host_cgroup_oom_kills(HostCgroup *cg, uint64_t *ret);
/* rmdir the container cgroups and, when empty, the pod's; absent ones are fine. */
int host_cgroup_remove(HostCgroup *cg);

/* The value written for a setting, into buf; pure. */
uint64_t host_cgroup_cpu_shares(int64_t request_milli);
uint64_t host_cgroup_cpu_weight(uint64_t shares);
int64_t host_cgroup_cpu_quota(int64_t limit_milli);
int host_cgroup_format_cpu_max(int64_t limit_milli, char *buf, size_t size);
int host_cgroup_format_memory_max(int64_t bytes, char *buf, size_t size);
