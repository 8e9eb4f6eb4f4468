/* The atomic writer against a real directory under /tmp: the "..data" layout, the swap, the
 * no-op on an unchanged payload, and the path rules. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "util.h"

#include "atomic-writer.h"

static char tmp[] = "/tmp/berth-test-aw-XXXXXX";
static char vol[64];

static void setup(void)
{
        cr_assert_not_null(mkdtemp(tmp));
        snprintf(vol, sizeof(vol), "%s/vol", tmp);
}

static void teardown(void)
{
        cr_assert_eq(rm_rf(tmp), 0);
}

#define FILE_(p, s, m)                                                                                      \
        ((ProjectedFile){.path = (char *)(p), .data = (void *)(s), .size = strlen(s), .mode = (m)})

static char *slurp(const char *rel)
{
        char path[PATH_MAX], *buf = NULL;

        snprintf(path, sizeof(path), "%s/%s", vol, rel);
        cr_assert_eq(read_full_file(path, 1 << 20, &buf, NULL), 0, "reading %s", path);
        return buf;
}

static char *link_of(const char *rel)
{
        char path[PATH_MAX], buf[PATH_MAX];
        ssize_t k;

        snprintf(path, sizeof(path), "%s/%s", vol, rel);
        k = readlink(path, buf, sizeof(buf) - 1);
        cr_assert_geq(k, 0, "readlink %s: %m", path);
        buf[k] = 0;
        return strdup(buf);
}

static bool exists(const char *rel)
{
        char path[PATH_MAX];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", vol, rel);
        return lstat(path, &st) == 0;
}

/* The names in vol, sorted and joined with spaces, with the timestamped dir as "TS". */
static char *listing(void)
{
        struct dirent **de;
        char *out = strdup("");
        int n = scandir(vol, &de, NULL, alphasort);

        cr_assert_geq(n, 0);
        for (int i = 0; i < n; i++) {
                const char *name = de[i]->d_name;
                char *s;

                if (!streq(name, ".") && !streq(name, "..")) {
                        bool ts = startswith(name, "..") && !streq(name, "..data");
                        s = strjoin(out, *out ? " " : "", ts ? "TS" : name, NULL);
                        free(out);
                        out = s;
                }
                free(de[i]);
        }
        free(de);
        return out;
}

static void assert_content(const char *rel, const char *want)
{
        _cleanup_free_ char *got = slurp(rel);

        cr_assert_str_eq(got, want, "%s", rel);
}

TestSuite(atomic_writer, .init = setup, .fini = teardown);

Test(atomic_writer, first_write_creates_data_link_and_visible_links)
{
        ProjectedFile files[] = {FILE_("a", "one", 0644), FILE_("b/c", "two", 0644)};
        _cleanup_free_ char *data = NULL, *la = NULL, *lb = NULL, *names = NULL;
        char *err = NULL;
        struct stat st;

        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), &err), 1);
        cr_assert_null(err);
        data = link_of("..data");
        cr_assert(startswith(data, "..") && !strchr(data, '/'), "..data -> %s", data);
        la = link_of("a");
        lb = link_of("b");
        cr_assert_str_eq(la, "..data/a");
        cr_assert_str_eq(lb, "..data/b");
        assert_content("a", "one");
        assert_content("b/c", "two");
        names = listing();
        cr_assert_str_eq(names, "TS ..data a b");
        cr_assert_eq(stat(vol, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0755);
}

