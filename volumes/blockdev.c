/* Local block storage for persistent volumes: sparse image files, their loop devices (found
 * again through sysfs after a restart), blkid, and mkfs/grow as child processes that the
 * loop watches through a pidfd. Every step can be run again after a crash: nothing here
 * truncates an image, attaches it twice or formats a device that holds a file system. */
#include <blkid/blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "blockdev.h"
#include "log.h"
#include "util.h"

/* LOOP_CTL_GET_FREE and the attach are two steps: another attacher may take the device */
#define LOOP_ATTACH_TRIES 16
#define BACKING_FILE_MAX 8192
#define JOB_OUTPUT_MAX 4096
/* how long a cancel waits for the killed tool to die before leaving it to the loop */
#define CANCEL_WAIT_USEC (2 * USEC_PER_SEC)

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static int dirname_dup(const char *path, char **ret)
{
        const char *slash = strrchr(path, '/');
        char *d;

        if (!slash)
                d = strdup(".");
        else if (slash == path)
                d = strdup("/");
        else
                d = strndup(path, (size_t)(slash - path));
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

/* Sizes fd and links it at path, never over an existing file (-EEXIST then). */
static int size_and_link(int fd, const char *tmp_path, const char *path, uint64_t size)
{
        if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
                return negative_errno();
        if (tmp_path)
                return link(tmp_path, path) < 0 ? negative_errno() : 0;

        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0 ? negative_errno() : 0;
}

/* The new image's name survives a crash once the agent goes on to put data in it. */
static int fsync_dir(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return negative_errno();
        return 0;
}

/* Where O_TMPFILE is missing: a named temporary file next to the image. */
static int create_named(const char *path, uint64_t size)
{
        _cleanup_free_ char *tmp = strjoin(path, ".tmp-XXXXXX", NULL);
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = size_and_link(fd, tmp, path, size);
        (void)unlink(tmp);
        return r;
}

int image_create(const char *path, uint64_t size)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (isempty(path) || size == 0 || size > INT64_MAX)
                return -EINVAL;
        if (stat(path, &st) == 0)
                return S_ISREG(st.st_mode) ? 0 : -EEXIST;
        if (errno != ENOENT)
                return negative_errno();
        r = dirname_dup(path, &dir);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        /* the image appears at its path only with its full size: a crash in between leaves
         * no file, never an empty image that would then be kept */
        fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0)
                r = size_and_link(fd, NULL, path, size);
        else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
                r = create_named(path, size);
        else
                r = negative_errno();
        if (r >= 0)
                return fsync_dir(dir);
        if (r != -EEXIST)
                return r;
        /* created meanwhile by someone else: kept as any existing image (a dangling symlink
         * is no image) */
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -EEXIST;
}

int image_grow(const char *path, uint64_t size)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (isempty(path) || size > INT64_MAX)
                return -EINVAL;
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || size < (uint64_t)st.st_size)
                return -EINVAL;
        if (size == (uint64_t)st.st_size)
                return 0;
        /* durable before anyone grows a file system onto it: after a crash the file system
         * must never be larger than its image */
        if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
                return negative_errno();
        return 0;
}

/* Whether loop device name (e.g. "loop3") is backed by the file real (a realpath) whose
 * stat is st: 1 or 0. The path is what sysfs shows; device and inode rule out a file that
 * was replaced at the same path (or one at that path in another mount namespace). */
