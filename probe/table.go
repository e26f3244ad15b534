package probe

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"
)

// WriteTable writes the snapshot as a text table, one row per function and
// module. With prev (an earlier snapshot of the same probe, or nil) it adds
// each row's calls per second since prev.
func WriteTable(w io.Writer, s *Snapshot, prev *Snapshot) error {
	guard := "not a cgoguard process: calls are labelled by --module only"
	if s.Guarded {
		guard = "calls labelled with the module of their guarded call"
	}
	fmt.Fprintf(w, "cgoguard probe: pid %d, %d functions, %s, %s\n", s.PID, len(s.Functions), s.Elapsed.Round(100*time.Millisecond), guard)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tFUNCTION\tOBJECT\tCALLS\tCALLS/S\tERRORS\tTHREADS\tMEAN\tP50\tP99")
	var before map[[3]string]uint64
	var dt float64
	if prev != nil {
		before = map[[3]string]uint64{}
		for _, f := range prev.Functions {
			before[[3]string{f.Module, f.Function, f.Object}] = f.Calls
		}
		dt = s.Time.Sub(prev.Time).Seconds()
	} else if s.Elapsed > 0 {
		dt = s.Elapsed.Seconds()
	}
	for _, f := range s.Functions {
		rate := "-"
		if dt > 0 {
			rate = strconv.FormatFloat(float64(f.Calls-before[[3]string{f.Module, f.Function, f.Object}])/dt, 'f', 1, 64)
		}
		mod := f.Module
		if mod == "" {
			mod = "-"
		}
		mean, p50, p99 := "-", "-", "-"
		if f.Calls > 0 {
			mean = fmtDuration(f.Mean())
			p50 = "<" + fmtDuration(f.Quantile(0.5))
			p99 = "<" + fmtDuration(f.Quantile(0.99))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\n", mod, f.Function, filepath.Base(f.Object),
			f.Calls, rate, f.Errors, len(f.Threads), mean, p50, p99)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Dropped > 0 || s.Uncounted > 0 {
		fmt.Fprintf(w, "lost: %d trace events (ring buffer full), %d calls (count table full)\n", s.Dropped, s.Uncounted)
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

// fmtDuration prints three significant digits.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'g', 3, 64) + "s"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'g', 3, 64) + "ms"
	case d >= time.Microsecond:
		return strconv.FormatFloat(float64(d)/1e3, 'g', 3, 64) + "µs"
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}
