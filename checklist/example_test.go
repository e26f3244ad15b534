package checklist_test

import (
	"context"
	"fmt"

	"github.com/cgoguard/cgoguard/checklist"
	_ "github.com/cgoguard/cgoguard/checklist/kinds"
)

func ExampleParse() {
	_, err := checklist.Parse("ops.yaml", []byte(`checklist: ops
checks:
  - id: BUILD
    title: builds
    kind: shell
`), checklist.LoadOptions{})
	fmt.Println(err)
	// Output: ops.yaml:5: check BUILD: unknown kind "shell" (one of command, vet, gotest, leak, http, metric, file)
}

func ExampleRunner_Run() {
	cl, err := checklist.Parse("demo.yaml", []byte(`checklist: demo
vars: {default: {WHO: world}}
checks:
  - {id: HELLO, title: says hello, kind: command, with: {run: "echo hello ${WHO}", stdout_matches: "hello world"}}
  - {id: AFTER, title: runs after HELLO, kind: command, with: {argv: ["false"]}, depends_on: [HELLO]}
  - {id: LAST, title: depends on a failure, kind: command, with: {run: "true"}, depends_on: [AFTER]}
`), checklist.LoadOptions{})
	if err != nil {
		panic(err)
	}
	res, err := checklist.NewRunner(checklist.WithParallelism(2)).Run(context.Background(), cl)
	if err != nil {
		panic(err)
	}
	for _, c := range res.Checks {
		fmt.Printf("%s %s: %s\n", c.ID, c.Outcome, c.Message)
	}
	fmt.Println("passed:", res.Passed())
	// Output:
	// HELLO pass: exit code 0
	// AFTER fail: exit code 1, want 0
	// LAST skip: dependency AFTER did not pass (fail)
	// passed: false
}
