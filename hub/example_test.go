package hub_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

func ExampleDecode() {
	body := []byte(`{
	  "format_version": 1,
	  "id": "run-42",
	  "context": {"repo": "org/svc", "branch": "main"},
	  "result": {"checklist": "cgo-reliability", "started": "2026-11-01T10:00:00Z", "checks": [
	    {"id": "CG-MEM-01", "outcome": "fail", "attempts": 1, "duration_seconds": 0.5},
	    {"id": "CG-OBS-03", "outcome": "pass", "attempts": 2, "duration_seconds": 2}
	  ]}
	}`)
	run, err := hub.Decode(body, hub.DecodeOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.ID, run.Outcome, run.Counts.Fail, "failed,", run.Counts.Flaky, "flaky")

	_, err = hub.Decode([]byte(`{"format_version": 2, "id": "x", "result": {}}`), hub.DecodeOptions{})
	fmt.Println(errors.Is(err, hub.ErrUnknownFormat), err)
	// Output:
	// run-42 fail 1 failed, 1 flaky
	// true cgoguard: invalid upload: unknown format_version 2 (this hub reads 1; upgrade the hub)
}

func ExampleRole_Can() {
	fmt.Println(hub.RoleRunner.Can(hub.ActionUpload), hub.RoleViewer.Can(hub.ActionUpload), hub.RoleAdmin.Can(hub.ActionManageTokens))
	// Output: true false true
}

// ParseCommand reads a `/checklist run` command from a pull request
// comment.
func ExampleParseCommand() {
	checks, found, err := hub.ParseCommand("Looks good.\n/checklist run CG-MEM-01 CG-THR-02\n")
	fmt.Println(checks, found, err)
	checks, found, err = hub.ParseCommand("/checklist run all")
	fmt.Println(checks == nil, found, err)
	// Output:
	// [CG-MEM-01 CG-THR-02] true <nil>
	// true true <nil>
}

// A value card names the rule that made it red.
func ExampleCardRules_Card() {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	card := hub.DefaultCardRules().Card(hub.CardInput{
		Stats:     hub.CheckStats{Runs: 40, FailureRate: 0.05, SkipRate: 0.8, MeanSeconds: 12},
		LastCatch: now.AddDate(0, 0, -20),
		Votes:     hub.Votes{Useful: 1, Noisy: 2},
		Now:       now,
	})
	fmt.Println(card.Color, card.Rule)
	for _, r := range card.Reasons {
		fmt.Println("-", r.Rule, r.Text)
	}
	// Output:
	// red skip_rate
	// - skip_rate skips in 80% of runs (red at 70%)
	// - noisy_votes noisy votes outnumber useful ones by 1 (yellow at 1)
}
