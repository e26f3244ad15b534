package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/cgoguard/cgoguard/hub"
)

// EnvSpool is the environment variable that overrides DefaultSpoolDir.
const EnvSpool = "CGOGUARD_HUB_SPOOL"

// DefaultSpoolDir is where the CLI keeps uploads that failed:
// $CGOGUARD_HUB_SPOOL, else $XDG_STATE_HOME/cgoguard/hub-spool, else
// ~/.local/state/cgoguard/hub-spool.
func DefaultSpoolDir() string {
	if d := os.Getenv(EnvSpool); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "cgoguard", "hub-spool")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "cgoguard", "hub-spool")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("cgoguard-hub-spool-%d", os.Getuid()))
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spoolDirFor names one directory per hub: its host, readable, and a hash
// of the whole URL.
func spoolDirFor(root string, u *url.URL) string {
	sum := sha256.Sum256([]byte(u.String()))
	return filepath.Join(root, unsafeChars.ReplaceAllString(u.Host, "_")+"-"+hex.EncodeToString(sum[:4]))
}

// SpoolDir returns the directory holding this hub's failed uploads, or ""
// without a spool.
func (c *Client) SpoolDir() string { return c.spool }

// SpoolHubFile is the file in a hub's spool directory that records the
// hub's URL, so that `cgoguard hub push FILE` knows where a spooled run
// goes without being told (see SpoolHub).
const SpoolHubFile = "hub-url"

// ErrNoSpoolHub is matched by the error of SpoolHub when no hub URL is
// recorded for a file: the caller has to be given the URL.
var ErrNoSpoolHub = errors.New("cgoguard: no hub URL recorded in the spool")

// recordHub writes the hub's URL next to the spooled runs, once.
func (c *Client) recordHub() error {
	path := filepath.Join(c.spool, SpoolHubFile)
	want := c.base.String() + "\n"
	if b, err := os.ReadFile(path); err == nil && string(b) == want {
		return nil
	}
	return writeFileSync(path, []byte(want))
}

// SpoolHub returns the URL of the hub a spooled run belongs to: path is a
// file in a hub's spool directory (or in its "rejected" directory) or the
// directory itself, and the URL is the one recorded in its SpoolHubFile
// when the run was spooled. Without a recorded URL (a file copied
// elsewhere, or a bare JSON result) the error matches ErrNoSpoolHub.
func SpoolHub(path string) (string, error) {
	dir := path
	if info, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("cgoguard: %w", err)
	} else if !info.IsDir() {
		dir = filepath.Dir(path)
	}
	dirs := []string{dir}
	if filepath.Base(dir) == "rejected" {
		dirs = append(dirs, filepath.Dir(dir))
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, SpoolHubFile))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cgoguard: %w", err)
		}
		u := strings.TrimSpace(string(b))
		if _, err := New(u); err != nil {
			return "", fmt.Errorf("cgoguard: %s holds no hub URL: %w", filepath.Join(d, SpoolHubFile), err)
		}
		return u, nil
	}
	return "", fmt.Errorf("%w for %s (no %s file next to it)", ErrNoSpoolHub, path, SpoolHubFile)
}

// SpooledHubs returns the URLs of the hubs that have runs waiting in the
// spool root (DefaultSpoolDir for the CLI), sorted. A hub directory
// without a recorded URL is skipped: its runs need the URL given.
func SpooledHubs(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cgoguard: read spool: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		u, err := SpoolHub(filepath.Join(root, e.Name()))
		if err != nil {
			continue
		}
		c, err := New(u, WithSpool(root))
		if err != nil || c.SpoolDir() != filepath.Join(root, e.Name()) {
			continue
		}
		if files, err := c.Spooled(); err == nil && len(files) > 0 {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out, nil
}

// writeSpool stores an upload durably: written to a temporary file,
// synced, renamed to <id>.json, and the directory synced. The hub's URL
// is recorded next to it (SpoolHubFile).
func (c *Client) writeSpool(up *hub.Upload) (string, error) {
	if !hub.ValidID(up.ID) {
		return "", fmt.Errorf("run id %q cannot name a spool file", up.ID)
	}
	if err := os.MkdirAll(c.spool, 0o700); err != nil {
		return "", err
	}
	if err := c.recordHub(); err != nil {
		return "", err
	}
	b, err := json.Marshal(up)
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.spool, up.ID+".json")
	if err := writeFileSync(path, b); err != nil {
		return "", err
	}
	return path, nil
}

