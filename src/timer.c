/* timer: millisecond timers on libevent events. */
#include <sys/time.h>

#include "cutover/timer.h"

void
timer_arm(struct event *ev, uint64_t ms)
{
	struct timeval tv;

	if (ms == 0) {
		if (evtimer_pending(ev, NULL))
			evtimer_del(ev);
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(ev, &tv);
}
