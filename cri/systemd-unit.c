/* The systemd backend's units as data: unit names, the StartTransientUnit properties that say
 * what the host backend's shim does by hand (identity, environment, limits, seccomp, mounts,
 * the start time), what of the host shapes them (the user database, the cgroup hierarchies),
 * the properties read back, and the kubelet's reading of how a unit ended. */
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "host-cgroup.h"
#include "host-seccomp.h"
#include "systemd-unit.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CGROUP_FS_ROOT "/sys/fs/cgroup"
#define START_ERROR_EXIT_CODE 128
#define NOT_STARTED_EXIT_CODE 137
/* the exit statuses systemd's own setup of a command uses (EXIT_CHDIR .. EXIT_BPF) */
#define SYSTEMD_EXIT_FIRST 200
#define SYSTEMD_EXIT_LAST 245
/* RestrictNamespaces=~user: every namespace type but the user namespace */
#define NAMESPACES_BUT_USER                                                                                 \
        ((uint64_t)(CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID |            \
                    CLONE_NEWUTS))

static bool name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == ':' || c == '-';
}

bool systemd_unit_prefix_valid(const char *prefix)
{
        size_t n = prefix ? strlen(prefix) : 0;

        if (n == 0 || n > 64 || prefix[0] == '-' || prefix[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!name_char(prefix[i]))
                        return false;
        return true;
}

static void escape(FILE *f, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (name_char((char)*p))
                        fputc(*p, f);
                else
                        fprintf(f, "\\x%02x", *p);
}

int systemd_unit_name(const char *prefix, const char *pod_uid, const char *container, unsigned attempt,
                      char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!systemd_unit_prefix_valid(prefix) || isempty(container))
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s-", prefix);
        escape(f, isempty(pod_uid) ? "none" : pod_uid);
        fputc('-', f);
        escape(f, container);
        fprintf(f, "-%u.service", attempt);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (size > SYSTEMD_UNIT_NAME_MAX)
                return -ENAMETOOLONG;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* --- StartTransientUnit properties --- */

static int append_as(sd_bus_message *m, const char *name, char **l)
{
        int r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, l);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ExecStart= and friends: a(sasb), one command, its failure not ignored. */
static int append_exec(sd_bus_message *m, const char *name, const char *path, char **argv)
{
        int r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", path);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", false);
        for (int i = 0; i < 4 && r >= 0; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

/* BindPaths= / BindReadOnlyPaths=: a(ssbt), recursive binds of the mounts that are (not)
 * read-only, in their order. */
static int append_binds(sd_bus_message *m, const char *name, const HostConfig *cfg, bool read_only)
{
        int r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(ssbt)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(ssbt)");
        for (size_t i = 0; i < cfg->n_mounts && r >= 0; i++) {
                const HostMount *b = &cfg->mounts[i];
                if (b->read_only == read_only)
                        r = sd_bus_message_append(m, "(ssbt)", b->host_path, b->container_path, false,
                                                  (uint64_t)MS_REC);
        }
        for (int i = 0; i < 3 && r >= 0; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

/* The host backend's RuntimeDefault filter (host-seccomp.c) in systemd's words: its deny list
 * with EPERM, user namespaces refused (its clone/unshare rule; systemd answers clone3 with
 * ENOSYS for it too) and the personality locked (its personality rule, a little stricter). */
static int append_seccomp(sd_bus_message *m)
{
        const char *const *denied = host_seccomp_denied();
        int r = sd_bus_message_open_container(m, 'r', "sv");

        if (r >= 0)
                r = sd_bus_message_append(m, "s", "SystemCallFilter");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "(bas)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "bas");
        if (r >= 0)
                r = sd_bus_message_append(m, "b", false); /* a deny list */
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **)denied);
        for (int i = 0; i < 3 && r >= 0; i++)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "SystemCallErrorNumber", "i", (int32_t)EPERM);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "RestrictNamespaces", "t", NAMESPACES_BUT_USER);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "LockPersonality", "b", true);
        return r;
}