Test(atomic_writer, unchanged_payload_returns_zero_and_touches_nothing)
{
        ProjectedFile files[] = {FILE_("a", "one", 0644), FILE_("b/c", "two", 0600)};
        _cleanup_free_ char *data1 = NULL, *data2 = NULL;
        char path[PATH_MAX];
        struct stat a1, a2, l1, l2, d1, d2;

        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), NULL), 1);
        data1 = link_of("..data");
        snprintf(path, sizeof(path), "%s/a", vol);
        cr_assert_eq(stat(path, &a1), 0);
        cr_assert_eq(lstat(path, &l1), 0);
        snprintf(path, sizeof(path), "%s/..data", vol);
        cr_assert_eq(lstat(path, &d1), 0);

        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), NULL), 0);
        data2 = link_of("..data");
        cr_assert_str_eq(data1, data2);
        snprintf(path, sizeof(path), "%s/a", vol);
        cr_assert_eq(stat(path, &a2), 0);
        cr_assert_eq(lstat(path, &l2), 0);
        snprintf(path, sizeof(path), "%s/..data", vol);
        cr_assert_eq(lstat(path, &d2), 0);
        cr_assert_eq(a1.st_ino, a2.st_ino);
        cr_assert_eq(a1.st_mtim.tv_sec, a2.st_mtim.tv_sec);
        cr_assert_eq(a1.st_mtim.tv_nsec, a2.st_mtim.tv_nsec);
        cr_assert_eq(l1.st_ino, l2.st_ino);
        cr_assert_eq(d1.st_ino, d2.st_ino);
        cr_assert_eq(d1.st_mtim.tv_nsec, d2.st_mtim.tv_nsec);
}

Test(atomic_writer, update_swaps_data_and_old_readers_keep_old_content)
{
        ProjectedFile v1[] = {FILE_("a", "old", 0644)}, v2[] = {FILE_("a", "new content", 0644)};
        _cleanup_free_ char *ts1 = NULL, *ts2 = NULL, *names = NULL;
        _cleanup_close_ int fd = -EBADF;
        char path[PATH_MAX], buf[64];
        ssize_t k;

        cr_assert_eq(atomic_write_dir(vol, v1, 1, NULL), 1);
        ts1 = link_of("..data");
        snprintf(path, sizeof(path), "%s/a", vol);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);

        cr_assert_eq(atomic_write_dir(vol, v2, 1, NULL), 1);
        ts2 = link_of("..data");
        cr_assert_str_neq(ts1, ts2);
        cr_assert_not(exists(ts1), "old data dir %s is still there", ts1);
        assert_content("a", "new content");
        k = pread(fd, buf, sizeof(buf) - 1, 0);
        cr_assert_eq(k, 3);
        buf[k] = 0;
        cr_assert_str_eq(buf, "old");
        names = listing();
        cr_assert_str_eq(names, "TS ..data a");
}

Test(atomic_writer, removed_keys_disappear)
{
        ProjectedFile v1[] = {FILE_("a", "1", 0644), FILE_("b/c", "2", 0644), FILE_("d", "3", 0644)};
        ProjectedFile v2[] = {FILE_("a", "1", 0644)};
        _cleanup_free_ char *names = NULL;

        cr_assert_eq(atomic_write_dir(vol, v1, ELEMENTSOF(v1), NULL), 1);
        cr_assert_eq(atomic_write_dir(vol, v2, ELEMENTSOF(v2), NULL), 1);
        cr_assert_not(exists("b"));
        cr_assert_not(exists("d"));
        assert_content("a", "1");
        names = listing();
        cr_assert_str_eq(names, "TS ..data a");
        /* and back: the removed names come back */
        cr_assert_eq(atomic_write_dir(vol, v1, ELEMENTSOF(v1), NULL), 1);
        assert_content("b/c", "2");
        assert_content("d", "3");
}

Test(atomic_writer, removing_a_nested_file_is_a_change)
{
        ProjectedFile v1[] = {FILE_("b/c", "2", 0644), FILE_("b/e", "3", 0644)};
        ProjectedFile v2[] = {FILE_("b/c", "2", 0644)};

        cr_assert_eq(atomic_write_dir(vol, v1, ELEMENTSOF(v1), NULL), 1);
        cr_assert_eq(atomic_write_dir(vol, v2, ELEMENTSOF(v2), NULL), 1);
        cr_assert(exists("b/c"));
        cr_assert_not(exists("b/e"));
        cr_assert_eq(atomic_write_dir(vol, v2, ELEMENTSOF(v2), NULL), 0);
}

