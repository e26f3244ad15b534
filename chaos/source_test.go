package chaos

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		q    float64
		bs   []bucket
		want float64
		err  error
	}{
		{"middle of a bucket", 0.5, []bucket{{1, 0}, {2, 10}, {inf, 10}}, 1.5, nil},
		{"first bucket from zero", 0.5, []bucket{{4, 10}, {inf, 10}}, 2, nil},
		{"p99 in the last finite bucket", 0.99, []bucket{{0.1, 90}, {0.4, 100}, {inf, 100}}, 0.1 + 0.3*(99-90)/10, nil},
		{"rank in +Inf", 0.99, []bucket{{0.1, 50}, {inf, 100}}, 0.1, nil},
		{"unsorted, dipping counts", 0.5, []bucket{{inf, 10}, {2, 9}, {1, 10}}, 0.5, nil},
		{"empty", 0.5, []bucket{{1, 0}, {inf, 0}}, 0, errNoData},
		{"no +Inf", 0.5, []bucket{{1, 3}, {2, 4}}, 0, errNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := histogramQuantile(tt.q, tt.bs)
			if !errors.Is(err, tt.err) || (err == nil && math.Abs(got-tt.want) > 1e-9) {
				t.Fatalf("= %v, %v; want %v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// metricsServer serves the pages in turn, repeating the last.
type metricsServer struct {
	mu    sync.Mutex
	pages []string
	n     int
}

func (m *metricsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := min(m.n, len(m.pages)-1)
	m.n++
	if m.pages[i] == "500" {
		http.Error(w, "down", 500)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprint(w, m.pages[i])
}

func page(ok, errs, okOther float64, b1, b2, count float64) string {
	return fmt.Sprintf(`# TYPE calls_total counter
calls_total{module="z",outcome="ok"} %g
calls_total{module="z",outcome="error"} %g
calls_total{module="other",outcome="ok"} %g
# TYPE lat histogram
lat_bucket{module="z",le="0.1"} %g
lat_bucket{module="z",le="1"} %g
lat_bucket{module="z",le="+Inf"} %g
lat_sum{module="z"} 1
lat_count{module="z"} %g
# TYPE temp gauge
temp{room="a"} 20
temp{room="b"} 22
`, ok, errs, okOther, b1, b2, count, count)
}

func TestScrapeSource(t *testing.T) {
	ms := &metricsServer{pages: []string{
		page(100, 0, 5, 10, 10, 10),
		page(150, 10, 5, 10, 30, 30),
		page(20, 15, 5, 10, 50, 50) + "calls_total{module=\"z\",outcome=\"crash\"} 1000\n", // ok counter reset: 150 -> 20; a late series
	}}
	srv := httptest.NewServer(ms)
	defer srv.Close()
	tests := []struct {
		name string
		c    Condition
		want float64
	}{
		{"value sums the matching series", Condition{Metric: "temp", Func: FuncValue}, 42},
		{"value with a regexp", Condition{Metric: "temp", Labels: map[string]string{"room": "~a|c"}, Func: FuncValue}, 20},
		{"value with a negation", Condition{Metric: "calls_total", Labels: map[string]string{"module": "!other"}, Func: FuncValue}, 1035},
		{"increase across a reset", Condition{Metric: "calls_total", Labels: map[string]string{"module": "z", "outcome": "ok"}, Func: FuncIncrease, Window: Duration(time.Hour)}, 50 + 20},
		{"ratio", Condition{Metric: "calls_total", Labels: map[string]string{"module": "z", "outcome": "!ok"}, Func: FuncRatio,
			Over: &Selector{Labels: map[string]string{"module": "z"}}, Window: Duration(time.Hour)}, 15.0 / (70 + 15)},
		{"histogram count", Condition{Metric: "lat_count", Labels: map[string]string{"module": "z"}, Func: FuncIncrease, Window: Duration(time.Hour)}, 40},
		{"quantile", Condition{Metric: "lat", Labels: map[string]string{"module": "z"}, Func: FuncQuantile, Quantile: 0.5, Window: Duration(time.Hour)}, 0.1 + 0.9*(20.0/40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms.mu.Lock()
			ms.n = 0
			ms.mu.Unlock()
			c := tt.c
			c.Scrape, c.Timeout = srv.URL, Duration(5*time.Second)
			s := newSampler(srv.URL, srv.Client(), time.Hour)
			defer s.stop()
			src, err := newScrapeSource(&c, s)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var v float64
			for i := 0; i < 3; i++ {
				v, err = src.eval(ctx)
			}
			if err != nil || math.Abs(v-tt.want) > 1e-9 {
				t.Fatalf("= %v, %v; want %v", v, err, tt.want)
			}
			pts, _ := src.series(ctx, time.Now().Add(-time.Minute), time.Now(), time.Second)
			if c.Func == FuncValue && len(pts) != 3 || c.Func != FuncValue && len(pts) != 2 {
				t.Fatalf("series %v", pts)
			}
		})
	}
}

func TestScrapeSourceNoData(t *testing.T) {
	ms := &metricsServer{pages: []string{page(1, 0, 0, 0, 0, 0), "500"}}
	srv := httptest.NewServer(ms)
	defer srv.Close()
	c := Condition{Scrape: srv.URL, Metric: "calls_total", Labels: map[string]string{"module": "z"}, Func: FuncRate, Window: Duration(time.Hour), Timeout: Duration(time.Second)}
	s := newSampler(srv.URL, srv.Client(), time.Hour)
	defer s.stop()
	src, _ := newScrapeSource(&c, s)
	if _, err := src.eval(context.Background()); !errors.Is(err, errNoData) {
		t.Fatalf("one sample: %v, want no data", err)
	}
	if _, err := src.eval(context.Background()); err == nil {
		t.Fatal("a failing scrape gave a value")
	}
	// A metric that is not there has no data, not zero.
	c2 := Condition{Scrape: srv.URL, Metric: "nope", Func: FuncValue, Timeout: Duration(time.Second)}
	ms.n = 0
	src2, _ := newScrapeSource(&c2, s)
	if _, err := src2.eval(context.Background()); !errors.Is(err, errNoData) {
		t.Fatalf("missing metric: %v, want no data", err)
	}
}
