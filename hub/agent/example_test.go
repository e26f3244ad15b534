package agent_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub/agent"
)

// Select keeps the requested checks and what they depend on, as an agent
// does for `/checklist run ID`.
func ExampleSelect() {
	cl, _ := checklist.Parse("team.yaml", []byte(`checklist: team
checks:
  - {id: BUILD, title: builds, kind: command, with: {run: "go build ./..."}}
  - {id: TEST, title: tests, kind: command, with: {run: "go test ./..."}, depends_on: [BUILD]}
  - {id: LINT, title: lints, kind: command, with: {run: "go vet ./..."}}
`), checklist.LoadOptions{})
	sel, err := agent.Select(cl, []string{"TEST"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range sel.Checks {
		fmt.Println(c.ID)
	}
	_, err = agent.Select(cl, []string{"FUZZ"})
	fmt.Println(err)
	// Output:
	// BUILD
	// TEST
	// cgoguard: checklist team has no check "FUZZ" (it has BUILD, TEST, LINT)
}
