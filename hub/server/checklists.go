package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/cgoguard/cgoguard/hub"
)

// ChecklistUpload is the JSON form of POST /api/v1/checklists; the body
// may also be the YAML file itself.
type ChecklistUpload struct {
	// File names the file in messages; default "upload.yaml".
	File string `json:"file"`
	YAML string `json:"yaml"`
}

// ChecklistErrorResponse is the body of a 400 for an invalid checklist.
type ChecklistErrorResponse struct {
	Error    string             `json:"error"`
	File     string             `json:"file"`
	Problems []ChecklistProblem `json:"problems"`
}

// ChecklistProblem is one problem of an uploaded checklist.
type ChecklistProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// readChecklistUpload reads the file from a YAML or JSON body.
func (s *Server) readChecklistUpload(w http.ResponseWriter, r *http.Request) (string, []byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, hub.MaxChecklistBytes+64<<10))
	if err != nil {
		return "", nil, err
	}
	file := path.Base(or(r.URL.Query().Get("file"), "upload.yaml"))
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var up ChecklistUpload
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&up); err != nil {
			return "", nil, &hub.InvalidError{What: "checklist upload", Problems: []string{"malformed JSON: " + err.Error()}}
		}
		if up.File != "" {
			file = path.Base(up.File)
		}
		return file, []byte(up.YAML), nil
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain", "":
		return file, body, nil
	}
	return "", nil, &hub.InvalidError{What: "checklist upload", Problems: []string{fmt.Sprintf("Content-Type %q: send the YAML file (application/yaml) or JSON {\"yaml\": …}", mt)}}
}

// storeChecklist validates a file with the loader of cgoguard check and
// stores it as the next version. Invalid files are audited and stored
// nowhere.
func (s *Server) storeChecklist(ctx context.Context, file string, data []byte) (*hub.ChecklistVersion, bool, error) {
	cl, err := hub.ValidateChecklist(file, data)
	if err != nil {
		if aerr := s.st.AppendAudit(ctx, hub.NewAudit(ctx, hub.AuditChecklistUpload, file, hub.AuditRejected, err.Error())); aerr != nil {
			s.o.logger.Error("audit log", "err", aerr)
		}
		return nil, false, err
	}
	return s.st.PutChecklistVersion(ctx, &hub.ChecklistVersion{Name: cl.Name, YAML: string(data), Digest: hub.ChecklistDigest(data),
		Checks: len(cl.Checks), Description: cl.Description})
}

func (s *Server) postChecklist(w http.ResponseWriter, r *http.Request) {
	file, data, err := s.readChecklistUpload(w, r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	v, created, err := s.storeChecklist(r.Context(), file, data)
	if err != nil {
		var ce *hub.ChecklistError
		if errors.As(err, &ce) {
			resp := ChecklistErrorResponse{Error: err.Error(), File: ce.File, Problems: []ChecklistProblem{}}
			for _, p := range ce.Problems {
				resp.Problems = append(resp.Problems, ChecklistProblem{Line: p.Line, Column: p.Column, Message: p.Msg})
			}
			writeJSON(w, http.StatusBadRequest, resp)
			return
		}
		s.apiError(w, r, err)
		return
	}
	code := http.StatusCreated
	if !created {
		code = http.StatusOK
	}
	w.Header().Set("Location", versionURL(v.Name, v.Version))
	v.YAML = ""
	writeJSON(w, code, v)
}

func versionURL(name string, n int) string {
	return "/checklists/" + url.PathEscape(name) + "/versions/" + strconv.Itoa(n)
}

func (s *Server) getChecklists(w http.ResponseWriter, r *http.Request) {
	infos, err := s.st.ChecklistInfos(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"checklists": infos})
}

