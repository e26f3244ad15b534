package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cgoguard/cgoguard/hub"
)

// maxHookBody bounds a webhook payload.
const maxHookBody = 2 << 20

// hookEvent is what a verified webhook delivery asks for.
type hookEvent struct {
	forge, delivery string
	// payloadID is payloadDelivery of the body: recorded with the
	// delivery id so that the same payload is refused under another id.
	payloadID   string
	repo        string
	number      int
	head        string // empty: read it from the forge
	commentID   string
	comment     string
	author      string
	association string // GitHub only
}

// hookError is a refused delivery: its status and why, audited and
// logged.
type hookError struct {
	code    int
	outcome string
	msg     string
}

func (e *hookError) Error() string { return e.msg }

func reject(code int, outcome, format string, args ...any) *hookError {
	return &hookError{code: code, outcome: outcome, msg: fmt.Sprintf(format, args...)}
}

// hookActor is who a delivery acts as in the audit log.
func hookActor(r *http.Request, forge string) context.Context {
	return hub.WithActor(r.Context(), hub.Actor{Name: forge + "-webhook", From: remoteAddr(r)})
}

// refuseHook answers, audits and logs a refused delivery.
func (s *Server) refuseHook(w http.ResponseWriter, r *http.Request, forge, delivery string, e *hookError) {
	ctx := hookActor(r, forge)
	target := forge
	if delivery != "" {
		target += ":" + clipLine(delivery, 100)
	}
	if err := s.st.AppendAudit(context.WithoutCancel(ctx), hub.NewAudit(ctx, hub.AuditWebhook, target, e.outcome, e.msg)); err != nil {
		s.o.logger.Error("audit log", "err", err)
	}
	s.o.logger.Warn("webhook refused", "forge", forge, "delivery", delivery, "from", remoteAddr(r), "status", e.code, "reason", e.msg)
	s.metrics.hooks.WithLabelValues(forge, e.outcome).Inc()
	writeError(w, e.code, e.msg)
}

func readHook(w http.ResponseWriter, r *http.Request) ([]byte, *hookError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, reject(http.StatusRequestEntityTooLarge, hub.AuditRejected, "payload larger than %d bytes", maxHookBody)
		}
		return nil, reject(http.StatusBadRequest, hub.AuditRejected, "unreadable payload: %v", err)
	}
	return body, nil
}

