package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/internal/forgestub"
	"github.com/cgoguard/cgoguard/hub/store"
)

const (
	ghSecret = "gh-webhook-secret"
	glSecret = "gl-webhook-token"
	headSHA  = "0123456789abcdef0123456789abcdef01234567"
)

// forgeEnv is a hub with both webhooks on, a forge stub, and the team
// checklist approved.
func forgeEnv(t *testing.T, dsn string, opts ...Option) (*env, *forgestub.Stub) {
	t.Helper()
	stub := forgestub.New()
	t.Cleanup(stub.Close)
	stub.GitHubToken, stub.GitLabToken = "ghp_test", "glpat_test"
	stub.SetHead("org/svc", 7, headSHA)
	e := newEnv(t, dsn, append([]Option{WithGitHubWebhook(ghSecret), WithGitLabWebhook(glSecret),
		WithRepos(RepoRule{Forge: "github", Repo: "org/svc", Checklist: "team"}, RepoRule{Forge: "gitlab", Repo: "group/svc", Checklist: "team"}),
		WithForge(hub.ForgeGitHub, Forge{APIURL: stub.URL, Token: "ghp_test"}),
		WithForge(hub.ForgeGitLab, Forge{APIURL: stub.GitLabAPI(), Token: "glpat_test"}),
		WithPublicURL("https://hub.example")}, opts...)...)
	mustCode(t, e.yaml(hub.RoleAuthor, teamV1), 201)
	mustCode(t, e.do("POST", "/api/v1/checklists/team/versions/1/approve", e.tokens[hub.RoleReviewer], nil), 200)
	return e, stub
}

// githubPayload is an issue_comment event by "dev"; an empty assoc leaves
// author_association out.
func githubPayload(repo string, comment int64, body, assoc string) []byte {
	return githubPayloadBy(repo, comment, body, assoc, "dev")
}

