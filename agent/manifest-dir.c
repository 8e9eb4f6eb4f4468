/* manifest-dir: being written. */
#include "manager.h"