func writeFileSync(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Spooled lists the files waiting in this hub's spool, oldest first.
func (c *Client) Spooled() ([]string, error) {
	if c.spool == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(c.spool)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type f struct {
		path string
		mod  int64
	}
	var fs []f
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		fs = append(fs, f{filepath.Join(c.spool, e.Name()), info.ModTime().UnixNano()})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].mod < fs[j].mod || fs[i].mod == fs[j].mod && fs[i].path < fs[j].path })
	out := make([]string, len(fs))
	for i, x := range fs {
		out[i] = x.path
	}
	return out, nil
}

// FlushResult says what Flush did.
type FlushResult struct {
	// Sent are the run ids the hub acknowledged (stored or already there).
	Sent []string
	// Rejected are spool files the hub refused for their content (invalid,
	// conflicting id, too big), moved to the spool's "rejected" directory
	// so that they do not block the others.
	Rejected []string
	// Left counts the files still waiting.
	Left int
}

// Flush sends the spooled uploads, oldest first, removing each one the hub
// acknowledges. It stops at the first failure that is not a refusal of
// that upload's content (the hub is down, the token is wrong): the rest
// stay for the next time.
func (c *Client) Flush(ctx context.Context) (FlushResult, error) {
	var res FlushResult
	files, err := c.Spooled()
	if err != nil {
		return res, fmt.Errorf("cgoguard: read spool: %w", err)
	}
	for i, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			return res, fmt.Errorf("cgoguard: read spool: %w", err)
		}
		var up hub.Upload
		if err := json.Unmarshal(b, &up); err != nil || !hub.ValidID(up.ID) {
			res.Rejected = append(res.Rejected, c.reject(path))
			continue
		}
		if _, err := c.send(ctx, up.ID, b, c.o.attempts); err != nil {
			if Rejected(err) {
				c.logf("cgoguard: the hub refused spooled run %s: %v", up.ID, err)
				res.Rejected = append(res.Rejected, c.reject(path))
				continue
			}
			res.Left = len(files) - i
			return res, fmt.Errorf("cgoguard: send spooled run %s: %w", up.ID, err)
		}
		if err := os.Remove(path); err != nil {
			return res, fmt.Errorf("cgoguard: spool: %w", err)
		}
		c.logf("cgoguard: sent spooled run %s", up.ID)
		res.Sent = append(res.Sent, up.ID)
	}
	return res, nil
}

func (c *Client) reject(path string) string {
	dir := filepath.Join(c.spool, "rejected")
	dst := filepath.Join(dir, filepath.Base(path))
	if os.MkdirAll(dir, 0o700) == nil && os.Rename(path, dst) == nil {
		return dst
	}
	return path
}

// ReadUpload reads a file for `cgoguard hub push`: either an upload (as
// the spool keeps them) or a bare JSON result (as `cgoguard check -o
// json=FILE` writes it), which is wrapped with c under an id derived from
// the file's content and c, so pushing the same file twice stores it once.
func ReadUpload(path string, c hub.Context) (*hub.Upload, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: %w", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("cgoguard: %s is not JSON: %w", path, err)
	}
	if _, ok := probe["format_version"]; ok {
		var up hub.Upload
		if err := json.Unmarshal(b, &up); err != nil {
			return nil, fmt.Errorf("cgoguard: %s: %w", path, err)
		}
		return &up, nil
	}
	_, hasChecks := probe["checks"]
	_, hasName := probe["checklist"]
	if !hasChecks || !hasName {
		return nil, fmt.Errorf("cgoguard: %s is neither a hub upload (format_version) nor a checklist result (checklist, checks)", path)
	}
	ctxJSON, _ := json.Marshal(c)
	h := sha256.New()
	h.Write(bytes.TrimSpace(b))
	h.Write([]byte{0})
	h.Write(ctxJSON)
	return &hub.Upload{FormatVersion: hub.FormatVersion, ID: "sha256-" + hex.EncodeToString(h.Sum(nil)[:16]), Context: c, Result: json.RawMessage(b)}, nil
}
