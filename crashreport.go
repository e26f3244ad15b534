package cgoguard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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

// crashReportState is what a module keeps about its crash reports. Guarded
// by the module's mu.
type crashReportState struct {
	reportsWritten, reportErrors uint64
	lastReportErr                string
	reportErrLogged              bool
}

// reportCrash writes ce's report into the crash directory and prunes the
// module's old reports; a failure is counted and logged once per module.
func (m *Module) reportCrash(ce *CrashError) {
	err := writeCrashReport(m.opts.crashDir, ce)
	if err == nil {
		err = pruneCrashReports(m.opts.crashDir, ce.Module, m.opts.maxReports)
		m.mu.Lock()
		m.reportsWritten++
		m.mu.Unlock()
		if err == nil {
			return
		}
	}
	m.mu.Lock()
	m.reportErrors++
	m.lastReportErr = err.Error()
	first := !m.reportErrLogged
	m.reportErrLogged = true
	m.mu.Unlock()
	if first {
		slog.Warn("cgoguard: a crash report could not be written; later failures are only counted (Stats.CrashReportErrors)",
			"module", m.name, "dir", m.opts.crashDir, "err", err)
	}
}

// writeCrashReport writes ce as <dir>/<module>-<nanos>.json, atomically (a
// temporary file renamed into place), so a reader never sees half a report.
func writeCrashReport(dir string, ce *CrashError) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
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
		return fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
	}
	nanos := now.UnixNano()
	name := filepath.Join(dir, fmt.Sprintf("%s-%d.json", sanitize(ce.Module), nanos))
	for {
		// Two crashes in one nanosecond keep both reports.
		if _, err := os.Lstat(name); err != nil {
			break
		}
		nanos++
		name = filepath.Join(dir, fmt.Sprintf("%s-%d.json", sanitize(ce.Module), nanos))
	}
	tmp, err := os.CreateTemp(dir, ".crash-*")
	if err != nil {
		return fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
	}
	return nil
}

// pruneCrashReports removes module's oldest reports in dir beyond keep.
// Only files named exactly <module>-<digits>.json are the module's.
func pruneCrashReports(dir, module string, keep int) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
	}
	prefix := sanitize(module) + "-"
	type report struct {
		name  string
		nanos int64
	}
	var mine []report
	for _, e := range ents {
		n := e.Name()
		digits, ok := strings.CutSuffix(strings.TrimPrefix(n, prefix), ".json")
		if !ok || !strings.HasPrefix(n, prefix) || digits == "" || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			continue
		}
		mine = append(mine, report{n, v})
	}
	if len(mine) <= keep {
		return nil
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].nanos < mine[j].nanos })
	var first error
	for _, r := range mine[:len(mine)-keep] {
		if err := os.Remove(filepath.Join(dir, r.name)); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = fmt.Errorf("cgoguard: crash report in %s: %w", dir, err)
		}
	}
	return first
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
