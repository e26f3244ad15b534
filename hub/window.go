package hub

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseWindow parses a duration that may use days and weeks: "30d",
// "1d", "2w", "12h", "90m" or any time.ParseDuration form. It must be
// positive.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	switch {
	case strings.HasSuffix(s, "d"), strings.HasSuffix(s, "w"):
		unit := 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			unit *= 7
		}
		var n float64
		n, err = strconv.ParseFloat(s[:len(s)-1], 64)
		if err == nil && (n > 100*365 || n != n) {
			err = fmt.Errorf("too long")
		}
		d = time.Duration(n * float64(unit))
	default:
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("cgoguard: %q is not a positive duration like 30d, 1d, 12h or 90m", s)
	}
	return d, nil
}

// ParseSince parses a point in time given as RFC 3339 ("2026-11-01T00:00:00Z"),
// a date ("2026-11-01", UTC) or a window back from now ("7d", "24h").
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := ParseWindow(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("cgoguard: since %q is not a time (2026-11-01 or RFC 3339) or a window (7d, 24h)", s)
}