Test(atomic_writer, nested_paths_get_walkable_directories)
{
        ProjectedFile files[] = {FILE_("x/y/z", "deep", 0644), FILE_("x/w", "shallow", 0644),
                                 FILE_("p//q/./r", "cleaned", 0644)};
        _cleanup_free_ char *lx = NULL, *names = NULL, *data = NULL;
        char path[PATH_MAX];
        struct stat st;

        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), NULL), 1);
        assert_content("x/y/z", "deep");
        assert_content("x/w", "shallow");
        assert_content("p/q/r", "cleaned");
        lx = link_of("x");
        cr_assert_str_eq(lx, "..data/x");
        data = link_of("..data");
        snprintf(path, sizeof(path), "%s/%s/x/y", vol, data);
        cr_assert_eq(lstat(path, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(st.st_mode & 07777, 0755);
        snprintf(path, sizeof(path), "%s/%s", vol, data);
        cr_assert_eq(lstat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0755);
        names = listing();
        cr_assert_str_eq(names, "TS ..data p x");
        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), NULL), 0);
}

Test(atomic_writer, modes_are_applied_whatever_the_umask)
{
        ProjectedFile files[] = {FILE_("a", "1", 0600), FILE_("b", "2", 0777), FILE_("c/d", "3", 0440)};
        ProjectedFile changed[] = {FILE_("a", "1", 0400), FILE_("b", "2", 0777), FILE_("c/d", "3", 0440)};
        char path[PATH_MAX];
        struct stat st;
        mode_t old = umask(077);

        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), NULL), 1);
        umask(old);
        snprintf(path, sizeof(path), "%s/a", vol);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600);
        snprintf(path, sizeof(path), "%s/b", vol);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0777);
        snprintf(path, sizeof(path), "%s/c/d", vol);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0440);
        /* a mode change alone is an update */
        cr_assert_eq(atomic_write_dir(vol, changed, ELEMENTSOF(changed), NULL), 1);
        snprintf(path, sizeof(path), "%s/a", vol);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0400);
        cr_assert_eq(atomic_write_dir(vol, changed, ELEMENTSOF(changed), NULL), 0);
}

Test(atomic_writer, empty_and_binary_payloads)
{
        static const char bin[] = {'\0', '\xff', '\n', '\0'};
        ProjectedFile files[] = {
            {.path = (char *)"bin", .data = (void *)bin, .size = sizeof(bin), .mode = 0644},
            {.path = (char *)"empty", .data = NULL, .size = 0, .mode = 0644}};
        _cleanup_free_ char *buf = NULL, *names = NULL;
        char path[PATH_MAX];
        size_t size;

        cr_assert_eq(atomic_write_dir(vol, NULL, 0, NULL), 1);
        names = listing();
        cr_assert_str_eq(names, "TS ..data");
        cr_assert_eq(atomic_write_dir(vol, NULL, 0, NULL), 0);
        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), NULL), 1);
        snprintf(path, sizeof(path), "%s/bin", vol);
        cr_assert_eq(read_full_file(path, 100, &buf, &size), 0);
        cr_assert_eq(size, sizeof(bin));
        cr_assert_arr_eq(buf, bin, sizeof(bin));
        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), NULL), 0);
}

Test(atomic_writer, rewrites_a_user_visible_link_that_went_missing)
{
        ProjectedFile files[] = {FILE_("a", "1", 0644)};
        char path[PATH_MAX];

        cr_assert_eq(atomic_write_dir(vol, files, 1, NULL), 1);
        snprintf(path, sizeof(path), "%s/a", vol);
        cr_assert_eq(unlink(path), 0);
        cr_assert_eq(atomic_write_dir(vol, files, 1, NULL), 1);
        assert_content("a", "1");
}