func (s *Server) getChecklist(w http.ResponseWriter, r *http.Request) {
	vs, err := s.st.ChecklistVersions(r.Context(), r.PathValue("name"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": r.PathValue("name"), "versions": vs})
}

func pathVersion(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: version %q is not a positive number", hub.ErrNotFound, r.PathValue("n"))
	}
	return n, nil
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	n, err := pathVersion(r)
	if err == nil {
		var v *hub.ChecklistVersion
		if v, err = s.st.ChecklistVersion(r.Context(), r.PathValue("name"), n); err == nil {
			writeJSON(w, http.StatusOK, v)
			return
		}
	}
	s.apiError(w, r, err)
}

// document builds what --from-hub fetches: an approved version (0: the
// active one) with the hub's waivers.
func (s *Server) document(ctx context.Context, name string, n int) (*hub.ChecklistDocument, error) {
	v, err := s.st.ChecklistVersion(ctx, name, n)
	if err != nil {
		return nil, err
	}
	if v.State != hub.StateApproved {
		return nil, fmt.Errorf("%w: %s@%d is %s; only approved versions run", hub.ErrConflict, name, v.Version, v.State)
	}
	ws, err := s.st.HubWaivers(ctx, name, s.o.now())
	if err != nil {
		return nil, err
	}
	return &hub.ChecklistDocument{Name: v.Name, Version: v.Version, Digest: v.Digest, Author: v.Author, Approver: v.Reviewer,
		Approved: v.Reviewed, Active: v.Active, YAML: v.YAML, Waivers: ws}, nil
}

// getDocument serves the active (or a given approved) version with an
// ETag, answering 304 to a client whose cached copy is current.
func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) {
	n := 0
	if r.PathValue("n") != "" {
		var err error
		if n, err = pathVersion(r); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	doc, err := s.document(r.Context(), r.PathValue("name"), n)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	etag := `"` + strings.TrimPrefix(hub.ChecklistDigest(body), "sha256:")[:32] + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(body, '\n'))
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// ReviewRequest is the body of the approve and reject endpoints.
type ReviewRequest struct {
	Comment string `json:"comment"`
}

func (s *Server) review(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req ReviewRequest
		if r.ContentLength != 0 {
			if err := decodeBody(w, r, "review", &req); err != nil {
				s.apiError(w, r, err)
				return
			}
		}
		n, err := pathVersion(r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		v, err := s.st.ReviewChecklistVersion(r.Context(), r.PathValue("name"), n, approve, strings.TrimSpace(req.Comment))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		v.YAML = ""
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) postWaiver(w http.ResponseWriter, r *http.Request) {
	var wv hub.Waiver
	if err := decodeBody(w, r, "waiver", &wv); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.grantWaiver(r.Context(), wv); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"status": "granted"})
}

func (s *Server) grantWaiver(ctx context.Context, wv hub.Waiver) error {
	if err := hub.ValidWaiver(wv, s.o.now()); err != nil {
		if aerr := s.st.AppendAudit(ctx, hub.NewAudit(ctx, hub.AuditWaiverGrant, wv.Checklist+"/"+wv.Check, hub.AuditRejected, err.Error())); aerr != nil {
			s.o.logger.Error("audit log", "err", aerr)
		}
		return err
	}
	return s.st.GrantWaiver(ctx, wv)
}

