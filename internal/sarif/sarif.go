// Package sarif is a minimal model of the SARIF 2.1.0 log format (OASIS
// Static Analysis Results Interchange Format), enough for cgoguard's vet
// findings and checklist results: runs, one tool driver with rule metadata,
// results with physical locations, and suppressions.
//
// The model is written here rather than taken from a library because the
// part cgoguard needs is small and the available Go SARIF packages carry
// much more than that.
//
// All types are plain data; a Log is safe for concurrent reads.
package sarif

import (
	"encoding/json"
	"io"
)

// Version is the SARIF version written.
const Version = "2.1.0"

// Schema is the JSON schema URI of SARIF 2.1.0.
const Schema = "https://json.schemastore.org/sarif-2.1.0.json"

// Log is the top-level SARIF document.
type Log struct {
	Version string `json:"version"`
	Schema  string `json:"$schema,omitempty"`
	Runs    []Run  `json:"runs"`
}

// Run is one invocation of one tool.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
	// Invocations records how the tool ran; optional.
	Invocations []Invocation `json:"invocations,omitempty"`
}

// Invocation says whether the run completed.
type Invocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

// Tool wraps the driver.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver describes the analysis tool and its rules.
type Driver struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri,omitempty"`
	Rules          []Rule `json:"rules,omitempty"`
}

// Rule is the metadata of one rule (reportingDescriptor).
type Rule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     *Message       `json:"shortDescription,omitempty"`
	FullDescription      *Message       `json:"fullDescription,omitempty"`
	HelpURI              string         `json:"helpUri,omitempty"`
	Help                 *Message       `json:"help,omitempty"`
	DefaultConfiguration *Configuration `json:"defaultConfiguration,omitempty"`
	Properties           map[string]any `json:"properties,omitempty"`
}

// Configuration is a rule's default level.
type Configuration struct {
	// Level is one of "none", "note", "warning", "error".
	Level string `json:"level"`
}

// Message is a plain-text message.
type Message struct {
	Text string `json:"text"`
}

// Result is one finding.
type Result struct {
	RuleID       string         `json:"ruleId"`
	RuleIndex    int            `json:"ruleIndex"`
	Level        string         `json:"level,omitempty"`
	Message      Message        `json:"message"`
	Locations    []Location     `json:"locations,omitempty"`
	Suppressions []Suppression  `json:"suppressions,omitempty"`
	Properties   map[string]any `json:"properties,omitempty"`
}

// Suppression marks a result as suppressed in source.
type Suppression struct {
	// Kind is "inSource" or "external".
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// Location is where a result was found.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file region.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation names a file by URI, relative to URIBaseID when set.
type ArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// Region is a 1-based line/column range.
type Region struct {
	StartLine   int `json:"startLine,omitempty"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

// New returns an empty log with the version and schema set.
func New() *Log {
	return &Log{Version: Version, Schema: Schema}
}

// Write encodes the log as indented JSON followed by a newline.
func (l *Log) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(l)
}
