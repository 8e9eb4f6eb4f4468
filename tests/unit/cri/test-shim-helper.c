/* Stands in for the berth binary in the runtime tests: "test-shim-helper shim DIR". */
#include <string.h>

#include "runtime.h"

int main(int argc, char *argv[])
{
        if (argc != 3 || strcmp(argv[1], "shim") != 0)
                return 2;
        return runtime_shim_main(argv[2]);
}
