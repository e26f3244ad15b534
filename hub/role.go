package hub

import (
	"fmt"
	"strings"
)

// Role is what a token may do. Every permission decision of the hub goes
// through Role.Can, so the table below is the one place to read or change
// them.
type Role string

// Roles, from most to least privileged.
const (
	// RoleAdmin may do everything, including managing tokens.
	RoleAdmin Role = "admin"
	// RoleAuthor writes checklists.
	RoleAuthor Role = "author"
	// RoleReviewer approves checklists.
	RoleReviewer Role = "reviewer"
	// RoleRunner uploads runs (CI jobs, cgoguard check --report-to).
	RoleRunner Role = "runner"
	// RoleViewer reads runs, checks and trends.
	RoleViewer Role = "viewer"
)

// Roles lists every role, most privileged first.
var Roles = []Role{RoleAdmin, RoleAuthor, RoleReviewer, RoleRunner, RoleViewer}

// Action is something a request asks to do.
type Action string

// Actions checked by the server.
const (
	// ActionRead reads runs, checks, trends and the pages.
	ActionRead Action = "read"
	// ActionUpload stores a run.
	ActionUpload Action = "upload"
	// ActionWriteChecklist creates or changes a checklist.
	ActionWriteChecklist Action = "write-checklist"
	// ActionApproveChecklist approves a checklist version.
	ActionApproveChecklist Action = "approve-checklist"
	// ActionManageTokens creates, lists and revokes tokens.
	ActionManageTokens Action = "manage-tokens"
	// ActionVote marks a check useful or noisy.
	ActionVote Action = "vote"
	// ActionWaive grants or lifts a waiver of a check kept by the hub.
	ActionWaive Action = "waive"
	// ActionRunQueue leases, renews and completes run requests (agents).
	ActionRunQueue Action = "run-queue"
	// ActionReadAudit reads the audit log.
	ActionReadAudit Action = "read-audit"
)

// Actions lists every action, in the order of the documented table.
var Actions = []Action{ActionRead, ActionUpload, ActionWriteChecklist, ActionApproveChecklist, ActionVote,
	ActionWaive, ActionRunQueue, ActionManageTokens, ActionReadAudit}

// permissions maps each action to the roles allowed to do it (admin may do
// everything and is not listed).
var permissions = map[Action][]Role{
	ActionRead:             {RoleAuthor, RoleReviewer, RoleRunner, RoleViewer},
	ActionUpload:           {RoleRunner},
	ActionWriteChecklist:   {RoleAuthor},
	ActionApproveChecklist: {RoleReviewer},
	ActionManageTokens:     {},
	// Any signed-in person may vote; an anonymous reader (--auth write)
	// may not.
	ActionVote:      {RoleAuthor, RoleReviewer, RoleRunner, RoleViewer},
	ActionWaive:     {RoleReviewer},
	ActionRunQueue:  {RoleRunner},
	ActionReadAudit: {},
}

// Can reports whether role r may do a. An unknown role or action may do
// nothing.
func (r Role) Can(a Action) bool {
	roles, ok := permissions[a]
	if !ok || !r.Valid() {
		return false
	}
	if r == RoleAdmin {
		return true
	}
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// ParseRole returns the role named s, or an error listing the roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		names := make([]string, len(Roles))
		for i, x := range Roles {
			names[i] = string(x)
		}
		return "", fmt.Errorf("cgoguard: unknown role %q (known: %s)", s, strings.Join(names, ", "))
	}
	return r, nil
}
