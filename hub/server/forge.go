package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

// The hub talks to two forge APIs, each with two calls: GitHub's pull
// request (for the head commit, which issue_comment events do not carry)
// and issue comments; GitLab's merge request notes. A client library per
// forge would bring far more than these three requests need.

// forgeCall sends one JSON request to a forge API and decodes the answer.
func (s *Server) forgeCall(ctx context.Context, forge, method, path string, body, out any) error {
	f := s.o.forges[forge]
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.APIURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "cgoguard-hub")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch forge {
	case hub.ForgeGitHub:
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		if f.Token != "" {
			req.Header.Set("Authorization", "Bearer "+f.Token)
		}
	case hub.ForgeGitLab:
		if f.Token != "" {
			req.Header.Set("PRIVATE-TOKEN", f.Token)
		}
	}
	res, err := s.o.forgeHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("cgoguard: %s API %s %s: %w", forge, method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return &forgeStatusError{code: res.StatusCode, msg: fmt.Sprintf("cgoguard: %s API %s %s answered %d: %s", forge, method, path, res.StatusCode, clipLine(string(b), 300))}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("cgoguard: %s API %s %s: unreadable answer: %w", forge, method, path, err)
		}
	}
	return nil
}

// githubHead reads a pull request's head commit.
func (s *Server) githubHead(ctx context.Context, repo string, number int) (string, error) {
	var pr struct {
		Head struct {
			SHA string `json:"sha"`
		} `json:"head"`
	}
	if err := s.forgeCall(ctx, hub.ForgeGitHub, http.MethodGet, "/repos/"+repoPath(repo)+"/pulls/"+strconv.Itoa(number), nil, &pr); err != nil {
		return "", err
	}
	if pr.Head.SHA == "" {
		return "", fmt.Errorf("cgoguard: github API: pull request %s#%d has no head commit", repo, number)
	}
	return pr.Head.SHA, nil
}

// forgeStatusError is a forge API's answer other than 2xx.
type forgeStatusError struct {
	code int
	msg  string
}

func (e *forgeStatusError) Error() string { return e.msg }

// githubPermission reads a user's permission on a repository: admin,
// maintain, write, triage, read or none ("none" also when GitHub does not
// know the user).
func (s *Server) githubPermission(ctx context.Context, repo, login string) (string, error) {
	var p struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	err := s.forgeCall(ctx, hub.ForgeGitHub, http.MethodGet, "/repos/"+repoPath(repo)+"/collaborators/"+url.PathEscape(login)+"/permission", nil, &p)
	var se *forgeStatusError
	if errors.As(err, &se) && se.code == http.StatusNotFound {
		return "none", nil
	}
	if err != nil {
		return "", err
	}
	// role_name carries "maintain" where the legacy permission says write.
	if p.RoleName == "maintain" {
		return "maintain", nil
	}
	return or(p.Permission, "none"), nil
}

