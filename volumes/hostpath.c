/* hostPath volumes: the kubelet's host path type checker (pkg/volume/hostpath), which may
 * create the path for the *OrCreate types, and the resolution of a volumeMount's subPath
 * below its volume, one path element at a time so that no symlink can lead out of it. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "macro.h"
#include "util.h"

#include "hostpath.h"

/* As many symlinks as the kernel follows in one lookup (MAXSYMLINKS). */
#define SUBPATH_MAX_SYMLINKS 40

static const struct {
        const char *name;
        HostPathType type;
        const char *what; /* for "... is not a <what>" */
} hostpath_types[] = {
    {"", HOSTPATH_UNSET, NULL},
    {"DirectoryOrCreate", HOSTPATH_DIRECTORY_OR_CREATE, "directory"},
    {"Directory", HOSTPATH_DIRECTORY, "directory"},
    {"FileOrCreate", HOSTPATH_FILE_OR_CREATE, "file"},
    {"File", HOSTPATH_FILE, "file"},
    {"Socket", HOSTPATH_SOCKET, "socket file"},
    {"CharDevice", HOSTPATH_CHAR_DEVICE, "character device"},
    {"BlockDevice", HOSTPATH_BLOCK_DEVICE, "block device"},
};

int hostpath_type_from_string(const char *s, HostPathType *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(hostpath_types); i++)
                if (streq(hostpath_types[i].name, s ? s : "")) {
                        *ret = hostpath_types[i].type;
                        return 0;
                }
        return -EINVAL;
}

static bool mode_matches(mode_t mode, HostPathType type)
{
        switch (type) {
        case HOSTPATH_DIRECTORY_OR_CREATE:
        case HOSTPATH_DIRECTORY:
                return S_ISDIR(mode);
        case HOSTPATH_FILE_OR_CREATE:
        case HOSTPATH_FILE:
                return S_ISREG(mode);
        case HOSTPATH_SOCKET:
                return S_ISSOCK(mode);
        case HOSTPATH_CHAR_DEVICE:
                return S_ISCHR(mode);
        case HOSTPATH_BLOCK_DEVICE:
                return S_ISBLK(mode);
        default:
                return true;
        }
}

/* The kubelet's makeDir/makeFile: only called when stat() found nothing. An EEXIST here
 * means something (e.g. a dangling symlink) appeared; the type check that follows decides. */
static int create_path(const char *path, HostPathType type, char **ret_error)
{
        int r;

        if (type == HOSTPATH_DIRECTORY_OR_CREATE) {
                r = mkdir_p(path, 0755);
                if (r < 0)
                        return set_errorf(ret_error, r, "failed to create hostPath directory %s: %s", path,
                                          strerror(-r));
                return 0;
        }
        int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return set_errorf(ret_error, negative_errno(), "failed to create hostPath file %s: %m",
                                  path);
        close(fd);
        return 0;
}

int hostpath_check(const char *path, HostPathType type, char **ret_error)
{
        const char *what = NULL;
        struct stat st;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(hostpath_types); i++)
                if (hostpath_types[i].type == type)
                        what = hostpath_types[i].what;
        if (type == HOSTPATH_UNSET)
                return 0;
        if (!what)
                return set_errorf(ret_error, -EINVAL, "%d is an invalid volume type", (int)type);
        if (isempty(path))
                return set_errorf(ret_error, -EINVAL, "hostPath type check failed: empty path is not a %s",
                                  what);

        /* stat(), not lstat(): like the kubelet, a symlink counts as what it points to. */
        if (stat(path, &st) < 0) {
                r = negative_errno();
                if (r == -ENOENT &&
                    (type == HOSTPATH_DIRECTORY_OR_CREATE || type == HOSTPATH_FILE_OR_CREATE)) {
                        r = create_path(path, type, ret_error);
                        if (r < 0)
                                return r;
                        if (stat(path, &st) < 0)
                                return set_errorf(ret_error, negative_errno(),
                                                  "hostPath type check failed: %s is not a %s: %m", path,
                                                  what);
                } else if (r == -ENOENT || r == -ENOTDIR)
                        return set_errorf(ret_error, -EINVAL, "hostPath type check failed: %s is not a %s",
                                          path, what);
                else
                        return set_errorf(
                            ret_error, r,
                            "hostPath type check failed, %s is not a %s, unable to determine its type: %m",
                            path, what);
        }
        if (!mode_matches(st.st_mode, type))
                return set_errorf(ret_error, -EINVAL, "hostPath type check failed: %s is not a %s", path,
                                  what);
        return 0;
}

