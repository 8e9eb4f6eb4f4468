/* Internal: the systemd backend's connection to its manager on the agent's loop: the system
 * manager's private socket (as systemctl uses it as root) or a message bus, re-established
 * once a second after it is lost (a daemon-reexec closes it), and calls to the manager whose
 * answers nobody waits for, but which are not lost when the connection is closed. */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct SystemdBus SystemdBus;

/* After every connection (the first one included): install matches, read state again. */
typedef void (*systemd_bus_connected_t)(sd_bus *bus, void *userdata);
/* The connection is lost: every slot of the old one is to be dropped (its calls are not
 * answered any more). Called from the bus's own dispatch. */
typedef void (*systemd_bus_lost_t)(void *userdata);

/* endpoint: an absolute path is a manager's private socket, anything else a D-Bus address
 * of a message bus; NULL: /run/systemd/private as root when it exists, else the system bus.
 * Fails when the first connection cannot be made; connected is called before this returns. */
int systemd_bus_new(SystemdBus **ret, sd_event *e, const char *endpoint, systemd_bus_connected_t connected,
                    systemd_bus_lost_t lost, void *userdata);
/* Waits a bounded time for the answers to the calls still out (a manager drops what it had not
 * read of a connection that closes), then closes. The caller's slots must be gone by then. */
SystemdBus *systemd_bus_free(SystemdBus *b);
/* The connection, or NULL while it is being re-established. */
sd_bus *systemd_bus_get(SystemdBus *b);
/* Calls method of org.freedesktop.systemd1.Manager with the arguments of types; failures are
 * only logged (at debug): what they mean shows in the units' state. */
void systemd_bus_call(SystemdBus *b, const char *method, const char *types, ...);