// githubPayloadBy is githubPayload by login; an empty login leaves the
// user out.
func githubPayloadBy(repo string, comment int64, body, assoc, login string) []byte {
	c := map[string]any{"id": comment, "body": body}
	if assoc != "" {
		c["author_association"] = assoc
	}
	if login != "" {
		c["user"] = map[string]string{"login": login}
	}
	b, _ := json.Marshal(map[string]any{
		"action":     "created",
		"issue":      map[string]any{"number": 7, "pull_request": map[string]string{"url": "https://api.github.com/repos/" + repo + "/pulls/7"}},
		"comment":    c,
		"repository": map[string]string{"full_name": repo},
	})
	return b
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (e *env) github(delivery, event string, body []byte, sig string) resp {
	e.t.Helper()
	h := []string{"X-GitHub-Event", event, "X-GitHub-Delivery", delivery}
	if sig != "" {
		h = append(h, "X-Hub-Signature-256", sig)
	}
	return e.do("POST", "/api/v1/hooks/github", "", body, h...)
}

func gitlabPayload(project string, note int64, body string) []byte {
	b, _ := json.Marshal(map[string]any{
		"object_kind":       "note",
		"user":              map[string]string{"username": "dev"},
		"project":           map[string]string{"path_with_namespace": project},
		"object_attributes": map[string]any{"id": note, "note": body, "noteable_type": "MergeRequest", "action": "create"},
		"merge_request":     map[string]any{"iid": 3, "last_commit": map[string]string{"id": headSHA}},
	})
	return b
}

func (e *env) gitlab(delivery, token string, body []byte) resp {
	e.t.Helper()
	h := []string{"X-Gitlab-Event", "Note Hook", "X-Gitlab-Event-UUID", delivery}
	if token != "" {
		h = append(h, "X-Gitlab-Token", token)
	}
	return e.do("POST", "/api/v1/hooks/gitlab", "", body, h...)
}

func TestGitHubWebhook(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e, stub := forgeEnv(t, dsn)
		good := githubPayload("org/svc", 101, "Please run\n/checklist run A B\nthanks", "MEMBER")
		tests := []struct {
			name, delivery, event string
			body                  []byte
			sig                   string
			code                  int
			msg                   string
		}{
			{"unsigned", "d-1", "issue_comment", good, "", 401, "X-Hub-Signature-256 is missing"},
			{"wrong secret", "d-2", "issue_comment", good, sign("guess", good), 401, "wrong signature"},
			{"malformed signature", "d-3", "issue_comment", good, "sha1=abc", 401, "not sha256="},
			{"body changed after signing", "d-4", "issue_comment", append([]byte{' '}, good...), sign(ghSecret, good), 401, "wrong signature"},
			{"unknown repository", "d-5", "issue_comment", githubPayload("evil/fork", 102, "/checklist run all", "OWNER"),
				sign(ghSecret, githubPayload("evil/fork", 102, "/checklist run all", "OWNER")), 403, "evil/fork is not allowed"},
			{"stranger", "d-6", "issue_comment", githubPayload("org/svc", 103, "/checklist run all", "NONE"),
				sign(ghSecret, githubPayload("org/svc", 103, "/checklist run all", "NONE")), 403, "only OWNER, MEMBER, COLLABORATOR"},
			{"bad command", "d-7", "issue_comment", githubPayload("org/svc", 104, "/checklist run", "OWNER"),
				sign(ghSecret, githubPayload("org/svc", 104, "/checklist run", "OWNER")), 422, "names no checks"},
			{"ping", "d-8", "ping", []byte(`{"zen":"x"}`), sign(ghSecret, []byte(`{"zen":"x"}`)), 200, "pong"},
			{"push event", "d-9", "push", []byte(`{}`), sign(ghSecret, []byte(`{}`)), 200, "ignored"},
			{"no command", "d-10", "issue_comment", githubPayload("org/svc", 105, "LGTM", "OWNER"),
				sign(ghSecret, githubPayload("org/svc", 105, "LGTM", "OWNER")), 200, "no /checklist run"},
			{"accepted", "d-11", "issue_comment", good, sign(ghSecret, good), 202, "queued"},
			{"replayed", "d-11", "issue_comment", good, sign(ghSecret, good), 409, "replayed delivery: d-11 was seen before"},
			{"same payload, new delivery id", "d-12", "issue_comment", good, sign(ghSecret, good), 409, "the same payload was accepted before"},
			{"same comment, other payload", "d-14", "issue_comment", append(good, ' '), sign(ghSecret, append(good, ' ')), 409, "queued a run before"},
		}
		for _, tt := range tests {
			r := e.github(tt.delivery, tt.event, tt.body, tt.sig)
			if r.code != tt.code || !strings.Contains(r.body, tt.msg) {
				t.Errorf("%s: %d %s, want %d with %q", tt.name, r.code, r.body, tt.code, tt.msg)
			}
		}
		// The forge's API fails: 502, and the delivery may be sent again.
		stub.SetHead("org/svc", 7, "")
		other := githubPayload("org/svc", 106, "/checklist run all", "OWNER")
		r := e.github("d-13", "issue_comment", other, sign(ghSecret, other))
		mustCode(t, r, 502)
		stub.SetHead("org/svc", 7, headSHA)
		mustCode(t, e.github("d-13", "issue_comment", other, sign(ghSecret, other)), 202)
		reqs, err := e.st.Requests(t.Context(), store.RequestFilter{})
		if err != nil || len(reqs) != 2 {
			t.Fatalf("requests: %+v %v", reqs, err)
		}
		reqs = reqs[1:] // the first, oldest last
		q := reqs[0]
		if q.Head != headSHA || q.Checklist != "team" || strings.Join(q.Checks, ",") != "A,B" || q.HeadRef != "refs/pull/7/head" || q.RequestedBy != "dev" || q.State != hub.RequestQueued {
			t.Fatalf("queued request: %+v", q)
		}
		// Every refusal is in the audit log, with where it came from.
		p, _ := e.st.Audit(t.Context(), store.AuditFilter{Action: hub.AuditWebhook, Limit: 100})
		refused := 0
		for _, en := range p.Entries {
			if en.Outcome != hub.AuditOK {
				refused++
				if en.From == "" || en.Actor != "github-webhook" || en.Detail == "" {
					t.Errorf("audit entry: %+v", en)
				}
			}
		}
		if refused != 11 {
			t.Errorf("%d refusals audited, want 11", refused)
		}
	})
}

func TestGitLabWebhook(t *testing.T) {
	e, _ := forgeEnv(t, sqliteDSN(t))
	good := gitlabPayload("group/svc", 9, "/checklist run all")
	mustCode(t, e.gitlab("u-1", "", good), 401)
	mustCode(t, e.gitlab("u-2", "wrong", good), 401)
	mustCode(t, e.gitlab("u-3", glSecret, gitlabPayload("group/other", 10, "/checklist run all")), 403)
	r := e.gitlab("u-4", glSecret, good)
	mustCode(t, r, 202)
	mustCode(t, e.gitlab("u-4", glSecret, good), 409)
	mustCode(t, e.gitlab("", glSecret, good), 409) // the payload was accepted before
	reqs, _ := e.st.Requests(t.Context(), store.RequestFilter{})
	if len(reqs) != 1 || reqs[0].Head != headSHA || reqs[0].Checks != nil || reqs[0].HeadRef != "refs/merge-requests/3/head" || reqs[0].Number != 3 {
		t.Fatalf("requests: %+v", reqs)
	}
	// Without a configured secret the endpoint does not exist.
	plain := newEnv(t, sqliteDSN(t))
	mustCode(t, plain.gitlab("u-9", glSecret, good), 404)
	mustCode(t, plain.github("d-9", "issue_comment", good, sign(ghSecret, good)), 404)
}

