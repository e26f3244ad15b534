package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

const teamV1 = `checklist: team
description: the team's checks
checks:
  - id: A
    title: builds
    kind: command
    with: {run: "true"}
  - id: B
    title: tests
    kind: command
    with: {run: "true"}
`

func (e *env) yaml(role hub.Role, body string) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/checklists?file=team.yaml", e.tokens[role], []byte(body), "Content-Type", "application/yaml")
}

func auditLines(t testing.TB, st store.Store, f store.AuditFilter) []string {
	t.Helper()
	f.Limit = store.MaxLimit
	p, err := st.Audit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Entries {
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Actor, e.Action, e.Target, e.Outcome))
	}
	return out
}

func TestChecklistUploadValidation(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		bad := "checklist: team\nchecks:\n  - id: A\n    title: x\n    kind: comand\n  - id: A\n    title: y\n    kind: command\n    with: {run: \"true\"}\n"
		r := e.yaml(hub.RoleAuthor, bad)
		mustCode(t, r, 400)
		er := decodeJSON[ChecklistErrorResponse](t, r)
		want := []ChecklistProblem{
			{Line: 5, Column: 5, Message: `check A: unknown kind "comand" (one of command, vet, gotest, leak, http, metric, file)`},
			{Line: 6, Column: 5, Message: "check A: duplicate id (first at line 3)"},
		}
		if fmt.Sprint(er.Problems) != fmt.Sprint(want) || er.File != "team.yaml" {
			t.Fatalf("problems:\n got %+v\nwant %+v", er.Problems, want)
		}
		contains(t, er.Error, "team.yaml:5:5: check A: unknown kind")
		// A YAML syntax error has its line and column too.
		r = e.yaml(hub.RoleAuthor, "checklist: team\nchecks:\n  - id: [A\n")
		mustCode(t, r, 400)
		er = decodeJSON[ChecklistErrorResponse](t, r)
		if len(er.Problems) == 0 || er.Problems[0].Line == 0 || er.Problems[0].Column == 0 {
			t.Fatalf("syntax error without a position: %+v", er)
		}
		// Nothing was stored; the refusals are audited.
		list := decodeJSON[struct{ Checklists []hub.ChecklistInfo }](t, e.do("GET", "/api/v1/checklists", e.tokens[hub.RoleViewer], nil))
		if len(list.Checklists) != 0 {
			t.Fatalf("an invalid checklist was stored: %+v", list)
		}
		if got := auditLines(t, e.st, store.AuditFilter{Action: hub.AuditChecklistUpload}); len(got) != 2 || got[0] != "tok-author checklist.upload team.yaml rejected" {
			t.Fatalf("audit: %v", got)
		}
		// JSON body, and the wrong roles.
		body, _ := json.Marshal(ChecklistUpload{File: "t.yaml", YAML: teamV1})
		mustCode(t, e.do("POST", "/api/v1/checklists", e.tokens[hub.RoleAuthor], body), 201)
		for _, role := range []hub.Role{hub.RoleReviewer, hub.RoleRunner, hub.RoleViewer} {
			mustCode(t, e.yaml(role, teamV1), 403)
		}
	})
}

