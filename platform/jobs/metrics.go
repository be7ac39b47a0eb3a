package jobs

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// metrics are the queue's counters per kind. Readiness does not look at
// the backlog: a long queue is a reason to scale workers, not to take a
// replica out of the load balancer.
type metrics struct {
	enqueued, completed, failed, retried, discarded, cancelled *prometheus.CounterVec
	latency                                                    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"kind"})
	}
	m := &metrics{
		enqueued:  counter("jobs_enqueued_total", "Jobs enqueued by this process (inside a transaction: counted whether or not it commits)."),
		completed: counter("jobs_completed_total", "Jobs this process completed."),
		failed:    counter("jobs_failed_total", "Attempts that failed in this process (retried or discarded)."),
		retried:   counter("jobs_retried_total", "Failed attempts that will be retried."),
		discarded: counter("jobs_discarded_total", "Jobs discarded after their last attempt failed."),
		cancelled: counter("jobs_cancelled_total", "Jobs their worker cancelled."),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jobs_queue_latency_seconds",
			Help:    "Time a job waited, available, before this process started it.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 9), // 10 ms to ~11 min
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.enqueued, m.completed, m.failed, m.retried, m.discarded, m.cancelled, m.latency} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				continue // a second queue in one registry (tests) shares them
			}
			return nil, fmt.Errorf("jobs: register metrics: %w", err)
		}
	}
	return m, nil
}

var observedEvents = []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled}

// observe counts one event of a job worked here.
func (m *metrics) observe(e *river.Event) {
	if e.Job == nil {
		return
	}
	kind := e.Job.Kind
	if e.JobStats != nil {
		m.latency.WithLabelValues(kind).Observe(e.JobStats.QueueWaitDuration.Seconds())
	}
	switch e.Kind {
	case river.EventKindJobCompleted:
		m.completed.WithLabelValues(kind).Inc()
	case river.EventKindJobCancelled:
		m.cancelled.WithLabelValues(kind).Inc()
	case river.EventKindJobFailed:
		m.failed.WithLabelValues(kind).Inc()
		if e.Job.State == rivertype.JobStateDiscarded {
			m.discarded.WithLabelValues(kind).Inc()
		} else {
			m.retried.WithLabelValues(kind).Inc()
		}
	}
}
