/* What the tests that need root share: the loop devices a test leaves behind: those whose backing file lies
 * below the test's directory (deleted images too, which sysfs shows as "path (deleted)"), found through
 * /sys/block, and their removal at the end of the test. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Calls f (may be NULL) for each loop device backed by a file below dir; returns how many. */
size_t test_loops_below(const char *dir, void (*f)(const char *dev));
/* Detaches every loop device backed below dir, and waits up to 5 s for those still open
 * somewhere (udev's probe) to go; returns how many are still there. */
size_t test_loops_detach_below(const char *dir);
/* Whether this process has capability cap (CAP_SYS_RESOURCE...) in its effective set: some
 * sandboxes drop capabilities even for root. */
bool test_have_capability(int cap);
/* Skips the test (with a reason) when not root, and fails it instead under CI=true: loop
 * devices and mounts need root. */
void test_require_root(const char *test);
