package chaos

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard"
)

// TokenEnvVar names the environment variable that holds the admin bearer
// token Handler requires (read when Handler is called, unless WithToken).
const TokenEnvVar = "CGOGUARD_ADMIN_TOKEN"

// Defaults of Handler, set in one place.
const (
	// DefaultTTL is the TTL of failpoints set through Handler when the
	// request names none.
	DefaultTTL = 60 * time.Second
	// DefaultMaxTTL is the longest TTL Handler accepts.
	DefaultMaxTTL = time.Hour
)

type handlerConfig struct {
	token      string
	tokenSet   bool
	logger     *slog.Logger
	defaultTTL time.Duration
	maxTTL     time.Duration
}

// HandlerOption configures Handler.
type HandlerOption func(*handlerConfig)

// WithToken sets the bearer token. Default: the value of
// CGOGUARD_ADMIN_TOKEN when Handler is called. An empty token makes the
// handler refuse every write.
func WithToken(token string) HandlerOption {
	return func(c *handlerConfig) { c.token, c.tokenSet = token, true }
}

// WithLogger sets where every change (and every refused request) is
// logged. Default: slog.Default().
func WithLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithDefaultTTL sets the TTL of a PUT that names none. Default DefaultTTL
// (60s).
func WithDefaultTTL(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.defaultTTL = d
		}
	}
}

// WithMaxTTL sets the longest TTL a PUT may ask for. Default DefaultMaxTTL
// (1h).
func WithMaxTTL(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.maxTTL = d
		}
	}
}

// Handler returns the admin handler of the failpoints, for a mount point
// such as /debug/cgoguard/failpoints (mount it at the path and at the path
// with a trailing slash):
//
//	GET    P                      list the failpoints (JSON)
//	PUT    P?ttl=30s              set the spec in the body (text), or {"spec":..,"ttl":..} (JSON);
//	                              each failpoint expires after the TTL (default 60s) unless set again
//	DELETE P[?target=zlib.inflate] clear every failpoint, or one target
//	POST   P/reset?module=zlib    reset a module (Module.Reset), the remediation of a quarantine
//
// Every request needs "Authorization: Bearer TOKEN". With no token
// configured, GET is served and every write is refused (403). Every change
// and every refused write is logged.
func Handler(opts ...HandlerOption) http.Handler {
	c := &handlerConfig{logger: slog.Default(), defaultTTL: DefaultTTL, maxTTL: DefaultMaxTTL}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	if !c.tokenSet {
		c.token = os.Getenv(TokenEnvVar)
	}
	return &adminHandler{c: c, sum: sha256.Sum256([]byte(c.token))}
}

type adminHandler struct {
	c   *handlerConfig
	sum [32]byte
}

type listBody struct {
	Failpoints []Info `json:"failpoints"`
	EnvError   string `json:"env_error,omitempty"`
	Cleared    *int   `json:"cleared,omitempty"`
}