static void assert_rejected(const char *p, const char *msg)
{
        ProjectedFile files[] = {FILE_("good", "x", 0644), FILE_(p, "y", 0644)};
        char *err = NULL;

        cr_assert_eq(atomic_write_dir(vol, files, ELEMENTSOF(files), &err), -EINVAL, "%s", p);
        cr_assert_str_eq(err, msg);
        free(err);
        err = NULL;
        cr_assert_eq(projected_path_validate(p, &err), -EINVAL);
        cr_assert_str_eq(err, msg);
        free(err);
}

Test(atomic_writer, bad_paths_are_rejected_before_anything_is_written)
{
        _cleanup_free_ char *want = NULL;
        char longname[300];

        memset(longname, 'x', 256);
        longname[256] = 0;
        assert_rejected("", "invalid path: must not be empty: \"\"");
        assert_rejected("/etc/passwd", "invalid path: must be relative path: /etc/passwd");
        assert_rejected("a/../b", "invalid path: must not contain '..': a/../b");
        assert_rejected("..", "invalid path: must not contain '..': ..");
        assert_rejected("..data", "invalid path: must not start with '..': ..data");
        assert_rejected("./..data", "invalid path: must not start with '..': ./..data");
        assert_rejected(".", "invalid path: must name a file: .");
        cr_assert_gt(
            asprintf_safe(&want, "invalid path: filenames must be less than or equal to 255 characters: %s",
                          longname),
            0);
        assert_rejected(longname, want);
        cr_assert_not(exists(""), "%s was created", vol);
        cr_assert_eq(projected_path_validate("a/..b/c", NULL), 0);
        cr_assert_eq(projected_path_validate("..", NULL), -EINVAL);
}

Test(atomic_writer, bad_payload_leaves_the_current_version_alone)
{
        ProjectedFile good[] = {FILE_("a", "1", 0644)};
        ProjectedFile dup[] = {FILE_("a", "1", 0644), FILE_("./a", "2", 0644)};
        ProjectedFile clash[] = {FILE_("a", "1", 0644), FILE_("a-b", "1", 0644), FILE_("a/b", "2", 0644)};
        _cleanup_free_ char *ts1 = NULL, *ts2 = NULL, *names = NULL;
        char *err = NULL;

        cr_assert_eq(atomic_write_dir(vol, good, 1, NULL), 1);
        ts1 = link_of("..data");
        cr_assert_eq(atomic_write_dir(vol, dup, ELEMENTSOF(dup), &err), -EINVAL);
        cr_assert_str_eq(err, "invalid path: a is given twice");
        free(err);
        err = NULL;
        cr_assert_eq(atomic_write_dir(vol, clash, ELEMENTSOF(clash), &err), -EINVAL);
        cr_assert_str_eq(err, "invalid path: a/b needs a to be a directory, but it is a file");
        free(err);
        ts2 = link_of("..data");
        cr_assert_str_eq(ts1, ts2);
        names = listing();
        cr_assert_str_eq(names, "TS ..data a");
        assert_content("a", "1");
}

Test(atomic_writer, sweeps_versions_a_crashed_write_left_behind)
{
        ProjectedFile v1[] = {FILE_("a", "1", 0644)}, v2[] = {FILE_("a", "2", 0644)};
        _cleanup_free_ char *names = NULL;
        char path[PATH_MAX];

        cr_assert_eq(atomic_write_dir(vol, v1, 1, NULL), 1);
        snprintf(path, sizeof(path), "%s/..2020_01_01_00_00_00.crashed", vol);
        cr_assert_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/..data_tmp", vol);
        cr_assert_eq(symlink("nowhere", path), 0);
        cr_assert_eq(atomic_write_dir(vol, v2, 1, NULL), 1);
        names = listing();
        cr_assert_str_eq(names, "TS ..data a");
        assert_content("a", "2");
}
