package chaos

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// JournalEnvVar names the environment variable that overrides the default
// journal path.
const JournalEnvVar = "CGOGUARD_CHAOS_JOURNAL"

// DefaultJournalPath is where the revert journal lives unless a runner is
// given another: $CGOGUARD_CHAOS_JOURNAL, else
// $XDG_STATE_HOME/cgoguard/chaos-journal.jsonl, else
// ~/.local/state/cgoguard/chaos-journal.jsonl.
func DefaultJournalPath() string {
	if p := os.Getenv(JournalEnvVar); p != "" {
		return p
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "cgoguard", "chaos-journal.jsonl")
}

// Journal operations.
const (
	opInject   = "inject"   // about to inject: how to revert, before it is needed
	opID       = "id"       // the injected fault's id (a command's captured output)
	opReverted = "reverted" // the fault is gone
)

// JournalEntry is one line of the revert journal (JSON Lines). A fault is
// outstanding from its inject entry until a reverted entry with its id.
type JournalEntry struct {
	ID         string    `json:"id"`
	Op         string    `json:"op"`
	Time       time.Time `json:"time"`
	Experiment string    `json:"experiment,omitempty"`
	// Kind is "failpoint" or "command".
	Kind string `json:"kind,omitempty"`
	// A failpoint: the admin endpoint, the target, and the name of the
	// variable holding the token (the token itself is never written).
	Admin    string `json:"admin,omitempty"`
	Target   string `json:"target,omitempty"`
	TokenEnv string `json:"token_env,omitempty"`
	// A command: how to revert it, where, and the fault's id.
	Revert         string  `json:"revert,omitempty"`
	Dir            string  `json:"dir,omitempty"`
	CommandTimeout float64 `json:"command_timeout_seconds,omitempty"`
	FaultID        string  `json:"fault_id,omitempty"`
	// The runner that injected it: pid and the pid's start time, so a
	// live runner's faults are told apart from a dead one's.
	PID      int    `json:"pid,omitempty"`
	PIDStart uint64 `json:"pid_start,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Journal is the on-disk revert journal: every fault is written down
// (with how to revert it) before it is injected, and marked when it is
// gone, so that a runner killed with SIGKILL leaves a record that
// Runner.Cleanup reverts. Appends are one write each under an exclusive
// flock, fsynced.
type Journal struct {
	Path string
}

func newEntryID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lock opens the journal and takes its lock.
func (j *Journal) lock(flag int) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(j.Path), 0o700); err != nil {
		return nil, fmt.Errorf("cgoguard: journal: %w", err)
	}
	f, err := os.OpenFile(j.Path, flag|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: journal: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("cgoguard: journal %s: lock: %w", j.Path, err)
	}
	return f, nil
}

// append writes e (as one line, fsynced).
func (j *Journal) append(e JournalEntry) error {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := j.lock(os.O_RDWR | os.O_APPEND)
	if err != nil {
		return err
	}
	defer f.Close()
	// After a torn write the file ends mid-line: start a new one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("cgoguard: journal %s: %w", j.Path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cgoguard: journal %s: %w", j.Path, err)
	}
	return nil
}

// Outstanding returns the faults injected and not reverted, oldest first.
func (j *Journal) Outstanding() ([]JournalEntry, error) {
	data, err := os.ReadFile(j.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cgoguard: journal: %w", err)
	}
	out, _, err := outstanding(j.Path, data)
	return out, err
}

// outstanding folds the journal's lines into the faults still in place.
// A torn last line (a runner killed mid-write) is skipped; any other bad
// line is an error, so nothing is silently forgotten.
func outstanding(path string, data []byte) ([]JournalEntry, int, error) {
	var order []string
	byID := map[string]*JournalEntry{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e JournalEntry
		if err := json.Unmarshal(line, &e); err != nil || e.ID == "" {
			if err != nil && bytes.HasPrefix(line, []byte(`{"id":`)) && !json.Valid(line) {
				// A write torn by a kill. Its append never returned, so
				// an inject it began was never carried out, and a
				// revert it recorded is simply tried again.
				continue
			}
			return nil, n, fmt.Errorf("cgoguard: journal %s:%d: not a journal entry: %q", path, n, truncate(string(line), 120))
		}
		switch e.Op {
		case opInject:
			c := e
			byID[e.ID] = &c
			order = append(order, e.ID)
		case opID:
			if x := byID[e.ID]; x != nil {
				x.FaultID = e.FaultID
			}
		case opReverted:
			delete(byID, e.ID)
		default:
			return nil, n, fmt.Errorf("cgoguard: journal %s:%d: unknown op %q", path, n, e.Op)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, n, fmt.Errorf("cgoguard: journal %s: %w", path, err)
	}
	var out []JournalEntry
	for _, id := range order {
		if e := byID[id]; e != nil {
			out = append(out, *e)
		}
	}
	return out, n, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// compact rewrites the journal with only its outstanding faults, and
// removes it when none is left.
func (j *Journal) compact() error {
	if _, err := os.Stat(j.Path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	f, err := j.lock(os.O_RDWR)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := os.ReadFile(j.Path)
	if err != nil {
		return err
	}
	out, _, err := outstanding(j.Path, data)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return os.Remove(j.Path)
	}
	var b bytes.Buffer
	for _, e := range out {
		line, _ := json.Marshal(e)
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b.Bytes(), 0); err != nil {
		return err
	}
	return f.Sync()
}

// processStart returns the start time (in clock ticks since boot) of pid,
// 0 when there is no such process.
func processStart(pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: fields count from after
	// its closing parenthesis.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64) // field 22: starttime
	return v
}

// runnerAlive reports whether the runner that wrote e still runs.
func runnerAlive(e JournalEntry) bool {
	if e.PID <= 0 || e.PID == os.Getpid() {
		return false
	}
	st := processStart(e.PID)
	return st != 0 && st == e.PIDStart
}

// CleanupItem is what Cleanup did with one outstanding fault.
type CleanupItem struct {
	Entry JournalEntry `json:"entry"`
	// Outcome is "reverted", "gone" (the target process is gone, and the
	// failpoint with it), "skipped" (its runner is still running) or
	// "failed" (Err says why; the fault stays in the journal).
	Outcome string `json:"outcome"`
	Err     string `json:"error,omitempty"`
	Output  string `json:"output,omitempty"`
}

// Cleanup reverts every fault the journal holds that no running runner
// owns (all of them with force): it clears failpoints through their admin
// endpoints and runs the revert commands of command faults, newest first,
// then compacts the journal. Faults it could not revert stay in the
// journal; the error says how many.
func (r *Runner) Cleanup(ctx context.Context, force bool) ([]CleanupItem, error) {
	out, err := r.journal.Outstanding()
	if err != nil {
		return nil, err
	}
	var items []CleanupItem
	failed := 0
	for i := len(out) - 1; i >= 0; i-- {
		e := out[i]
		it := CleanupItem{Entry: e}
		if !force && runnerAlive(e) {
			it.Outcome = "skipped"
			it.Err = fmt.Sprintf("its runner (pid %d) is still running; it reverts its own faults (use --force to revert anyway)", e.PID)
			items = append(items, it)
			continue
		}
		switch e.Kind {
		case "failpoint":
			tok, _ := r.o.lookupEnv(e.TokenEnv)
			a := &AdminClient{Base: e.Admin, Token: tok, Client: r.o.client}
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := a.Clear(cctx, e.Target)
			cancel()
			switch {
			case err == nil:
				it.Outcome = "reverted"
			case errors.Is(err, ErrUnreachable):
				it.Outcome = "gone"
				it.Err = err.Error()
			default:
				it.Outcome, it.Err = "failed", err.Error()
			}
		case "command":
			timeout := time.Duration(e.CommandTimeout * float64(time.Second))
			if timeout <= 0 {
				timeout = DefaultCommandTimeout
			}
			o, err := runShell(ctx, e.Dir, e.Revert, timeout, []string{"CHAOS_ID=" + e.FaultID, "CHAOS_EXPERIMENT=" + e.Experiment})
			it.Output = o.String()
			if err != nil {
				it.Outcome, it.Err = "failed", err.Error()+o.tail()
			} else {
				it.Outcome = "reverted"
			}
		default:
			it.Outcome, it.Err = "failed", fmt.Sprintf("unknown kind %q", e.Kind)
		}
		if it.Outcome == "reverted" || it.Outcome == "gone" {
			if err := r.journal.append(JournalEntry{ID: e.ID, Op: opReverted, Note: "chaos cleanup: " + it.Outcome}); err != nil {
				return items, err
			}
		} else {
			failed++
		}
		items = append(items, it)
	}
	if err := r.journal.compact(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return items, err
	}
	if failed > 0 {
		return items, fmt.Errorf("cgoguard: chaos cleanup: %d fault(s) could not be reverted and stay in %s", failed, r.journal.Path)
	}
	return items, nil
}