func (s *Server) githubHook(w http.ResponseWriter, r *http.Request) {
	const forge = hub.ForgeGitHub
	delivery := r.Header.Get("X-GitHub-Delivery")
	if s.o.githubSecret == "" {
		writeError(w, http.StatusNotFound, "this hub has no GitHub webhook secret (cgoguard hub --github-secret-file)")
		return
	}
	body, herr := readHook(w, r)
	payloadID := payloadDelivery(body)
	if herr == nil && delivery == "" {
		// No delivery header (a proxy dropped it, or a hand-made
		// request): the payload's hash stands for it.
		delivery = payloadID
	}
	if herr == nil {
		herr = verifyGitHub(s.o.githubSecret, r.Header.Get("X-Hub-Signature-256"), body)
	}
	if herr != nil {
		s.refuseHook(w, r, forge, delivery, herr)
		return
	}
	ev := r.Header.Get("X-GitHub-Event")
	if ev == "" {
		// The signature holds, so the payload says what it is.
		ev = githubEventOf(body)
	}
	switch ev {
	case "ping":
		writeJSON(w, http.StatusOK, map[string]string{"status": "pong"})
		return
	case "issue_comment":
	default:
		s.ignoreHook(w, forge, "event "+or(ev, "(none given, none recognized in the payload)")+" is not issue_comment")
		return
	}
	var p struct {
		Action string `json:"action"`
		Issue  struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
		Comment struct {
			ID                int64  `json:"id"`
			Body              string `json:"body"`
			AuthorAssociation string `json:"author_association"`
			User              struct {
				Login string `json:"login"`
			} `json:"user"`
		} `json:"comment"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		s.refuseHook(w, r, forge, delivery, reject(http.StatusBadRequest, hub.AuditRejected, "malformed payload: %v", err))
		return
	}
	switch {
	case p.Action != "created":
		s.ignoreHook(w, forge, "comment "+p.Action+", not created")
		return
	case len(p.Issue.PullRequest) == 0 || string(p.Issue.PullRequest) == "null":
		s.ignoreHook(w, forge, "a comment on an issue, not on a pull request")
		return
	}
	s.queueFromHook(w, r, hookEvent{forge: forge, delivery: delivery, payloadID: payloadID, repo: p.Repository.FullName, number: p.Issue.Number,
		commentID: strconv.FormatInt(p.Comment.ID, 10), comment: p.Comment.Body, author: p.Comment.User.Login,
		association: p.Comment.AuthorAssociation})
}

// payloadDelivery is the delivery id of a webhook payload that came
// without a delivery header: "sha256:" and the hex SHA-256 of the body.
// The hub also records it for every accepted delivery, so a replayed
// payload is refused whatever delivery header it carries.
func payloadDelivery(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// githubEventOf names a GitHub event from its payload, for a delivery
// without X-GitHub-Event: "ping", "issue_comment", or "".
func githubEventOf(body []byte) string {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return ""
	}
	has := func(k string) bool { v, ok := keys[k]; return ok && string(v) != "null" }
	switch {
	case has("zen") && has("hook_id"):
		return "ping"
	case has("comment") && has("issue"):
		return "issue_comment"
	}
	return ""
}

// verifyGitHub checks "sha256=<hex HMAC-SHA256 of the body>".
func verifyGitHub(secret, header string, body []byte) *hookError {
	if header == "" {
		return reject(http.StatusUnauthorized, hub.AuditDenied, "unsigned delivery: X-Hub-Signature-256 is missing")
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	sig, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return reject(http.StatusUnauthorized, hub.AuditDenied, "X-Hub-Signature-256 is not sha256=<hex>")
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return reject(http.StatusUnauthorized, hub.AuditDenied, "wrong signature: X-Hub-Signature-256 does not match the payload and this hub's secret")
	}
	return nil
}

func (s *Server) gitlabHook(w http.ResponseWriter, r *http.Request) {
	const forge = hub.ForgeGitLab
	delivery := or(r.Header.Get("X-Gitlab-Event-UUID"), r.Header.Get("Idempotency-Key"))
	if s.o.gitlabToken == "" {
		writeError(w, http.StatusNotFound, "this hub has no GitLab webhook token (cgoguard hub --gitlab-token-file)")
		return
	}
	body, herr := readHook(w, r)
	payloadID := payloadDelivery(body)
	if herr == nil && delivery == "" {
		delivery = payloadID
	}
	if herr == nil {
		tok := r.Header.Get("X-Gitlab-Token")
		switch {
		case tok == "":
			herr = reject(http.StatusUnauthorized, hub.AuditDenied, "unsigned delivery: X-Gitlab-Token is missing")
		case !hmac.Equal([]byte(tok), []byte(s.o.gitlabToken)):
			herr = reject(http.StatusUnauthorized, hub.AuditDenied, "wrong X-Gitlab-Token")
		}
	}
	if herr != nil {
		s.refuseHook(w, r, forge, delivery, herr)
		return
	}
	ev := r.Header.Get("X-Gitlab-Event")
	if ev == "" {
		// The token holds, so the payload's object_kind says what it is.
		var k struct {
			ObjectKind string `json:"object_kind"`
		}
		if json.Unmarshal(body, &k) == nil && k.ObjectKind == "note" {
			ev = "Note Hook"
		}
	}
	if ev != "Note Hook" {
		s.ignoreHook(w, forge, "event "+or(ev, "(none given, none recognized in the payload)")+" is not Note Hook")
		return
	}
	var p struct {
		ObjectKind string `json:"object_kind"`
		User       struct {
			Username string `json:"username"`
		} `json:"user"`
		Project struct {
			Path string `json:"path_with_namespace"`
		} `json:"project"`
		Attrs struct {
			ID           int64  `json:"id"`
			Note         string `json:"note"`
			NoteableType string `json:"noteable_type"`
			Action       string `json:"action"`
		} `json:"object_attributes"`
		MR *struct {
			IID        int `json:"iid"`
			LastCommit struct {
				ID string `json:"id"`
			} `json:"last_commit"`
		} `json:"merge_request"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		s.refuseHook(w, r, forge, delivery, reject(http.StatusBadRequest, hub.AuditRejected, "malformed payload: %v", err))
		return
	}
	switch {
	case p.ObjectKind != "note":
		s.ignoreHook(w, forge, "object_kind "+p.ObjectKind+" is not note")
		return
	case p.Attrs.Action != "" && p.Attrs.Action != "create":
		s.ignoreHook(w, forge, "note "+p.Attrs.Action+", not create")
		return
	case p.Attrs.NoteableType != "MergeRequest" || p.MR == nil:
		s.ignoreHook(w, forge, "a note on "+p.Attrs.NoteableType+", not on a merge request")
		return
	}
	s.queueFromHook(w, r, hookEvent{forge: forge, delivery: delivery, payloadID: payloadID, repo: p.Project.Path, number: p.MR.IID,
		head: p.MR.LastCommit.ID, commentID: strconv.FormatInt(p.Attrs.ID, 10), comment: p.Attrs.Note, author: p.User.Username})
}

func (s *Server) ignoreHook(w http.ResponseWriter, forge, why string) {
	s.metrics.hooks.WithLabelValues(forge, "ignored").Inc()
	writeJSON(w, http.StatusOK, map[string]string{"status": "ignored", "reason": why})
}

