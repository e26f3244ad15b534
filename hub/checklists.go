package hub

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/cgoguard/cgoguard/checklist"
)

// MaxChecklistBytes bounds an uploaded checklist file.
const MaxChecklistBytes = 1 << 20

// VersionState is where a checklist version is in its review.
type VersionState string

// States of a checklist version.
const (
	// StatePending waits for a reviewer.
	StatePending VersionState = "pending"
	// StateApproved was approved by a reviewer other than its author; the
	// version approved last is the active one.
	StateApproved VersionState = "approved"
	// StateRejected was rejected with a comment; a new version replaces it.
	StateRejected VersionState = "rejected"
)

// ChecklistVersion is one uploaded version of a checklist.
type ChecklistVersion struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// Digest is "sha256:" and the hex SHA-256 of YAML.
	Digest  string       `json:"digest"`
	Author  string       `json:"author"`
	Created time.Time    `json:"created"`
	State   VersionState `json:"state"`
	// Reviewer, Reviewed and Comment record the approval or rejection.
	Reviewer string    `json:"reviewer,omitempty"`
	Reviewed time.Time `json:"reviewed,omitzero"`
	Comment  string    `json:"comment,omitempty"`
	// Active is true for the version that runs.
	Active bool `json:"active"`
	// Checks counts the checks; Description is the checklist's.
	Checks      int    `json:"checks"`
	Description string `json:"description,omitempty"`
	// Diff is the unified diff from the previous version's YAML (empty
	// for the first version).
	Diff string `json:"diff,omitempty"`
	// YAML is the file as uploaded; lists leave it out.
	YAML string `json:"yaml,omitempty"`
}

// ChecklistInfo summarises a checklist kept by the hub.
type ChecklistInfo struct {
	Name string `json:"name"`
	// Active is the active version, 0 before the first approval.
	Active  int       `json:"active"`
	Latest  int       `json:"latest"`
	Pending int       `json:"pending"`
	Updated time.Time `json:"updated"`
	// Description is the latest version's.
	Description string `json:"description,omitempty"`
}

// ChecklistDocument is what `cgoguard check --from-hub` fetches: an
// approved version's YAML with the waivers the hub grants for it.
type ChecklistDocument struct {
	Name     string    `json:"name"`
	Version  int       `json:"version"`
	Digest   string    `json:"digest"`
	Author   string    `json:"author"`
	Approver string    `json:"approver"`
	Approved time.Time `json:"approved"`
	// Active is true when this is the active version.
	Active bool   `json:"active"`
	YAML   string `json:"yaml"`
	// Waivers are the hub's active waivers of this checklist's checks.
	Waivers []Waiver `json:"waivers,omitempty"`
}

// Waiver is a waiver granted in the hub by a reviewer: the check's
// failures are accepted until the end of Expires (UTC) in runs of the
// checklist fetched from the hub.
type Waiver struct {
	Checklist string `json:"checklist"`
	Check     string `json:"check"`
	Reason    string `json:"reason"`
	// Expires is the last day, YYYY-MM-DD.
	Expires string    `json:"expires"`
	By      string    `json:"by"`
	Created time.Time `json:"created"`
}

// ChecklistError is an uploaded checklist that does not load: the same
// problems `cgoguard check` reports, each with its line and column. It
// matches ErrInvalid.
type ChecklistError struct {
	File     string              `json:"file"`
	Problems []checklist.Problem `json:"problems"`
}

func (e *ChecklistError) Error() string {
	var b strings.Builder
	b.WriteString("cgoguard: invalid checklist: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s", e.File, p.Line, p.Column, p.Msg)
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *ChecklistError) Is(target error) bool { return target == ErrInvalid }

// ValidateChecklist loads data with the loader of `cgoguard check` (name
// is the file name used in messages) and returns the checklist, or a
// *ChecklistError with every problem's line and column.
func ValidateChecklist(name string, data []byte) (*checklist.Checklist, error) {
	if len(data) > MaxChecklistBytes {
		return nil, &ChecklistError{File: name, Problems: []checklist.Problem{{Msg: fmt.Sprintf("the file is larger than %d bytes", MaxChecklistBytes)}}}
	}
	cl, err := checklist.Parse(name, data, checklist.LoadOptions{})
	if err != nil {
		var ce *checklist.ConfigError
		if !errors.As(err, &ce) {
			return nil, &ChecklistError{File: name, Problems: []checklist.Problem{{Msg: err.Error()}}}
		}
		ce.Locate(data)
		return nil, &ChecklistError{File: name, Problems: ce.Problems}
	}
	if len(cl.Name) > maxNameLen || hasControl(cl.Name) || strings.ContainsAny(cl.Name, "/@ \t") {
		return nil, &ChecklistError{File: name, Problems: []checklist.Problem{{Line: 1, Column: 1,
			Msg: fmt.Sprintf("checklist: name %q must be at most %d bytes without spaces, control characters, '/' or '@' (it is part of URLs)", clip(cl.Name), maxNameLen)}}}
	}
	return cl, nil
}

// ChecklistDigest returns "sha256:" and the hex SHA-256 of data.
func ChecklistDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// VersionDiff is the unified diff from one version's YAML to the next.
func VersionDiff(name string, prev int, old string, next int, new string) string {
	if prev == 0 {
		return ""
	}
	return udiff.Unified(fmt.Sprintf("%s@%d", name, prev), fmt.Sprintf("%s@%d", name, next), old, new)
}

// ValidWaiver checks a waiver to grant and returns its problems.
func ValidWaiver(w Waiver, now time.Time) error {
	inv := &InvalidError{What: "waiver"}
	if w.Checklist == "" || w.Check == "" {
		inv.add("checklist and check are required")
	}
	if strings.TrimSpace(w.Reason) == "" {
		inv.add("reason is required")
	}
	if len(w.Reason) > maxContextLen {
		inv.add("reason is longer than %d bytes", maxContextLen)
	}
	d, err := time.Parse(time.DateOnly, w.Expires)
	switch {
	case err != nil:
		inv.add("expires %q is not YYYY-MM-DD", clip(w.Expires))
	case d.AddDate(0, 0, 1).Before(now):
		inv.add("expires %s is in the past", w.Expires)
	case d.After(now.AddDate(1, 0, 0)):
		inv.add("expires %s is more than a year away", w.Expires)
	}
	return inv.orNil()
}
