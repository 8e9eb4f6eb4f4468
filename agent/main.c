/* berth: one binary for the agent ("berth agent"), the per-container shim ("berth shim")
 * and the kubectl-like CLI (every other verb). */
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
        return cli_main(argc, argv);
}
