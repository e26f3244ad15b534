package hub

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ErrLeaseLost is returned when an agent renews or completes a run request
// whose lease it no longer holds: the lease expired and the request went
// to another agent, or the request was completed already.
var ErrLeaseLost = errors.New("cgoguard: lease lost")

// Forges a run request can come from.
const (
	ForgeGitHub = "github"
	ForgeGitLab = "gitlab"
)

// RequestState is where a run request is.
type RequestState string

// States of a run request.
const (
	// RequestQueued waits for an agent.
	RequestQueued RequestState = "queued"
	// RequestLeased is being run by the agent holding the lease.
	RequestLeased RequestState = "leased"
	// RequestDone was run and its run stored.
	RequestDone RequestState = "done"
	// RequestFailed could not be run (the error says why).
	RequestFailed RequestState = "failed"
)

// RunRequest is a `/checklist run` comment on a pull or merge request,
// queued for an agent.
type RunRequest struct {
	ID    string `json:"id"`
	Forge string `json:"forge"`
	// Repo is "owner/name" (GitHub) or the project's path (GitLab).
	Repo string `json:"repo"`
	// Number is the pull request's number or the merge request's iid.
	Number int `json:"number"`
	// Head is the commit to check out; HeadRef the ref that holds it on
	// the forge (refs/pull/N/head, refs/merge-requests/N/head).
	Head    string `json:"head"`
	HeadRef string `json:"head_ref"`
	// Checks are the requested check ids; empty means all.
	Checks []string `json:"checks"`
	// Checklist names the checklist whose active version runs.
	Checklist string `json:"checklist"`
	// CommentID is the forge's id of the comment; one comment queues at
	// most one request. Delivery is the webhook's delivery id.
	CommentID   string `json:"comment_id"`
	Delivery    string `json:"delivery"`
	RequestedBy string `json:"requested_by"`

	State RequestState `json:"state"`
	// Attempts counts the leases handed out.
	Attempts     int       `json:"attempts"`
	LeaseOwner   string    `json:"lease_owner,omitempty"`
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	// RunID is the stored run of a done request; Error says why a request
	// failed.
	RunID string `json:"run_id,omitempty"`
	Error string `json:"error,omitempty"`
	// CommentState is "", "posted" or "failed"; CommentURL links to the
	// summary comment on the forge.
	CommentState string `json:"comment_state,omitempty"`
	CommentURL   string `json:"comment_url,omitempty"`
	CommentError string `json:"comment_error,omitempty"`
}

// Lease is a run request handed to one agent until Expires; the agent
// renews it while it runs and completes it with Token.
type Lease struct {
	Request RunRequest `json:"request"`
	Token   string     `json:"token"`
	Expires time.Time  `json:"expires"`
	// TTL is how long a renewal extends the lease.
	TTLSeconds float64 `json:"ttl_seconds"`
	// Version is the checklist's active version when the lease was given
	// (0: none approved yet).
	Version int `json:"version"`
}

// Completion is the body an agent sends when it finishes a request:
// the run as an upload, or the error that kept it from running.
type Completion struct {
	Token  string  `json:"token"`
	Upload *Upload `json:"upload,omitempty"`
	Error  string  `json:"error,omitempty"`
}

var commandLine = regexp.MustCompile(`^/checklist\s+run(?:\s+(.*))?$`)

var checkIDPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

// MaxRequestedChecks bounds the ids of one command.
const MaxRequestedChecks = 100

// ParseCommand finds a `/checklist run all` or `/checklist run ID [ID...]`
// line in a comment. found is false when the comment holds no such line;
// checks is nil for "all". A malformed command is an error.
func ParseCommand(comment string) (checks []string, found bool, err error) {
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		m := commandLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		args := strings.Fields(m[1])
		switch {
		case len(args) == 0:
			return nil, true, fmt.Errorf("cgoguard: %q names no checks: write /checklist run all or /checklist run ID [ID...]", line)
		case len(args) == 1 && args[0] == "all":
			return nil, true, nil
		case len(args) > MaxRequestedChecks:
			return nil, true, fmt.Errorf("cgoguard: %d checks requested; at most %d", len(args), MaxRequestedChecks)
		}
		seen := map[string]bool{}
		for _, a := range args {
			if !checkIDPattern.MatchString(a) || len(a) > maxNameLen {
				return nil, true, fmt.Errorf("cgoguard: %q is not a check id", clip(a))
			}
			if !seen[a] {
				seen[a] = true
				checks = append(checks, a)
			}
		}
		return checks, true, nil
	}
	return nil, false, nil
}