static char *uint_str(unsigned long v)
{
        char *s = NULL;

        return asprintf_safe(&s, "%lu", v) < 0 ? NULL : s;
}

static void strv_free_n(char **l)
{
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
}

/* User=, Group=, SupplementaryGroups= as numbers. The host backend keeps gid 0 when only the
 * uid changes, and exactly the given groups: the same here. */
static int append_identity(sd_bus_message *m, const HostConfig *cfg)
{
        char **groups = calloc(cfg->n_supplementary_gids + 1, sizeof(char *));
        _cleanup_free_ char *uid = NULL, *gid = NULL;
        int r = 0;

        if (!groups)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_supplementary_gids; i++)
                if (!(groups[i] = uint_str(cfg->supplementary_gids[i]))) {
                        r = -ENOMEM;
                        goto out;
                }
        uid = uint_str(cfg->set_uid ? cfg->uid : 0);
        gid = uint_str(cfg->set_gid ? cfg->gid : 0);
        if (!uid || !gid) {
                r = -ENOMEM;
                goto out;
        }
        if (cfg->set_uid)
                r = sd_bus_message_append(m, "(sv)", "User", "s", uid);
        if (r >= 0 && (cfg->set_uid || cfg->set_gid))
                r = sd_bus_message_append(m, "(sv)", "Group", "s", gid);
        if (r >= 0 && cfg->n_supplementary_gids > 0)
                r = append_as(m, "SupplementaryGroups", groups);
out:
        strv_free_n(groups);
        return r;
}

static bool has_identity(const HostConfig *cfg)
{
        return cfg->set_uid || cfg->set_gid || cfg->n_supplementary_gids > 0;
}

/* "setpriv --reuid=U --regid=G --groups=A,B -- argv...": the identity without the user
 * database, as the host backend sets it (setgroups, setresgid, setresuid, then exec with
 * argv[0] searched in the environment's PATH). */
static int setpriv_argv(const HostConfig *cfg, char ***ret)
{
        size_t n = 0, k = 0;
        char **l;
        FILE *g;
        char *groups = NULL;
        size_t gsize = 0;

        while (cfg->argv[n])
                n++;
        l = calloc(n + 6, sizeof(char *));
        if (!l)
                return -ENOMEM;
        g = open_memstream(&groups, &gsize);
        if (!g) {
                free(l);
                return -ENOMEM;
        }
        fputs("--groups=", g);
        for (size_t i = 0; i < cfg->n_supplementary_gids; i++)
                fprintf(g, "%s%lu", i > 0 ? "," : "", (unsigned long)cfg->supplementary_gids[i]);
        if (fclose(g) != 0) {
                free(l);
                return -ENOMEM;
        }
        l[k++] = strdup("setpriv");
        if (cfg->set_uid)
                asprintf_safe(&l[k++], "--reuid=%lu", (unsigned long)cfg->uid);
        if (cfg->set_gid)
                asprintf_safe(&l[k++], "--regid=%lu", (unsigned long)cfg->gid);
        if (cfg->n_supplementary_gids > 0)
                l[k++] = TAKE_PTR(groups);
        else if (cfg->set_uid || cfg->set_gid)
                l[k++] = strdup("--clear-groups");
        free(groups);
        l[k++] = strdup("--");
        for (size_t i = 0; i < n; i++)
                l[k++] = strdup(cfg->argv[i]);
        for (size_t i = 0; i < k; i++)
                if (!l[i]) {
                        for (size_t j = 0; j < k; j++)
                                free(l[j]);
                        free(l);
                        return -ENOMEM;
                }
        *ret = l;
        return 0;
}

static const char *env_get(char **env, const char *key)
{
        size_t n = strlen(key);
        const char *v = NULL;

        /* the last definition wins, as in the environment block systemd builds */
        for (char **e = env; e && *e; e++)
                if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
                        v = *e + n + 1;
        return v;
}