static int backed_by(const char *name, const char *real, const struct stat *st)
{
        _cleanup_free_ char *sys = NULL, *backing = NULL, *dev = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct loop_info64 info = {};
        size_t n;
        int r;

        sys = strjoin("/sys/block/", name, "/loop/backing_file", NULL);
        dev = strjoin("/dev/", name, NULL);
        if (!sys || !dev)
                return -ENOMEM;
        r = read_full_file(sys, BACKING_FILE_MAX, &backing, &n);
        if (r == -ENOENT || r == -ENXIO)
                return 0; /* not attached (or gone meanwhile) */
        if (r < 0)
                return r;
        if (n > 0 && backing[n - 1] == '\n')
                backing[n - 1] = 0;
        if (!streq(backing, real))
                return 0;
        fd = open(dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || ioctl(fd, LOOP_GET_STATUS64, &info) < 0) {
                if (errno == ENXIO)
                        return 0; /* detached since */
                log_debug_errno(errno, "Cannot check the backing inode of %s, trusting its path: %m", dev);
                return 1;
        }
        return info.lo_device == (uint64_t)st->st_dev && info.lo_inode == (uint64_t)st->st_ino;
}

/* The lowest-numbered loop device backed by real, so that repeated calls agree. */
static int find_backed(const char *real, const struct stat *st, char **ret_dev)
{
        _cleanup_(closedirp) DIR *d = opendir("/sys/block");
        long best = -1;
        int r;

        if (!d)
                return negative_errno();
        for (struct dirent *de; (de = readdir(d));) {
                char *end;
                long n;

                if (!startswith(de->d_name, "loop"))
                        continue;
                n = strtol(de->d_name + 4, &end, 10);
                if (end == de->d_name + 4 || *end || n < 0 || (best >= 0 && n >= best))
                        continue;
                r = backed_by(de->d_name, real, st);
                if (r < 0)
                        return r;
                if (r > 0)
                        best = n;
        }
        if (best < 0)
                return -ENOENT;
        return asprintf_safe(ret_dev, "/dev/loop%ld", best) < 0 ? -ENOMEM : 0;
}

int loop_find(const char *image, char **ret_dev)
{
        _cleanup_free_ char *real = NULL;
        struct stat st;

        if (isempty(image) || !ret_dev)
                return -EINVAL;
        real = realpath(image, NULL);
        if (!real || stat(real, &st) < 0)
                return negative_errno();
        return find_backed(real, &st, ret_dev);
}

/* Attaches backing_fd to /dev/loopN, with no autoclear: the device outlives the agent. */
static int configure(long n, int backing_fd, const char *real)
{
        _cleanup_close_ int fd = -EBADF;
        struct loop_config c = {.fd = (uint32_t)backing_fd};
        char dev[32];
        int r;

        snprintf(dev, sizeof(dev), "/dev/loop%ld", n);
        fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* only a label for humans (losetup); sysfs holds the full path */
        strncpy((char *)c.info.lo_file_name, real, LO_NAME_SIZE - 1);
        if (ioctl(fd, LOOP_CONFIGURE, &c) == 0)
                return 0;
        if (errno != EINVAL)
                return negative_errno();
        /* kernels before 5.8 know no LOOP_CONFIGURE */
        if (ioctl(fd, LOOP_SET_FD, backing_fd) < 0)
                return negative_errno();
        if (ioctl(fd, LOOP_SET_STATUS64, &c.info) < 0) {
                r = negative_errno();
                (void)ioctl(fd, LOOP_CLR_FD, 0);
                return r;
        }
        return 0;
}

/* Opens image for the lock (lock_fd) and as the device's backing file (fd): two open files,
 * because the device keeps its backing file open, and with it any flock taken on it. */
