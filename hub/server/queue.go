package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

// wake tells the long polls of this hub that a request was queued.
func (s *Server) wake() {
	s.queued.Lock()
	close(s.queued.ch)
	s.queued.ch = make(chan struct{})
	s.queued.Unlock()
}

func (s *Server) queuedSignal() <-chan struct{} {
	s.queued.Lock()
	defer s.queued.Unlock()
	return s.queued.ch
}

// LeaseRequest is the body of POST /api/v1/queue/lease.
type LeaseRequest struct {
	// Agent names the agent (its host and process) for the queue page.
	Agent string `json:"agent"`
}

func decodeBody(w http.ResponseWriter, r *http.Request, what string, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &hub.InvalidError{What: what, Problems: []string{"malformed JSON: " + err.Error()}}
	}
	return nil
}

// postLease hands the oldest waiting request to the agent, waiting up to
// ?wait= (at most the hub's long poll) for one to arrive. 204: nothing.
func (s *Server) postLease(w http.ResponseWriter, r *http.Request) {
	var req LeaseRequest
	if err := decodeBody(w, r, "lease request", &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	wait := s.o.longPoll
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			s.apiError(w, r, &hub.InvalidError{What: "query", Problems: []string{fmt.Sprintf("wait %q is not a duration", v)}})
			return
		}
		wait = min(d, s.o.longPoll)
	}
	owner := principalOf(r).token.Name
	if req.Agent != "" {
		owner += " (" + clipLine(req.Agent, 120) + ")"
	}
	s.sweepComments()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		signal := s.queuedSignal()
		l, exhausted, err := s.st.LeaseRequest(r.Context(), owner, s.o.leaseTTL, s.o.maxAttempts)
		for i := range exhausted {
			go s.postComment(context.WithoutCancel(r.Context()), &exhausted[i])
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if l != nil {
			if v, err := s.st.ChecklistVersion(r.Context(), l.Request.Checklist, 0); err == nil {
				l.Version = v.Version
			}
			writeJSON(w, http.StatusOK, l)
			return
		}
		// Another hub on the same database may queue work: look again
		// every second as well as when this hub queues.
		tick := time.NewTimer(time.Second)
		select {
		case <-r.Context().Done():
			tick.Stop()
			return
		case <-deadline.C:
			tick.Stop()
			w.WriteHeader(http.StatusNoContent)
			return
		case <-signal:
		case <-tick.C:
		}
		tick.Stop()
	}
}

// RenewRequest is the body of POST /api/v1/queue/{id}/renew.
type RenewRequest struct {
	Token string `json:"token"`
}

func (s *Server) postRenew(w http.ResponseWriter, r *http.Request) {
	var req RenewRequest
	if err := decodeBody(w, r, "renewal", &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	exp, err := s.st.RenewLease(r.Context(), r.PathValue("id"), req.Token, s.o.leaseTTL)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"expires": exp, "ttl_seconds": s.o.leaseTTL.Seconds()})
}

// postComplete stores the agent's run and finishes the request in one
// transaction, then posts the summary comment to the forge.
func (s *Server) postComplete(w http.ResponseWriter, r *http.Request) {
	var c hub.Completion
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.o.maxBody))
	if err := dec.Decode(&c); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.apiError(w, r, err)
			return
		}
		s.apiError(w, r, &hub.InvalidError{What: "completion", Problems: []string{"malformed JSON: " + err.Error()}})
		return
	}
	id := r.PathValue("id")
	var run *hub.Run
	switch {
	case c.Upload != nil:
		body, err := json.Marshal(c.Upload)
		if err == nil {
			run, err = hub.Decode(body, hub.DecodeOptions{EvidenceCap: s.o.evidenceCap})
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		run.Received = s.o.now().UTC()
		run.UploadedBy = principalOf(r).token.Name
		req, err := s.st.Request(r.Context(), id)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if run.Checklist != req.Checklist {
			s.apiError(w, r, &hub.InvalidError{What: "completion", Problems: []string{fmt.Sprintf(
				"the run is of checklist %q; request %s asked for %q", run.Checklist, id, req.Checklist)}})
			return
		}
	case c.Error == "":
		s.apiError(w, r, &hub.InvalidError{What: "completion", Problems: []string{"give the run (upload) or why it could not run (error)"}})
		return
	}
	done, err := s.st.CompleteRequest(r.Context(), id, c.Token, run, c.Error)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if run != nil {
		s.metrics.uploads.WithLabelValues("created").Inc()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	s.postComment(ctx, done)
	if fresh, err := s.st.Request(ctx, id); err == nil {
		done = fresh
	}
	writeJSON(w, http.StatusOK, done)
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := s.st.Requests(r.Context(), store.RequestFilter{State: hub.RequestState(q.Get("state")), Repo: q.Get("repo")})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": list})
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	req, err := s.st.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	list, err := s.st.Requests(r.Context(), store.RequestFilter{State: hub.RequestState(q.Get("state")), Repo: q.Get("repo"), Limit: 200})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "queue", "Run requests", struct {
		Requests []hub.RunRequest
		State    string
		Repo     string
	}{list, q.Get("state"), q.Get("repo")})
}
