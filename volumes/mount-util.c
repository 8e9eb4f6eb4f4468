/* The mount table read through libmount, and mounts that first ask mountinfo whether what is
 * wanted is already there: mounting twice stacks nothing, unmounting what is not mounted is
 * fine, and a mount that failed halfway (a bind whose read-only remount failed) is taken
 * down again instead of being left behind. */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

/* after sys/mount.h: libmount.h defines the MS_* flags only where they are missing */
#include <libmount.h>

#include "log.h"
#include "util.h"

#include "mount-util.h"

#define PROC_SELF_MOUNTINFO "/proc/self/mountinfo"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_table *, mnt_unref_table);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_iter *, mnt_free_iter);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_context *, mnt_free_context);

/* The part of path below prefix ("" when both name the same directory) when prefix is path or
 * one of its ancestors by whole components, else NULL: /a/b is below /a, /ab is not. Repeated
 * and trailing slashes do not matter. */
static const char *path_below(const char *path, const char *prefix)
{
        for (;;) {
                path += strspn(path, "/");
                prefix += strspn(prefix, "/");
                if (*prefix == '\0')
                        return path;
                size_t a = strcspn(path, "/"), b = strcspn(prefix, "/");
                if (a != b || memcmp(path, prefix, a) != 0)
                        return NULL;
                path += a;
                prefix += b;
        }
}

static bool path_equal(const char *a, const char *b)
{
        const char *rest = path_below(a, b);

        return rest && *rest == '\0';
}

static size_t path_depth(const char *path)
{
        size_t n = 0;

        for (;;) {
                path += strspn(path, "/");
                if (*path == '\0')
                        return n;
                path += strcspn(path, "/");
                n++;
        }
}

/* mountinfo spells mount points without symlinks; a path that cannot be resolved (missing, or
 * below a dead network mount) is compared as written. */
static int canonical_path(const char *path, char **ret)
{
        char *p;

        if (isempty(path) || path[0] != '/')
                return -EINVAL;
        p = realpath(path, NULL);
        if (!p) {
                if (errno == ENOMEM)
                        return -ENOMEM;
                p = strdup(path);
                if (!p)
                        return -ENOMEM;
        }
        *ret = p;
        return 0;
}

/* true when optstr ("rw,nosuid,relatime") holds the option name, with or without a value */
static bool has_option(const char *optstr, const char *name)
{
        size_t len = strlen(name);

        for (const char *p = optstr; p && *p; p += strcspn(p, ","), p += *p == ',') {
                if (strneq(p, name, len) && (p[len] == ',' || p[len] == '=' || p[len] == '\0'))
                        return true;
        }
        return false;
}

static void mount_entry_done(MountEntry *e)
{
        free(e->root);
        free(e->target);
        free(e->source);
        free(e->fstype);
        free(e->vfs_options);
        free(e->fs_options);
        free(e->optional);
        *e = (MountEntry){};
}

void mount_table_done(MountTable *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++)
                mount_entry_done(&t->entries[i]);
        free(t->entries);
        *t = (MountTable){};
}

/* Fields libmount leaves NULL (an empty source, no optional fields) become "" so that
 * callers never test for NULL. */
static int entry_fill(MountEntry *e, struct libmnt_fs *fs)
{
        struct {
                char **field;
                const char *value;
        } strings[] = {
            {&e->root, mnt_fs_get_root(fs)},
            {&e->target, mnt_fs_get_target(fs)},
            {&e->source, mnt_fs_get_source(fs)},
            {&e->fstype, mnt_fs_get_fstype(fs)},
            {&e->vfs_options, mnt_fs_get_vfs_options(fs)},
            {&e->fs_options, mnt_fs_get_fs_options(fs)},
            {&e->optional, mnt_fs_get_optional_fields(fs)},
        };
        dev_t devno = mnt_fs_get_devno(fs);

        e->id = mnt_fs_get_id(fs);
        e->parent_id = mnt_fs_get_parent_id(fs);
        e->major = major(devno);
        e->minor = minor(devno);
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                *strings[i].field = strdup(strings[i].value ?: "");
                if (!*strings[i].field)
                        return -ENOMEM;
        }
        if (isempty(e->target))
                return -EBADMSG;
        return 0;
}

/* libmount skips lines it cannot parse; a table with a mount missing would make a mount look
 * absent, so each bad line is counted and the whole file refused. */