/* The directories walked so far below the root: an fd and a name for each level. */
typedef struct Walk {
        int root_fd;
        int *fds;
        char **names;
        size_t depth, alloc;
} Walk;

static void walk_done(Walk *w)
{
        for (size_t i = 0; i < w->depth; i++) {
                safe_close(w->fds[i]);
                free(w->names[i]);
        }
        free(w->fds);
        free(w->names);
        safe_close(w->root_fd);
}

static int walk_cur(const Walk *w)
{
        return w->depth > 0 ? w->fds[w->depth - 1] : w->root_fd;
}

static void walk_pop(Walk *w)
{
        w->depth--;
        safe_close(w->fds[w->depth]);
        free(w->names[w->depth]);
}

static int walk_push(Walk *w, int fd, char *name)
{
        if (w->depth == w->alloc) {
                size_t n = w->alloc ? w->alloc * 2 : 8;
                int *fds = realloc(w->fds, n * sizeof(int));
                char **names;

                if (fds)
                        w->fds = fds; /* a larger array is still a valid one */
                names = fds ? realloc(w->names, n * sizeof(char *)) : NULL;
                if (!names) {
                        safe_close(fd);
                        free(name);
                        return -ENOMEM;
                }
                w->names = names;
                w->alloc = n;
        }
        w->fds[w->depth] = fd;
        w->names[w->depth++] = name;
        return 0;
}

/* prefix "/" names[0] "/" ... ["/" last]: the path walked so far, for results and messages. */
static char *walk_path(const Walk *w, const char *prefix, const char *last)
{
        size_t len = strlen(prefix) + (last ? strlen(last) + 1 : 0) + 1;
        char *s, *p;

        for (size_t i = 0; i < w->depth; i++)
                len += strlen(w->names[i]) + 1;
        s = malloc(len);
        if (!s)
                return NULL;
        p = stpcpy(s, prefix);
        for (size_t i = 0; i < w->depth; i++) {
                if (p != s && p[-1] != '/')
                        *p++ = '/';
                p = stpcpy(p, w->names[i]);
        }
        if (last) {
                if (p != s && p[-1] != '/')
                        *p++ = '/';
                p = stpcpy(p, last);
        }
        return s;
}

static bool has_dotdot_element(const char *path)
{
        for (const char *p = path; *p;) {
                size_t len = strcspn(p, "/");

                if (len == 2 && strneq(p, "..", 2))
                        return true;
                p += len;
                p += strspn(p, "/");
        }
        return false;
}

/* Where an absolute symlink target lies below root: the rest of it, or NULL outside. */
static const char *below_root(const char *root, const char *target)
{
        size_t len = strlen(root);

        if (streq(root, "/"))
                return target;
        if (strncmp(target, root, len) != 0 || (target[len] != '/' && target[len] != 0))
                return NULL;
        return target + len;
}

/* Opens name below the current directory, without following it, creating it as a directory
 * when asked. */
