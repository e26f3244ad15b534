package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cgoguard hub"`)
	}
	writeJSON(w, code, map[string]string{"error": msg})
}

// status maps an error to its HTTP status and the message to show.
func (s *Server) status(r *http.Request, err error) (int, string) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes (the hub's --max-body)", tooBig.Limit)
	case errors.Is(err, hub.ErrUnauthorized):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, hub.ErrForbidden):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, hub.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, hub.ErrConflict), errors.Is(err, hub.ErrLeaseLost):
		return http.StatusConflict, err.Error()
	case errors.Is(err, hub.ErrNotFound):
		return http.StatusNotFound, err.Error()
	}
	s.o.logger.Error("hub request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "internal error: the hub could not complete the request (see its log)"
}

func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.status(r, err)
	writeError(w, code, msg)
}

func (s *Server) postRun(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.metrics.uploads.WithLabelValues("invalid").Inc()
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.metrics.uploads.WithLabelValues("too_large").Inc()
		}
		s.apiError(w, r, err)
		return
	}
	run, err := hub.Decode(body, hub.DecodeOptions{EvidenceCap: s.o.evidenceCap})
	if err != nil {
		s.metrics.uploads.WithLabelValues("invalid").Inc()
		s.apiError(w, r, err)
		return
	}
	run.Received = s.o.now().UTC()
	if p := principalOf(r); p != nil {
		run.UploadedBy = p.token.Name
	}
	created, err := s.st.PutRun(r.Context(), run)
	if err != nil {
		if errors.Is(err, hub.ErrConflict) {
			s.metrics.uploads.WithLabelValues("conflict").Inc()
		}
		s.apiError(w, r, err)
		return
	}
	resp := hub.Receipt{ID: run.ID, Status: "created", URL: "/runs/" + run.ID}
	code := http.StatusCreated
	if !created {
		resp.Status, code = "duplicate", http.StatusOK
	}
	s.metrics.uploads.WithLabelValues(resp.Status).Inc()
	w.Header().Set("Location", resp.URL)
	writeJSON(w, code, resp)
}

// runFilter reads the runs list's query parameters.
func (s *Server) runFilter(r *http.Request) (store.RunFilter, error) {
	q := r.URL.Query()
	f := store.RunFilter{Repo: q.Get("repo"), Branch: q.Get("branch"), Outcome: q.Get("outcome"),
		Checklist: q.Get("checklist"), Cursor: q.Get("cursor")}
	inv := &hub.InvalidError{What: "query"}
	if v := q.Get("since"); v != "" {
		t, err := hub.ParseSince(v, s.o.now())
		if err != nil {
			inv.Problems = append(inv.Problems, err.Error())
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			inv.Problems = append(inv.Problems, fmt.Sprintf("limit %q is not a number from 1 to %d", v, store.MaxLimit))
		}
		f.Limit = n
	}
	if len(inv.Problems) > 0 {
		return f, inv
	}
	return f, nil
}

func (s *Server) getRuns(w http.ResponseWriter, r *http.Request) {
	f, err := s.runFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := s.st.Runs(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.st.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// window reads ?window= (default def) and returns the window's start.
func (s *Server) window(r *http.Request, def time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get("window")
	if v == "" {
		return def, nil
	}
	d, err := hub.ParseWindow(v)
	if err != nil {
		return 0, &hub.InvalidError{What: "query", Problems: []string{"window: " + err.Error()}}
	}
	return d, nil
}

func (s *Server) statsFilter(r *http.Request) (store.StatsFilter, time.Duration, error) {
	q := r.URL.Query()
	win, err := s.window(r, s.o.statsWindow)
	if err != nil {
		return store.StatsFilter{}, 0, err
	}
	return store.StatsFilter{Checklist: q.Get("checklist"), Repo: q.Get("repo"), Branch: q.Get("branch"),
		Since: s.o.now().Add(-win)}, win, nil
}

// ChecksResponse is the body of GET /api/v1/checks: each check's
// statistics and value card, and the card rules in force.
type ChecksResponse struct {
	Since  time.Time        `json:"since"`
	Checks []hub.CheckValue `json:"checks"`
	Rules  hub.CardRules    `json:"card_rules"`
}

func (s *Server) getChecks(w http.ResponseWriter, r *http.Request) {
	f, _, err := s.statsFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	st, err := s.st.CheckStats(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	vals, err := s.values(r.Context(), st)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ChecksResponse{Since: f.Since.UTC(), Checks: vals, Rules: s.o.cardRules})
}

// trendFilter reads ?window=30d&bucket=1d: buckets are aligned to
// multiples of the bucket width (UTC midnight for days), the last one
// holding now.
func (s *Server) trendFilter(r *http.Request) (store.TrendFilter, error) {
	q := r.URL.Query()
	win, err := s.window(r, s.o.statsWindow)
	if err != nil {
		return store.TrendFilter{}, err
	}
	bucket := 24 * time.Hour
	if v := q.Get("bucket"); v != "" {
		if bucket, err = hub.ParseWindow(v); err != nil {
			return store.TrendFilter{}, &hub.InvalidError{What: "query", Problems: []string{"bucket: " + err.Error()}}
		}
	}
	if bucket > win {
		return store.TrendFilter{}, &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("bucket %s is wider than the window %s", bucket, win)}}
	}
	now := s.o.now().UTC()
	until := now.Truncate(bucket).Add(bucket)
	return store.TrendFilter{Checklist: r.PathValue("checklist"), Check: r.PathValue("check"),
		Repo: q.Get("repo"), Branch: q.Get("branch"), Since: until.Add(-win).Truncate(bucket), Until: until, Bucket: bucket}, nil
}

func (s *Server) getTrend(w http.ResponseWriter, r *http.Request) {
	f, err := s.trendFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	t, err := s.st.Trend(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) getWaivers(w http.ResponseWriter, r *http.Request) {
	win, err := s.window(r, s.o.statsWindow)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	now := s.o.now()
	ws, err := s.st.Waivers(r.Context(), now.Add(-win), now)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	granted, err := s.st.HubWaivers(r.Context(), "", now)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"waivers": ws, "granted": granted})
}

func (s *Server) getTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.st.Tokens(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if ts == nil {
		ts = []hub.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Name string   `json:"name"`
	Role hub.Role `json:"role"`
}

// TokenResponse answers POST /api/v1/tokens; Secret is shown only here.
type TokenResponse struct {
	hub.Token
	Secret string `json:"secret"`
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.apiError(w, r, &hub.InvalidError{What: "token request", Problems: []string{"malformed JSON: " + err.Error()}})
		return
	}
	role, err := hub.ParseRole(string(req.Role))
	if err != nil {
		s.apiError(w, r, &hub.InvalidError{What: "token request", Problems: []string{err.Error()}})
		return
	}
	secret, t, err := s.st.CreateToken(r.Context(), req.Name, role)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, TokenResponse{Token: t, Secret: secret})
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) {
	if err := s.st.RevokeToken(r.Context(), r.PathValue("name")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