/* ExecSearchPath= wants absolute, normalized directories: the container's PATH without the
 * entries systemd would refuse (relative ones, "." or ".." components, "//"). */
static int search_path(char **env, char ***ret)
{
        const char *path = env_get(env, "PATH");
        char **l = NULL;
        size_t n = 0;
        int r;

        for (const char *p = path ? path : DEFAULT_PATH;;) {
                const char *colon = strchrnul(p, ':');
                size_t len = (size_t)(colon - p);
                _cleanup_free_ char *dir = strndup(p, len);

                if (!dir) {
                        r = -ENOMEM;
                        goto fail;
                }
                while (len > 1 && dir[len - 1] == '/')
                        dir[--len] = 0;
                if (dir[0] == '/' && !strstr(dir, "//") && !strstr(dir, "/./") && !strstr(dir, "/../") &&
                    !endswith(dir, "/.") && !endswith(dir, "/..")) {
                        r = strv_push_copy(&l, &n, dir);
                        if (r < 0)
                                goto fail;
                }
                if (!*colon)
                        break;
                p = colon + 1;
        }
        r = strv_push_copy(&l, &n, ""); /* room for the NULL */
        if (r < 0)
                goto fail;
        free(l[n - 1]);
        l[n - 1] = NULL;
        *ret = l;
        return 0;
fail:
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
        return r;
}

/* ExecStart=: argv[0] as given when absolute, against the working directory when relative
 * with a slash, else searched in the container's PATH (ExecSearchPath=) as host-child.c
 * searches it; or all of it behind setpriv. */
static int append_command(sd_bus_message *m, const HostConfig *cfg, const SystemdUnitParams *p)
{
        const char *a0 = cfg->argv[0];
        _cleanup_free_ char *joined = NULL;
        char **search = NULL, **wrapped = NULL;
        int r;

        if (p->setpriv_path && has_identity(cfg)) {
                r = setpriv_argv(cfg, &wrapped);
                if (r < 0)
                        return r;
                r = append_exec(m, "ExecStart", p->setpriv_path, wrapped);
                strv_free_n(wrapped);
                return r;
        }
        if (a0[0] != '/' && strchr(a0, '/')) {
                joined = strjoin(cfg->working_dir ? cfg->working_dir : "/", "/", a0, NULL);
                if (!joined)
                        return -ENOMEM;
                a0 = joined;
        }
        r = append_exec(m, "ExecStart", a0, cfg->argv);
        if (r < 0 || strchr(a0, '/'))
                return r;
        r = search_path(cfg->env, &search);
        if (r < 0)
                return r;
        r = append_as(m, "ExecSearchPath", search);
        strv_free_n(search);
        return r;
}

/* ExecStartPre=sleep: the unit (cgroup, identity, namespaces) is set up ahead and the command
 * starts at start_at, as the host backend's child waits before its exec. */
static int append_start_at(sd_bus_message *m, const HostConfig *cfg, const SystemdUnitParams *p)
{
        char secs[64];
        char *argv[] = {(char *)"sleep", secs, NULL};

        if (cfg->start_at == 0 || !p->sleep_path || cfg->start_at <= p->now + USEC_PER_MSEC)
                return 0;
        usec_t d = cfg->start_at - p->now;
        snprintf(secs, sizeof(secs), "%llu.%06llu", (unsigned long long)(d / USEC_PER_SEC),
                 (unsigned long long)(d % USEC_PER_SEC));
        return append_exec(m, "ExecStartPre", p->sleep_path, argv);
}

