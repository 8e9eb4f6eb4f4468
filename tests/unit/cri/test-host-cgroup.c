#include <criterion/criterion.h>
#include <string.h>

#include "host-cgroup.h"
#include "util.h"

Test(host_cgroup, computes_the_relative_path)
{
        _cleanup_free_ char *p = NULL;
        char *bad = NULL;

        cr_assert_eq(host_cgroup_relative("berth", "uid-1", "abc", &p), 0);
        cr_assert_str_eq(p, "berth/pod-uid-1/abc");
        cr_assert_eq(host_cgroup_relative("berth", "../x", "abc", &bad), -EINVAL);
        cr_assert_eq(host_cgroup_relative("berth", "u", "", &bad), -EINVAL);
        cr_assert_eq(host_cgroup_relative("a/b", "u", "c", &bad), -EINVAL);
        cr_assert_null(bad);
}

Test(host_cgroup, places_the_container_below_every_hierarchy)
{
        HostCgroup *cg = NULL;
        HostCgroupHierarchy h[] = {
            {"/sys/fs/cgroup/memory", HOST_CGROUP_MEMORY},
            {"/sys/fs/cgroup/cpu,cpuacct", HOST_CGROUP_CPU | HOST_CGROUP_CPUACCT},
            {"/sys/fs/cgroup/unified", HOST_CGROUP_UNIFIED},
        };

        cr_assert_eq(host_cgroup_build(&cg, false, h, 3, "berth/pod-u/id1"), 0);
        cr_assert_eq(cg->n, 3);
        cr_assert_not(cg->v2);
        cr_assert_str_eq(cg->dirs[0], "/sys/fs/cgroup/memory/berth/pod-u/id1");
        cr_assert_str_eq(cg->dirs[1], "/sys/fs/cgroup/cpu,cpuacct/berth/pod-u/id1");
        cr_assert_str_eq(cg->dirs[2], "/sys/fs/cgroup/unified/berth/pod-u/id1");
        host_cgroup_free(cg);

        cr_assert_eq(host_cgroup_build(&cg, true, h, 0, "x"), -EINVAL);
        cr_assert_eq(host_cgroup_build(&cg, true, h, 1, "/abs"), -EINVAL);
}

Test(host_cgroup, finds_the_hierarchies_of_this_host)
{
        _cleanup_(host_cgroup_freep) HostCgroup *cg = NULL;

        cr_assert_eq(host_cgroup_new(&cg, NULL, "berth/pod-u/id"), 0);
        cr_assert_geq(cg->n, 1);
        for (size_t i = 0; i < cg->n; i++)
                cr_assert(endswith(cg->dirs[i], "/berth/pod-u/id"));
        /* a plain directory holds no hierarchy */
        HostCgroup *none = NULL;
        cr_assert_eq(host_cgroup_new(&none, "/tmp", "berth/pod-u/id"), -EOPNOTSUPP);
}

Test(host_cgroup, maps_cpu_requests_to_shares_like_the_kubelet)
{
        cr_assert_eq(host_cgroup_cpu_shares(0), 2);
        cr_assert_eq(host_cgroup_cpu_shares(1), 2);
        cr_assert_eq(host_cgroup_cpu_shares(100), 102);
        cr_assert_eq(host_cgroup_cpu_shares(250), 256);
        cr_assert_eq(host_cgroup_cpu_shares(1000), 1024);
        cr_assert_eq(host_cgroup_cpu_shares(1000000), 262144);
}

Test(host_cgroup, maps_shares_to_weight_like_the_kubelet)
{
        cr_assert_eq(host_cgroup_cpu_weight(2), 1);
        cr_assert_eq(host_cgroup_cpu_weight(1024), 39);
        cr_assert_eq(host_cgroup_cpu_weight(102), 4);
        cr_assert_eq(host_cgroup_cpu_weight(262144), 10000);
        cr_assert_eq(host_cgroup_cpu_weight(0), 1);
}

Test(host_cgroup, formats_cpu_max_and_memory_max)
{
        char buf[64];

        cr_assert_eq(host_cgroup_cpu_quota(500), 50000);
        cr_assert_eq(host_cgroup_cpu_quota(5), 1000);
        cr_assert_eq(host_cgroup_cpu_quota(0), 0);
        cr_assert_eq(host_cgroup_format_cpu_max(1500, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "150000 100000");
        cr_assert_eq(host_cgroup_format_cpu_max(0, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "max 100000");
        cr_assert_eq(host_cgroup_format_memory_max(64 << 20, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "67108864");
        cr_assert_eq(host_cgroup_format_memory_max(0, buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "max");
        cr_assert_eq(host_cgroup_format_cpu_max(1500, buf, 4), -ENOBUFS);
}
