package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

// ChecklistRef names a checklist kept by a hub: URL/NAME for the active
// version, URL/NAME@VERSION for a given approved one.
type ChecklistRef struct {
	// Hub is the hub's base URL.
	Hub  string
	Name string
	// Version is 0 for the active version.
	Version int
}

// String writes the reference back as URL/NAME[@VERSION].
func (r ChecklistRef) String() string {
	s := strings.TrimRight(r.Hub, "/") + "/" + r.Name
	if r.Version > 0 {
		s += "@" + strconv.Itoa(r.Version)
	}
	return s
}

var refName = regexp.MustCompile(`^[^/@\s]+$`)

// ParseChecklistRef parses URL/NAME[@VERSION], e.g.
// "https://hub.example/cgo-reliability@3".
func ParseChecklistRef(s string) (ChecklistRef, error) {
	bad := func(why string) (ChecklistRef, error) {
		return ChecklistRef{}, fmt.Errorf("cgoguard: --from-hub %q: %s (want URL/NAME or URL/NAME@VERSION, e.g. https://hub:8420/cgo-reliability@3)", s, why)
	}
	i := strings.LastIndex(s, "/")
	if i < 0 {
		return bad("no checklist name")
	}
	base, last := s[:i], s[i+1:]
	name, ver, hasVer := strings.Cut(last, "@")
	ref := ChecklistRef{Hub: base, Name: name}
	if name == "" || !refName.MatchString(name) {
		return bad("no checklist name after the hub's URL")
	}
	if hasVer {
		n, err := strconv.Atoi(ver)
		if err != nil || n < 1 {
			return bad("the version must be a positive number")
		}
		ref.Version = n
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("the hub's URL must be http:// or https:// with a host")
	}
	return ref, nil
}

// Fetched is a checklist version fetched from a hub, or from the local
// cache when the hub could not be reached.
type Fetched struct {
	Document hub.ChecklistDocument
	// Source says where it came from; the run records it.
	Source checklist.Source
}

// cacheEntry is a cached document with the ETag the hub gave it.
type cacheEntry struct {
	ETag     string                `json:"etag"`
	Fetched  time.Time             `json:"fetched"`
	Document hub.ChecklistDocument `json:"document"`
}

// DefaultCacheDir is where fetched checklists are cached:
// $XDG_CACHE_HOME/cgoguard/checklists (os.UserCacheDir), else a
// directory under the system's temporary directory.
func DefaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "cgoguard", "checklists")
	}
	return filepath.Join(os.TempDir(), "cgoguard-cache", "checklists")
}

func (c *Client) cachePath(name string, version int) string {
	which := "active"
	if version > 0 {
		which = strconv.Itoa(version)
	}
	sum := sha256.Sum256([]byte(name))
	// The name is hashed into the file name: it comes from a command line
	// and must not walk the cache directory.
	return filepath.Join(spoolDirFor(c.o.cacheDir, c.base), hex.EncodeToString(sum[:8])+"-"+which+".json")
}

func (c *Client) readCache(path string) (*cacheEntry, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Document.YAML == "" {
		return nil, false
	}
	return &e, true
}

