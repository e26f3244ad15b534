package server

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/internal/pgtest"
)

// benchBackends runs f per backend; PostgreSQL is skipped without its
// binaries.
func benchBackends(b *testing.B, f func(b *testing.B, e *env)) {
	b.Run("sqlite", func(b *testing.B) { f(b, newEnv(b, sqliteDSN(b))) })
	b.Run("postgres", func(b *testing.B) { f(b, newEnv(b, pgtest.Need(b).NewDatabase(b))) })
}

// run32 is a 32-check run with evidence, about the shipped checklist's size.
func run32(started time.Time) *hub.Result {
	outs := make([]checklist.Outcome, 32)
	for i := range outs {
		outs[i] = []checklist.Outcome{checklist.Pass, checklist.Pass, checklist.Pass, checklist.Fail, checklist.Skip}[i%5]
	}
	r := result(started, outs...)
	for i := range r.Checks {
		r.Checks[i].Evidence.Stdout = strings.Repeat(fmt.Sprintf("check %d: line of evidence output\n", i), 60) // ~2 KiB
		r.Checks[i].Findings = []checklist.Finding{{Rule: "CG013", Message: "C.CString is never freed", File: "x.go", Line: i + 1}}
	}
	return r
}

type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	q := func(p float64) float64 { return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

func post(b *testing.B, url, tok string, body []byte) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 201 && res.StatusCode != 204 {
		b.Fatalf("status %d", res.StatusCode)
	}
}

// BenchmarkUpload measures one upload of a 32-check run with evidence at a
// time, with p50/p99 latency; "floor" posts the same bytes to a handler
// that only reads them (HTTP and transfer alone).
func BenchmarkUpload(b *testing.B) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var seq atomic.Int64
	body := func() []byte {
		n := seq.Add(1)
		return uploadBody(b, fmt.Sprintf("bench-%d", n), run32(start.Add(time.Duration(n)*time.Second)), hub.Context{Repo: "org/svc", Branch: "main"})
	}
	b.Run("floor", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(204)
		}))
		defer srv.Close()
		bodies := make([][]byte, 0, 64)
		for range 64 {
			bodies = append(bodies, body())
		}
		b.SetBytes(int64(len(bodies[0])))
		var lat latencies
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			post(b, srv.URL, "", bodies[i%64])
			lat = append(lat, time.Since(t0))
		}
		lat.report(b)
	})
	benchBackends(b, func(b *testing.B, e *env) {
		tok := e.tokens[hub.RoleRunner]
		var lat latencies
		b.ResetTimer()
		for b.Loop() {
			bd := body()
			t0 := time.Now()
			post(b, e.srv.URL+"/api/v1/runs", tok, bd)
			lat = append(lat, time.Since(t0))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
		lat.report(b)
	})
}

// BenchmarkUploadParallel measures throughput with 8 concurrent uploaders.
func BenchmarkUploadParallel(b *testing.B) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var seq atomic.Int64
	benchBackends(b, func(b *testing.B, e *env) {
		tok := e.tokens[hub.RoleRunner]
		b.SetParallelism(4) // 4 × GOMAXPROCS (2 here) = 8 uploaders
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				post(b, e.srv.URL+"/api/v1/runs", tok, uploadBody(b, fmt.Sprintf("par-%d", n), run32(start.Add(time.Duration(n)*time.Second)), hub.Context{}))
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
	})
}

// BenchmarkRunsPage measures the runs list page (50 rows, HTML) and the
// same list as JSON, with 100 and with 10,000 stored runs: paging keeps the
// page's cost independent of the history's length.
func BenchmarkRunsPage(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dsn := sqliteDSN(b)
			if backend == "postgres" {
				dsn = pgtest.Need(b).NewDatabase(b)
			}
			e := newEnv(b, dsn)
			stored := 0
			fill := func(n int) {
				start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				var batch []*hub.Run
				for ; stored < n; stored++ {
					res := result(start.Add(time.Duration(stored)*time.Minute), checklist.Pass, checklist.Fail, checklist.Pass, checklist.Skip)
					r, err := hub.Decode(uploadBody(b, fmt.Sprintf("seed-%05d", stored), res,
						hub.Context{Repo: "org/svc", Branch: []string{"main", "dev"}[stored%2]}), hub.DecodeOptions{})
					if err != nil {
						b.Fatal(err)
					}
					r.Received = r.Started
					batch = append(batch, r)
					if len(batch) == 500 {
						if _, err := e.st.PutRuns(context.Background(), batch); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
				if _, err := e.st.PutRuns(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				if backend == "postgres" {
					// Statistics as autovacuum keeps them on a database that
					// grew over time, rather than the empty table's.
					db, err := sql.Open("pgx", dsn)
					if err != nil {
						b.Fatal(err)
					}
					defer db.Close()
					if _, err := db.Exec("ANALYZE"); err != nil {
						b.Fatal(err)
					}
				}
			}
			v := e.tokens[hub.RoleViewer]
			get := func(b *testing.B, path string) {
				var lat latencies
				for b.Loop() {
					t0 := time.Now()
					req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
					req.Header.Set("Authorization", "Bearer "+v)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Fatalf("status %d", res.StatusCode)
					}
					lat = append(lat, time.Since(t0))
				}
				lat.report(b)
			}
			for _, n := range []int{100, 10000} {
				fill(n)
				b.Run(fmt.Sprintf("runs=%d/page", n), func(b *testing.B) { get(b, "/runs") })
				b.Run(fmt.Sprintf("runs=%d/page-branch", n), func(b *testing.B) { get(b, "/runs?branch=dev&outcome=fail") })
				b.Run(fmt.Sprintf("runs=%d/api", n), func(b *testing.B) { get(b, "/api/v1/runs") })
			}
		})
	}
}