static int append_limits(sd_bus_message *m, const HostConfig *cfg, const SystemdUnitParams *p)
{
        int r = 0;

        if (cfg->memory_limit_bytes > 0)
                r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", (uint64_t)cfg->memory_limit_bytes);
        if (r >= 0 && cfg->cpu_limit_milli > 0) {
                /* the kubelet's quota per 100 ms period, per second */
                uint64_t per_sec = (uint64_t)host_cgroup_cpu_quota(cfg->cpu_limit_milli) *
                                   (USEC_PER_SEC / HOST_CGROUP_CPU_PERIOD_USEC);
                r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", per_sec);
                if (r >= 0)
                        r = sd_bus_message_append(m, "(sv)", "CPUQuotaPeriodUSec", "t",
                                                  (uint64_t)HOST_CGROUP_CPU_PERIOD_USEC);
        }
        if (r >= 0 && cfg->cpu_request_milli > 0) {
                uint64_t shares = host_cgroup_cpu_shares(cfg->cpu_request_milli);
                /* systemd would turn a weight into shares by its own scale on v1 */
                r = p->cpu_v1
                        ? sd_bus_message_append(m, "(sv)", "CPUShares", "t", shares)
                        : sd_bus_message_append(m, "(sv)", "CPUWeight", "t", host_cgroup_cpu_weight(shares));
        }
        return r;
}

static int append_service(sd_bus_message *m, const HostConfig *cfg, const SystemdUnitParams *p)
{
        _cleanup_free_ char *desc = NULL;
        int r;

        r = asprintf_safe(&desc, "berth: pod %s/%s, container %s (attempt %u)",
                          cfg->pod_namespace ? cfg->pod_namespace : "-", cfg->pod_name ? cfg->pod_name : "-",
                          cfg->container_name ? cfg->container_name : "-", cfg->attempt);
        if (r < 0)
                return r;
        /* Type=exec: the start job fails when the command cannot be exec'd. RemainAfterExit:
         * an ended command leaves the unit "active (exited)" (or "failed"), inspectable and
         * never collected until the container is removed. KillMode=mixed: SIGTERM to the main
         * process only, SIGKILL to the whole cgroup, as the kubelet stops a container. */
        r = sd_bus_message_append(
            m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", desc, "Type", "s", "exec",
            "RemainAfterExit", "b", true, "KillMode", "s", "mixed", "KillSignal", "i", (int32_t)SIGTERM,
            "SendSIGKILL", "b", true, "TimeoutStopUSec", "t",
            p->stop_timeout > 0 ? p->stop_timeout : SYSTEMD_UNIT_DEFAULT_STOP_TIMEOUT_USEC,
            "TimeoutStartUSec", "t", USEC_INFINITY, "StandardOutput", "s", "journal", "StandardError", "s",
            "journal");
        /* the output exactly as written ("<3>" stays text) and all of it */
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)", "SyslogLevelPrefix", "b", false,
                                          "LogRateLimitIntervalUSec", "t", (uint64_t)0);
        if (r >= 0 && p->identifier)
                r = sd_bus_message_append(m, "(sv)", "SyslogIdentifier", "s", p->identifier);
        if (r >= 0 && p->slice)
                r = sd_bus_message_append(m, "(sv)", "Slice", "s", p->slice);
        if (r >= 0 && p->log_namespace)
                r = sd_bus_message_append(m, "(sv)", "LogNamespace", "s", p->log_namespace);
        return r;
}