func (c *Client) writeCache(path string, e *cacheEntry) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// FetchChecklist fetches the active version of a checklist (version 0)
// or a given approved version, with the waivers the hub grants. The copy
// is cached with its ETag (WithCache): an unchanged checklist costs a 304,
// and when the hub cannot be reached (network error, 5xx, 408, 429) the
// cached copy is returned with Source.Cached set and Source.Offline
// saying why. A refusal by the hub (unknown checklist, unapproved
// version, bad token) is an error, cached copy or not.
func (c *Client) FetchChecklist(ctx context.Context, name string, version int) (*Fetched, error) {
	path := c.cachePath(name, version)
	cached, haveCache := c.readCache(path)
	if haveCache && cached.Document.Name != name {
		haveCache = false
	}
	doc, etag, notModified, err := c.getDocument(ctx, name, version, cached, haveCache)
	now := time.Now().UTC()
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && !se.Temporary() {
			return nil, err
		}
		if !haveCache {
			return nil, fmt.Errorf("cgoguard: fetch checklist %s from %s: %w (and no cached copy in %s)", name, c.URL(), err, filepath.Dir(path))
		}
		c.logf("cgoguard: hub %s unreachable (%v); running the cached copy of %s@%d fetched %s", c.URL(), err, name,
			cached.Document.Version, cached.Fetched.Format(time.RFC3339))
		return &Fetched{Document: cached.Document, Source: source(c.URL(), &cached.Document, cached.Fetched, err.Error())}, nil
	}
	if notModified {
		doc = &cached.Document
		etag = cached.ETag
	}
	if werr := c.writeCache(path, &cacheEntry{ETag: etag, Fetched: now, Document: *doc}); werr != nil {
		c.logf("cgoguard: could not cache checklist %s: %v", name, werr)
	}
	return &Fetched{Document: *doc, Source: source(c.URL(), doc, now, "")}, nil
}

func source(hubURL string, d *hub.ChecklistDocument, fetched time.Time, offline string) checklist.Source {
	return checklist.Source{Hub: hubURL, Name: d.Name, Version: d.Version, Digest: d.Digest, Fetched: fetched,
		Cached: offline != "", Offline: offline}
}

func (c *Client) getDocument(ctx context.Context, name string, version int, cached *cacheEntry, haveCache bool) (*hub.ChecklistDocument, string, bool, error) {
	p := "/api/v1/checklists/" + url.PathEscape(name) + "/active"
	if version > 0 {
		p = fmt.Sprintf("/api/v1/checklists/%s/versions/%d/document", url.PathEscape(name), version)
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+p, nil)
	if err != nil {
		return nil, "", false, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "cgoguard-hub-client")
	if c.o.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.o.token)
	}
	if haveCache && cached.ETag != "" {
		req.Header.Set("If-None-Match", cached.ETag)
	}
	res, err := c.o.http.Do(req)
	if err != nil {
		return nil, "", false, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	switch {
	case res.StatusCode == http.StatusNotModified && haveCache:
		return nil, "", true, nil
	case res.StatusCode != http.StatusOK:
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return nil, "", false, &StatusError{Code: res.StatusCode, Message: msg}
	}
	var doc hub.ChecklistDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, "", false, fmt.Errorf("cgoguard: hub answered an unreadable checklist: %w", err)
	}
	if doc.Name != name || (version > 0 && doc.Version != version) || hub.ChecklistDigest([]byte(doc.YAML)) != doc.Digest {
		return nil, "", false, fmt.Errorf("cgoguard: hub answered checklist %s@%d (digest %s) for %s@%d: not what was asked, or corrupt",
			doc.Name, doc.Version, doc.Digest, name, version)
	}
	return &doc, res.Header.Get("ETag"), false, nil
}

// Load parses the fetched YAML with the loader of cgoguard check and
// applies the hub's waivers to checks that declare none themselves.
func (f *Fetched) Load(opts checklist.LoadOptions) (*checklist.Checklist, error) {
	label := fmt.Sprintf("%s/%s@%d", f.Source.Hub, f.Document.Name, f.Document.Version)
	cl, err := checklist.Parse(label, []byte(f.Document.YAML), opts)
	if err != nil {
		return nil, err
	}
	src := f.Source
	cl.Source = &src
	for _, w := range f.Document.Waivers {
		d, err := time.Parse(time.DateOnly, w.Expires)
		if err != nil {
			continue
		}
		for i := range cl.Checks {
			c := &cl.Checks[i]
			if c.ID == w.Check && c.Waiver == nil {
				c.Waiver = &checklist.Waiver{Reason: w.Reason + " (hub waiver by " + w.By + ")", Expires: checklist.Date{Time: d}}
			}
		}
	}
	return cl, nil
}