func TestChecklistReviewFlow(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		r := e.yaml(hub.RoleAuthor, teamV1)
		mustCode(t, r, 201)
		v1 := decodeJSON[hub.ChecklistVersion](t, r)
		if v1.Version != 1 || v1.State != hub.StatePending || v1.Author != "tok-author" || r.h.Get("Location") != "/checklists/team/versions/1" {
			t.Fatalf("v1: %+v %v", v1, r.h)
		}
		mustCode(t, e.yaml(hub.RoleAuthor, teamV1), 200) // the same file: no new version
		// No approved version yet: nothing to fetch.
		mustCode(t, e.do("GET", "/api/v1/checklists/team/active", e.tokens[hub.RoleRunner], nil), 404)
		mustCode(t, e.do("GET", "/api/v1/checklists/team/versions/1/document", e.tokens[hub.RoleRunner], nil), 409)
		// The author may not approve: not with the API (role), and an
		// admin who uploaded may not approve their own upload either.
		mustCode(t, e.do("POST", "/api/v1/checklists/team/versions/1/approve", e.tokens[hub.RoleAuthor], nil), 403)
		mustCode(t, e.do("POST", "/api/v1/checklists/team/versions/1/reject", e.tokens[hub.RoleReviewer], []byte(`{}`)), 400)
		r = e.do("POST", "/api/v1/checklists/team/versions/1/approve", e.tokens[hub.RoleReviewer], []byte(`{"comment":"ok"}`))
		mustCode(t, r, 200)
		if v := decodeJSON[hub.ChecklistVersion](t, r); !v.Active || v.Reviewer != "tok-reviewer" {
			t.Fatalf("approved: %+v", v)
		}
		mustCode(t, e.do("POST", "/api/v1/checklists/team/versions/1/approve", e.tokens[hub.RoleReviewer], nil), 409)

		v2yaml := strings.Replace(teamV1, "title: tests", "title: unit tests", 1)
		r = e.yaml(hub.RoleAdmin, v2yaml)
		mustCode(t, r, 201)
		r = e.do("POST", "/api/v1/checklists/team/versions/2/approve", e.tokens[hub.RoleAdmin], nil)
		mustCode(t, r, 403)
		contains(t, r.body, "tok-admin uploaded team@2 and may not review it")
		r = e.do("GET", "/api/v1/checklists/team/versions/2", e.tokens[hub.RoleViewer], nil)
		v2 := decodeJSON[hub.ChecklistVersion](t, r)
		contains(t, v2.Diff, "-    title: tests\n", "+    title: unit tests\n")
		// The page shows the diff and, to a reviewer, the review buttons.
		page := e.do("GET", "/checklists/team/versions/2", e.tokens[hub.RoleReviewer], nil)
		mustCode(t, page, 200)
		contains(t, page.body, `<span class="d-del">-    title: tests</span>`, `<span class="d-add">&#43;    title: unit tests</span>`, `value="approve"`)
		if p := e.do("GET", "/checklists/team/versions/2", e.tokens[hub.RoleViewer], nil); strings.Contains(p.body, `value="approve"`) {
			t.Error("a viewer is offered the review buttons")
		}
		mustCode(t, e.do("POST", "/api/v1/checklists/team/versions/2/reject", e.tokens[hub.RoleReviewer], []byte(`{"comment":"name the package"}`)), 200)
		page = e.do("GET", "/checklists/team", e.tokens[hub.RoleViewer], nil)
		contains(t, page.body, "rejected", "name the package", "active")

		// The active version, with an ETag; a current copy gets a 304.
		r = e.do("GET", "/api/v1/checklists/team/active", e.tokens[hub.RoleRunner], nil)
		mustCode(t, r, 200)
		doc := decodeJSON[hub.ChecklistDocument](t, r)
		etag := r.h.Get("ETag")
		if doc.Version != 1 || doc.YAML != teamV1 || doc.Approver != "tok-reviewer" || etag == "" || doc.Digest != hub.ChecklistDigest([]byte(teamV1)) {
			t.Fatalf("document: %+v etag %q", doc, etag)
		}
		mustCode(t, e.do("GET", "/api/v1/checklists/team/active", e.tokens[hub.RoleRunner], nil, "If-None-Match", etag), 304)
		// A hub waiver changes the document, so the ETag changes.
		w := fmt.Sprintf(`{"checklist":"team","check":"B","reason":"flaky runner","expires":"%s"}`, now0.AddDate(0, 0, 3).Format("2006-01-02"))
		mustCode(t, e.do("POST", "/api/v1/waivers", e.tokens[hub.RoleReviewer], []byte(w)), 201)
		r = e.do("GET", "/api/v1/checklists/team/active", e.tokens[hub.RoleRunner], nil, "If-None-Match", etag)
		mustCode(t, r, 200)
		if doc := decodeJSON[hub.ChecklistDocument](t, r); len(doc.Waivers) != 1 || doc.Waivers[0].By != "tok-reviewer" {
			t.Fatalf("waivers in the document: %+v", doc.Waivers)
		}
		mustCode(t, e.do("POST", "/api/v1/waivers", e.tokens[hub.RoleReviewer], []byte(`{"checklist":"team","check":"B","reason":"","expires":"2001-01-01"}`)), 400)
		mustCode(t, e.do("DELETE", "/api/v1/waivers/team/B", e.tokens[hub.RoleReviewer], nil), 204)

		got := auditLines(t, e.st, store.AuditFilter{Action: "checklist"})
		want := []string{
			"tok-reviewer checklist.reject team@2 ok",
			"tok-admin checklist.approve team@2 denied",
			"tok-admin checklist.upload team@2 ok",
			"tok-reviewer checklist.approve team@1 rejected",
			"tok-reviewer checklist.approve team@1 ok",
			"tok-reviewer checklist.reject team@1 rejected",
			"tok-author checklist.upload team@1 ok",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