int systemd_unit_append_properties(sd_bus_message *m, const HostConfig *cfg, const SystemdUnitParams *p)
{
        int r;

        if (!cfg->argv || isempty(cfg->argv[0]))
                return -EINVAL;
        for (size_t i = 0; i < cfg->n_mounts; i++)
                if (isempty(cfg->mounts[i].host_path) || isempty(cfg->mounts[i].container_path))
                        return -EINVAL;
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = append_service(m, cfg, p);
        if (r >= 0)
                r = append_command(m, cfg, p);
        if (r >= 0)
                r = append_start_at(m, cfg, p);
        if (r >= 0)
                r = append_as(m, "Environment", cfg->env);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "WorkingDirectory", "s",
                                          cfg->working_dir ? cfg->working_dir : "/");
        if (r >= 0 && !(p->setpriv_path && has_identity(cfg)))
                r = append_identity(m, cfg);
        if (r >= 0 && cfg->no_new_privs)
                r = sd_bus_message_append(m, "(sv)", "NoNewPrivileges", "b", true);
        if (r >= 0 && cfg->seccomp_runtime_default)
                r = append_seccomp(m);
        if (r >= 0)
                r = append_limits(m, cfg, p);
        if (r >= 0 && cfg->n_mounts > 0) {
                r = append_binds(m, "BindPaths", cfg, false);
                if (r >= 0)
                        r = append_binds(m, "BindReadOnlyPaths", cfg, true);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static bool gid_known(gid_t gid)
{
        struct group g, *res = NULL;
        char buf[16384];

        return getgrgid_r(gid, &g, buf, sizeof(buf), &res) == 0 && res;
}

bool systemd_unit_identity_known(const HostConfig *cfg)
{
        struct passwd p, *res = NULL;
        char buf[16384];

        if (cfg->set_uid && (getpwuid_r(cfg->uid, &p, buf, sizeof(buf), &res) != 0 || !res))
                return false;
        if (cfg->set_gid && !gid_known(cfg->gid))
                return false;
        for (size_t i = 0; i < cfg->n_supplementary_gids; i++)
                if (!gid_known(cfg->supplementary_gids[i]))
                        return false;
        return true;
}

/* --- the host's cgroups --- */

static bool is_cgroup_fs(const char *path, bool *ret_v2)
{
        struct statfs fs;

        if (statfs(path, &fs) < 0)
                return false;
        *ret_v2 = fs.f_type == CGROUP2_SUPER_MAGIC;
        return fs.f_type == CGROUP2_SUPER_MAGIC || fs.f_type == CGROUP_SUPER_MAGIC;
}

static unsigned hierarchy_mask(const char *name, bool v2)
{
        if (v2)
                return HOST_CGROUP_UNIFIED;
        return streq(name, "memory")    ? HOST_CGROUP_MEMORY
               : streq(name, "cpu")     ? HOST_CGROUP_CPU
               : streq(name, "cpuacct") ? HOST_CGROUP_CPUACCT
               : streq(name, "pids")    ? HOST_CGROUP_PIDS
               : streq(name, "freezer") ? HOST_CGROUP_FREEZER
                                        : 0;
}

int systemd_unit_cgroup(const char *control_group, HostCgroup **ret)
{
        const char *rel = control_group + strspn(control_group, "/");
        char roots[16][PATH_MAX];
        HostCgroupHierarchy h[16];
        size_t n = 0;
        bool v2;
        DIR *d;

        if (isempty(rel))
                return -EINVAL;
        if (is_cgroup_fs(CGROUP_FS_ROOT, &v2) && v2) {
                _cleanup_free_ char *dir = strjoin(CGROUP_FS_ROOT, "/", rel, NULL);
                struct stat st;
                if (!dir)
                        return -ENOMEM;
                if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        return -ENOENT;
                h[0] = (HostCgroupHierarchy){CGROUP_FS_ROOT, HOST_CGROUP_UNIFIED | HOST_CGROUP_MEMORY |
                                                                 HOST_CGROUP_CPU | HOST_CGROUP_PIDS};
                return host_cgroup_build(ret, true, h, 1, rel);
        }
        d = opendir(CGROUP_FS_ROOT);
        if (!d)
                return negative_errno();
        for (struct dirent *de; n < ELEMENTSOF(h) && (de = readdir(d));) {
                struct stat st;
                if (de->d_name[0] == '.' || de->d_type != DT_DIR) /* co-mount symlinks: once */
                        continue;
                int k = snprintf(roots[n], sizeof(roots[n]), "%s/%s", CGROUP_FS_ROOT, de->d_name);
                if (k < 0 || (size_t)k >= sizeof(roots[n]) || !is_cgroup_fs(roots[n], &v2))
                        continue;
                _cleanup_free_ char *dir = strjoin(roots[n], "/", rel, NULL);
                if (!dir || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                h[n] = (HostCgroupHierarchy){roots[n], hierarchy_mask(de->d_name, v2)};
                n++;
        }
        closedir(d);
        if (n == 0)
                return -ENOENT;
        return host_cgroup_build(ret, false, h, n, rel);
}

bool systemd_unit_cpu_v1(void)
{
        bool v2;

        return !(is_cgroup_fs(CGROUP_FS_ROOT, &v2) && v2) && is_cgroup_fs(CGROUP_FS_ROOT "/cpu", &v2) && !v2;
}

/* --- the properties read back --- */

void systemd_unit_state_done(SystemdUnitState *s)
{
        if (!s)
                return;
        free(s->control_group);
        *s = (SystemdUnitState){};
}

static int read_str(sd_bus_message *m, char *buf, size_t size)
{
        const char *v;
        int r = sd_bus_message_read(m, "v", "s", &v);

        if (r >= 0)
                snprintf(buf, size, "%s", v);
        return r;
}

static int read_one(sd_bus_message *m, const char *name, SystemdUnitState *s)
{
        const char *v;
        int r;

        if (streq(name, "LoadState"))
                return read_str(m, s->load_state, sizeof(s->load_state));
        if (streq(name, "ActiveState"))
                return read_str(m, s->active_state, sizeof(s->active_state));
        if (streq(name, "SubState"))
                return read_str(m, s->sub_state, sizeof(s->sub_state));
        if (streq(name, "Result"))
                return read_str(m, s->result, sizeof(s->result));
        if (streq(name, "Job"))
                return sd_bus_message_read(m, "v", "(uo)", &s->job_id, &v);
        if (streq(name, "MainPID"))
                return sd_bus_message_read(m, "v", "u", &s->main_pid);
        if (streq(name, "ExecMainStartTimestamp"))
                return sd_bus_message_read(m, "v", "t", &s->exec_main_start);
        if (streq(name, "ExecMainExitTimestamp"))
                return sd_bus_message_read(m, "v", "t", &s->exec_main_exit);
        if (streq(name, "ExecMainCode"))
                return sd_bus_message_read(m, "v", "i", &s->exec_main_code);
        if (streq(name, "ExecMainStatus"))
                return sd_bus_message_read(m, "v", "i", &s->exec_main_status);
        if (streq(name, "ControlGroup")) {
                r = sd_bus_message_read(m, "v", "s", &v);
                if (r < 0 || isempty(v))
                        return r;
                free(s->control_group);
                s->control_group = strdup(v);
                return s->control_group ? 0 : -ENOMEM;
        }
        return sd_bus_message_skip(m, "v");
}

int systemd_unit_state_read(sd_bus_message *reply, SystemdUnitState *ret)
{
        SystemdUnitState s = {};
        const char *name;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0)
                        r = read_one(reply, name, &s);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                systemd_unit_state_done(&s);
                return r == -ENOMEM ? r : -EBADMSG;
        }
        *ret = s;
        return 0;
}

