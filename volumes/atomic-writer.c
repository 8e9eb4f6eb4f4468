/* The kubelet's AtomicWriter: a payload of files lands in a fresh "..<timestamp>" directory,
 * the "..data" symlink is switched to it with one rename(2), and the user-visible top-level
 * names are symlinks through "..data", so a reader sees either the old or the new version,
 * never a mix. Everything is done relative to an fd of the volume directory. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "macro.h"
#include "util.h"

#include "atomic-writer.h"

#define DATA_DIR_NAME "..data"
#define NEW_DATA_DIR_NAME "..data_tmp"
#define MAX_PATH_LENGTH 4096
#define MAX_FILE_NAME_LENGTH 255

/* One payload entry with its cleaned path ("a//./b" → "a/b"); the file stays borrowed. */
typedef struct Entry {
        char *path;
        const ProjectedFile *file;
} Entry;

typedef struct Payload {
        Entry *entries; /* sorted by path */
        size_t n;
        char **tops; /* distinct first path elements, sorted */
        size_t n_tops;
        size_t n_dirs; /* distinct directories below the data dir that the payload needs */
} Payload;

/* Errors of open(2) that just mean "this file is not what the payload wants". */
static bool errno_means_changed(int e)
{
        return e == ENOENT || e == ENOTDIR || e == ELOOP || e == EACCES;
}

void projected_files_free(ProjectedFile *f, size_t n)
{
        if (!f)
                return;
        for (size_t i = 0; i < n; i++) {
                free(f[i].path);
                free(f[i].data);
        }
        free(f);
}

static void payload_done(Payload *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->entries[i].path);
        free(p->entries);
        for (size_t i = 0; i < p->n_tops; i++)
                free(p->tops[i]);
        free(p->tops);
        *p = (Payload){};
}

/* filepath.Clean for a relative path without "..": drops empty and "." elements. */
static char *clean_path(const char *path)
{
        char *out = malloc(strlen(path) + 1), *o = out;

        if (!out)
                return NULL;
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");

                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (o != out)
                                *o++ = '/';
                        memcpy(o, p, len);
                        o += len;
                }
                p += len;
                p += strspn(p, "/");
        }
        *o = 0;
        return out;
}

