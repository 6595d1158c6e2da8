/* upstream_rt: see include/cutover/upstream_rt.h (being written). */
#include "cutover/upstream_rt.h"
int upstream_rt_placeholder_(void);
int upstream_rt_placeholder_(void) { return 0; }
