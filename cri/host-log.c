/* The CRI log writer of the host shim: per-stream line assembly with containerd's 16 KiB
 * partial-line split, one write() per CRI line, and size-based rotation to
 * <path>.<YYYYMMDD-HHMMSS> keeping max_files-1 rotated files, as the kubelet does. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "host-log.h"
#include "util.h"

struct HostLog {
        char *path;
        int fd;
        uint64_t size, max_size;
        unsigned max_files;
        char *buf[_HOST_LOG_STREAM_MAX];
        size_t len[_HOST_LOG_STREAM_MAX];
};

static const char *const stream_names[_HOST_LOG_STREAM_MAX] = {"stdout", "stderr"};

static int open_log(HostLog *l)
{
        struct stat st;

        l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
        if (l->fd < 0)
                return negative_errno();
        if (fstat(l->fd, &st) < 0)
                return negative_errno();
        l->size = (uint64_t)st.st_size;
        return 0;
}

int host_log_new(HostLog **ret, const char *path, uint64_t max_size, unsigned max_files)
{
        _cleanup_(host_log_freep) HostLog *l = NULL;
        _cleanup_free_ char *parent = NULL;
        int r;

        if (isempty(path))
                return -EINVAL;
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->fd = -EBADF;
        l->path = strdup(path);
        parent = strdup(path);
        if (!l->path || !parent)
                return -ENOMEM;
        for (int s = 0; s < _HOST_LOG_STREAM_MAX; s++) {
                l->buf[s] = malloc(HOST_LOG_MAX_LINE);
                if (!l->buf[s])
                        return -ENOMEM;
        }
        l->max_size = max_size > 0 ? max_size : HOST_LOG_DEFAULT_MAX_SIZE;
        l->max_files = max_files > 0 ? max_files : HOST_LOG_DEFAULT_MAX_FILES;

        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
                *slash = 0;
                r = mkdir_p(parent, 0755);
                if (r < 0)
                        return r;
        }
        r = open_log(l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

HostLog *host_log_free(HostLog *l)
{
        if (!l)
                return NULL;
        safe_close(l->fd);
        for (int s = 0; s < _HOST_LOG_STREAM_MAX; s++)
                free(l->buf[s]);
        free(l->path);
        free(l);
        return NULL;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Deletes the oldest "<base>.<timestamp>" files beyond max_files-1. The timestamps sort by
 * name, and so do the ".NNN" suffixes added when two rotations fall in one second. */
static int prune_rotated(HostLog *l)
{
        _cleanup_free_ char *dir = strdup(l->path);
        char **names = NULL;
        size_t n = 0, alloc = 0;
        int r = 0;

        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        const char *base = slash ? slash + 1 : dir;
        const char *dirname = slash ? (slash == dir ? "/" : dir) : ".";
        if (slash)
                *slash = 0;
        size_t blen = strlen(base);

        DIR *d = opendir(dirname);
        if (!d)
                return negative_errno();
        for (struct dirent *de; (de = readdir(d));) {
                const char *nm = de->d_name;
                if (strncmp(nm, base, blen) != 0 || nm[blen] != '.' || strlen(nm + blen + 1) < 15 ||
                    !strchr("0123456789", nm[blen + 1]) || endswith(nm, ".tmp"))
                        continue;
                if (n == alloc) {
                        alloc = alloc ? alloc * 2 : 8;
                        char **nn = realloc(names, alloc * sizeof(char *));
                        if (!nn) {
                                r = -ENOMEM;
                                goto out;
                        }
                        names = nn;
                }
                names[n] = strdup(nm);
                if (!names[n]) {
                        r = -ENOMEM;
                        goto out;
                }
                n++;
        }
        qsort(names, n, sizeof(char *), cmp_names);
        for (size_t i = 0; n - i > l->max_files - 1; i++)
                if (unlinkat(dirfd(d), names[i], 0) < 0 && errno != ENOENT && r == 0)
                        r = negative_errno();
out:
        closedir(d);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

static int rotate(HostLog *l)
{
        char stamp[32];
        _cleanup_free_ char *target = NULL;
        time_t now = time(NULL);
        struct tm tm;
        int r;

        if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
                return -EINVAL;
        for (unsigned i = 0; i < 1000; i++) {
                free(target);
                r = i == 0 ? asprintf_safe(&target, "%s.%s", l->path, stamp)
                           : asprintf_safe(&target, "%s.%s.%03u", l->path, stamp, i);
                if (r < 0)
                        return r;
                if (access(target, F_OK) < 0)
                        break;
        }
        l->fd = safe_close(l->fd);
        if (rename(l->path, target) < 0)
                return negative_errno();
        r = prune_rotated(l);
        if (r < 0)
                return r;
        return open_log(l);
}

static int write_line(HostLog *l, HostLogStream s, bool partial)
{
        char ts[64], head[96];
        struct timespec now;
        int r;

        clock_gettime(CLOCK_REALTIME, &now);
        r = format_rfc3339_nano(&now, ts, sizeof(ts));
        if (r < 0)
                return r;
        int hl = snprintf(head, sizeof(head), "%s %s %c ", ts, stream_names[s], partial ? 'P' : 'F');
        struct iovec iov[3] = {
            {head, (size_t)hl},
            {l->buf[s], l->len[s]},
            {(char *)"\n", 1},
        };
        size_t total = (size_t)hl + l->len[s] + 1;
        l->len[s] = 0;
        if (l->fd < 0) {
                r = open_log(l);
                if (r < 0)
                        return r;
        }
        /* O_APPEND and one writev keep each CRI line whole; a short write (disk full)
         * leaves a fragment the reader skips as malformed. */
        ssize_t k = writev(l->fd, iov, 3);
        if (k < 0)
                return negative_errno();
        l->size += (uint64_t)k;
        if ((size_t)k != total)
                return -EIO;
        if (l->size > l->max_size)
                return rotate(l);
        return 0;
}

int host_log_feed(HostLog *l, HostLogStream s, const void *data, size_t size)
{
        const char *p = data;
        int r;

        if (!l || s < 0 || s >= _HOST_LOG_STREAM_MAX || (!data && size > 0))
                return -EINVAL;
        while (size > 0) {
                const char *nl = memchr(p, '\n', size);
                size_t seg = nl ? (size_t)(nl - p) : size;

                while (seg > 0) {
                        if (l->len[s] == HOST_LOG_MAX_LINE) {
                                /* More text follows a full buffer: it becomes a partial line. */
                                r = write_line(l, s, true);
                                if (r < 0)
                                        return r;
                        }
                        size_t k = MIN(seg, HOST_LOG_MAX_LINE - l->len[s]);
                        memcpy(l->buf[s] + l->len[s], p, k);
                        l->len[s] += k;
                        p += k;
                        size -= k;
                        seg -= k;
                }
                if (nl) {
                        r = write_line(l, s, false);
                        if (r < 0)
                                return r;
                        p++;
                        size--;
                }
        }
        return 0;
}

int host_log_finish(HostLog *l, HostLogStream s)
{
        if (!l || s < 0 || s >= _HOST_LOG_STREAM_MAX)
                return -EINVAL;
        if (l->len[s] == 0)
                return 0;
        return write_line(l, s, true);
}