// queueFromHook turns a verified comment event into a run request.
func (s *Server) queueFromHook(w http.ResponseWriter, r *http.Request, ev hookEvent) {
	rule, ok := s.o.repos[ev.forge+":"+ev.repo]
	if !ok {
		s.refuseHook(w, r, ev.forge, ev.delivery, reject(http.StatusForbidden, hub.AuditRejected,
			"repository %s:%s is not allowed on this hub (cgoguard hub --allow-repo)", ev.forge, clipLine(ev.repo, 200)))
		return
	}
	checks, found, err := hub.ParseCommand(ev.comment)
	if !found {
		s.ignoreHook(w, ev.forge, "the comment holds no /checklist run command")
		return
	}
	if err != nil {
		s.refuseHook(w, r, ev.forge, ev.delivery, reject(http.StatusUnprocessableEntity, hub.AuditRejected, "%v", err))
		return
	}
	ctx := hookActor(r, ev.forge)
	if ev.forge == hub.ForgeGitHub {
		assoc, herr := s.githubAssociation(ctx, ev)
		if herr != nil {
			s.refuseHook(w, r, ev.forge, ev.delivery, herr)
			return
		}
		if !slices.Contains(s.o.trustedAuthors, assoc) {
			s.refuseHook(w, r, ev.forge, ev.delivery, reject(http.StatusForbidden, hub.AuditDenied,
				"%s is %s on %s; only %s may start runs", clipLine(or(ev.author, "(no author)"), 100), assoc, ev.repo, strings.Join(s.o.trustedAuthors, ", ")))
			return
		}
	}
	req := &hub.RunRequest{Forge: ev.forge, Repo: ev.repo, Number: ev.number, Head: ev.head, Checks: checks,
		Checklist: or(rule.Checklist, s.o.defaultChecklist), CommentID: ev.commentID, Delivery: ev.delivery, RequestedBy: ev.author}
	switch ev.forge {
	case hub.ForgeGitHub:
		req.HeadRef = fmt.Sprintf("refs/pull/%d/head", ev.number)
	case hub.ForgeGitLab:
		req.HeadRef = fmt.Sprintf("refs/merge-requests/%d/head", ev.number)
	}
	if req.Head == "" {
		head, err := s.githubHead(ctx, ev.repo, ev.number)
		if err != nil {
			s.refuseHook(w, r, ev.forge, ev.delivery, reject(http.StatusBadGateway, hub.AuditRejected, "%v", err))
			return
		}
		req.Head = head
	}
	if !validSHA(req.Head) {
		s.refuseHook(w, r, ev.forge, ev.delivery, reject(http.StatusBadRequest, hub.AuditRejected, "head commit %q is not a commit hash", clipLine(req.Head, 80)))
		return
	}
	// The delivery id is recorded only now: a delivery refused because the
	// forge's API failed may be redelivered; an accepted one may not. The
	// payload's hash is recorded too, so the same payload sent again under
	// a new delivery header is a replay as well.
	ids := []string{ev.delivery, ev.payloadID}
	if ev.payloadID == "" || ev.payloadID == ev.delivery {
		ids = []string{ev.delivery}
	}
	for _, id := range ids {
		fresh, err := s.st.RecordDelivery(ctx, ev.forge, id)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if !fresh {
			why := "replayed delivery: " + clipLine(ev.delivery, 100) + " was seen before"
			if id != ev.delivery {
				why = "replayed delivery: the same payload was accepted before (" + id + ")"
			}
			s.refuseHook(w, r, ev.forge, ev.delivery, reject(http.StatusConflict, hub.AuditRejected, "%s", why))
			return
		}
	}
	q, created, err := s.st.EnqueueRequest(ctx, req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if !created {
		s.refuseHook(w, r, ev.forge, ev.delivery, reject(http.StatusConflict, hub.AuditRejected, "comment %s queued a run before", ev.commentID))
		return
	}
	s.wake()
	s.metrics.hooks.WithLabelValues(ev.forge, "queued").Inc()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "queued", "request": q.ID})
}

// pushPermissions are the GitHub permissions that count as a
// COLLABORATOR when a comment carries no author_association: the
// commenter can push to the repository, so can run code in its CI anyway.
var pushPermissions = []string{"admin", "maintain", "write"}

// githubAssociation is the commenter's association used for the trusted
// authors rule. GitHub sends it as comment.author_association; when a
// payload lacks it, the hub does not guess: with NONE among the trusted
// associations anyone may start runs, else it asks GitHub for the
// commenter's permission on the repository and counts admin, maintain or
// write as COLLABORATOR, anything else as NONE. A failed lookup is a 502
// (the delivery is not recorded, so it may be redelivered).
func (s *Server) githubAssociation(ctx context.Context, ev hookEvent) (string, *hookError) {
	if ev.association != "" {
		return ev.association, nil
	}
	if slices.Contains(s.o.trustedAuthors, "NONE") || ev.author == "" {
		return "NONE", nil
	}
	perm, err := s.githubPermission(ctx, ev.repo, ev.author)
	if err != nil {
		return "", reject(http.StatusBadGateway, hub.AuditRejected, "the comment carries no author_association and its author's permission could not be read: %v", err)
	}
	if slices.Contains(pushPermissions, perm) {
		return "COLLABORATOR", nil
	}
	return "NONE", nil
}

func validSHA(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	_, err := hex.DecodeString(s[:len(s)&^1])
	return err == nil && strings.Trim(s, "0123456789abcdefABCDEF") == ""
}
