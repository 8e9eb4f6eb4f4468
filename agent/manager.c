/* manager: being written. */
#include "manager.h"
