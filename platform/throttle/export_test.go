package throttle

import "time"

// SetClock makes l read the time from now.
func SetClock(l *Limiter, now func() time.Time) { l.now = now }
