/* The command-line client: kubectl's verbs and flags against the agent's API socket, plus
 * commands that need no agent (validate, version --client). */
#pragma once

/* Runs one CLI command; argv[0] is the program name. Returns the process exit status. */
int cli_main(int argc, char **argv);
