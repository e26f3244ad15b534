package cgoguard

import (
	"math"
	"sync"
	"time"
)

// Stats is a snapshot of a module's counters and state.
type Stats struct {
	Name  string
	State State
	// Reason says why the state is not Closed ("" when it is).
	Reason string
	// Calls by outcome since the module was created.
	OK, Errors, Crashes, Timeouts, Rejected uint64
	// CrashesBySignal counts crashes by signal name ("SIGSEGV").
	CrashesBySignal map[string]uint64
	InFlight        int64 // calls running in C now
	Abandoned       int64 // timed-out calls still running in C
	// Durations is the histogram of the durations of the timed calls (a
	// random sample, one call in WithHistogramSampling on average; every
	// call with WithHistogramSampling(1)); empty unless the module was
	// created WithMetrics(MetricsHistogram).
	Durations Histogram
	// RecentCrashes are the last crashes, oldest first (at most 16).
	RecentCrashes []CrashRecord
	// LastError is the text of the last failure ("" if none).
	LastError string
	// CrashReports counts the crash reports written to the crash directory
	// (WithCrashDir); CrashReportErrors those that could not be written,
	// the last of whose errors is LastCrashReportError.
	CrashReports, CrashReportErrors uint64
	LastCrashReportError            string
	Created                         time.Time
	Resets                          int
}

// Calls returns the number of calls by outcome.
func (s Stats) Calls() map[Outcome]uint64 {
	return map[Outcome]uint64{
		OutcomeOK: s.OK, OutcomeError: s.Errors, OutcomeCrash: s.Crashes,
		OutcomeTimeout: s.Timeouts, OutcomeRejected: s.Rejected,
	}
}

// Histogram is a cumulative histogram of durations in seconds, in the form
// Prometheus expects.
type Histogram struct {
	Count   uint64
	Sum     float64 // seconds
	Buckets []Bucket
}

// Bucket counts the observations at or below UpperBound seconds
// (cumulative).
type Bucket struct {
	UpperBound float64
	Count      uint64
}

// Stats returns a snapshot of the module's counters. It takes a lock shared
// with the module's slow paths and reads every thread's counters: call it
// from metrics scrapes, not from the call path.
func (m *Module) Stats() Stats {
	c := m.slotStats()
	st := Stats{
		Name:      m.name,
		State:     m.State(),
		OK:        c.ok + m.goOK.Load(),
		Errors:    c.err + m.goErr.Load(),
		Crashes:   c.crash + m.goCrash.Load(),
		Timeouts:  m.timeouts.Load(),
		Rejected:  m.rejected.Load(),
		InFlight:  m.InFlight(),
		Abandoned: m.abandoned.Load(),
	}
	if m.mode&modeTime != 0 {
		st.Durations = ticksHistogram(c)
	}
	m.mu.Lock()
	st.Reason = m.reason
	st.CrashesBySignal = make(map[string]uint64, len(m.crashes))
	for s, n := range m.crashes {
		st.CrashesBySignal[SignalName(s)] = n
	}
	st.RecentCrashes = append([]CrashRecord(nil), m.recent...)
	if m.lastErr != nil {
		st.LastError = m.lastErr.Error()
	}
	st.CrashReports, st.CrashReportErrors = m.reportsWritten, m.reportErrors
	st.LastCrashReportError = m.lastReportErr
	st.Created = m.created
	st.Resets = m.resetCount
	m.mu.Unlock()
	return st
}

// slotStats returns this module's C counters less what the slot held
// before the module took it.
func (m *Module) slotStats() slotStats {
	if m.slot < 0 {
		return slotStats{}
	}
	s := readSlot(m.slot)
	b := m.baseline
	s.started -= b.started
	s.ok -= b.ok
	s.err -= b.err
	s.crash -= b.crash
	s.other -= b.other
	s.sumTicks -= b.sumTicks
	for i := range s.hist {
		s.hist[i] -= b.hist[i]
	}
	return s
}

// SignalsHealthy checks that cgoguard's signal handlers are still
// installed; it returns a *HandlerError naming a signal another party took.
func SignalsHealthy() error { return checkHandlers() }

var (
	calMu    sync.Mutex
	calTick0 uint64
	calMono0 uint64
	calFinal float64 // the measurement once it spans calSettle
)

// calSettle is how long the TSC is measured before its rate is fixed: by
// then the two clock reads' skew is below 1e-6 of the span.
const calSettle = time.Second

// secondsPerTick returns the length of a trampoline tick in seconds. With
// the TSC it is measured against CLOCK_MONOTONIC since the first use; once
// the measurement spans calSettle it is fixed, so the histogram's bucket
// bounds (Prometheus le labels) stay the same from scrape to scrape.
func secondsPerTick() float64 {
	if !tickSource() {
		return 1e-9
	}
	calMu.Lock()
	defer calMu.Unlock()
	if calFinal != 0 {
		return calFinal
	}
	if calMono0 == 0 {
		calTick0, calMono0 = ticksNow(), monoNanos()
	}
	for {
		dt, dn := ticksNow()-calTick0, monoNanos()-calMono0
		if dn >= uint64(2*time.Millisecond) && dt > 0 {
			spt := float64(dn) / float64(dt) * 1e-9
			if dn >= uint64(calSettle) {
				calFinal = spt
			}
			return spt
		}
		time.Sleep(time.Millisecond)
	}
}

// ticksHistogram converts the power-of-two tick buckets of the trampoline
// into a cumulative histogram in seconds. Bucket i of the trampoline holds
// durations of bit length i, that is below 2^i ticks; pairs of buckets are
// merged (powers of four) to keep the series few.
func ticksHistogram(s slotStats) Histogram {
	spt := secondsPerTick()
	h := Histogram{Count: s.timed(), Sum: float64(s.sumTicks) * spt}
	first, last := -1, -1
	for i, n := range s.hist {
		if n != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	// Always show a fixed range so series stay stable across scrapes:
	// from about 8ns up to about 60s.
	lo := int(math.Floor(math.Log2(8e-9 / spt)))
	hi := int(math.Ceil(math.Log2(64 / spt)))
	if lo < 1 {
		lo = 1
	}
	if first >= 0 && first < lo {
		lo = first
	}
	if last > hi {
		hi = last
	}
	if lo%2 == 1 {
		lo--
	}
	var cum uint64
	for i := 0; i <= lo && i < len(s.hist); i++ {
		cum += s.hist[i]
	}
	for i := lo; i < len(s.hist) && i <= hi+1; i += 2 {
		if i > lo {
			cum += s.hist[i-1] + s.hist[i]
		}
		h.Buckets = append(h.Buckets, Bucket{UpperBound: math.Ldexp(1, i) * spt, Count: cum})
	}
	return h
}