// repoPath escapes each segment of "owner/name".
func repoPath(repo string) string {
	parts := strings.Split(repo, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// postForgeComment posts body on the request's pull or merge request and
// returns a link to (or the id of) the comment.
func (s *Server) postForgeComment(ctx context.Context, r *hub.RunRequest, body string) (string, error) {
	switch r.Forge {
	case hub.ForgeGitHub:
		var out struct {
			HTMLURL string `json:"html_url"`
			ID      int64  `json:"id"`
		}
		err := s.forgeCall(ctx, hub.ForgeGitHub, http.MethodPost, fmt.Sprintf("/repos/%s/issues/%d/comments", repoPath(r.Repo), r.Number),
			map[string]string{"body": body}, &out)
		if err != nil {
			return "", err
		}
		return or(out.HTMLURL, fmt.Sprintf("comment %d", out.ID)), nil
	case hub.ForgeGitLab:
		var out struct {
			ID int64 `json:"id"`
		}
		err := s.forgeCall(ctx, hub.ForgeGitLab, http.MethodPost, fmt.Sprintf("/projects/%s/merge_requests/%d/notes", url.PathEscape(r.Repo), r.Number),
			map[string]string{"body": body}, &out)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("note %d", out.ID), nil
	}
	return "", fmt.Errorf("cgoguard: unknown forge %q", r.Forge)
}

// commentFor writes the summary comment of a finished request.
func (s *Server) commentFor(ctx context.Context, r *hub.RunRequest) string {
	var b strings.Builder
	what := "all"
	if len(r.Checks) > 0 {
		what = strings.Join(r.Checks, " ")
	}
	if r.State != hub.RequestDone {
		fmt.Fprintf(&b, "### cgoguard: `/checklist run %s` could not run\n\n", mdCode(what))
		fmt.Fprintf(&b, "Commit `%s`: %s\n", mdCode(shorten(r.Head, 12)), mdCode(r.Error))
		fmt.Fprintf(&b, "\nRequest `%s`%s.\n", r.ID, s.link("/queue"))
		return b.String()
	}
	run, err := s.st.Run(ctx, r.RunID)
	if err != nil {
		fmt.Fprintf(&b, "### cgoguard: run %s stored\n\nThe hub could not read it back for this summary: %s\n", r.RunID, mdCode(err.Error()))
		return b.String()
	}
	verdict := "passed"
	switch run.Outcome {
	case hub.OutcomeFail:
		verdict = "FAILED"
	case hub.OutcomeInterrupted:
		verdict = "interrupted"
	}
	version := ""
	if run.ChecklistVersion > 0 {
		version = fmt.Sprintf(" version %d", run.ChecklistVersion)
	}
	fmt.Fprintf(&b, "### cgoguard: %s%s %s\n\n", mdText(run.Checklist), version, verdict)
	c := run.Counts
	failed := c.Fail + c.Timeout + c.Error
	fmt.Fprintf(&b, "Commit `%s`: %d check(s), %d failed, %d passed, %d skipped, %d waived", mdCode(shorten(r.Head, 12)), c.Checks, failed, c.Pass, c.Skip, c.Waived)
	if c.Flaky > 0 {
		fmt.Fprintf(&b, ", %d passed only on retry", c.Flaky)
	}
	fmt.Fprintf(&b, ". Run `%s`%s.\n", run.ID, s.link("/runs/"+url.PathEscape(run.ID)))
	if failed > 0 {
		b.WriteString("\n| Check | Outcome | Title | Why |\n| --- | --- | --- | --- |\n")
		for _, ch := range run.Checks {
			if !ch.Outcome.Failed() {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` |\n", mdCode(ch.ID), ch.Outcome, mdText(ch.Title), mdCode(clipLine(ch.Message, 160)))
		}
	}
	if run.Source != nil && run.Source.Cached {
		fmt.Fprintf(&b, "\nThe agent could not reach the hub and ran its cached copy of version %d.\n", run.Source.Version)
	}
	fmt.Fprintf(&b, "\n<sub>`/checklist run %s` by %s; request `%s`.</sub>\n", mdCode(what), mdText(r.RequestedBy), r.ID)
	return b.String()
}

func (s *Server) link(path string) string {
	if s.o.publicURL == "" {
		return ""
	}
	return " (" + s.o.publicURL + path + ")"
}

// mdCode makes s safe inside a Markdown code span: one line, no
// backticks. What a check printed (untrusted: it comes from the pull
// request's code) is shown only this way, so it cannot mention people,
// link or embed images.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "`", "'")
}

// mdText makes a short text safe in a table cell: one line, no pipes, no
// markup that mentions or links.
func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := strings.NewReplacer("|", "\\|", "@", "@\u200b", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]", "!", "\\!", "*", "\\*", "_", "\\_", "`", "'")
	return r.Replace(clipLine(s, 200))
}

func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return truncate(s, n) + "…"
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// commentStale is how long a claimed comment may stay unposted before
// another hub (or a later sweep) posts it.
const commentStale = 2 * time.Minute

// postComment posts a finished request's summary once: the store lets
// one caller claim it. Transient failures are retried three times.
func (s *Server) postComment(ctx context.Context, r *hub.RunRequest) {
	ok, err := s.st.ClaimComment(ctx, r.ID, commentStale)
	if err != nil || !ok {
		if err != nil {
			s.o.logger.Error("claim comment", "request", r.ID, "err", err)
		}
		return
	}
	body := s.commentFor(ctx, r)
	var last error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		link, err := s.postForgeComment(ctx, r, body)
		if err == nil {
			if err := s.st.SetComment(ctx, r.ID, "posted", link, ""); err != nil {
				s.o.logger.Error("record comment", "request", r.ID, "err", err)
			}
			return
		}
		last = err
	}
	s.o.logger.Error("post summary comment", "request", r.ID, "err", last)
	if err := s.st.SetComment(ctx, r.ID, "failed", "", last.Error()); err != nil {
		s.o.logger.Error("record comment", "request", r.ID, "err", err)
	}
}

// sweepComments posts, at most every 30 s, the comments of requests
// finished by a hub that stopped before posting them.
func (s *Server) sweepComments() {
	s.sweep.Lock()
	now := s.o.now()
	if now.Sub(s.sweep.at) < 30*time.Second {
		s.sweep.Unlock()
		return
	}
	s.sweep.at = now
	s.sweep.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(hub.WithActor(context.Background(), hub.Actor{Name: "hub"}), 2*time.Minute)
		defer cancel()
		reqs, err := s.st.UnpostedComments(ctx, commentStale)
		if err != nil {
			s.o.logger.Error("unposted comments", "err", err)
			return
		}
		for i := range reqs {
			s.postComment(ctx, &reqs[i])
		}
	}()
}
