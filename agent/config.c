/* config: being written. */
#include "manager.h"