SystemdUnitPhase systemd_unit_phase(const SystemdUnitState *s)
{
        const char *a = s->active_state;

        if (!streq(s->load_state, "loaded"))
                return SYSTEMD_UNIT_GONE;
        if (streq(a, "failed") || (streq(a, "active") && streq(s->sub_state, "exited")))
                return SYSTEMD_UNIT_EXITED;
        if (streq(a, "active") || streq(a, "reloading"))
                return SYSTEMD_UNIT_RUNNING;
        if (streq(a, "deactivating"))
                return s->main_pid > 0 ? SYSTEMD_UNIT_RUNNING : SYSTEMD_UNIT_STOPPING;
        if (streq(a, "inactive")) {
                /* stopped by someone (systemctl stop) and not yet collected, or not started yet */
                if (s->exec_main_start > 0)
                        return SYSTEMD_UNIT_EXITED;
                return s->job_id > 0 ? SYSTEMD_UNIT_STARTING : SYSTEMD_UNIT_GONE;
        }
        return SYSTEMD_UNIT_STARTING; /* activating, maintenance */
}

/* systemd's names of the exit statuses of its own setup (exit-status.h) */
static const char *setup_step(int status)
{
        static const struct {
                int status;
                const char *name;
        } names[] = {
            {200, "CHDIR"},       {203, "EXEC"},
            {204, "MEMORY"},      {205, "LIMITS"},
            {206, "OOM_ADJUST"},  {208, "STDIN"},
            {209, "STDOUT"},      {216, "GROUP"},
            {217, "USER"},        {218, "CAPABILITIES"},
            {219, "CGROUP"},      {222, "STDERR"},
            {226, "NAMESPACE"},   {227, "NO_NEW_PRIVILEGES"},
            {228, "SECCOMP"},     {230, "PERSONALITY"},
            {243, "CREDENTIALS"},
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].status == status)
                        return names[i].name;
        return "SETUP";
}