// TestRequestCompletedAndCommented leases a queued request, completes it
// with a run and checks the comment the forge received.
func TestRequestCompletedAndCommented(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e, stub := forgeEnv(t, dsn, WithLongPoll(200*time.Millisecond))
		runner := e.tokens[hub.RoleRunner]
		// Nothing queued: the long poll ends with 204.
		mustCode(t, e.do("POST", "/api/v1/queue/lease?wait=50ms", runner, []byte(`{"agent":"a1"}`)), 204)
		body := githubPayload("org/svc", 201, "/checklist run all", "OWNER")
		mustCode(t, e.github("d-1", "issue_comment", body, sign(ghSecret, body)), 202)
		mustCode(t, e.gitlab("u-1", glSecret, gitlabPayload("group/svc", 9, "/checklist run B")), 202)

		r := e.do("POST", "/api/v1/queue/lease", runner, []byte(`{"agent":"a1"}`))
		mustCode(t, r, 200)
		l := decodeJSON[hub.Lease](t, r)
		if l.Request.Forge != "github" || l.Version != 1 || l.Token == "" || !strings.HasPrefix(l.Request.LeaseOwner, "tok-runner (a1)") {
			t.Fatalf("lease: %+v", l)
		}
		mustCode(t, e.do("POST", "/api/v1/queue/lease", e.tokens[hub.RoleViewer], []byte(`{}`)), 403)
		mustCode(t, e.do("POST", "/api/v1/queue/"+l.Request.ID+"/renew", runner, []byte(`{"token":"nope"}`)), 409)
		mustCode(t, e.do("POST", "/api/v1/queue/"+l.Request.ID+"/renew", runner, []byte(`{"token":"`+l.Token+`"}`)), 200)

		wrong, _ := json.Marshal(hub.Completion{Token: l.Token, Upload: &hub.Upload{FormatVersion: 1, ID: "wrong-list",
			Result: mustJSON(t, result(now0, checklist.Pass))}})
		r = e.do("POST", "/api/v1/queue/"+l.Request.ID+"/complete", runner, wrong)
		mustCode(t, r, 400)
		contains(t, r.body, `the run is of checklist \"cl\"; request`)
		res := result(now0, checklist.Fail, checklist.Pass)
		res.Checklist = "team"
		res.Checks[0].Message = "exit 2: @everyone `rm -rf` ![x](http://t/p.png)"
		res.Source = &checklist.Source{Hub: e.srv.URL, Name: "team", Version: 1, Fetched: now0}
		up, _ := json.Marshal(hub.Completion{Token: l.Token, Upload: &hub.Upload{FormatVersion: 1, ID: "agent-run-1",
			Context: hub.Context{Repo: "org/svc", Commit: headSHA}, Result: mustJSON(t, res)}})
		r = e.do("POST", "/api/v1/queue/"+l.Request.ID+"/complete", runner, up)
		mustCode(t, r, 200)
		done := decodeJSON[hub.RunRequest](t, r)
		if done.State != hub.RequestDone || done.RunID != "agent-run-1" || done.CommentState != "posted" || !strings.Contains(done.CommentURL, "issuecomment") {
			t.Fatalf("done: %+v", done)
		}
		mustCode(t, e.do("POST", "/api/v1/queue/"+l.Request.ID+"/complete", runner, up), 409)
		run := decodeJSON[hub.Run](t, e.do("GET", "/api/v1/runs/agent-run-1", runner, nil))
		if run.RequestID != l.Request.ID || run.ChecklistVersion != 1 || run.Source == nil || run.Source.Name != "team" {
			t.Fatalf("stored run: %+v", run.RunSummary)
		}

		// The second request fails to run; its comment says why.
		r = e.do("POST", "/api/v1/queue/lease", runner, []byte(`{}`))
		l2 := decodeJSON[hub.Lease](t, r)
		if l2.Request.Forge != "gitlab" {
			t.Fatalf("second lease: %+v", l2)
		}
		stub.FailNext(1) // the first post fails; the hub tries again
		fail, _ := json.Marshal(hub.Completion{Token: l2.Token, Error: "checklist team has no check \"B2\""})
		mustCode(t, e.do("POST", "/api/v1/queue/"+l2.Request.ID+"/complete", runner, fail), 200)

		cs := stub.Comments()
		if len(cs) != 2 {
			t.Fatalf("%d comments posted, want 2: %+v", len(cs), cs)
		}
		gh, gl := cs[0], cs[1]
		if gh.Forge != "github" || gh.Repo != "org/svc" || gh.Number != 7 || gh.Auth != "Bearer ghp_test" {
			t.Errorf("github comment: %+v", gh)
		}
		contains(t, gh.Body, "### cgoguard: team version 1 FAILED", "Commit `0123456789ab`: 2 check(s), 1 failed, 1 passed",
			"| `A` | fail | check A |", "https://hub.example/runs/agent-run-1", "`/checklist run all` by dev")
		// What the check printed stays inside a code span: no mention, no image.
		contains(t, gh.Body, "`exit 2: @everyone 'rm -rf' ![x](http://t/p.png)`")
		if strings.Count(gh.Body, "`")%2 != 0 {
			t.Errorf("unbalanced code spans:\n%s", gh.Body)
		}
		if gl.Forge != "gitlab" || gl.Repo != "group/svc" || gl.Number != 3 || gl.Auth != "glpat_test" {
			t.Errorf("gitlab comment: %+v", gl)
		}
		contains(t, gl.Body, "`/checklist run B` could not run", `checklist team has no check "B2"`)
		page := e.do("GET", "/queue", e.tokens[hub.RoleViewer], nil)
		contains(t, page.body, "agent-run-1", "posted", "failed")
		got := auditLines(t, e.st, store.AuditFilter{Action: "request"})
		if len(got) != 6 {
			t.Errorf("request audit: %v", got)
		}
	})
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWebhookWithoutHeaders sends deliveries that lack the delivery id or
// the event header, and comments without author_association.
func TestWebhookWithoutHeaders(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e, stub := forgeEnv(t, dsn)
		stub.SetPermission("org/svc", "writer", "write")
		stub.SetPermission("org/svc", "keeper", "maintain")
		stub.SetPermission("org/svc", "triager", "triage")
		stub.SetPermission("org/svc", "reader", "read")
		gh := func(delivery, event string, body []byte) resp {
			t.Helper()
			h := []string{"X-Hub-Signature-256", sign(ghSecret, body)}
			if delivery != "" {
				h = append(h, "X-GitHub-Delivery", delivery)
			}
			if event != "" {
				h = append(h, "X-GitHub-Event", event)
			}
			return e.do("POST", "/api/v1/hooks/github", "", body, h...)
		}
		first := githubPayload("org/svc", 301, "/checklist run all", "OWNER")
		noAssoc := func(id int64, login string) []byte {
			return githubPayloadBy("org/svc", id, "/checklist run all", "", login)
		}
		tests := []struct {
			name, delivery, event string
			body                  []byte
			code                  int
			msg                   string
		}{
			// The payload's hash is the delivery id.
			{"no delivery id", "", "issue_comment", first, 202, "queued"},
			{"replayed without delivery id", "", "issue_comment", first, 409, "replayed delivery"},
			{"replayed with a delivery id", "d-new", "issue_comment", first, 409, "the same payload was accepted before"},
			// The payload says which event it is.
			{"no event header", "d-2", "", githubPayload("org/svc", 302, "/checklist run A", "MEMBER"), 202, "queued"},
			{"no headers at all", "", "", githubPayload("org/svc", 303, "/checklist run B", "COLLABORATOR"), 202, "queued"},
			{"ping without event header", "", "", []byte(`{"zen":"Keep it simple.","hook_id":12}`), 200, "pong"},
			{"unknown payload without event header", "", "", []byte(`{"ref":"refs/heads/main"}`), 200, "ignored"},
			{"header names another event", "d-3", "push", githubPayload("org/svc", 304, "/checklist run all", "OWNER"), 200, "ignored"},
			// No author_association: the commenter's permission decides.
			{"no association, write permission", "d-4", "issue_comment", noAssoc(305, "writer"), 202, "queued"},
			{"no association, maintain permission", "d-5", "issue_comment", noAssoc(306, "keeper"), 202, "queued"},
			{"no association, triage permission", "d-6", "issue_comment", noAssoc(307, "triager"), 403, "triager is NONE on org/svc"},
			{"no association, read permission", "d-7", "issue_comment", noAssoc(308, "reader"), 403, "reader is NONE"},
			{"no association, unknown user", "d-8", "issue_comment", noAssoc(309, "stranger"), 403, "stranger is NONE"},
			{"no association, no user", "d-9", "issue_comment", noAssoc(310, ""), 403, "(no author) is NONE"},
			{"stranger with association", "d-10", "issue_comment", githubPayloadBy("org/svc", 311, "/checklist run all", "NONE", "writer"), 403, "writer is NONE"},
		}
		for _, tt := range tests {
			r := gh(tt.delivery, tt.event, tt.body)
			if r.code != tt.code || !strings.Contains(r.body, tt.msg) {
				t.Errorf("%s: %d %s, want %d with %q", tt.name, r.code, r.body, tt.code, tt.msg)
			}
		}
		// A bad signature is refused before the payload is read.
		forged := githubPayload("org/svc", 312, "/checklist run all", "OWNER")
		r := e.do("POST", "/api/v1/hooks/github", "", forged, "X-Hub-Signature-256", sign("guess", forged))
		if r.code != 401 {
			t.Errorf("forged, no headers: %d %s", r.code, r.body)
		}
		reqs, err := e.st.Requests(t.Context(), store.RequestFilter{})
		if err != nil || len(reqs) != 5 {
			t.Fatalf("%d requests, want 5: %v", len(reqs), err)
		}
		for _, q := range reqs {
			if q.CommentID == "301" && q.Delivery != payloadDelivery(first) {
				t.Errorf("delivery of a request without X-GitHub-Delivery: %q", q.Delivery)
			}
		}

		// The permission lookup fails: 502, and the delivery may come again.
		stub.GitHubToken = "rotated"
		failing := noAssoc(320, "writer")
		mustCode(t, gh("d-20", "issue_comment", failing), 502)
		stub.GitHubToken = "ghp_test"
		mustCode(t, gh("d-20", "issue_comment", failing), 202)

		// GitLab: no X-Gitlab-Event-UUID, no X-Gitlab-Event, no user.
		gl := func(uuid, event string, body []byte) resp {
			t.Helper()
			h := []string{"X-Gitlab-Token", glSecret}
			if uuid != "" {
				h = append(h, "X-Gitlab-Event-UUID", uuid)
			}
			if event != "" {
				h = append(h, "X-Gitlab-Event", event)
			}
			return e.do("POST", "/api/v1/hooks/gitlab", "", body, h...)
		}
		note := gitlabPayload("group/svc", 40, "/checklist run all")
		var anon map[string]any
		json.Unmarshal(gitlabPayload("group/svc", 42, "/checklist run A"), &anon)
		delete(anon, "user")
		anonBody, _ := json.Marshal(anon)
		for _, tt := range []struct {
			name, uuid, event string
			body              []byte
			code              int
			msg               string
		}{
			{"no uuid", "", "Note Hook", note, 202, "queued"},
			{"replayed without uuid", "", "Note Hook", note, 409, "replayed delivery"},
			{"replayed with a new uuid", "u-new", "Note Hook", note, 409, "the same payload was accepted before"},
			{"no event header", "u-2", "", gitlabPayload("group/svc", 41, "/checklist run B"), 202, "queued"},
			{"no user", "u-3", "Note Hook", anonBody, 202, "queued"},
			{"not a note, no event header", "u-4", "", []byte(`{"object_kind":"push"}`), 200, "ignored"},
		} {
			r := gl(tt.uuid, tt.event, tt.body)
			if r.code != tt.code || !strings.Contains(r.body, tt.msg) {
				t.Errorf("gitlab %s: %d %s, want %d with %q", tt.name, r.code, r.body, tt.code, tt.msg)
			}
		}
	})
}

// TestWebhookEveryoneTrusted: with NONE among the trusted associations a
// comment without author_association queues without asking GitHub.
func TestWebhookEveryoneTrusted(t *testing.T) {
	e, stub := forgeEnv(t, sqliteDSN(t), WithTrustedAuthors("OWNER", "MEMBER", "COLLABORATOR", "NONE"))
	body := githubPayloadBy("org/svc", 501, "/checklist run all", "", "anyone")
	mustCode(t, e.github("d-1", "issue_comment", body, sign(ghSecret, body)), 202)
	if n := stub.PermissionRequests(); n != 0 {
		t.Errorf("%d permission lookups, want none", n)
	}
}
