package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

func (s *Server) auditFilter(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Outcome: q.Get("outcome"), Cursor: q.Get("cursor")}
	inv := &hub.InvalidError{What: "query"}
	for _, p := range []struct {
		name string
		dst  *store.AuditFilter
	}{{"since", &f}, {"until", &f}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := hub.ParseSince(v, s.o.now())
		if err != nil {
			inv.Problems = append(inv.Problems, p.name+": "+err.Error())
			continue
		}
		if p.name == "since" {
			f.Since = t
		} else {
			f.Until = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			inv.Problems = append(inv.Problems, fmt.Sprintf("limit %q is not a number from 1 to %d", v, store.MaxLimit))
		}
		f.Limit = n
	}
	if f.Outcome != "" && f.Outcome != hub.AuditOK && f.Outcome != hub.AuditDenied && f.Outcome != hub.AuditRejected {
		inv.Problems = append(inv.Problems, fmt.Sprintf("outcome %q is not ok, denied or rejected", f.Outcome))
	}
	if len(inv.Problems) > 0 {
		return f, inv
	}
	return f, nil
}

func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) {
	f, err := s.auditFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	page, err := s.st.Audit(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	f, err := s.auditFilter(r)
	v := struct {
		Filter  store.AuditFilter
		Since   string
		Until   string
		Page    *hub.AuditPage
		NextURL string
		Error   string
	}{Filter: f, Since: r.URL.Query().Get("since"), Until: r.URL.Query().Get("until"), Page: &hub.AuditPage{}}
	if err == nil {
		v.Page, err = s.st.Audit(r.Context(), f)
	}
	if err != nil {
		if !errors.Is(err, hub.ErrInvalid) {
			s.pageError(w, r, err)
			return
		}
		v.Error, v.Page = err.Error(), &hub.AuditPage{}
	}
	if v.Page.Next != "" {
		q := r.URL.Query()
		q.Set("cursor", v.Page.Next)
		v.NextURL = "/admin/audit?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", "Audit log", v)
}
