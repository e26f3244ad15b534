package hub_test

import (
	"errors"
	"fmt"

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