func (h *adminHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if !h.authorized(w, r, write) {
		return
	}
	if strings.HasSuffix(strings.TrimRight(r.URL.Path, "/"), "/reset") {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			h.fail(w, http.StatusMethodNotAllowed, "use POST to reset a module")
			return
		}
		h.reset(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.list(w, nil)
	case http.MethodPut:
		h.put(w, r)
	case http.MethodDelete:
		h.delete(w, r)
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		h.fail(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed", r.Method))
	}
}

// authorized checks the bearer token; it answers the request itself when
// the answer is no.
func (h *adminHandler) authorized(w http.ResponseWriter, r *http.Request, write bool) bool {
	if h.c.token == "" {
		if !write {
			return true
		}
		h.c.logger.Warn("cgoguard: failpoint admin write refused", "reason", "no admin token configured", "method", r.Method, "remote", r.RemoteAddr)
		h.fail(w, http.StatusForbidden, "no admin token configured ("+TokenEnvVar+"): writes are refused")
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	if ok && subtle.ConstantTimeCompare(sum[:], h.sum[:]) == 1 {
		return true
	}
	reason := "wrong bearer token"
	if !ok {
		reason = "no bearer token"
	}
	h.c.logger.Warn("cgoguard: failpoint admin request refused", "reason", reason, "method", r.Method, "remote", r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", `Bearer realm="cgoguard failpoints"`)
	h.fail(w, http.StatusUnauthorized, reason)
	return false
}

func (h *adminHandler) list(w http.ResponseWriter, cleared *int) {
	b := listBody{Failpoints: List(), Cleared: cleared}
	if envErr != nil {
		b.EnvError = envErr.Error()
	}
	writeJSON(w, http.StatusOK, b)
}

func (h *adminHandler) put(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSpecLen+1))
	if err != nil {
		h.fail(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	if len(body) > maxSpecLen {
		h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("spec longer than %d bytes", maxSpecLen))
		return
	}
	spec, ttlText := string(body), r.URL.Query().Get("ttl")
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		var req struct {
			Spec string `json:"spec"`
			TTL  string `json:"ttl"`
		}
		dec := json.NewDecoder(strings.NewReader(spec))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			h.fail(w, http.StatusBadRequest, "bad JSON body (want {\"spec\": \"...\", \"ttl\": \"30s\"}): "+err.Error())
			return
		}
		spec = req.Spec
		if ttlText == "" {
			ttlText = req.TTL
		}
	}
	if strings.TrimSpace(spec) == "" {
		h.fail(w, http.StatusBadRequest, "empty spec (use DELETE to clear)")
		return
	}
	ttl := h.c.defaultTTL
	if ttlText != "" {
		d, err := parseTTL(ttlText)
		if err != nil {
			h.fail(w, http.StatusBadRequest, err.Error())
			return
		}
		ttl = d
	}
	if ttl > h.c.maxTTL {
		h.fail(w, http.StatusBadRequest, fmt.Sprintf("ttl %v is above the maximum %v", ttl, h.c.maxTTL))
		return
	}
	if err := SetTTL(spec, ttl); err != nil {
		code := http.StatusBadRequest
		switch {
		case errors.Is(err, cgoguard.ErrNotSupported):
			code = http.StatusNotImplemented
		case errors.Is(err, ErrTooMany):
			code = http.StatusConflict
		}
		h.fail(w, code, err.Error())
		return
	}
	h.c.logger.Info("cgoguard: failpoints set", "spec", strings.TrimSpace(spec), "ttl", ttl.String(), "remote", r.RemoteAddr)
	h.list(w, nil)
}

// parseTTL reads a Go duration (30s) or a number of seconds (30).
func parseTTL(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0, fmt.Errorf("ttl %q is neither a duration (30s) nor a number of seconds", s)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("ttl %q must be positive: a failpoint set over HTTP always expires", s)
	}
	return d, nil
}

func (h *adminHandler) delete(w http.ResponseWriter, r *http.Request) {
	n := 0
	if target := r.URL.Query().Get("target"); target != "" {
		ok, err := ClearTarget(target)
		if err != nil {
			h.fail(w, http.StatusBadRequest, err.Error())
			return
		}
		if ok {
			n = 1
		}
		h.c.logger.Info("cgoguard: failpoint cleared", "target", target, "found", ok, "remote", r.RemoteAddr)
	} else {
		n = len(List())
		Clear()
		h.c.logger.Info("cgoguard: failpoints cleared", "count", n, "remote", r.RemoteAddr)
	}
	h.list(w, &n)
}

func (h *adminHandler) reset(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("module")
	if name == "" {
		h.fail(w, http.StatusBadRequest, "reset needs ?module=NAME")
		return
	}
	m := cgoguard.Lookup(name)
	if m == nil {
		h.fail(w, http.StatusNotFound, fmt.Sprintf("no open module named %q", name))
		return
	}
	before := m.State()
	if err := m.Reset(); err != nil {
		h.c.logger.Warn("cgoguard: module reset failed", "module", name, "error", err.Error(), "remote", r.RemoteAddr)
		h.fail(w, http.StatusConflict, err.Error())
		return
	}
	h.c.logger.Info("cgoguard: module reset", "module", name, "was", before.String(), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]string{"module": name, "was": before.String(), "state": m.State().String()})
}

func (h *adminHandler) fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
