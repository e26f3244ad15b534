package hub

import (
	"context"
	"time"
)

// Actor is who makes a change: the token's name and role, and where the
// request came from. The server puts it in the request's context with
// WithActor; the store writes it to the audit log in the same transaction
// as the change.
type Actor struct {
	// Name is the token's name ("cli:root" for the hub token command,
	// "github"/"gitlab" for a verified webhook).
	Name string `json:"name"`
	// Role is the token's role; empty for the command line and webhooks.
	Role Role `json:"role,omitempty"`
	// From is the client's address ("203.0.113.7", "local host-1").
	From string `json:"from,omitempty"`
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; without one, the actor is
// "unknown".
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Name != "" {
		return a
	}
	return Actor{Name: "unknown"}
}

// Audit actions: what an audit entry records.
const (
	AuditRunUpload         = "run.upload"
	AuditChecklistUpload   = "checklist.upload"
	AuditChecklistApprove  = "checklist.approve"
	AuditChecklistReject   = "checklist.reject"
	AuditVote              = "check.vote"
	AuditWaiverGrant       = "waiver.grant"
	AuditWaiverLift        = "waiver.lift"
	AuditTokenCreate       = "token.create"
	AuditTokenRevoke       = "token.revoke"
	AuditWebhook           = "webhook"
	AuditRequestLease      = "request.lease"
	AuditRequestComplete   = "request.complete"
	AuditRequestComment    = "request.comment"
	AuditRequestExhausted  = "request.exhausted"
	AuditPermissionRefused = "permission.refused"
)

// Outcomes of an audit entry.
const (
	// AuditOK is a change that was made.
	AuditOK = "ok"
	// AuditDenied is a write refused for the caller's credentials or role.
	AuditDenied = "denied"
	// AuditRejected is a write refused for its content (a bad signature, a
	// replayed delivery, an invalid checklist, the author approving).
	AuditRejected = "rejected"
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	// Seq orders the log; it only grows.
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Actor, Role and From say who and from where.
	Actor string `json:"actor"`
	Role  Role   `json:"role,omitempty"`
	From  string `json:"from,omitempty"`
	// Action is one of the Audit* constants.
	Action string `json:"action"`
	// Target names what was changed: a run id, "checklist@version", a
	// "checklist/check", a token name, a request id.
	Target string `json:"target,omitempty"`
	// Outcome is AuditOK, AuditDenied or AuditRejected.
	Outcome string `json:"outcome"`
	// Detail says more (the vote and its comment, why it was refused).
	Detail string `json:"detail,omitempty"`
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	// Next is the cursor of the following (older) page; empty on the last.
	Next string `json:"next_cursor,omitempty"`
}

// NewAudit returns an entry by the actor of ctx, timestamped now.
func NewAudit(ctx context.Context, action, target, outcome, detail string) AuditEntry {
	a := ActorFrom(ctx)
	return AuditEntry{Time: time.Now().UTC(), Actor: a.Name, Role: a.Role, From: a.From,
		Action: action, Target: target, Outcome: outcome, Detail: detail}
}
