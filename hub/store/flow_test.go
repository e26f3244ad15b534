package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

func as(name string, role hub.Role) context.Context {
	return hub.WithActor(context.Background(), hub.Actor{Name: name, Role: role, From: "192.0.2.1"})
}

const yamlV1 = `checklist: team
version: 1
checks:
  - id: A
    title: first
    kind: command
    with: {run: "true"}
`

func version(t *testing.T, yaml string) *hub.ChecklistVersion {
	t.Helper()
	cl, err := hub.ValidateChecklist("team.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return &hub.ChecklistVersion{Name: cl.Name, YAML: yaml, Digest: hub.ChecklistDigest([]byte(yaml)), Checks: len(cl.Checks), Description: cl.Description}
}

func TestChecklistVersionsAndReview(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		alice, bob, carol := as("alice", hub.RoleAuthor), as("bob", hub.RoleReviewer), as("carol", hub.RoleReviewer)
		v1, created, err := s.PutChecklistVersion(alice, version(t, yamlV1))
		if err != nil || !created || v1.Version != 1 || v1.Author != "alice" || v1.State != hub.StatePending || v1.Diff != "" {
			t.Fatalf("v1: %+v %v %v", v1, created, err)
		}
		// The same file again is not a new version.
		again, created, err := s.PutChecklistVersion(bob, version(t, yamlV1))
		if err != nil || created || again.Version != 1 {
			t.Fatalf("identical upload: %+v %v %v", again, created, err)
		}
		if _, err := s.ChecklistVersion(context.Background(), "team", 0); !errors.Is(err, hub.ErrNotFound) {
			t.Fatalf("active before any approval: %v", err)
		}
		// The author may not approve their own version.
		if _, err := s.ReviewChecklistVersion(alice, "team", 1, true, ""); !errors.Is(err, hub.ErrForbidden) {
			t.Fatalf("self-approval: %v", err)
		}
		if _, err := s.ReviewChecklistVersion(bob, "team", 1, false, ""); !errors.Is(err, hub.ErrInvalid) {
			t.Fatalf("rejection without a comment: %v", err)
		}
		got, err := s.ReviewChecklistVersion(bob, "team", 1, true, "looks right")
		if err != nil || got.State != hub.StateApproved || got.Reviewer != "bob" || !got.Active {
			t.Fatalf("approve: %+v %v", got, err)
		}
		if _, err := s.ReviewChecklistVersion(carol, "team", 1, true, ""); !errors.Is(err, hub.ErrConflict) {
			t.Fatalf("second review: %v", err)
		}
		if _, err := s.ReviewChecklistVersion(carol, "team", 9, true, ""); !errors.Is(err, hub.ErrNotFound) {
			t.Fatalf("review of a missing version: %v", err)
		}
		yamlV2 := strings.Replace(yamlV1, "title: first", "title: first, renamed", 1)
		v2, _, err := s.PutChecklistVersion(alice, version(t, yamlV2))
		if err != nil || v2.Version != 2 {
			t.Fatal(v2, err)
		}
		for _, want := range []string{"--- team@1", "+++ team@2", "-    title: first\n", "+    title: first, renamed\n"} {
			if !strings.Contains(v2.Diff, want) {
				t.Errorf("diff lacks %q:\n%s", want, v2.Diff)
			}
		}
		// v1 stays active until v2 is approved; a rejection keeps it so.
		act, err := s.ChecklistVersion(context.Background(), "team", 0)
		if err != nil || act.Version != 1 || act.YAML != yamlV1 {
			t.Fatalf("active: %+v %v", act, err)
		}
		if r, err := s.ReviewChecklistVersion(carol, "team", 2, false, "the title says less"); err != nil || r.State != hub.StateRejected || r.Comment != "the title says less" {
			t.Fatalf("reject: %+v %v", r, err)
		}
		v3, _, _ := s.PutChecklistVersion(alice, version(t, yamlV2+"description: third\n"))
		if _, err := s.ReviewChecklistVersion(carol, "team", v3.Version, true, ""); err != nil {
			t.Fatal(err)
		}
		act, _ = s.ChecklistVersion(context.Background(), "team", 0)
		if act.Version != 3 {
			t.Fatalf("active after approving v3: %d", act.Version)
		}
		list, err := s.ChecklistVersions(context.Background(), "team")
		if err != nil || len(list) != 3 || list[0].Version != 3 || !list[0].Active || list[1].State != hub.StateRejected || list[2].Active {
			t.Fatalf("versions: %+v %v", list, err)
		}
		infos, err := s.ChecklistInfos(context.Background())
		if err != nil || len(infos) != 1 || infos[0].Active != 3 || infos[0].Latest != 3 || infos[0].Pending != 0 || infos[0].Description != "third" {
			t.Fatalf("infos: %+v %v", infos, err)
		}
		// Every change and every refusal is in the audit log.
		page, err := s.Audit(context.Background(), AuditFilter{Action: "checklist"})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, e := range page.Entries {
			lines = append(lines, fmt.Sprintf("%s %s %s %s", e.Actor, e.Action, e.Target, e.Outcome))
		}
		wantLines := []string{
			"carol checklist.approve team@3 ok",
			"alice checklist.upload team@3 ok",
			"carol checklist.reject team@2 ok",
			"alice checklist.upload team@2 ok",
			"carol checklist.approve team@1 rejected",
			"bob checklist.approve team@1 ok",
			"bob checklist.reject team@1 rejected",
			"alice checklist.approve team@1 denied",
			"alice checklist.upload team@1 ok",
		}
		if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
			t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
		}
		if page.Entries[0].From != "192.0.2.1" || page.Entries[0].Role != hub.RoleReviewer {
			t.Errorf("audit entry: %+v", page.Entries[0])
		}
	})
}