int projected_path_validate(const char *path, char **ret_error)
{
        _cleanup_free_ char *clean = NULL;
        size_t first;

        if (isempty(path))
                return set_errorf(ret_error, -EINVAL, "invalid path: must not be empty: \"\"");
        if (path[0] == '/')
                return set_errorf(ret_error, -EINVAL, "invalid path: must be relative path: %s", path);
        if (strlen(path) > MAX_PATH_LENGTH)
                return set_errorf(ret_error, -EINVAL,
                                  "invalid path: must be less than or equal to %d characters: %.64s...",
                                  MAX_PATH_LENGTH, path);
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");

                if (len == 2 && strneq(p, "..", 2))
                        return set_errorf(ret_error, -EINVAL, "invalid path: must not contain '..': %s",
                                          path);
                if (len > MAX_FILE_NAME_LENGTH)
                        return set_errorf(
                            ret_error, -EINVAL,
                            "invalid path: filenames must be less than or equal to %d characters: %s",
                            MAX_FILE_NAME_LENGTH, path);
                p += len;
                p += strspn(p, "/");
        }
        /* The kubelet checks the raw first element; checking the cleaned one also catches
         * "./..data", which would otherwise replace the writer's own symlink. */
        clean = clean_path(path);
        if (!clean)
                return -ENOMEM;
        if (isempty(clean))
                return set_errorf(ret_error, -EINVAL, "invalid path: must name a file: %s", path);
        first = strcspn(clean, "/");
        if (first > 2 && strneq(clean, "..", 2))
                return set_errorf(ret_error, -EINVAL, "invalid path: must not start with '..': %s", path);
        return 0;
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const Entry *)a)->path, ((const Entry *)b)->path);
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool payload_has_file(const Payload *p, const char *path, size_t len)
{
        size_t lo = 0, hi = p->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strncmp(p->entries[mid].path, path, len);

                if (c == 0 && p->entries[mid].path[len])
                        c = 1;
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

/* Sorts a strv and drops duplicates; returns the new count. */
static size_t strv_sort_uniq(char **v, size_t n)
{
        size_t k = 0;

        if (n == 0)
                return 0;
        qsort(v, n, sizeof(char *), str_cmp);
        for (size_t i = 1; i < n; i++) {
                if (streq(v[i], v[k]))
                        free(v[i]);
                else
                        v[++k] = v[i];
        }
        return k + 1;
}

/* Collects the first elements and directory prefixes of all paths. */
static int payload_index(Payload *p)
{
        char **dirs = NULL;
        size_t n_dirs = 0;
        int r = 0;

        for (size_t i = 0; i < p->n && r >= 0; i++) {
                const char *path = p->entries[i].path;
                _cleanup_free_ char *top = strndup(path, strcspn(path, "/"));

                r = top ? strv_push_copy(&p->tops, &p->n_tops, top) : -ENOMEM;
                for (const char *s = strchr(path, '/'); s && r >= 0; s = strchr(s + 1, '/')) {
                        _cleanup_free_ char *d = strndup(path, (size_t)(s - path));

                        r = d ? strv_push_copy(&dirs, &n_dirs, d) : -ENOMEM;
                }
        }
        if (r >= 0) {
                p->n_tops = strv_sort_uniq(p->tops, p->n_tops);
                p->n_dirs = strv_sort_uniq(dirs, n_dirs);
                n_dirs = p->n_dirs;
        }
        for (size_t i = 0; i < n_dirs; i++)
                free(dirs[i]);
        free(dirs);
        return r;
}

/* Validates and cleans every path, and refuses payloads where one path is given twice or
 * one file would have to be a directory of another ("a" and "a/b"). */
static int payload_prepare(const ProjectedFile *files, size_t n, Payload *ret, char **ret_error)
{
        _cleanup_(payload_done) Payload p = {};
        int r;

        if (n > 0) {
                p.entries = calloc(n, sizeof(Entry));
                if (!p.entries)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                r = projected_path_validate(files[i].path, ret_error);
                if (r < 0)
                        return r;
                p.entries[i].path = clean_path(files[i].path);
                if (!p.entries[i].path)
                        return -ENOMEM;
                p.entries[i].file = &files[i];
                p.n++;
        }
        if (p.n > 0)
                qsort(p.entries, p.n, sizeof(Entry), entry_cmp);
        for (size_t i = 0; i < p.n; i++) {
                const char *path = p.entries[i].path;

                if (i > 0 && streq(path, p.entries[i - 1].path))
                        return set_errorf(ret_error, -EINVAL, "invalid path: %s is given twice", path);
                for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/'))
                        if (payload_has_file(&p, path, (size_t)(s - path)))
                                return set_errorf(
                                    ret_error, -EINVAL,
                                    "invalid path: %s needs %.*s to be a directory, but it is a file", path,
                                    (int)(s - path), path);
        }
        r = payload_index(&p);
        if (r < 0)
                return r;
        *ret = p;
        p = (Payload){};
        return 0;
}

/* 1 when the file at path below fd has exactly this mode and content, 0 when not. */
static int file_matches(int fd, const char *path, const ProjectedFile *f)
{
        _cleanup_close_ int ffd = openat(fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size;
        int r;

        if (ffd < 0)
                return errno_means_changed(errno) ? 0 : negative_errno();
        if (fstat(ffd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || (size_t)st.st_size != f->size ||
            (st.st_mode & 07777) != (f->mode & 07777))
                return 0;
        r = read_full_fd(ffd, f->size, &buf, &size);
        if (r == -EFBIG)
                return 0; /* grew since the fstat() */
        if (r < 0)
                return r;
        return size == f->size && (size == 0 || memcmp(buf, f->data, size) == 0);
}

/* A DIR stream over a duplicate of dir fd, from its start (fd itself stays usable). */
static int opendir_at(int fd, DIR **ret)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d;
        int r;

        if (dfd < 0)
                return negative_errno();
        d = fdopendir(dfd);
        if (!d) {
                r = negative_errno();
                close(dfd);
                return r;
        }
        rewinddir(d);
        *ret = d;
        return 0;
}

static int count_tree(int fd, size_t *files, size_t *dirs)
{
        DIR *d;
        int r;

        r = opendir_at(fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = negative_errno();
                        break;
                }
                if (!S_ISDIR(st.st_mode)) {
                        (*files)++;
                        continue;
                }
                (*dirs)++;
                _cleanup_close_ int sub =
                    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = sub < 0 ? negative_errno() : count_tree(sub, files, dirs);
        }
        closedir(d);
        return r;
}

static int read_link_at(int fd, const char *name, char **ret)
{
        char buf[MAX_PATH_LENGTH + 1];
        ssize_t k = readlinkat(fd, name, buf, sizeof(buf) - 1);

        if (k < 0)
                return negative_errno();
        buf[k] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static bool payload_has_top(const Payload *p, const char *name)
{
        return p->n_tops > 0 && bsearch(&name, p->tops, p->n_tops, sizeof(char *), str_cmp);
}

/* Finds the user-visible symlinks through "..data" that the payload no longer has, and
 * removes them when asked. Returns how many there are. Anything else in dir is left alone:
 * it is not ours. */
static int scan_stale_links(int dir_fd, const Payload *p, bool remove)
{
        DIR *d;
        int r = 0, n = 0;

        r = opendir_at(dir_fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *target = NULL;

                if (startswith(de->d_name, "..") || payload_has_top(p, de->d_name))
                        continue;
                if (read_link_at(dirfd(d), de->d_name, &target) < 0 ||
                    !startswith(target, DATA_DIR_NAME "/"))
                        continue;
                n++;
                if (remove && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = negative_errno();
        }
        closedir(d);
        return r < 0 ? r : n;
}

/* 1 when dir shows exactly this payload through old_ts: same files with the same modes and
 * contents, no extra files or directories, and the right user-visible symlinks. */
static int payload_unchanged(int dir_fd, const char *old_ts, const Payload *p)
{
        _cleanup_close_ int ts_fd = -EBADF;
        size_t files = 0, dirs = 0;
        int r;

        if (strchr(old_ts, '/') || !startswith(old_ts, ".."))
                return 0;
        ts_fd = openat(dir_fd, old_ts, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ts_fd < 0)
                return errno_means_changed(errno) ? 0 : negative_errno();
        for (size_t i = 0; i < p->n; i++) {
                r = file_matches(ts_fd, p->entries[i].path, p->entries[i].file);
                if (r <= 0)
                        return r;
        }
        r = count_tree(ts_fd, &files, &dirs);
        if (r < 0)
                return r;
        if (files != p->n || dirs != p->n_dirs)
                return 0;
        for (size_t i = 0; i < p->n_tops; i++) {
                _cleanup_free_ char *target = NULL;

                r = read_link_at(dir_fd, p->tops[i], &target);
                if (r < 0)
                        return errno_means_changed(-r) || r == -EINVAL ? 0 : r;
                if (!startswith(target, DATA_DIR_NAME "/") ||
                    !streq(target + strlen(DATA_DIR_NAME "/"), p->tops[i]))
                        return 0;
        }
        r = scan_stale_links(dir_fd, p, false);
        if (r < 0)
                return r;
        return r == 0;
}

/* Creates "..<UTC timestamp>.<random>" as the kubelet's ioutil.TempDir does, mode 0755
 * whatever the umask, so that any user in the container can walk it. */
static int make_ts_dir(int dir_fd, char **ret_name)
{
        char stamp[64], rnd[11];
        struct tm tm;
        time_t t = time(NULL);
        int r;

        if (!gmtime_r(&t, &tm) || strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.", &tm) == 0)
                return -EINVAL;
        for (int attempt = 0; attempt < 16; attempt++) {
                _cleanup_free_ char *name = NULL;

                r = random_name_suffix(rnd, sizeof(rnd) - 1);
                if (r < 0)
                        return r;
                name = strjoin(stamp, rnd, NULL);
                if (!name)
                        return -ENOMEM;
                if (mkdirat(dir_fd, name, 0755) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return negative_errno();
                }
                if (fchmodat(dir_fd, name, 0755, 0) < 0) {
                        r = negative_errno();
                        (void)unlinkat(dir_fd, name, AT_REMOVEDIR);
                        return r;
                }
                *ret_name = TAKE_PTR(name);
                return 0;
        }
        return -EEXIST;
}

/* Opens (creating, 0755) the directory that holds path below fd and points *ret_base at
 * the last element of path. */
static int open_parent(int fd, const char *path, const char **ret_base)
{
        _cleanup_close_ int cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        const char *p = path;

        if (cur < 0)
                return negative_errno();
        for (const char *slash; (slash = strchr(p, '/')); p = slash + 1) {
                _cleanup_free_ char *name = strndup(p, (size_t)(slash - p));
                int next;

                if (!name)
                        return -ENOMEM;
                if (mkdirat(cur, name, 0755) < 0) {
                        if (errno != EEXIST)
                                return negative_errno();
                } else if (fchmodat(cur, name, 0755, 0) < 0)
                        return negative_errno();
                next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return negative_errno();
                close(cur);
                cur = next;
        }
        *ret_base = p;
        return TAKE_FD(cur);
}

static int write_file_at(int fd, const char *path, const ProjectedFile *f)
{
        _cleanup_close_ int pfd = -EBADF, ffd = -EBADF;
        const char *base = NULL;
        size_t done = 0;

        pfd = open_parent(fd, path, &base);
        if (pfd < 0)
                return pfd;
        ffd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (ffd < 0)
                return negative_errno();
        while (done < f->size) {
                ssize_t k = write(ffd, (const char *)f->data + done, f->size - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                done += (size_t)k;
        }
        /* fchmod after writing: the mode may deny the owner write access, and the umask
         * must not narrow what the pod asked for. */
        if (fchmod(ffd, f->mode & 07777) < 0)
                return negative_errno();
        if (fsync(ffd) < 0)
                return negative_errno();
        return 0;
}

/* fsyncs every directory of the new version, so that the swap cannot survive a crash
 * that its files do not. */
static int fsync_tree(int fd)
{
        DIR *d;
        int r;

        r = opendir_at(fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_close_ int sub =
                    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = sub < 0 ? negative_errno() : fsync_tree(sub);
        }
        if (r >= 0 && fsync(dirfd(d)) < 0)
                r = negative_errno();
        closedir(d);
        return r;
}

/* Makes every top-level name a symlink to "..data/<name>"; created[i] records the links
 * this call made so that a failed write can take them back. */
static int link_visible_names(int dir_fd, const Payload *p, bool *created, char **ret_error)
{
        for (size_t i = 0; i < p->n_tops; i++) {
                const char *name = p->tops[i];
                _cleanup_free_ char *want = strjoin(DATA_DIR_NAME "/", name, NULL), *target = NULL;
                int r;

                if (!want)
                        return -ENOMEM;
                r = read_link_at(dir_fd, name, &target);
                if (r >= 0 && streq(target, want))
                        continue;
                if (r == -ENOENT) {
                        if (symlinkat(want, dir_fd, name) < 0)
                                return set_errorf(ret_error, negative_errno(),
                                                  "failed to create symlink %s: %m", name);
                        created[i] = true;
                        continue;
                }
                if (r >= 0) {
                        /* Ours with a stale target (or a stranger's link): replace it atomically. */
                        (void)unlinkat(dir_fd, NEW_DATA_DIR_NAME, 0);
                        if (symlinkat(want, dir_fd, NEW_DATA_DIR_NAME) < 0 ||
                            renameat(dir_fd, NEW_DATA_DIR_NAME, dir_fd, name) < 0)
                                return set_errorf(ret_error, negative_errno(),
                                                  "failed to replace symlink %s: %m", name);
                        continue;
                }
                return set_errorf(ret_error, r == -EINVAL ? -EEXIST : r,
                                  "cannot project %s: something that is not a symlink is in the way", name);
        }
        return 0;
}

/* Removes the earlier versions ("..<timestamp>" directories other than keep) after the
 * swap; this also sweeps up what a crashed write left behind. */
static int remove_old_versions(const char *dir, int dir_fd, const char *keep, char **ret_error)
{
        DIR *d;
        int r;

        r = opendir_at(dir_fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *path = NULL;
                struct stat st;
                int k;

                if (!startswith(de->d_name, "..") || streq(de->d_name, "..") || streq(de->d_name, keep) ||
                    streq(de->d_name, DATA_DIR_NAME) || streq(de->d_name, NEW_DATA_DIR_NAME))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                path = strjoin(dir, "/", de->d_name, NULL);
                k = path ? rm_rf(path) : -ENOMEM;
                if (k < 0 && r == 0)
                        r = set_errorf(ret_error, k, "failed to remove old data directory %s: %s",
                                       de->d_name, strerror(-k));
        }
        closedir(d);
        return r;
}

static int write_version(int dir_fd, const Payload *p, const char *ts, char **ret_error)
{
        _cleanup_close_ int ts_fd = openat(dir_fd, ts, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r;

        if (ts_fd < 0)
                return negative_errno();
        for (size_t i = 0; i < p->n; i++) {
                r = write_file_at(ts_fd, p->entries[i].path, p->entries[i].file);
                if (r < 0)
                        return set_errorf(ret_error, r, "failed to write %s: %s", p->entries[i].path,
                                          strerror(-r));
        }
        r = fsync_tree(ts_fd);
        if (r < 0)
                return set_errorf(ret_error, r, "failed to sync %s: %s", ts, strerror(-r));
        return 0;
}

static int swap_data_link(int dir_fd, const char *ts, char **ret_error)
{
        if (unlinkat(dir_fd, NEW_DATA_DIR_NAME, 0) < 0 && errno != ENOENT)
                return set_errorf(ret_error, negative_errno(),
                                  "failed to remove stale " NEW_DATA_DIR_NAME ": %m");
        if (symlinkat(ts, dir_fd, NEW_DATA_DIR_NAME) < 0)
                return set_errorf(ret_error, negative_errno(), "failed to create " NEW_DATA_DIR_NAME ": %m");
        if (renameat(dir_fd, NEW_DATA_DIR_NAME, dir_fd, DATA_DIR_NAME) < 0) {
                int r =
                    set_errorf(ret_error, negative_errno(), "failed to rename " NEW_DATA_DIR_NAME ": %m");
                (void)unlinkat(dir_fd, NEW_DATA_DIR_NAME, 0);
                return r;
        }
        if (fsync(dir_fd) < 0)
                return set_errorf(ret_error, negative_errno(), "failed to sync the volume directory: %m");
        return 0;
}

/* Takes back a write that failed before the swap: the new version and the links made. */
static void undo_write(const char *dir, int dir_fd, const Payload *p, const char *ts, const bool *created)
{
        _cleanup_free_ char *path = strjoin(dir, "/", ts, NULL);

        if (path)
                (void)rm_rf(path);
        for (size_t i = 0; i < p->n_tops; i++)
                if (created[i])
                        (void)unlinkat(dir_fd, p->tops[i], 0);
}

int atomic_write_dir(const char *dir, const ProjectedFile *files, size_t n, char **ret_error)
{
        _cleanup_(payload_done) Payload p = {};
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *old_ts = NULL, *ts = NULL;
        _cleanup_free_ bool *created = NULL;
        int r;

        /* Validate everything before touching the file system. */
        r = payload_prepare(files, n, &p, ret_error);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return set_errorf(ret_error, r, "failed to create %s: %s", dir, strerror(-r));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return set_errorf(ret_error, negative_errno(), "failed to open %s: %m", dir);

        r = read_link_at(dir_fd, DATA_DIR_NAME, &old_ts);
        if (r < 0 && r != -ENOENT)
                return set_errorf(ret_error, r, "failed to read %s/" DATA_DIR_NAME ": %s", dir,
                                  strerror(-r));
        if (old_ts) {
                r = payload_unchanged(dir_fd, old_ts, &p);
                if (r < 0)
                        return set_errorf(ret_error, r, "failed to compare %s with the payload: %s", dir,
                                          strerror(-r));
                if (r > 0)
                        return 0;
        }

        created = calloc(p.n_tops + 1, sizeof(bool));
        if (!created)
                return -ENOMEM;
        r = make_ts_dir(dir_fd, &ts);
        if (r < 0)
                return set_errorf(ret_error, r, "failed to create a data directory in %s: %s", dir,
                                  strerror(-r));
        r = write_version(dir_fd, &p, ts, ret_error);
        if (r >= 0)
                r = link_visible_names(dir_fd, &p, created, ret_error);
        if (r >= 0)
                r = swap_data_link(dir_fd, ts, ret_error);
        if (r < 0) {
                undo_write(dir, dir_fd, &p, ts, created);
                return r;
        }

        /* The new version is live: from here on only cleanup is left. */
        r = scan_stale_links(dir_fd, &p, true);
        if (r < 0)
                return set_errorf(ret_error, r, "failed to remove old symlinks in %s: %s", dir,
                                  strerror(-r));
        r = remove_old_versions(dir, dir_fd, ts, ret_error);
        if (r < 0)
                return r;
        return 1;
}