func (s *Server) deleteWaiver(w http.ResponseWriter, r *http.Request) {
	if err := s.st.LiftWaiver(r.Context(), r.PathValue("checklist"), r.PathValue("check")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Pages.

func (s *Server) canDo(r *http.Request, a hub.Action) bool {
	p := principalOf(r)
	return p != nil && p.token.Role.Can(a)
}

type checklistsView struct {
	Checklists []hub.ChecklistInfo
	CanUpload  bool
	Error      string
	Problems   []ChecklistProblem
	YAML       string
}

func (s *Server) checklistsPage(w http.ResponseWriter, r *http.Request) {
	s.renderChecklists(w, r, http.StatusOK, checklistsView{})
}

func (s *Server) renderChecklists(w http.ResponseWriter, r *http.Request, code int, v checklistsView) {
	infos, err := s.st.ChecklistInfos(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v.Checklists, v.CanUpload = infos, s.canDo(r, hub.ActionWriteChecklist)
	s.render(w, r, code, "checklists", "Checklists", v)
}

func (s *Server) uploadChecklistForm(w http.ResponseWriter, r *http.Request) {
	data := strings.ReplaceAll(r.PostForm.Get("yaml"), "\r\n", "\n")
	v, _, err := s.storeChecklist(r.Context(), path.Base(or(r.PostForm.Get("file"), "upload.yaml")), []byte(data))
	if err != nil {
		code, msg := s.status(r, err)
		view := checklistsView{Error: msg, YAML: data}
		var ce *hub.ChecklistError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				view.Problems = append(view.Problems, ChecklistProblem{Line: p.Line, Column: p.Column, Message: p.Msg})
			}
		}
		s.renderChecklists(w, r, code, view)
		return
	}
	http.Redirect(w, r, versionURL(v.Name, v.Version), http.StatusSeeOther)
}

func (s *Server) checklistPage(w http.ResponseWriter, r *http.Request) {
	vs, err := s.st.ChecklistVersions(r.Context(), r.PathValue("name"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "checklist", "Checklist "+r.PathValue("name"), struct {
		Name     string
		Versions []hub.ChecklistVersion
	}{r.PathValue("name"), vs})
}

type versionView struct {
	V         *hub.ChecklistVersion
	DiffLines []diffLine
	CanReview bool
	IsAuthor  bool
	Error     string
}

type diffLine struct{ Class, Text string }

func diffLines(d string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		c := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			c = "file"
		case strings.HasPrefix(l, "@@"):
			c = "hunk"
		case strings.HasPrefix(l, "+"):
			c = "add"
		case strings.HasPrefix(l, "-"):
			c = "del"
		}
		out = append(out, diffLine{c, l})
	}
	return out
}

func (s *Server) versionPage(w http.ResponseWriter, r *http.Request) {
	s.renderVersion(w, r, http.StatusOK, "")
}

func (s *Server) renderVersion(w http.ResponseWriter, r *http.Request, code int, msg string) {
	n, err := pathVersion(r)
	var v *hub.ChecklistVersion
	if err == nil {
		v, err = s.st.ChecklistVersion(r.Context(), r.PathValue("name"), n)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	view := versionView{V: v, CanReview: s.canDo(r, hub.ActionApproveChecklist) && v.State == hub.StatePending, Error: msg}
	if p := principalOf(r); p != nil {
		view.IsAuthor = p.token.Name == v.Author
	}
	if v.Diff != "" {
		view.DiffLines = diffLines(v.Diff)
	}
	s.render(w, r, code, "version", fmt.Sprintf("%s version %d", v.Name, v.Version), view)
}

func (s *Server) reviewForm(w http.ResponseWriter, r *http.Request) {
	n, err := pathVersion(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	approve := r.PostForm.Get("decision") == "approve"
	if !approve && r.PostForm.Get("decision") != "reject" {
		s.renderVersion(w, r, http.StatusBadRequest, "choose approve or reject")
		return
	}
	_, err = s.st.ReviewChecklistVersion(r.Context(), r.PathValue("name"), n, approve, strings.TrimSpace(r.PostForm.Get("comment")))
	if err != nil {
		code, msg := s.status(r, err)
		s.renderVersion(w, r, code, msg)
		return
	}
	http.Redirect(w, r, versionURL(r.PathValue("name"), n), http.StatusSeeOther)
}

func (s *Server) grantWaiverForm(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	if err := s.grantWaiver(r.Context(), hub.Waiver{Checklist: f.Get("checklist"), Check: f.Get("check"), Reason: f.Get("reason"), Expires: f.Get("expires")}); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/waivers", http.StatusSeeOther)
}

func (s *Server) liftWaiverForm(w http.ResponseWriter, r *http.Request) {
	if err := s.st.LiftWaiver(r.Context(), r.PostForm.Get("checklist"), r.PostForm.Get("check")); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/waivers", http.StatusSeeOther)
}