static int start_error(const SystemdUnitState *s, const char *argv0, const char *unit, HostExit *ret)
{
        bool setup = s->exec_main_start > 0 && s->exec_main_code == CLD_EXITED &&
                     s->exec_main_status >= SYSTEMD_EXIT_FIRST && s->exec_main_status <= SYSTEMD_EXIT_LAST;
        int r;

        ret->exit_code = START_ERROR_EXIT_CODE;
        ret->reason = strdup("StartError");
        if (setup && s->exec_main_status == 203)
                r = asprintf_safe(&ret->message,
                                  "exec: \"%s\": not found in $PATH or not executable (systemd: status "
                                  "203/EXEC; journalctl -u %s says which)",
                                  argv0, unit);
        else if (setup)
                r = asprintf_safe(
                    &ret->message,
                    "systemd could not set up the command: status %d/%s (journalctl -u %s says why)",
                    s->exec_main_status, setup_step(s->exec_main_status), unit);
        else
                r = asprintf_safe(&ret->message,
                                  "systemd could not start the unit (result: %s; journalctl -u %s says why)",
                                  isempty(s->result) ? "unknown" : s->result, unit);
        return r < 0 || !ret->reason ? -ENOMEM : 0;
}

int systemd_unit_exit(const SystemdUnitState *s, SystemdStartJob job, bool stop_requested, const char *argv0,
                      const char *unit, HostExit *ret)
{
        bool ran = s->exec_main_start > 0;
        bool setup_failed = ran && s->exec_main_code == CLD_EXITED &&
                            s->exec_main_status >= SYSTEMD_EXIT_FIRST &&
                            s->exec_main_status <= SYSTEMD_EXIT_LAST && streq(s->result, "exit-code");
        int r;

        *ret = (HostExit){.finished_at = s->exec_main_exit};
        /* one of systemd's own statuses, or no command at all, unless the start job said the
         * command was exec'd (a command may exit 203 itself). A failed job alone says little:
         * a command that ends at once may end before systemd has seen the exec. */
        if (!stop_requested && job != SYSTEMD_START_JOB_DONE && (setup_failed || !ran)) {
                r = start_error(s, argv0, unit, ret);
                if (r < 0)
                        host_exit_done(ret);
                return r;
        }
        if (!ran) {
                ret->exit_code = NOT_STARTED_EXIT_CODE;
                ret->reason = strdup("Error");
                ret->message = strdup("stopped before the command started");
                if (!ret->reason || !ret->message) {
                        host_exit_done(ret);
                        return -ENOMEM;
                }
                return 0;
        }
        if (s->exec_main_code == CLD_EXITED)
                ret->exit_code = s->exec_main_status;
        else {
                ret->signal = s->exec_main_status;
                ret->exit_code = 128 + s->exec_main_status;
        }
        ret->reason = strdup(streq(s->result, "oom-kill") ? "OOMKilled"
                             : ret->exit_code == 0        ? "Completed"
                                                          : "Error");
        return ret->reason ? 0 : -ENOMEM;
}