func TestAuditIsAppendOnly(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := as("admin", hub.RoleAdmin)
		if _, _, err := s.CreateToken(ctx, "ci", hub.RoleRunner); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
		raw := s.(*sqlStore)
		for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`} {
			if _, err := raw.w.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", q, err)
			}
		}
		if raw.backend == "postgres" {
			if _, err := raw.w.ExecContext(ctx, `TRUNCATE audit_log`); err == nil {
				t.Error("TRUNCATE allowed")
			}
		}
		page, err := s.Audit(ctx, AuditFilter{Actor: "admin"})
		if err != nil || len(page.Entries) != 2 || page.Entries[0].Action != hub.AuditTokenRevoke || page.Entries[1].Detail != "role runner" {
			t.Fatalf("token entries: %+v %v", page, err)
		}
		// Paging: newest first, no entry twice.
		for i := range 7 {
			s.AppendAudit(ctx, hub.NewAudit(ctx, hub.AuditPermissionRefused, fmt.Sprint(i), hub.AuditDenied, ""))
		}
		var seen []string
		f := AuditFilter{Outcome: hub.AuditDenied, Limit: 3}
		for {
			p, err := s.Audit(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entries {
				seen = append(seen, e.Target)
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if strings.Join(seen, "") != "6543210" {
			t.Fatalf("pages: %v", seen)
		}
		if _, err := s.Audit(ctx, AuditFilter{Cursor: "zz"}); !errors.Is(err, hub.ErrInvalid) {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

func TestVotesWaiversAndCatchTimes(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		for _, v := range []struct{ who, vote string }{{"ann", "noisy"}, {"ben", "noisy"}, {"ann", "useful"}, {"cy", "noisy"}} {
			if err := s.PutVote(as(v.who, hub.RoleViewer), hub.Vote{Checklist: "cl", Check: "A", Vote: v.vote, Comment: "by " + v.who}); err != nil {
				t.Fatal(err)
			}
		}
		counts, err := s.VoteCounts(context.Background())
		if err != nil || counts[CheckKey{"cl", "A"}] != (hub.Votes{Useful: 1, Noisy: 2}) {
			t.Fatalf("counts: %v %v", counts, err)
		}
		vs, err := s.Votes(context.Background(), "cl", "A", 2)
		if err != nil || len(vs) != 2 || vs[0].Voter != "cy" || vs[0].Comment != "by cy" {
			t.Fatalf("votes: %+v %v", vs, err)
		}
		now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		rev := as("rev", hub.RoleReviewer)
		if err := s.GrantWaiver(rev, hub.Waiver{Checklist: "cl", Check: "A", Reason: "vendor fix due", Expires: "2026-11-10"}); err != nil {
			t.Fatal(err)
		}
		s.GrantWaiver(rev, hub.Waiver{Checklist: "cl", Check: "B", Reason: "old", Expires: "2026-11-09"})
		ws, err := s.HubWaivers(context.Background(), "cl", now)
		if err != nil || len(ws) != 1 || ws[0].Check != "A" || ws[0].By != "rev" {
			t.Fatalf("waivers: %+v %v", ws, err)
		}
		if err := s.LiftWaiver(rev, "cl", "A"); err != nil {
			t.Fatal(err)
		}
		if err := s.LiftWaiver(rev, "cl", "A"); !errors.Is(err, hub.ErrNotFound) {
			t.Fatalf("second lift: %v", err)
		}
		put(t, s, mkRun(t, "c1", hub.Context{}, t0, chk{"A", checklist.Pass, 1, 1}, chk{"B", checklist.Pass, 1, 1}))
		put(t, s, mkRun(t, "c2", hub.Context{}, t0.Add(time.Hour), chk{"A", checklist.Fail, 1, 1}, chk{"B", checklist.Pass, 1, 1}))
		put(t, s, mkRun(t, "c3", hub.Context{}, t0.Add(2*time.Hour), chk{"A", checklist.Pass, 1, 1}, chk{"B", checklist.Pass, 1, 1}))
		ct, err := s.CatchTimes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if a := ct[CheckKey{"cl", "A"}]; !a.FirstSeen.Equal(t0) || !a.LastCatch.Equal(t0.Add(time.Hour)) {
			t.Errorf("A: %+v", a)
		}
		if b := ct[CheckKey{"cl", "B"}]; !b.LastCatch.IsZero() || !b.FirstSeen.Equal(t0) {
			t.Errorf("B: %+v", b)
		}
	})
}

func request(comment string) *hub.RunRequest {
	return &hub.RunRequest{Forge: hub.ForgeGitHub, Repo: "org/svc", Number: 7, Head: "abc123", HeadRef: "refs/pull/7/head",
		Checks: []string{"A"}, Checklist: "cl", CommentID: comment, Delivery: "d-" + comment, RequestedBy: "dev"}
}

func TestQueueLeases(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := as("hook", "")
		if fresh, err := s.RecordDelivery(ctx, "github", "d1"); err != nil || !fresh {
			t.Fatal(fresh, err)
		}
		if fresh, _ := s.RecordDelivery(ctx, "github", "d1"); fresh {
			t.Fatal("a replayed delivery is fresh")
		}
		if fresh, _ := s.RecordDelivery(ctx, "gitlab", "d1"); !fresh {
			t.Fatal("another forge's delivery id is a replay")
		}
		r1, created, err := s.EnqueueRequest(ctx, request("c1"))
		if err != nil || !created || r1.State != hub.RequestQueued {
			t.Fatal(r1, err)
		}
		if _, created, _ := s.EnqueueRequest(ctx, request("c1")); created {
			t.Fatal("the same comment queued twice")
		}
		a, b := as("agent-a", hub.RoleRunner), as("agent-b", hub.RoleRunner)
		la, _, err := s.LeaseRequest(a, "agent-a", time.Minute, 3)
		if err != nil || la == nil || la.Request.ID != r1.ID || la.Request.Attempts != 1 || la.Request.LeaseOwner != "agent-a" {
			t.Fatalf("lease a: %+v %v", la, err)
		}
		if lb, _, _ := s.LeaseRequest(b, "agent-b", time.Minute, 3); lb != nil {
			t.Fatalf("a held request was leased again: %+v", lb)
		}
		// A renewal sets the expiry from now: a last renewal of 1 ms, then
		// silence, is an agent that died.
		if _, err := s.RenewLease(a, r1.ID, la.Token, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RenewLease(b, r1.ID, "forged", time.Minute); !errors.Is(err, hub.ErrLeaseLost) {
			t.Fatalf("renew with a wrong token: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // a stops renewing
		lb, _, err := s.LeaseRequest(b, "agent-b", time.Minute, 3)
		if err != nil || lb == nil || lb.Request.Attempts != 2 {
			t.Fatalf("lease b after a's expired: %+v %v", lb, err)
		}
		if _, err := s.RenewLease(a, r1.ID, la.Token, time.Minute); !errors.Is(err, hub.ErrLeaseLost) {
			t.Fatalf("a renews a lease it lost: %v", err)
		}
		run := mkRun(t, "run-a", hub.Context{}, t0, chk{"A", checklist.Pass, 1, 1})
		if _, err := s.CompleteRequest(a, r1.ID, la.Token, run, ""); !errors.Is(err, hub.ErrLeaseLost) {
			t.Fatalf("a completes after losing the lease: %v", err)
		}
		if _, err := s.Run(context.Background(), "run-a"); !errors.Is(err, hub.ErrNotFound) {
			t.Fatal("the run of a lost lease was stored")
		}
		runB := mkRun(t, "run-b", hub.Context{}, t0, chk{"A", checklist.Pass, 1, 1})
		done, err := s.CompleteRequest(b, r1.ID, lb.Token, runB, "")
		if err != nil || done.State != hub.RequestDone || done.RunID != "run-b" {
			t.Fatalf("complete: %+v %v", done, err)
		}
		if _, err := s.CompleteRequest(b, r1.ID, lb.Token, runB, ""); !errors.Is(err, hub.ErrLeaseLost) {
			t.Fatalf("second completion: %v", err)
		}
		stored, err := s.Run(context.Background(), "run-b")
		if err != nil || stored.RequestID != r1.ID {
			t.Fatalf("stored run: %+v %v", stored, err)
		}
		// The comment is claimed by one poster.
		if ok, _ := s.ClaimComment(ctx, r1.ID, time.Minute); !ok {
			t.Fatal("claim")
		}
		if ok, _ := s.ClaimComment(ctx, r1.ID, time.Minute); ok {
			t.Fatal("claimed twice")
		}
		if err := s.SetComment(ctx, r1.ID, "posted", "https://forge/c/1", ""); err != nil {
			t.Fatal(err)
		}
		if un, _ := s.UnpostedComments(ctx, time.Minute); len(un) != 0 {
			t.Fatalf("unposted: %+v", un)
		}

		// A request whose agents keep dying is failed after maxAttempts.
		r2, _, _ := s.EnqueueRequest(ctx, request("c2"))
		for i := range 2 {
			if l, _, err := s.LeaseRequest(a, "agent-a", time.Millisecond, 2); err != nil || l == nil {
				t.Fatalf("lease %d: %v %v", i, l, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		l, exhausted, err := s.LeaseRequest(a, "agent-a", time.Minute, 2)
		if err != nil || l != nil || len(exhausted) != 1 || exhausted[0].ID != r2.ID || exhausted[0].State != hub.RequestFailed {
			t.Fatalf("exhausted: %+v %+v %v", l, exhausted, err)
		}
		if un, _ := s.UnpostedComments(ctx, time.Minute); len(un) != 1 || un[0].ID != r2.ID {
			t.Fatalf("unposted after failure: %+v", un)
		}
		list, err := s.Requests(ctx, RequestFilter{State: hub.RequestFailed})
		if err != nil || len(list) != 1 || !strings.Contains(list[0].Error, "2 agents") {
			t.Fatalf("failed requests: %+v %v", list, err)
		}
	})
}

func TestConcurrentLeasesHandOutOnce(t *testing.T) {
	each(t, func(t *testing.T, s Store) {
		ctx := as("hook", "")
		for i := range 10 {
			s.EnqueueRequest(ctx, request(fmt.Sprint("c", i)))
		}
		var mu sync.Mutex
		got := map[string]string{}
		var wg sync.WaitGroup
		for a := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprint("agent-", a)
				for {
					l, _, err := s.LeaseRequest(as(owner, hub.RoleRunner), owner, time.Minute, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if l == nil {
						return
					}
					mu.Lock()
					if prev, dup := got[l.Request.ID]; dup {
						t.Errorf("%s leased by %s and %s", l.Request.ID, prev, owner)
					}
					got[l.Request.ID] = owner
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(got) != 10 {
			t.Fatalf("%d requests leased, want 10", len(got))
		}
	})
}
