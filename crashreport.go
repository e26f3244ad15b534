package cgoguard

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// CrashReport is the JSON document written to the crash directory
// (WithCrashDir) for every caught crash.
type CrashReport struct {
	Module  string    `json:"module"`
	Time    time.Time `json:"time"`
	PID     int       `json:"pid"`
	Signal  string    `json:"signal"`
	SigNum  int       `json:"signo"`
	Code    string    `json:"code"`
	SiCode  int       `json:"si_code"`
	Addr    string    `json:"addr"`
	PC      string    `json:"pc"`
	Frames  []Frame   `json:"frames"`
	GoStack string    `json:"go_stack"`
	Error   string    `json:"error"`
}

// writeCrashReport writes ce as <dir>/<module>-<nanos>.json, atomically (a
// temporary file renamed into place), so a reader never sees half a report.
func writeCrashReport(dir string, ce *CrashError) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cgoguard: crash report: %w", err)
	}
	now := time.Now()
	r := CrashReport{
		Module: ce.Module, Time: now, PID: os.Getpid(),
		Signal: SignalName(ce.Signal), SigNum: int(ce.Signal),
		Code: CodeName(ce.Signal, ce.Code), SiCode: ce.Code,
		Addr: fmt.Sprintf("%#x", ce.Addr), PC: fmt.Sprintf("%#x", ce.PC),
		Frames: ce.Frames, GoStack: string(ce.GoStack), Error: ce.Error(),
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("cgoguard: crash report: %w", err)
	}
	name := filepath.Join(dir, fmt.Sprintf("%s-%d.json", sanitize(ce.Module), now.UnixNano()))
	tmp, err := os.CreateTemp(dir, ".crash-*")
	if err != nil {
		return fmt.Errorf("cgoguard: crash report: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cgoguard: crash report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cgoguard: crash report: %w", err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cgoguard: crash report: %w", err)
	}
	return nil
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}
