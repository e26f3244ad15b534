package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
)

// vetCommand returns the argv prefix that provides the vet subcommand:
// the -vet-command flag split into words, or this very executable (under
// any name, and never another cgoguard found on PATH).
func vetCommand(flagValue string) ([]string, error) {
	if flagValue != "" {
		argv := strings.Fields(flagValue)
		if len(argv) == 0 {
			return nil, fmt.Errorf("-vet-command %q names no command", flagValue)
		}
		return argv, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find this executable to run vet checks (%v); pass -vet-command", err)
	}
	return []string{exe}, nil
}

// warnUnusedVars reports --var names that no check refers to as ${NAME}:
// most often a misspelling that leaves the checklist's default in force.
func warnUnusedVars(stderr io.Writer, vars []string, cl *checklist.Checklist) {
	used := cl.UsedVars()
	var unused []string
	for _, v := range vars {
		name, _, _ := strings.Cut(v, "=")
		if name != "PACKAGES" && !slices.Contains(used, name) && !slices.Contains(unused, name) {
			unused = append(unused, name)
		}
	}
	for _, name := range unused {
		fmt.Fprintf(stderr, "cgoguard check: warning: --var %s is not used by any check (variables used: %s)\n", name, strings.Join(used, ", "))
	}
}
