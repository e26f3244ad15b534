package report

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/internal/sarif"
)

// sarifLevel maps a check severity to a SARIF level.
func sarifLevel(s checklist.Severity) string {
	switch s {
	case checklist.SeverityCritical, checklist.SeverityHigh:
		return "error"
	case checklist.SeverityMedium:
		return "warning"
	}
	return "note"
}

// uri turns a path into a SARIF artifact URI relative to the source root
// (forward slashes, no leading "./").
func uri(p string) string {
	return strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "./")
}

func writeSARIF(w io.Writer, r *checklist.Result) error {
	log := sarif.New()
	run := sarif.Run{
		Tool:        sarif.Tool{Driver: sarif.Driver{Name: "cgoguard-check", InformationURI: "https://github.com/cgoguard/cgoguard"}},
		Results:     []sarif.Result{},
		Invocations: []sarif.Invocation{{ExecutionSuccessful: !r.Interrupted}},
	}
	index := map[string]int{}
	addRule := func(rule sarif.Rule) int {
		if i, ok := index[rule.ID]; ok {
			return i
		}
		index[rule.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
		return index[rule.ID]
	}
	for _, c := range r.Checks {
		help := strings.TrimSpace(strings.Join([]string{prefixed("Prevents: ", c.Prevents), prefixed("Fix: ", c.Fix)}, "\n"))
		rule := sarif.Rule{
			ID: c.ID, Name: c.ID, ShortDescription: &sarif.Message{Text: c.Title},
			DefaultConfiguration: &sarif.Configuration{Level: sarifLevel(c.Severity)},
			Properties:           map[string]any{"kind": c.Kind, "severity": string(c.Severity)},
		}
		if help != "" {
			rule.Help = &sarif.Message{Text: help}
			rule.FullDescription = &sarif.Message{Text: help}
		}
		ci := addRule(rule)
		level := sarifLevel(c.Severity)
		var supp []sarif.Suppression
		if c.Outcome == checklist.Waived && c.Waiver != nil {
			supp = []sarif.Suppression{{Kind: "external", Justification: fmt.Sprintf("%s (until %s)", c.Waiver.Reason, c.Waiver.Expires)}}
		}
		// Vet findings keep their own rule and source location.
		for _, f := range sortedFindings(c.Findings) {
			ri := addRule(sarif.Rule{ID: f.Rule, Name: f.Rule, ShortDescription: &sarif.Message{Text: "cgoguard vet rule " + f.Rule},
				HelpURI: "https://github.com/cgoguard/cgoguard/blob/main/docs/rules/" + f.Rule + ".md"})
			res := sarif.Result{
				RuleID: f.Rule, RuleIndex: ri, Level: findingLevel(f.Severity, level),
				Message:    sarif.Message{Text: f.Message},
				Properties: map[string]any{"check": c.ID},
			}
			if f.File != "" {
				res.Locations = []sarif.Location{{PhysicalLocation: sarif.PhysicalLocation{
					ArtifactLocation: sarif.ArtifactLocation{URI: uri(f.File), URIBaseID: "%SRCROOT%"},
					Region:           &sarif.Region{StartLine: f.Line, StartColumn: f.Column, EndLine: f.EndLine, EndColumn: f.EndColumn},
				}}}
			}
			switch {
			case f.Suppressed:
				res.Suppressions = []sarif.Suppression{{Kind: "inSource", Justification: f.Justification}}
			case supp != nil:
				res.Suppressions = supp
			}
			run.Results = append(run.Results, res)
		}
		if !c.Outcome.Failed() && c.Outcome != checklist.Waived || len(c.Findings) > 0 {
			continue
		}
		res := sarif.Result{
			RuleID: c.ID, RuleIndex: ci, Level: level,
			Message:      sarif.Message{Text: fmt.Sprintf("%s: %s", c.Outcome, oneLine(c.Message))},
			Suppressions: supp,
			Properties:   map[string]any{"outcome": string(c.Outcome), "attempts": c.Attempts},
		}
		if c.File != "" && c.Line > 0 {
			res.Locations = []sarif.Location{{PhysicalLocation: sarif.PhysicalLocation{
				ArtifactLocation: sarif.ArtifactLocation{URI: uri(c.File), URIBaseID: "%SRCROOT%"},
				Region:           &sarif.Region{StartLine: c.Line},
			}}}
		}
		run.Results = append(run.Results, res)
	}
	log.Runs = []sarif.Run{run}
	return log.Write(w)
}

func findingLevel(sev, fallback string) string {
	switch sev {
	case "error", "warning", "note":
		return sev
	case "info":
		return "note"
	}
	return fallback
}

func sortedFindings(fs []checklist.Finding) []checklist.Finding {
	out := append([]checklist.Finding{}, fs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Rule < b.Rule
	})
	return out
}
