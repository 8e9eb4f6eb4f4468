/* berth-shim: the per-container supervisor as its own small program, so that each running
 * container costs a process linked only with libc, cJSON, libseccomp and libsystemd rather
 * than a copy of the whole agent. Invoked as "berth-shim shim DIR" (the same arguments the
 * agent binary accepts). */
#include <stdio.h>
#include <string.h>

#include "runtime.h"

int main(int argc, char **argv)
{
        if (argc != 3 || strcmp(argv[1], "shim") != 0) {
                fprintf(stderr, "usage: berth-shim shim DIR (started by the berth agent)\n");
                return 2;
        }
        return runtime_shim_main(argv[2]);
}
