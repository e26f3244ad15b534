package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/report"
)

// EnvToken is the environment variable the CLI reads the upload token from.
const EnvToken = "CGOGUARD_HUB_TOKEN"

// ErrSpooled is matched by the error of Deliver when the upload failed and
// the run was written to the spool instead, to be sent by a later Flush.
var ErrSpooled = errors.New("cgoguard: upload failed; run kept in the spool")

// StatusError is a refusal by the hub: an HTTP status other than 2xx with
// the hub's message. It matches hub.ErrUnauthorized (401),
// hub.ErrForbidden (403), hub.ErrNotFound (404), hub.ErrConflict (409)
// and hub.ErrInvalid (400, 413, 415).
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("cgoguard: hub answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// Is maps the status to the hub's sentinels.
func (e *StatusError) Is(target error) bool {
	switch e.Code {
	case http.StatusUnauthorized:
		return target == hub.ErrUnauthorized
	case http.StatusForbidden:
		return target == hub.ErrForbidden
	case http.StatusConflict:
		return target == hub.ErrConflict
	case http.StatusNotFound:
		return target == hub.ErrNotFound
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return target == hub.ErrInvalid
	}
	return false
}

// Temporary reports whether sending again later may succeed: the hub was
// unavailable or overloaded, not refusing this upload.
func (e *StatusError) Temporary() bool {
	return e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests || e.Code == http.StatusTooEarly || e.Code >= 500
}

// Rejected reports whether the hub refused the upload for its content (bad
// input, conflict, too big): sending the same bytes again cannot succeed.
func Rejected(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (errors.Is(se, hub.ErrInvalid) || errors.Is(se, hub.ErrConflict))
}

// Client uploads runs to a hub. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	o     options
	spool string
}

// New returns a client for the hub at baseURL (e.g. "http://hub:8420").
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cgoguard: hub URL %q must be http:// or https:// with a host", baseURL)
	}
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{base: u, o: o}
	if o.spoolDir != "" {
		c.spool = spoolDirFor(o.spoolDir, u)
	}
	return c, nil
}

// URL returns the hub's base URL.
func (c *Client) URL() string { return c.base.String() }

// NewID returns a fresh random run id (a version 4 UUID).
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NewUpload wraps a run's JSON result (report format json) with its
// context under a fresh id.
func NewUpload(result []byte, c hub.Context) *hub.Upload {
	return &hub.Upload{FormatVersion: hub.FormatVersion, ID: NewID(), Context: c, Result: json.RawMessage(result)}
}

// FromResult encodes a checklist result as report format json and wraps
// it with its context under a fresh id.
func FromResult(res *checklist.Result, c hub.Context) (*hub.Upload, error) {
	f, err := report.Lookup("json")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, res); err != nil {
		return nil, fmt.Errorf("cgoguard: encode result: %w", err)
	}
	return NewUpload(buf.Bytes(), c), nil
}

// Send posts an upload, retrying with exponential backoff and jitter
// while the hub is unreachable or answers 408, 425, 429 or 5xx (honouring
// Retry-After). A refusal (4xx) is returned at once as a *StatusError.
func (c *Client) Send(ctx context.Context, up *hub.Upload) (hub.Receipt, error) {
	body, err := json.Marshal(up)
	if err != nil {
		return hub.Receipt{}, fmt.Errorf("cgoguard: encode upload: %w", err)
	}
	return c.send(ctx, up.ID, body, c.o.attempts)
}

func (c *Client) send(ctx context.Context, id string, body []byte, attempts int) (hub.Receipt, error) {
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			wait := c.backoff(i, last)
			c.logf("cgoguard: hub upload of run %s failed (%v); retry %d of %d in %s", id, last, i, attempts-1, wait.Round(time.Millisecond))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return hub.Receipt{}, fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			case <-t.C:
			}
		}
		rc, err := c.post(ctx, body)
		if err == nil {
			return rc, nil
		}
		last = err
		var se *StatusError
		if errors.As(err, &se) && !se.Temporary() {
			return hub.Receipt{}, err
		}
		if ctx.Err() != nil {
			return hub.Receipt{}, err
		}
	}
	return hub.Receipt{}, last
}

// retryAfter carries a hub's Retry-After through the error.
type retryAfter struct {
	*StatusError
	after time.Duration
}

func (c *Client) backoff(attempt int, last error) time.Duration {
	var ra retryAfter
	if errors.As(last, &ra) && ra.after > 0 {
		return min(ra.after, c.o.maxBackoff)
	}
	d := float64(c.o.backoff) * math.Pow(2, float64(attempt-1))
	d = min(d, float64(c.o.maxBackoff))
	// Full jitter on the upper half, so that many CI jobs retrying after
	// one hub restart do not arrive together.
	return time.Duration(d/2 + mrand.Float64()*d/2)
}

func (c *Client) post(ctx context.Context, body []byte) (hub.Receipt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+"/api/v1/runs", bytes.NewReader(body))
	if err != nil {
		return hub.Receipt{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cgoguard-hub-client")
	if c.o.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.o.token)
	}
	res, err := c.o.http.Do(req)
	if err != nil {
		return hub.Receipt{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 == 2 {
		var rc hub.Receipt
		if err := json.Unmarshal(b, &rc); err != nil {
			return hub.Receipt{}, fmt.Errorf("cgoguard: hub answered %d with an unreadable body: %w", res.StatusCode, err)
		}
		return rc, nil
	}
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	se := &StatusError{Code: res.StatusCode, Message: msg}
	if s := res.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return hub.Receipt{}, retryAfter{se, time.Duration(n) * time.Second}
		}
	}
	return hub.Receipt{}, se
}

// Unwrap lets errors.As find the *StatusError.
func (r retryAfter) Unwrap() error { return r.StatusError }

func (c *Client) logf(format string, args ...any) {
	if c.o.log != nil {
		c.o.log(format, args...)
	}
}

// Deliver sends an upload; if that fails for any reason, the upload is
// written to the spool (when one is configured) so that nothing is lost,
// and the error matches ErrSpooled. A later Deliver or Flush sends it.
func (c *Client) Deliver(ctx context.Context, up *hub.Upload) (hub.Receipt, error) {
	rc, err := c.Send(ctx, up)
	if err == nil {
		return rc, nil
	}
	if c.spool == "" {
		return hub.Receipt{}, err
	}
	path, serr := c.writeSpool(up)
	if serr != nil {
		return hub.Receipt{}, fmt.Errorf("cgoguard: upload failed (%v) and the spool could not keep the run: %w", err, serr)
	}
	return hub.Receipt{}, &SpoolError{Path: path, Err: err}
}

// Spool writes an upload to this hub's spool without trying to send it
// (for example when a Flush just found the hub unreachable) and returns the
// file's path.
func (c *Client) Spool(up *hub.Upload) (string, error) {
	if c.spool == "" {
		return "", errors.New("cgoguard: no spool directory configured")
	}
	return c.writeSpool(up)
}

// SpoolError says where an upload that failed was kept. It matches
// ErrSpooled and unwraps to the upload's error.
type SpoolError struct {
	Path string
	Err  error
}

func (e *SpoolError) Error() string {
	return fmt.Sprintf("cgoguard: upload failed: %v; the run is kept in %s and is sent by the next check --report-to or cgoguard hub push", e.Err, e.Path)
}

func (e *SpoolError) Unwrap() []error { return []error{ErrSpooled, e.Err} }