static int on_parse_error(struct libmnt_table *tb, const char *filename, int line)
{
        unsigned *bad = mnt_table_get_userdata(tb);

        if (bad)
                (*bad)++;
        log_debug("%s:%d: not a mountinfo line", filename, line);
        return 1;
}

int mount_table_parse(const char *path, MountTable *ret)
{
        _cleanup_(mnt_unref_tablep) struct libmnt_table *tb = NULL;
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = NULL;
        _cleanup_(mount_table_done) MountTable t = {};
        struct libmnt_fs *fs;
        unsigned bad = 0;
        int r;

        if (!ret)
                return -EINVAL;
        path = path ?: PROC_SELF_MOUNTINFO;
        tb = mnt_new_table();
        it = mnt_new_iter(MNT_ITER_FORWARD);
        if (!tb || !it)
                return -ENOMEM;
        r = mnt_table_set_userdata(tb, &bad);
        if (r < 0)
                return r;
        r = mnt_table_set_parser_errcb(tb, on_parse_error);
        if (r < 0)
                return r;
        r = mnt_table_parse_file(tb, path);
        if (r < 0)
                return log_debug_errno(-r, "Failed to parse '%s': %m", path);
        if (bad > 0)
                return log_debug_errno(EBADMSG, "'%s' has %u bad lines", path, bad);

        t.entries = calloc(MAX(mnt_table_get_nents(tb), 1), sizeof(MountEntry));
        if (!t.entries)
                return -ENOMEM;
        while ((r = mnt_table_next_fs(tb, it, &fs)) == 0) {
                /* libmount guesses the format from the first line: an fstab parses too */
                if (!mnt_fs_is_kernel(fs))
                        return log_debug_errno(EBADMSG, "'%s' is not a mountinfo file", path);
                r = entry_fill(&t.entries[t.n++], fs);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        *ret = t;
        t = (MountTable){};
        return 0;
}

/* The mount on top of a stack at one target is the one no other mount there sits on; ids are
 * reused, so neither the id nor (after a move) the file order tells it reliably. */
static bool is_covered(const MountTable *t, const MountEntry *e)
{
        for (size_t i = 0; i < t->n; i++) {
                const MountEntry *f = &t->entries[i];

                if (f != e && f->parent_id == e->id && path_equal(f->target, e->target))
                        return true;
        }
        return false;
}

const MountEntry *mount_table_find_target(const MountTable *t, const char *target)
{
        if (!t || !target)
                return NULL;
        for (size_t i = t->n; i > 0; i--) {
                const MountEntry *e = &t->entries[i - 1];

                if (path_equal(e->target, target) && !is_covered(t, e))
                        return e;
        }
        return NULL;
}

typedef struct BelowItem {
        const MountEntry *entry;
        size_t depth; /* components of the target */
        size_t level; /* ancestors among the selected mounts */
        size_t index; /* file order */
} BelowItem;

static int below_item_compare(const void *a, const void *b)
{
        const BelowItem *x = a, *y = b;

        if (x->depth != y->depth)
                return x->depth > y->depth ? -1 : 1;
        if (x->level != y->level)
                return x->level > y->level ? -1 : 1;
        return x->index > y->index ? -1 : x->index < y->index;
}

/* How many of the selected mounts lie under items[i] in the mount tree: a mount stacked on
 * another at the same target has to go first although both targets are equally deep. */
static size_t below_item_level(const BelowItem *items, size_t n, size_t i)
{
        size_t level = 0;
        int parent = items[i].entry->parent_id;

        /* bounded by n: mountinfo from outside could hold a cycle */
        while (level < n) {
                size_t j;

                for (j = 0; j < n; j++)
                        if (items[j].entry->id == parent && j != i)
                                break;
                if (j == n)
                        break;
                level++;
                parent = items[j].entry->parent_id;
        }
        return level;
}

int mount_table_below(const MountTable *t, const char *prefix, const MountEntry ***ret, size_t *ret_n)
{
        _cleanup_free_ BelowItem *items = NULL;
        const MountEntry **v;
        size_t n = 0;

        if (!t || isempty(prefix) || !ret || !ret_n)
                return -EINVAL;
        items = calloc(MAX(t->n, 1), sizeof(BelowItem));
        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                if (path_below(t->entries[i].target, prefix))
                        items[n++] = (BelowItem){
                            .entry = &t->entries[i],
                            .depth = path_depth(t->entries[i].target),
                            .index = i,
                        };
        for (size_t i = 0; i < n; i++)
                items[i].level = below_item_level(items, n, i);
        qsort(items, n, sizeof(BelowItem), below_item_compare);

        v = calloc(MAX(n, 1), sizeof(MountEntry *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = items[i].entry;
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Reads the live table into t and finds the mount on top at target (already canonical). */
static int live_top(const char *target, MountTable *t, const MountEntry **ret_top)
{
        int r = mount_table_parse(NULL, t);

        if (r < 0)
                return r;
        *ret_top = mount_table_find_target(t, target);
        return 0;
}

int mount_is_mountpoint(const char *target)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ char *canon = NULL;
        const MountEntry *top;
        int r;

        r = canonical_path(target, &canon);
        if (r < 0)
                return r;
        r = live_top(canon, &t, &top);
        if (r < 0)
                return r;
        return !!top;
}

/* Turns the outcome of a libmount context into 0 or a negative errno, once. */
static int context_result(struct libmnt_context *cxt, int r, const char *target)
{
        char buf[256] = "";
        int e;

        if (r == 0 && mnt_context_get_status(cxt) == 1)
                return 0;
        (void)mnt_context_get_excode(cxt, r, buf, sizeof(buf));
        if (mnt_context_syscall_called(cxt) && (e = mnt_context_get_syscall_errno(cxt)) > 0)
                r = -e;
        else if (mnt_context_helper_executed(cxt))
                r = -EIO; /* the mount.<type> helper printed why; its exit code carries no errno */
        else if (r <= -MNT_ERR_NOFSTAB)
                switch (-r) {
                case MNT_ERR_NOFSTYPE:
                case MNT_ERR_AMBIFS:
                        r = -ENODEV;
                        break;
                case MNT_ERR_LOOPDEV:
                        r = -ENXIO;
                        break;
                case MNT_ERR_LOOPOVERLAP:
                        r = -EBUSY;
                        break;
                case MNT_ERR_LOCK:
                        r = -ENOLCK;
                        break;
                default: /* no fstab entry, no source, bad options, propagation, namespace */
                        r = -EINVAL;
                        break;
                }
        else if (r > 0)
                r = -r; /* some versions hand the mount(2) errno back positive */
        else if (r == 0)
                r = -EIO;
        return log_debug_errno(-r, "Failed to mount on '%s': %s", target, buf[0] ? buf : "error");
}

static int context_mount(const char *source, const char *target, const char *fstype, const char *options)
{
        _cleanup_(mnt_free_contextp) struct libmnt_context *cxt = mnt_new_context();
        int r;

        if (!cxt)
                return -ENOMEM;
        /* mountinfo is the only table berth reads: no utab to lock or write, no fstab to apply */
        r = mnt_context_disable_mtab(cxt, 1);
        if (r >= 0)
                r = mnt_context_set_optsmode(cxt, MNT_OMODE_IGNORE);
        if (r >= 0)
                r = mnt_context_set_source(cxt, source);
        if (r >= 0)
                r = mnt_context_set_target(cxt, target);
        if (r >= 0 && !isempty(fstype))
                r = mnt_context_set_fstype(cxt, fstype);
        if (r >= 0 && !isempty(options))
                r = mnt_context_set_options(cxt, options);
        if (r < 0)
                return r;
        return context_result(cxt, mnt_context_mount(cxt), target);
}

/* A failed mount may still have put something on target (the bind of "bind,ro" before its
 * remount failed): whatever now lies above the mount that was on top before goes again. */
static void undo_partial_mount(const char *target, int top_id_before)
{
        _cleanup_(mount_table_done) MountTable t = {};
        const MountEntry *top;

        for (unsigned i = 0; i < 16; i++) {
                if (live_top(target, &t, &top) < 0 || !top || top->id == top_id_before)
                        return;
                log_debug("Unmounting '%s' (mount %d) left by a failed mount", target, top->id);
                if (umount2(target, UMOUNT_NOFOLLOW) < 0 &&
                    umount2(target, UMOUNT_NOFOLLOW | MNT_DETACH) < 0)
                        return;
                mount_table_done(&t);
        }
}

/* Creates a missing mount point: a directory, or an empty file where a file is bound. */
static int prepare_target(const char *source, const char *target, bool bind)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (!bind)
                return mkdir_p(target, 0755);
        if (stat(source, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return mkdir_p(target, 0755);
        if (lstat(target, &st) == 0)
                return 0;
        if (errno != ENOENT)
                return negative_errno();
        parent = strdup(target);
        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = '\0';
        if (parent[0]) {
                r = mkdir_p(parent, 0755);
                if (r < 0)
                        return r;
        }
        fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0644);
        if (fd < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

/* Whether top (the mount on target) is already what was asked for. mountinfo names a bind
 * by the device it lives on, not by the path bound, so a bind is recognised by the inode. */
static bool is_wanted_mount(const MountEntry *top, const char *target, const char *source,
                            const char *fstype, bool bind)
{
        _cleanup_free_ char *canon = NULL;
        struct stat a, b;

        if (bind)
                return stat(source, &a) == 0 && stat(target, &b) == 0 && a.st_dev == b.st_dev &&
                       a.st_ino == b.st_ino;
        if (!isempty(fstype) && !streq(fstype, "auto") && !streq(top->fstype, fstype))
                return false;
        if (streq(top->source, source))
                return true;
        /* "/dev/disk/by-uuid/..." shows as the device it points to */
        return source[0] == '/' && canonical_path(source, &canon) == 0 && streq(top->source, canon);
}

/* The remount of a bind keeps nosuid, nodev, noexec and the atime mode: the kernel sets the
 * per-mount flags to exactly those passed, and refuses to clear locked ones. */
static int remount_bind_read_only(const char *target)
{
        static const struct {
                unsigned long st, ms;
        } map[] = {
            {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},           {ST_NOEXEC, MS_NOEXEC},
            {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
        };
        unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
        struct statvfs sv;

        if (statvfs(target, &sv) < 0)
                return negative_errno();
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (sv.f_flag & map[i].st)
                        flags |= map[i].ms;
        if (!(sv.f_flag & (ST_NOATIME | ST_RELATIME)))
                flags |= MS_STRICTATIME;
        if (mount(NULL, target, NULL, flags, NULL) < 0)
                return log_debug_errno(errno, "Failed to remount '%s' read-only: %m", target);
        return 0;
}

static const MountEntry *find_id(const MountTable *t, int id)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->entries[i].id == id)
                        return &t->entries[i];
        return NULL;
}

/* Whether top and every mount on it, however deep, is read-only. */
static bool tree_is_read_only(const MountTable *t, const MountEntry *top)
{
        for (size_t i = 0; i < t->n; i++) {
                const MountEntry *e = &t->entries[i];

                if (has_option(e->vfs_options, "ro"))
                        continue;
                /* bounded: mountinfo from outside could hold a cycle */
                for (size_t steps = 0; e && steps <= t->n; steps++, e = find_id(t, e->parent_id))
                        if (e == top)
                                return false;
        }
        return true;
}

/* The remount that makes a bind read-only reaches only its top mount, not what "rbind"
 * brought along: mark the whole tree with mount_setattr(2), or, before Linux 5.12, remount
 * each mount below target that can be reached by its path. */
static int make_tree_read_only(const char *target)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ const MountEntry **v = NULL;
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        size_t n;
        int r;

        if (mount_setattr(AT_FDCWD, target, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &attr, sizeof(attr)) >= 0)
                return 0;
        if (errno != ENOSYS)
                return log_debug_errno(errno, "Failed to make '%s' read-only: %m", target);
        r = mount_table_parse(NULL, &t);
        if (r < 0)
                return r;
        r = mount_table_below(&t, target, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!has_option(v[i]->vfs_options, "ro")) {
                        r = remount_bind_read_only(v[i]->target);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Makes an existing wanted mount match the read-only asked for: an agent that died between
 * a bind and its remount left it writable. */
static int fix_read_only(const MountTable *t, const MountEntry *top, const char *target, unsigned long flags)
{
        if ((flags & (MS_BIND | MS_RDONLY)) != (MS_BIND | MS_RDONLY))
                return 0;
        if (flags & MS_REC)
                return tree_is_read_only(t, top) ? 0 : make_tree_read_only(target);
        return has_option(top->vfs_options, "ro") ? 0 : remount_bind_read_only(target);
}

/* flags: the MS_BIND, MS_REC and MS_RDONLY that options hold */
static int mount_idempotent(const char *source, const char *target, const char *fstype, const char *options,
                            unsigned long flags)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ char *canon = NULL;
        const MountEntry *top;
        bool bind = flags & MS_BIND;
        int r, top_id;

        if (isempty(source) || isempty(target) || target[0] != '/')
                return -EINVAL;
        r = prepare_target(source, target, bind);
        if (r < 0)
                return r;
        r = canonical_path(target, &canon);
        if (r < 0)
                return r;
        r = live_top(canon, &t, &top);
        if (r < 0)
                return r;
        if (top && is_wanted_mount(top, canon, source, fstype, bind))
                return fix_read_only(&t, top, canon, flags);

        top_id = top ? top->id : -1;
        r = context_mount(source, canon, fstype, options);
        if (r >= 0 && (flags & (MS_BIND | MS_REC | MS_RDONLY)) == (MS_BIND | MS_REC | MS_RDONLY))
                r = make_tree_read_only(canon);
        if (r < 0)
                undo_partial_mount(canon, top_id);
        return r;
}

int mount_do(const char *source, const char *target, const char *fstype, const char *options)
{
        unsigned long flags = 0;
        int r;

        if (!isempty(options)) {
                r = mnt_optstr_get_flags(options, &flags, mnt_get_builtin_optmap(MNT_LINUX_MAP));
                if (r < 0)
                        return -EINVAL;
        }
        return mount_idempotent(source, target, fstype, options, flags);
}

int mount_bind(const char *source, const char *target, bool read_only, bool recursive)
{
        const char *options =
            recursive ? (read_only ? "rbind,ro" : "rbind") : (read_only ? "bind,ro" : "bind");

        return mount_idempotent(source, target, NULL, options,
                                MS_BIND | (recursive ? MS_REC : 0) | (read_only ? MS_RDONLY : 0));
}

int mount_tmpfs(const char *target, uint64_t size_bytes, mode_t mode)
{
        char options[64];

        if (mode & ~(mode_t)07777)
                return -EINVAL;
        if (size_bytes > 0)
                snprintf(options, sizeof(options), "mode=%04o,size=%" PRIu64, (unsigned)mode, size_bytes);
        else
                snprintf(options, sizeof(options), "mode=%04o", (unsigned)mode);
        return mount_do("tmpfs", target, "tmpfs", options);
}

int mount_umount(const char *target)
{
        _cleanup_free_ char *canon = NULL;
        int r, failed_id = -1;

        r = canonical_path(target, &canon);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(mount_table_done) MountTable t = {};
                const MountEntry *top;

                r = live_top(canon, &t, &top);
                if (r < 0)
                        return r;
                if (!top)
                        return 0;
                if (umount2(canon, UMOUNT_NOFOLLOW) >= 0)
                        continue;
                /* someone else may have unmounted it in between: fail only on the same mount */
                r = negative_errno();
                if (top->id == failed_id)
                        return log_debug_errno(-r, "Failed to unmount '%s': %m", canon);
                failed_id = top->id;
        }
}

/* One pass over the mounts below prefix, deepest first; returns how many went, or the last
 * error when none did. */
static int umount_below_pass(const char *prefix, bool *ret_done)
{
        _cleanup_(mount_table_done) MountTable t = {};
        _cleanup_free_ const MountEntry **v = NULL;
        size_t n;
        int r, count = 0;

        r = mount_table_parse(NULL, &t);
        if (r < 0)
                return r;
        r = mount_table_below(&t, prefix, &v, &n);
        if (r < 0)
                return r;
        *ret_done = n == 0;
        for (size_t i = 0; i < n; i++) {
                if (umount2(v[i]->target, UMOUNT_NOFOLLOW) >= 0)
                        count++;
                else
                        r = log_debug_errno(errno, "Failed to unmount '%s': %m", v[i]->target);
        }
        return count > 0 ? count : r;
}

int mount_umount_below(const char *prefix)
{
        _cleanup_free_ char *canon = NULL;
        int r, total = 0;

        r = canonical_path(prefix, &canon);
        if (r < 0)
                return r;
        /* A mount hidden below a later mount on an ancestor cannot be reached by its path until
         * that one is gone: repeat while a pass makes progress. */
        for (;;) {
                bool done = false;

                r = umount_below_pass(canon, &done);
                if (r < 0)
                        return r;
                if (done)
                        return total;
                total += r;
        }
}

int mount_set_propagation(const char *target, unsigned long flags)
{
        unsigned long type = flags & ~(unsigned long)MS_REC;

        if (isempty(target) || target[0] != '/' ||
            (type != MS_PRIVATE && type != MS_SLAVE && type != MS_SHARED))
                return -EINVAL;
        if (mount(NULL, target, NULL, flags, NULL) < 0)
                return log_debug_errno(errno, "Failed to change propagation of '%s': %m", target);
        return 0;
}
