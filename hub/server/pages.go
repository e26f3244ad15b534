package server

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

func pathSeg(s string) string { return url.PathEscape(s) }

// pageEvidence bounds the evidence shown inline per stream; the rest is
// a download.
const pageEvidence = 8 << 10

type pages struct{ t map[string]*template.Template }

var funcs = template.FuncMap{
	"seg":   pathSeg,
	"dur":   fmtSeconds,
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"pct":   func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"short": func(s string) string { return shorten(s, 12) },
	"failed": func(o checklist.Outcome) bool {
		return o.Failed()
	},
	"runURL":   func(id string) string { return "/runs/" + url.PathEscape(id) },
	"checkURL": func(cl, id string) string { return "/checks/" + url.PathEscape(cl) + "/" + url.PathEscape(id) },
	"head":     func(s string) string { return truncate(s, pageEvidence) },
	"long":     func(s string) bool { return len(s) > pageEvidence },
	"size":     func(s string) int { return len(s) },
	"query":    query,
	"web": func(s string) bool {
		u, err := url.Parse(s)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	},
	"div":  func(a, b int) float64 { return float64(a) / float64(b) },
	"list": func(v ...string) []string { return v },
}

func parsePages() (*pages, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/chart.html")
	if err != nil {
		return nil, fmt.Errorf("cgoguard: hub templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{t: map[string]*template.Template{}}
	for _, n := range names {
		short := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if short == "layout" || short == "chart" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("cgoguard: hub template %s: %w", n, err)
		}
		p.t[short] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	Title     string
	Nav       string
	User      *hub.Token
	CanAdmin  bool
	CanAudit  bool
	CSRF      string
	AuthReads bool
	Data      any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name, title string, data any) {
	v := view{Title: title, Nav: name, CSRF: s.ensureCSRF(w, r), AuthReads: s.o.authReads, Data: data}
	if p := principalOf(r); p != nil {
		v.User = &p.token
		v.CanAdmin = p.token.Role.Can(hub.ActionManageTokens)
		v.CanAudit = p.token.Role.Can(hub.ActionReadAudit)
	}
	var buf bytes.Buffer
	if err := s.pages.t[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.o.logger.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.status(r, err)
	s.render(w, r, code, "error", http.StatusText(code), struct {
		Code    int
		Message string
	}{code, msg})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", "Log in", struct{ Next, Error string }{localPath(r.URL.Query().Get("next")), ""})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.PostForm.Get("next"))
	t, err := s.st.VerifyToken(r.Context(), strings.TrimSpace(r.PostForm.Get("token")))
	if err != nil {
		code, msg := s.status(r, err)
		s.render(w, r, code, "login", "Log in", struct{ Next, Error string }{next, msg})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.newSession(t.ID), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secure(r), MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1, Secure: s.secure(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type runsView struct {
	Filter     store.RunFilter
	SinceText  string
	Checklists []string
	Outcomes   []string
	Page       *hub.RunPage
	NextURL    string
	Error      string
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	v := runsView{Outcomes: hub.RunOutcomes, SinceText: r.URL.Query().Get("since"), Page: &hub.RunPage{}}
	f, err := s.runFilter(r)
	v.Filter = f
	if err == nil {
		v.Page, err = s.st.Runs(r.Context(), f)
	}
	if err != nil {
		if !errors.Is(err, hub.ErrInvalid) {
			s.pageError(w, r, err)
			return
		}
		v.Error, v.Page = err.Error(), &hub.RunPage{}
	}
	if v.Checklists, err = s.checklists(r.Context()); err != nil {
		s.pageError(w, r, err)
		return
	}
	if v.Page.Next != "" {
		q := r.URL.Query()
		q.Set("cursor", v.Page.Next)
		v.NextURL = "/runs?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "runs", "Runs", v)
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	run, err := s.st.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "run", "Run "+run.ID, run)
}

// evidenceDownload serves one stored evidence stream as a text file. The
// file name is built from the run id (validated) and numbers only.
func (s *Server) evidenceDownload(w http.ResponseWriter, r *http.Request) {
	run, err := s.st.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	pos, err := strconv.Atoi(r.PathValue("pos"))
	if err != nil || pos < 0 || pos >= len(run.Checks) {
		s.pageError(w, r, fmt.Errorf("%w: run %s has no check number %q", hub.ErrNotFound, run.ID, r.PathValue("pos")))
		return
	}
	c := run.Checks[pos]
	var text string
	switch stream := r.PathValue("stream"); stream {
	case "stdout":
		text = c.Evidence.Stdout
	case "stderr":
		text = c.Evidence.Stderr
	default:
		s.pageError(w, r, fmt.Errorf("%w: evidence stream %q (stdout or stderr)", hub.ErrNotFound, stream))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d-%s.txt"`, run.ID, pos, r.PathValue("stream")))
	w.Write([]byte(text))
}

type checksView struct {
	Window    string
	Checklist string
	Since     time.Time
	Stats     []hub.CheckStats
	Values    []hub.CheckValue
	Sort      string
}

func (s *Server) statsView(w http.ResponseWriter, r *http.Request) (*checksView, bool) {
	f, win, err := s.statsFilter(r)
	if err != nil {
		s.pageError(w, r, err)
		return nil, false
	}
	st, err := s.st.CheckStats(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return nil, false
	}
	return &checksView{Window: fmtWindow(win), Checklist: f.Checklist, Since: f.Since, Stats: st}, true
}

func (s *Server) checksPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.statsView(w, r)
	if !ok {
		return
	}
	vals, err := s.values(r.Context(), v.Stats)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if r.URL.Query().Get("sort") == "value" {
		v.Sort = "value"
		worstFirst(vals)
	} else {
		slices.SortStableFunc(vals, func(a, b hub.CheckValue) int {
			return cmp.Or(cmp.Compare(b.FailureRate, a.FailureRate), cmp.Compare(a.Checklist, b.Checklist), cmp.Compare(a.Check, b.Check))
		})
	}
	v.Values = vals
	s.render(w, r, http.StatusOK, "checks", "Checks", v)
}

func (s *Server) flakyPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.statsView(w, r)
	if !ok {
		return
	}
	v.Stats = slices.DeleteFunc(v.Stats, func(c hub.CheckStats) bool { return c.Flaky == 0 })
	slices.SortStableFunc(v.Stats, func(a, b hub.CheckStats) int {
		return cmp.Or(cmp.Compare(b.Flaky, a.Flaky), cmp.Compare(a.Check, b.Check))
	})
	s.render(w, r, http.StatusOK, "flaky", "Flaky checks", v)
}

func (s *Server) slowestPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.statsView(w, r)
	if !ok {
		return
	}
	slices.SortStableFunc(v.Stats, func(a, b hub.CheckStats) int {
		return cmp.Or(cmp.Compare(b.P95Seconds, a.P95Seconds), cmp.Compare(b.MeanSeconds, a.MeanSeconds), cmp.Compare(a.Check, b.Check))
	})
	if len(v.Stats) > 50 {
		v.Stats = v.Stats[:50]
	}
	s.render(w, r, http.StatusOK, "slowest", "Slowest checks", v)
}

type checkView struct {
	Checklist, Check string
	Window, Bucket   string
	Stats            *hub.CheckStats
	Card             *hub.Card
	Votes            []hub.Vote
	CanVote          bool
	Trend            *hub.Trend
	Charts           []chart
	Recent           []hub.CheckRun
}

func (s *Server) checkPage(w http.ResponseWriter, r *http.Request) {
	f, err := s.trendFilter(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	t, err := s.st.Trend(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	recent, err := s.st.CheckRuns(r.Context(), f.Checklist, f.Check, 30)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if len(recent) == 0 {
		s.pageError(w, r, fmt.Errorf("%w: no results of check %q in checklist %q", hub.ErrNotFound, f.Check, f.Checklist))
		return
	}
	v := checkView{Checklist: f.Checklist, Check: f.Check, Window: fmtWindow(f.Until.Sub(f.Since)), Bucket: fmtWindow(f.Bucket),
		Trend: t, Recent: recent}
	st, err := s.st.CheckStats(r.Context(), store.StatsFilter{Checklist: f.Checklist, Repo: f.Repo, Branch: f.Branch, Since: f.Since})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for i := range st {
		if st[i].Check == f.Check {
			v.Stats = &st[i]
			vals, err := s.values(r.Context(), st[i:i+1])
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			v.Card = &vals[0].Card
		}
	}
	if v.Votes, err = s.st.Votes(r.Context(), f.Checklist, f.Check, 20); err != nil {
		s.pageError(w, r, err)
		return
	}
	v.CanVote = s.canDo(r, hub.ActionVote)
	v.Charts = trendCharts(t)
	s.render(w, r, http.StatusOK, "check", f.Check, v)
}

type waiversView struct {
	Window   string
	Waivers  []hub.WaiverInfo
	Granted  []hub.Waiver
	CanWaive bool
	Today    string
}

func (s *Server) waiversPage(w http.ResponseWriter, r *http.Request) {
	win, err := s.window(r, s.o.statsWindow)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	now := s.o.now()
	ws, err := s.st.Waivers(r.Context(), now.Add(-win), now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	granted, err := s.st.HubWaivers(r.Context(), "", now)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "waivers", "Waivers", waiversView{Window: fmtWindow(win), Waivers: ws, Granted: granted,
		CanWaive: s.canDo(r, hub.ActionWaive), Today: now.UTC().Format(time.DateOnly)})
}

type tokensView struct {
	Tokens    []hub.Token
	Roles     []hub.Role
	NewSecret string
	NewName   string
	Error     string
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, tokensView{})
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, code int, v tokensView) {
	ts, err := s.st.Tokens(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v.Tokens, v.Roles = ts, hub.Roles
	s.render(w, r, code, "tokens", "Tokens", v)
}

func (s *Server) createTokenForm(w http.ResponseWriter, r *http.Request) {
	name := r.PostForm.Get("name")
	role, err := hub.ParseRole(r.PostForm.Get("role"))
	if err != nil {
		err = &hub.InvalidError{What: "token", Problems: []string{err.Error()}}
	}
	var secret string
	if err == nil {
		secret, _, err = s.st.CreateToken(r.Context(), name, role)
	}
	if err != nil {
		code, msg := s.status(r, err)
		s.renderTokens(w, r, code, tokensView{Error: msg})
		return
	}
	s.renderTokens(w, r, http.StatusOK, tokensView{NewSecret: secret, NewName: name})
}

func (s *Server) revokeTokenForm(w http.ResponseWriter, r *http.Request) {
	if err := s.st.RevokeToken(r.Context(), r.PostForm.Get("name")); err != nil {
		code, msg := s.status(r, err)
		s.renderTokens(w, r, code, tokensView{Error: msg})
		return
	}
	http.Redirect(w, r, "/admin/tokens", http.StatusSeeOther)
}

func fmtSeconds(s float64) string {
	switch {
	case s >= 3600:
		return (time.Duration(s) * time.Second).String()
	case s >= 60:
		return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
	case s >= 1:
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	}
	return strconv.FormatFloat(math.Round(s*1000), 'f', 0, 64) + "ms"
}

func fmtWindow(d time.Duration) string {
	day := 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// query builds "?k=v&…" from pairs, leaving out empty values.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// checklists lists the checklist names for the runs filter, cached for a
// few seconds: it is the one query of the runs page that reads every run.
func (s *Server) checklists(ctx context.Context) ([]string, error) {
	s.names.mu.Lock()
	defer s.names.mu.Unlock()
	now := s.o.now()
	if s.names.list != nil && now.Sub(s.names.at) < namesCache && !now.Before(s.names.at) {
		return s.names.list, nil
	}
	l, err := s.st.Checklists(ctx)
	if err != nil {
		return nil, err
	}
	s.names.list, s.names.at = append([]string{}, l...), now
	return s.names.list, nil
}

const namesCache = 10 * time.Second
