package checklists_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/cgoguard/cgoguard/checklist"
	_ "github.com/cgoguard/cgoguard/checklist/kinds"
	"github.com/cgoguard/cgoguard/checklists"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(checklists.Schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asJSON turns a YAML document into the value JSON would give (dates as
// strings, numbers as json.Number).
func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	v = fixDates(v)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fixDates(v any) any {
	switch t := v.(type) {
	case time.Time:
		return t.Format(time.DateOnly)
	case map[string]any:
		for k, e := range t {
			t[k] = fixDates(e)
		}
	case []any:
		for i, e := range t {
			t[i] = fixDates(e)
		}
	}
	return v
}

func TestShippedChecklistIsValid(t *testing.T) {
	if err := compileSchema(t).Validate(asJSON(t, checklists.Default)); err != nil {
		t.Fatalf("shipped checklist fails the schema: %v", err)
	}
	cl, err := checklist.Parse(checklists.DefaultName, checklists.Default, checklist.LoadOptions{Env: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Checks) != 32 {
		t.Fatalf("%d checks, want 32", len(cl.Checks))
	}
	if err := checklist.NewRunner().Validate(cl); err != nil {
		t.Fatalf("kind parameters: %v", err)
	}
	kinds := map[string]int{}
	for _, c := range cl.Checks {
		kinds[c.Kind]++
		if c.Prevents == "" || c.Fix == "" {
			t.Errorf("%s: every item must say what it prevents and how to fix a failure", c.ID)
		}
		if c.Severity == "" {
			t.Errorf("%s: no severity", c.ID)
		}
	}
	for _, k := range checklist.Kinds {
		if k != "file" && k != "command" && kinds[k] == 0 && k != "http" && k != "metric" {
			t.Errorf("no %s check in the shipped checklist", k)
		}
	}
}

// TestSchemaAgreesWithLoader: documents in testdata/schema are valid (good-*)
// or invalid (bad-*) for both the JSON Schema and the strict loader.
func TestSchemaAgreesWithLoader(t *testing.T) {
	s := compileSchema(t)
	files, _ := filepath.Glob("testdata/schema/*.yaml")
	if len(files) < 4 {
		t.Fatalf("only %d schema fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wantOK := filepath.Base(f)[:4] == "good"
			serr := s.Validate(asJSON(t, data))
			cl, lerr := checklist.Parse(f, data, checklist.LoadOptions{})
			if lerr == nil {
				lerr = checklist.NewRunner().Validate(cl)
			}
			if (serr == nil) != wantOK {
				t.Errorf("schema: err = %v, want ok = %v", serr, wantOK)
			}
			if (lerr == nil) != wantOK {
				t.Errorf("loader: err = %v, want ok = %v", lerr, wantOK)
			}
		})
	}
}
