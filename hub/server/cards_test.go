package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

// TestValueCards seeds histories that make each rule fire and reads the
// cards from the API and the pages; votes change a card.
func TestValueCards(t *testing.T) {
	backends(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		// Ten runs over ten days: A always fails (red, failure rate), B
		// passes after retries in 2 runs (red, flaky), C skips in 8 (red,
		// skip), D passes in 3 s (green), E takes 200 s (yellow, mean).
		for i := range 10 {
			res := result(now0.Add(-time.Duration(9-i)*24*time.Hour), checklist.Fail, checklist.Pass, checklist.Pass, checklist.Pass, checklist.Pass)
			res.Checks[3].DurationSeconds = 3
			res.Checks[4].DurationSeconds = 200
			if i < 2 {
				res.Checks[1].Attempts = 2
			}
			if i < 8 {
				res.Checks[2].Outcome = checklist.Skip
			}
			if i == 9 {
				// D caught something once, so its days-since-catch is 0.
				res.Checks[3].Outcome = checklist.Fail
			}
			mustCode(t, e.upload(fmt.Sprint("card-", i), res, hub.Context{}), 201)
		}
		cards := func() map[string]hub.Card {
			r := decodeJSON[ChecksResponse](t, e.do("GET", "/api/v1/checks", e.tokens[hub.RoleViewer], nil))
			out := map[string]hub.Card{}
			for _, c := range r.Checks {
				out[c.Check] = c.Card
			}
			if r.Rules.FailureRate.Red != 0.6 {
				t.Errorf("rules not served: %+v", r.Rules)
			}
			return out
		}
		got := cards()
		want := map[string][2]string{"A": {hub.Red, hub.RuleFailureRate}, "B": {hub.Red, hub.RuleFlakyRate},
			"C": {hub.Red, hub.RuleSkipRate}, "D": {hub.Green, ""}, "E": {hub.Yellow, hub.RuleMeanSeconds}}
		for id, w := range want {
			if got[id].Color != w[0] || got[id].Rule != w[1] {
				t.Errorf("card of %s: %s by %q, want %s by %q (%+v)", id, got[id].Color, got[id].Rule, w[0], w[1], got[id])
			}
		}
		// Three people find E noisy: its card turns red by the votes.
		for _, role := range []hub.Role{hub.RoleViewer, hub.RoleRunner, hub.RoleAuthor} {
			mustCode(t, e.do("POST", "/api/v1/checks/cl/E/votes", e.tokens[role], []byte(`{"vote":"noisy","comment":"never tells me anything"}`)), 201)
		}
		if c := cards()["E"]; c.Color != hub.Red || c.Rule != hub.RuleNoisyVotes || c.Votes.Noisy != 3 {
			t.Fatalf("E after votes: %+v", c)
		}
		// One changes their mind: only the newest vote of each person counts.
		mustCode(t, e.do("POST", "/api/v1/checks/cl/E/votes", e.tokens[hub.RoleAuthor], []byte(`{"vote":"useful"}`)), 201)
		if c := cards()["E"]; c.Votes != (hub.Votes{Useful: 1, Noisy: 2}) || c.Color != hub.Yellow {
			t.Fatalf("E after a changed vote: %+v", c)
		}
		mustCode(t, e.do("POST", "/api/v1/checks/cl/E/votes", e.tokens[hub.RoleViewer], []byte(`{"vote":"meh"}`)), 400)
		// The retire-or-fix page lists the red cards, worst first, with the
		// rule that made each red.
		page := e.do("GET", "/retire", e.tokens[hub.RoleViewer], nil)
		mustCode(t, page, 200)
		a, b, c := strings.Index(page.body, `href="/checks/cl/A"`), strings.Index(page.body, `href="/checks/cl/B"`), strings.Index(page.body, `href="/checks/cl/C"`)
		if a < 0 || b < 0 || c < 0 || strings.Contains(page.body, `href="/checks/cl/D"`) {
			t.Fatalf("retire page rows: A %d B %d C %d\n%s", a, b, c, clip(page.body))
		}
		// B: flaky 20% / 15% = 1.33; A: failure 100% / 60% = 1.67; C: skip 80% / 70% = 1.14.
		if !(a < b && b < c) {
			t.Errorf("not worst first: A %d, B %d, C %d", a, b, c)
		}
		contains(t, page.body, "<b>failure_rate</b>", "fails in 100% of runs (red at 60%)")
		check := e.do("GET", "/checks/cl/E", e.tokens[hub.RoleViewer], nil)
		contains(t, check.body, `class="card c-yellow"`, "never tells me anything", `value="noisy"`)
	})
}
