/* split: see include/cutover/split.h (being written). */
#include "cutover/split.h"
int split_placeholder_(void);
int split_placeholder_(void) { return 0; }
