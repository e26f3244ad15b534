package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

// Every request goes through one of three wrappers, and every permission
// decision through authorize: api (bearer token, JSON errors), page
// (bearer or session cookie, redirect to /login), form (CSRF token on top
// of a page). The role table itself is hub.Role.Can.

const (
	sessionCookie = "cgoguard_session"
	csrfCookie    = "cgoguard_csrf"
	csrfField     = "csrf"
	sessionTTL    = 12 * time.Hour
)

type ctxKey struct{}

// principal is who made a request; nil means anonymous.
type principal struct {
	token hub.Token
}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(ctxKey{}).(*principal)
	return p
}

// authenticate finds the request's principal: a bearer token, else (when
// cookies are allowed) a session cookie. A present but invalid credential
// is an error; none at all is (nil, nil).
func (s *Server) authenticate(r *http.Request, cookies bool) (*principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, fmt.Errorf("%w: Authorization must be \"Bearer TOKEN\"", hub.ErrUnauthorized)
		}
		t, err := s.st.VerifyToken(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			return nil, err
		}
		return &principal{token: t}, nil
	}
	if !cookies {
		return nil, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	id, ok := s.verifySession(c.Value)
	if !ok {
		return nil, nil // expired or forged: as if logged out
	}
	t, err := s.st.TokenByID(r.Context(), id)
	if err != nil {
		if errors.Is(err, hub.ErrUnauthorized) {
			return nil, nil // revoked since login
		}
		return nil, err
	}
	return &principal{token: t}, nil
}

// authorize decides whether p may do a: nil error, or an error matching
// hub.ErrUnauthorized (no or bad credentials) or hub.ErrForbidden.
func (s *Server) authorize(p *principal, a hub.Action) error {
	if p == nil {
		if a == hub.ActionRead && !s.o.authReads {
			return nil
		}
		return fmt.Errorf("%w: this needs a token (Authorization: Bearer cgh_…)", hub.ErrUnauthorized)
	}
	if !p.token.Role.Can(a) {
		return fmt.Errorf("%w: token %q has role %s, which may not %s", hub.ErrForbidden, p.token.Name, p.token.Role, a)
	}
	return nil
}

// api wraps a JSON endpoint. Writes need a bearer token: a session cookie
// authorizes only reads, so a browser can never be made to write through
// the API.
func (s *Server) api(a hub.Action, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cookies := r.Method == http.MethodGet || r.Method == http.MethodHead
		p, err := s.authenticate(r, cookies)
		if err == nil {
			err = s.authorize(p, a)
		}
		if err != nil {
			s.refused(r, p, a, err)
			s.apiError(w, r, err)
			return
		}
		h(w, r.WithContext(s.withPrincipal(r, p)))
	}
}

// tokenOnly serves h to a request with a valid bearer token of any role
// (WithMetricsAuth); session cookies do not count.
func (s *Server) tokenOnly(h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r, false)
		if err == nil && p == nil {
			err = fmt.Errorf("%w: /metrics needs a token (Authorization: Bearer cgh_…)", hub.ErrUnauthorized)
		}
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	}
}

// withPrincipal puts p, and the actor the store audits, in the request's
// context.
func (s *Server) withPrincipal(r *http.Request, p *principal) context.Context {
	ctx := context.WithValue(r.Context(), ctxKey{}, p)
	a := hub.Actor{Name: "anonymous", From: remoteAddr(r)}
	if p != nil {
		a.Name, a.Role = p.token.Name, p.token.Role
	}
	return hub.WithActor(ctx, a)
}

// refused audits a write refused for its credentials or role.
func (s *Server) refused(r *http.Request, p *principal, a hub.Action, err error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return
	}
	ctx := s.withPrincipal(r, p)
	if p == nil {
		ctx = hub.WithActor(ctx, hub.Actor{Name: "anonymous", From: remoteAddr(r)})
	}
	e := hub.NewAudit(ctx, hub.AuditPermissionRefused, r.Method+" "+r.URL.Path, hub.AuditDenied, string(a)+": "+err.Error())
	if aerr := s.st.AppendAudit(context.WithoutCancel(r.Context()), e); aerr != nil {
		s.o.logger.Error("audit log", "err", aerr)
	}
	s.o.logger.Warn("write refused", "method", r.Method, "path", r.URL.Path, "actor", e.Actor, "from", e.From, "err", err)
}

// remoteAddr is where a request came from: the peer's address, and what
// a proxy says in X-Forwarded-For (recorded, not trusted).
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		if len(xff) > 200 {
			xff = xff[:200]
		}
		host += " (X-Forwarded-For: " + xff + ")"
	}
	return host
}

// page wraps an HTML page: anonymous visitors who need to log in are sent
// to /login and come back afterwards.
func (s *Server) page(a hub.Action, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r, true)
		if err == nil {
			err = s.authorize(p, a)
		}
		switch {
		case err == nil:
			h(w, r.WithContext(s.withPrincipal(r, p)))
		case errors.Is(err, hub.ErrUnauthorized) && r.Method == http.MethodGet:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		default:
			s.refused(r, p, a, err)
			s.pageError(w, r, err)
		}
	}
}

// form wraps a state-changing form post: it must carry the CSRF token
// that matches the visitor's CSRF cookie.
func (s *Server) form(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			s.pageError(w, r, fmt.Errorf("%w: unreadable form: %v", hub.ErrInvalid, err))
			return
		}
		c, err := r.Cookie(csrfCookie)
		if err != nil || !hmac.Equal([]byte(r.PostForm.Get(csrfField)), []byte(s.csrfToken(c.Value))) {
			s.pageError(w, r, errCSRF)
			return
		}
		h(w, r)
	}
}

var errCSRF = fmt.Errorf("%w: the form's security token is missing or stale; reload the page and try again", hub.ErrForbidden)

// ensureCSRF returns the form token for this visitor, setting the CSRF
// cookie on first visit.
func (s *Server) ensureCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 16 {
		return s.csrfToken(c.Value)
	}
	var b [18]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	return s.csrfToken(v)
}

func (s *Server) csrfToken(cookie string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", cookie))
}

func (s *Server) mac(purpose, v string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose + "\x00" + v))
	return m.Sum(nil)
}

// A session cookie is "<token id>.<expiry unix>.<hmac>": it names the
// token, so a revoked token ends its sessions on the next request.
func (s *Server) newSession(id string) string {
	exp := strconv.FormatInt(s.o.now().Add(sessionTTL).Unix(), 10)
	return id + "." + exp + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", id+"."+exp))
}

func (s *Server) verifySession(v string) (string, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return "", false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.mac("session", parts[0]+"."+parts[1])) {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || s.o.now().Unix() > exp {
		return "", false
	}
	return parts[0], true
}

func (s *Server) secure(r *http.Request) bool { return s.o.secureCookies || r.TLS != nil }

// localPath keeps a post-login redirect on this site.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/runs"
	}
	return next
}
