package server

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

// values adds each check's value card to its statistics.
func (s *Server) values(ctx context.Context, stats []hub.CheckStats) ([]hub.CheckValue, error) {
	votes, err := s.st.VoteCounts(ctx)
	if err != nil {
		return nil, err
	}
	catches, err := s.catchTimes(ctx)
	if err != nil {
		return nil, err
	}
	now := s.o.now()
	out := make([]hub.CheckValue, len(stats))
	for i, st := range stats {
		k := store.CheckKey{Checklist: st.Checklist, Check: st.Check}
		ct := catches[k]
		out[i] = hub.CheckValue{CheckStats: st, Card: s.o.cardRules.Card(hub.CardInput{Stats: st, LastCatch: ct.LastCatch,
			FirstSeen: ct.FirstSeen, Votes: votes[k], Now: now})}
	}
	return out, nil
}

// catchTimes reads when each check first ran and last failed, cached
// for catchCache: it scans every stored result, and a card's days since
// its last catch do not change within seconds. Votes are read fresh, so a
// vote shows on the card at once.
func (s *Server) catchTimes(ctx context.Context) (map[store.CheckKey]store.CatchTime, error) {
	s.catches.Lock()
	defer s.catches.Unlock()
	now := s.o.now()
	if s.catches.m != nil && now.Sub(s.catches.at) < catchCache && !now.Before(s.catches.at) {
		return s.catches.m, nil
	}
	m, err := s.st.CatchTimes(ctx)
	if err != nil {
		return nil, err
	}
	s.catches.m, s.catches.at = m, now
	return m, nil
}

const catchCache = 10 * time.Second

// worstFirst orders cards red, yellow, green, each by score.
func worstFirst(v []hub.CheckValue) {
	rank := map[string]int{hub.Red: 0, hub.Yellow: 1, hub.Green: 2}
	slices.SortStableFunc(v, func(a, b hub.CheckValue) int {
		return cmp.Or(cmp.Compare(rank[a.Card.Color], rank[b.Card.Color]), cmp.Compare(b.Card.Score, a.Card.Score),
			cmp.Compare(a.Checklist, b.Checklist), cmp.Compare(a.Check, b.Check))
	})
}

// VoteRequest is the body of POST /api/v1/checks/{checklist}/{check}/votes.
type VoteRequest struct {
	// Vote is "useful" or "noisy".
	Vote    string `json:"vote"`
	Comment string `json:"comment"`
}

func (s *Server) vote(ctx context.Context, checklist, check string, req VoteRequest) error {
	v := hub.Vote{Checklist: checklist, Check: check, Vote: req.Vote, Comment: strings.TrimSpace(req.Comment)}
	if err := hub.ValidVote(v); err != nil {
		if aerr := s.st.AppendAudit(ctx, hub.NewAudit(ctx, hub.AuditVote, checklist+"/"+check, hub.AuditRejected, err.Error())); aerr != nil {
			s.o.logger.Error("audit log", "err", aerr)
		}
		return err
	}
	return s.st.PutVote(ctx, v)
}

func (s *Server) postVote(w http.ResponseWriter, r *http.Request) {
	var req VoteRequest
	if err := decodeBody(w, r, "vote", &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.vote(r.Context(), r.PathValue("checklist"), r.PathValue("check"), req); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"status": "recorded"})
}

func (s *Server) getVotes(w http.ResponseWriter, r *http.Request) {
	vs, err := s.st.Votes(r.Context(), r.PathValue("checklist"), r.PathValue("check"), store.MaxLimit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"votes": vs})
}

func (s *Server) voteForm(w http.ResponseWriter, r *http.Request) {
	cl, check := r.PathValue("checklist"), r.PathValue("check")
	if err := s.vote(r.Context(), cl, check, VoteRequest{Vote: r.PostForm.Get("vote"), Comment: r.PostForm.Get("comment")}); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/checks/"+pathSeg(cl)+"/"+pathSeg(check)+"#card", http.StatusSeeOther)
}

type retireView struct {
	Window string
	Since  time.Time
	Values []hub.CheckValue
	Rules  hub.CardRules
}

func (s *Server) retirePage(w http.ResponseWriter, r *http.Request) {
	f, win, err := s.statsFilter(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	st, err := s.st.CheckStats(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	vals, err := s.values(r.Context(), st)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	vals = slices.DeleteFunc(vals, func(v hub.CheckValue) bool { return v.Card.Color != hub.Red })
	worstFirst(vals)
	s.render(w, r, http.StatusOK, "retire", "Retire or fix", retireView{Window: fmtWindow(win), Since: f.Since, Values: vals, Rules: s.o.cardRules})
}