static int open_element(Walk *w, const char *name, bool create)
{
        int fd = openat(walk_cur(w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd >= 0 || errno != ENOENT || !create)
                return fd >= 0 ? fd : negative_errno();
        if (mkdirat(walk_cur(w), name, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(walk_cur(w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 ? fd : negative_errno();
}

/* Replaces *pending (whose unread rest is *p) with the symlink target followed by that rest;
 * an absolute target restarts the walk at the root, and must lie below it. A relative target
 * is checked element by element as the walk goes on: its ".." pops a level, never past root. */
static int follow_link(Walk *w, const char *root, const char *sub, int fd, const char *name, char **pending,
                       const char **p, char **ret_error)
{
        char target[PATH_MAX];
        const char *rest;
        ssize_t k = readlinkat(fd, "", target, sizeof(target) - 1);
        char *np;

        if (k < 0)
                return negative_errno();
        target[k] = 0;
        rest = target;
        if (target[0] == '/') {
                rest = below_root(root, target);
                if (!rest) {
                        _cleanup_free_ char *link = walk_path(w, "", name);
                        return set_errorf(
                            ret_error, -EINVAL,
                            "subPath \"%s\" must not leave the volume: symlink \"%s\" points to %s", sub,
                            link ? link : name, target);
                }
                while (w->depth > 0)
                        walk_pop(w);
        }
        np = strjoin(rest, "/", *p, NULL);
        if (!np)
                return -ENOMEM;
        free(*pending);
        *pending = np;
        *p = np;
        return 0;
}

static int walk_subpath(Walk *w, const char *root, const char *sub, bool create, char **ret_error)
{
        _cleanup_free_ char *pending = strdup(sub);
        const char *p = pending;
        unsigned links = 0;
        int r;

        if (!pending)
                return -ENOMEM;
        for (;;) {
                p += strspn(p, "/");
                if (!*p)
                        return 0;
                size_t len = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, len);
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (!name)
                        return -ENOMEM;
                p += len;
                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        /* Only a symlink target gets here: sub itself was checked. */
                        if (w->depth == 0)
                                return set_errorf(
                                    ret_error, -EINVAL,
                                    "subPath \"%s\" must not leave the volume: a symlink on the way "
                                    "points above it",
                                    sub);
                        walk_pop(w);
                        continue;
                }
                fd = open_element(w, name, create);
                if (fd == -ENOENT) {
                        _cleanup_free_ char *missing = walk_path(w, "", name);
                        return set_errorf(ret_error, fd, "subPath \"%s\" does not exist: %s is missing", sub,
                                          missing ? missing : name);
                }
                if (fd < 0)
                        return set_errorf(ret_error, fd, "failed to resolve subPath \"%s\" at %s: %s", sub,
                                          name, strerror(-fd));
                if (fstat(fd, &st) < 0)
                        return negative_errno();
                if (S_ISLNK(st.st_mode)) {
                        if (++links > SUBPATH_MAX_SYMLINKS)
                                return set_errorf(ret_error, -ELOOP,
                                                  "subPath \"%s\": too many levels of symlinks", sub);
                        r = follow_link(w, root, sub, fd, name, &pending, &p, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!S_ISDIR(st.st_mode) && p[strspn(p, "/")]) {
                        _cleanup_free_ char *file = walk_path(w, "", name);
                        return set_errorf(ret_error, -ENOTDIR, "subPath \"%s\": %s is not a directory", sub,
                                          file ? file : name);
                }
                r = walk_push(w, TAKE_FD(fd), TAKE_PTR(name));
                if (r < 0)
                        return r;
        }
}

int subpath_resolve(const char *root, const char *sub, bool create, char **ret_path, char **ret_error)
{
        _cleanup_(walk_done) Walk w = {.root_fd = -EBADF};
        _cleanup_free_ char *root_real = NULL;
        char *path;
        int r;

        if (!sub)
                sub = "";
        if (sub[0] == '/')
                return set_errorf(ret_error, -EINVAL, "subPath \"%s\" must be a relative path", sub);
        if (has_dotdot_element(sub))
                return set_errorf(ret_error, -EINVAL, "subPath \"%s\" must not contain '..'", sub);
        root_real = realpath(root, NULL);
        if (!root_real)
                return set_errorf(ret_error, negative_errno(), "failed to resolve volume path %s: %m", root);
        w.root_fd = open(root_real, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (w.root_fd < 0)
                return set_errorf(ret_error, negative_errno(), "failed to open volume path %s: %m",
                                  root_real);

        r = walk_subpath(&w, root_real, sub, create, ret_error);
        if (r < 0)
                return r;
        path = walk_path(&w, root_real, NULL);
        if (!path)
                return -ENOMEM;
        *ret_path = path;
        return 0;
}