static int open_image(const char *image, int *ret_lock_fd, int *ret_fd, struct stat *ret_st)
{
        _cleanup_close_ int lock_fd = -EBADF, fd = -EBADF;
        struct stat st;

        lock_fd = open(image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (lock_fd < 0 || fstat(lock_fd, ret_st) < 0)
                return negative_errno();
        if (!S_ISREG(ret_st->st_mode))
                return -EINVAL;
        fd = open(image, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_dev != ret_st->st_dev || st.st_ino != ret_st->st_ino)
                return -EBUSY; /* replaced in between */
        *ret_lock_fd = TAKE_FD(lock_fd);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int loop_attach(const char *image, char **ret_dev)
{
        _cleanup_free_ char *real = NULL;
        _cleanup_close_ int lock_fd = -EBADF, fd = -EBADF, ctl = -EBADF;
        struct stat st;
        int r;

        if (isempty(image) || !ret_dev)
                return -EINVAL;
        r = open_image(image, &lock_fd, &fd, &st);
        if (r < 0)
                return r;
        /* two attachers of one image (an agent and its overlapping restart) would each find
         * none and attach it twice: the check and the attach are one step under this lock */
        if (flock(lock_fd, LOCK_EX) < 0)
                return negative_errno();
        real = realpath(image, NULL);
        if (!real)
                return negative_errno();
        r = find_backed(real, &st, ret_dev);
        if (r != -ENOENT)
                return r;
        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (ctl < 0)
                return negative_errno();
        for (int i = 0; i < LOOP_ATTACH_TRIES; i++) {
                long n = ioctl(ctl, LOOP_CTL_GET_FREE);

                if (n < 0)
                        return negative_errno();
                r = configure(n, fd, real);
                if (r == -EBUSY)
                        continue; /* taken by someone else in between */
                if (r < 0)
                        return r;
                /* out of memory here leaves it attached: the next call finds it */
                return asprintf_safe(ret_dev, "/dev/loop%ld", n) < 0 ? -ENOMEM : 0;
        }
        return -EBUSY;
}

static int loop_ioctl(const char *dev, unsigned long req)
{
        _cleanup_close_ int fd = -EBADF;

        if (isempty(dev))
                return -EINVAL;
        fd = open(dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        return ioctl(fd, req, 0) < 0 ? negative_errno() : 0;
}

int loop_detach(const char *dev)
{
        /* a device still open elsewhere (mounted) is only marked: the kernel detaches it when
         * the last user closes it */
        int r = loop_ioctl(dev, LOOP_CLR_FD);

        return r == -ENXIO ? 0 : r;
}

int loop_refresh_size(const char *dev)
{
        return loop_ioctl(dev, LOOP_SET_CAPACITY);
}

int blockdev_size(const char *dev, uint64_t *ret)
{
        _cleanup_close_ int fd = -EBADF;
        uint64_t size;

        if (isempty(dev) || !ret)
                return -EINVAL;
        fd = open(dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return negative_errno();
        *ret = size;
        return 0;
}

static void blkid_free_probep(blkid_probe *p)
{
        if (*p)
                blkid_free_probe(*p);
}

static int dup_value(blkid_probe pr, const char *name, char **ret)
{
        const char *v = NULL;

        *ret = NULL;
        if (blkid_probe_lookup_value(pr, name, &v, NULL) < 0 || !v)
                return 0;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

/* What blkid finds on dev: a file system type and a partition table type (each NULL when
 * none); -EUCLEAN when signatures contradict each other. */
static int probe(const char *dev, char **ret_type, char **ret_pttype)
{
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_free_ char *type = NULL;
        int r;

        errno = 0;
        pr = blkid_new_probe_from_filename(dev);
        if (!pr)
                return negative_errno();
        if (blkid_probe_enable_superblocks(pr, 1) < 0 ||
            blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE) < 0 ||
            blkid_probe_enable_partitions(pr, 1) < 0)
                return -EIO;
        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == -2)
                return -EUCLEAN;
        if (r < 0)
                return negative_errno();
        r = dup_value(pr, "TYPE", &type);
        if (r < 0)
                return r;
        r = dup_value(pr, "PTTYPE", ret_pttype);
        if (r < 0)
                return r;
        *ret_type = TAKE_PTR(type);
        return 0;
}

int blockdev_probe_fstype(const char *dev, char **ret)
{
        _cleanup_free_ char *pttype = NULL;

        if (isempty(dev) || !ret)
                return -EINVAL;
        return probe(dev, ret, &pttype);
}

/* -EEXIST when dev holds anything blkid knows: a file system, a partition table, or
 * signatures it cannot tell apart. */
static int refuse_if_used(const char *dev)
{
        _cleanup_free_ char *type = NULL, *pttype = NULL;
        struct stat st;
        int r;

        if (stat(dev, &st) < 0)
                return negative_errno();
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        r = probe(dev, &type, &pttype);
        if (r == -EUCLEAN)
                return -EEXIST;
        if (r < 0)
                return r;
        if (type || pttype) {
                log_debug("Not formatting %s: it holds %s", dev, type ?: pttype);
                return -EEXIST;
        }
        return 0;
}

/* The full path of tool in PATH, /usr/sbin or /sbin (the sbin directories may be missing
 * from the agent's PATH). */
static int find_tool(const char *tool, char **ret)
{
        const char *env = getenv("PATH");
        _cleanup_free_ char *search = strjoin(env ?: "", ":/usr/sbin:/sbin", NULL);
        char *state = NULL;

        if (!search)
                return -ENOMEM;
        if (isempty(tool) || strchr(tool, '/'))
                return -EINVAL;
        for (char *dir = strtok_r(search, ":", &state); dir; dir = strtok_r(NULL, ":", &state)) {
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (dir[0] != '/')
                        continue; /* never a tool found relative to the working directory */
                p = strjoin(dir, "/", tool, NULL);
                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

int blockdev_tool_available(const char *tool)
{
        _cleanup_free_ char *p = NULL;
        int r = find_tool(tool, &p);

        if (r == -ENOMEM)
                return r;
        return r >= 0;
}

struct BlockdevJob {
        sd_event *event;
        pid_t pid;
        int pidfd, out_fd;
        sd_event_source *pid_source, *out_source;
        blockdev_done_t done; /* NULL once cancelled */
        void *userdata;
        bool ended;        /* reaped, done running: j is freed when it returns */
        unsigned ok_exits; /* bit n: exit status n is success */
        size_t size;
        char output[JOB_OUTPUT_MAX + 1]; /* NUL-terminated */
};

static BlockdevJob *job_free(BlockdevJob *j)
{
        if (!j)
                return NULL;
        sd_event_source_disable_unref(j->pid_source);
        sd_event_source_disable_unref(j->out_source);
        safe_close(j->pidfd);
        safe_close(j->out_fd);
        sd_event_unref(j->event);
        free(j);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(BlockdevJob *, job_free);

static void close_output(BlockdevJob *j)
{
        j->out_source = sd_event_source_disable_unref(j->out_source);
        j->out_fd = safe_close(j->out_fd);
}

/* Reads what the pipe holds now; false at its end. Past JOB_OUTPUT_MAX the output is read
 * and dropped, so that the tool never blocks on a full pipe. */
static bool read_output(BlockdevJob *j)
{
        char buf[4096];

        for (;;) {
                ssize_t k = read(j->out_fd, buf, sizeof(buf));
                size_t keep;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return true;
                if (k <= 0)
                        return false;
                keep = MIN((size_t)k, JOB_OUTPUT_MAX - j->size);
                memcpy(j->output + j->size, buf, keep);
                j->size += keep;
                j->output[j->size] = 0;
        }
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        BlockdevJob *j = userdata;

        if (!read_output(j))
                close_output(j);
        return 0;
}

/* The tool's result once it has ended (1), 0 while it runs. */
static int reap(BlockdevJob *j, int *ret_result)
{
        siginfo_t si = {};
        bool ok;

        if (waitid(P_PIDFD, (id_t)j->pidfd, &si, WEXITED | WNOHANG) < 0) {
                if (errno == EINTR)
                        return 0;
                *ret_result = negative_errno();
                return 1;
        }
        if (si.si_pid == 0)
                return 0;
        ok = si.si_code == CLD_EXITED && si.si_status >= 0 && si.si_status < 32 &&
             (j->ok_exits & (1U << si.si_status));
        *ret_result = ok ? 0 : -EIO;
        return 1;
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        BlockdevJob *j = userdata;
        blockdev_done_t done = j->done;
        int result;

        if (reap(j, &result) == 0)
                return 0;
        j->ended = true;
        /* the tool has written all it will: what the pipe holds is the rest of its output
         * (a descendant keeping the pipe open must not hold up the result) */
        if (j->out_fd >= 0)
                (void)read_output(j);
        close_output(j);
        if (done) {
                j->done = NULL;
                done(result, j->output, j->userdata);
        }
        job_free(j);
        return 0;
}

/* In the forked child: only async-signal-safe calls up to the exec. */
_noreturn_ static void child_exec(char *const *argv, int out_fd)
{
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigset_t none;
        int null_fd;

        /* a process group of its own, so that a cancel reaches what the tool starts */
        (void)setsid();
        /* the agent's blocked and ignored signals (its loop's) would be inherited by exec */
        for (int sig = 1; sig < _NSIG; sig++)
                (void)sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        /* above 2 first, so that each dup2 below makes a new, inheritable descriptor */
        out_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd >= 0)
                null_fd = fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
        if (out_fd < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
                _exit(127);
        (void)close_range(3, ~0U, 0);
        execve(argv[0], argv, environ);
        _exit(127);
}

static int spawn(BlockdevJob *j, char *const *argv)
{
        _cleanup_close_ int out_wr = -EBADF;
        int fds[2], r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        j->out_fd = fds[0];
        out_wr = fds[1];
        if (fcntl(j->out_fd, F_SETFL, O_NONBLOCK) < 0)
                return negative_errno();
        j->pid = fork();
        if (j->pid < 0)
                return negative_errno();
        if (j->pid == 0)
                child_exec(argv, out_wr);
        j->pidfd = pidfd_open(j->pid, 0);
        if (j->pidfd < 0) {
                r = negative_errno();
                (void)kill(j->pid, SIGKILL);
                (void)waitpid(j->pid, NULL, 0);
                return r;
        }
        return 0;
}

static void kill_tool(BlockdevJob *j)
{
        /* the group reaches the tool's children; the pidfd covers the moment before setsid() */
        (void)kill(-j->pid, SIGKILL);
        (void)pidfd_send_signal(j->pidfd, SIGKILL, NULL, 0);
}

/* Waits until the killed tool is reaped or deadline (CLOCK_MONOTONIC) has passed. */
static bool wait_reaped(BlockdevJob *j, usec_t deadline)
{
        int result;

        while (reap(j, &result) == 0) {
                usec_t now = now_usec(CLOCK_MONOTONIC);
                struct pollfd p = {j->pidfd, POLLIN, 0};

                if (now >= deadline)
                        return false;
                (void)poll(&p, 1, (int)((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
        }
        return true;
}

/* ok_exits: the exit statuses that are success, bit n for status n */
static int job_start(sd_event *e, char *const *argv, unsigned ok_exits, blockdev_done_t done, void *userdata,
                     BlockdevJob **ret)
{
        _cleanup_(job_freep) BlockdevJob *j = NULL;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->pidfd = j->out_fd = -EBADF;
        j->event = sd_event_ref(e);
        j->done = done;
        j->userdata = userdata;
        j->ok_exits = ok_exits;
        r = spawn(j, argv);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &j->pid_source, j->pidfd, EPOLLIN, on_pidfd, j);
        if (r >= 0) {
                (void)sd_event_source_set_description(j->pid_source, "blockdev-job-pid");
                r = sd_event_add_io(e, &j->out_source, j->out_fd, EPOLLIN, on_output, j);
        }
        if (r < 0) {
                kill_tool(j);
                (void)wait_reaped(j, now_usec(CLOCK_MONOTONIC) + CANCEL_WAIT_USEC);
                return r;
        }
        (void)sd_event_source_set_description(j->out_source, "blockdev-job-output");
        log_debug("Started %s (pid %d)", argv[0], (int)j->pid);
        if (ret)
                *ret = j;
        TAKE_PTR(j);
        return 0;
}

int blockdev_mkfs_start(sd_event *e, const char *dev, const char *fstype, blockdev_done_t done,
                        void *userdata, BlockdevJob **ret)
{
        _cleanup_free_ char *tool = NULL, *path = NULL;
        const char *force;
        int r;

        if (!e || isempty(dev) || !fstype || !done)
                return -EINVAL;
        if (streq(fstype, "ext4"))
                force = "-F";
        else if (streq(fstype, "xfs"))
                force = "-f";
        else
                return -EOPNOTSUPP;
        tool = strjoin("mkfs.", fstype, NULL);
        if (!tool)
                return -ENOMEM;
        r = find_tool(tool, &path);
        if (r < 0)
                return r;
        /* the last look before the tool writes: data is never formatted twice */
        r = refuse_if_used(dev);
        if (r < 0)
                return r;
        char *argv[] = {path, (char *)force, "-q", (char *)dev, NULL};
        return job_start(e, argv, 1U << 0, done, userdata, ret);
}

int blockdev_grow_fs_start(sd_event *e, const char *dev, const char *fstype, const char *mountpoint,
                           blockdev_done_t done, void *userdata, BlockdevJob **ret)
{
        _cleanup_free_ char *path = NULL;
        const char *target;
        int r;

        if (!e || isempty(dev) || !fstype || !done)
                return -EINVAL;
        if (streq(fstype, "ext4"))
                target = dev;
        else if (streq(fstype, "xfs"))
                target = mountpoint;
        else
                return -EOPNOTSUPP;
        if (isempty(target))
                return -EINVAL;
        r = find_tool(streq(fstype, "ext4") ? "resize2fs" : "xfs_growfs", &path);
        if (r < 0)
                return r;
        char *argv[] = {path, (char *)target, NULL};
        return job_start(e, argv, 1U << 0, done, userdata, ret);
}

void blockdev_job_cancel(BlockdevJob *j)
{
        if (!j || j->ended)
                return; /* from within done: j is freed when done returns */
        j->done = NULL;
        kill_tool(j);
        close_output(j);
        if (wait_reaped(j, now_usec(CLOCK_MONOTONIC) + CANCEL_WAIT_USEC)) {
                job_free(j);
                return;
        }
        /* stuck in I/O that SIGKILL waits for: the pidfd source reaps it and frees j */
        log_debug("pid %d does not die yet, reaping it later", (int)j->pid);
}

static int check_block_device(const char *dev)
{
        struct stat st;

        if (stat(dev, &st) < 0)
                return negative_errno();
        return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
}

int blockdev_check_fs_start(sd_event *e, const char *dev, const char *fstype, blockdev_done_t done,
                            void *userdata, BlockdevJob **ret)
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (!e || isempty(dev) || !fstype || !done)
                return -EINVAL;
        if (!streq(fstype, "ext4"))
                return -EOPNOTSUPP;
        r = find_tool("e2fsck", &path);
        if (r < 0)
                return r;
        r = check_block_device(dev);
        if (r < 0)
                return r;
        char *argv[] = {path, "-f", "-p", (char *)dev, NULL};
        /* 1: errors were found and fixed, which -p does only where that is safe */
        return job_start(e, argv, (1U << 0) | (1U << 1), done, userdata, ret);
}

int blockdev_wipe_start(sd_event *e, const char *dev, blockdev_done_t done, void *userdata,
                        BlockdevJob **ret)
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (!e || isempty(dev) || !done)
                return -EINVAL;
        r = find_tool("wipefs", &path);
        if (r < 0)
                return r;
        r = check_block_device(dev);
        if (r < 0)
                return r;
        char *argv[] = {path, "-a", (char *)dev, NULL};
        return job_start(e, argv, 1U << 0, done, userdata, ret);
}
