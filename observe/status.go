package observe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/cgoguard/cgoguard"
)

// The status file layout; it matches cg_status in include/cgoguard_observe.h.
const (
	statusMagic      = "CGSTATUS"
	statusVersion    = 1
	statusHeaderSize = 128
	statusModuleSize = 128
	// MaxStatusModules is how many modules a status file holds; further
	// modules are counted in Status.Dropped.
	MaxStatusModules = 64
	statusSize       = statusHeaderSize + MaxStatusModules*statusModuleSize
	statusNameMax    = 64

	offSeq = 16
)

// DefaultStatusDir is where StartStatus writes and ListStatus looks by
// default: a tmpfs, so the file is shared memory.
const DefaultStatusDir = "/dev/shm"

// DefaultStatusInterval is how often StartStatus refreshes the file by
// default.
const DefaultStatusInterval = time.Second

// Errors of the status file.
var (
	// ErrStatusRunning is returned by StartStatus while a status file of this
	// process is already being written.
	ErrStatusRunning = errors.New("cgoguard: observe: status file already running in this process")
	// ErrBadStatus is returned for a file that is not a status file of this
	// version.
	ErrBadStatus = errors.New("cgoguard: observe: not a cgoguard status file")
	// ErrStatusBusy is returned when a status record kept changing while it
	// was read.
	ErrStatusBusy = errors.New("cgoguard: observe: status record kept changing")
	// ErrNoStatus is returned by ReadStatus when the process has no status
	// file.
	ErrNoStatus = errors.New("cgoguard: observe: no status file")
)

// Status is a process's published status.
type Status struct {
	Path     string        `json:"path"`
	PID      int           `json:"pid"`
	Started  time.Time     `json:"started"`
	Updated  time.Time     `json:"updated"`
	Interval time.Duration `json:"interval_ns"`
	// Stale is true when the writing process no longer runs (or its pid now
	// names another process): the file was left by a crash or kill.
	Stale bool `json:"stale"`
	// Dropped counts modules that did not fit in the file.
	Dropped int            `json:"dropped,omitempty"`
	Modules []ModuleStatus `json:"modules"`

	procStart uint64
}

// ModuleStatus is one module in a Status.
type ModuleStatus struct {
	Name      string         `json:"name"`
	State     cgoguard.State `json:"-"`
	StateName string         `json:"state"`
	OK        uint64         `json:"ok"`
	Errors    uint64         `json:"errors"`
	Crashes   uint64         `json:"crashes"`
	Timeouts  uint64         `json:"timeouts"`
	Rejected  uint64         `json:"rejected"`
	InFlight  int64          `json:"inflight"`
	Abandoned int64          `json:"abandoned"`
	// Slot is the module's trampoline slot (cgoguard.Module.Slot), -1 when
	// the module has none or the writer did not publish it.
	Slot int `json:"-"`
}

// StatusOption configures StartStatus.
type StatusOption func(*statusConfig) error

type statusConfig struct {
	dir      string
	interval time.Duration
}

func defaultStatusConfig() statusConfig {
	return statusConfig{dir: DefaultStatusDir, interval: DefaultStatusInterval}
}

// WithStatusDir sets the directory of the status file (an existing
// directory; a tmpfs keeps the file in memory). Default DefaultStatusDir
// (/dev/shm).
func WithStatusDir(dir string) StatusOption {
	return func(c *statusConfig) error {
		if dir == "" {
			return errors.New("cgoguard: observe.WithStatusDir: empty directory")
		}
		c.dir = dir
		return nil
	}
}

// WithStatusInterval sets how often the file is refreshed (at least 1ms).
// Default DefaultStatusInterval (1s).
func WithStatusInterval(d time.Duration) StatusOption {
	return func(c *statusConfig) error {
		if d < time.Millisecond {
			return fmt.Errorf("cgoguard: observe.WithStatusInterval: interval %v below 1ms", d)
		}
		c.interval = d
		return nil
	}
}

// StatusPath returns the path of the status file of process pid in dir
// ("" for DefaultStatusDir): <dir>/cgoguard-<pid>.status.
func StatusPath(dir string, pid int) string {
	if dir == "" {
		dir = DefaultStatusDir
	}
	return filepath.Join(dir, "cgoguard-"+strconv.Itoa(pid)+".status")
}

// StatusWriter publishes the process's module states and counters in its
// status file. Its methods are safe for concurrent use.
type StatusWriter struct {
	path     string
	interval time.Duration
	mem      []byte
	started  time.Time
	start    uint64

	mu      sync.Mutex // serialises writers
	stopped bool
	stop    chan struct{}
	done    chan struct{}
	cleanup *cgoguard.Cleanup
}

var statusRunning atomic.Bool

// StartStatus creates this process's status file (<dir>/cgoguard-<pid>.status)
// and refreshes it every interval until Stop, which removes it.
// cgoguard.Shutdown removes it too. One status file runs per process at a
// time. A file left by a dead process that had the same pid is replaced.
func StartStatus(opts ...StatusOption) (*StatusWriter, error) {
	cfg := defaultStatusConfig()
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("cgoguard: observe.StartStatus: option %d is nil", i)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if !statusRunning.CompareAndSwap(false, true) {
		return nil, ErrStatusRunning
	}
	w, err := startStatus(cfg)
	if err != nil {
		statusRunning.Store(false)
		return nil, err
	}
	return w, nil
}

func startStatus(cfg statusConfig) (*StatusWriter, error) {
	pid := os.Getpid()
	path := StatusPath(cfg.dir, pid)
	// Write the new file beside the final name and rename it over any stale
	// file, so that readers never see a partial header.
	tmp, err := os.CreateTemp(cfg.dir, ".cgoguard-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cgoguard: observe.StartStatus: %w", err)
	}
	tmpName := tmp.Name()
	fail := func(err error) (*StatusWriter, error) {
		tmp.Close()
		os.Remove(tmpName)
		return nil, fmt.Errorf("cgoguard: observe.StartStatus: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Truncate(statusSize); err != nil {
		return fail(err)
	}
	mem, err := syscall.Mmap(int(tmp.Fd()), 0, statusSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fail(err)
	}
	w := &StatusWriter{
		path: path, interval: cfg.interval, mem: mem, started: time.Now(),
		start: procStartTicks(pid), stop: make(chan struct{}), done: make(chan struct{}),
	}
	w.publish()
	if err := os.Rename(tmpName, path); err != nil {
		syscall.Munmap(mem)
		return fail(err)
	}
	tmp.Close()
	setCStatusPath(path)
	w.cleanup = cgoguard.NewCleanup(w, func() { removeStatus(path) })
	go w.loop()
	return w, nil
}

// removeStatus removes the file if it is still ours.
func removeStatus(path string) {
	setCStatusPath("")
	os.Remove(path)
}

// Path returns the status file's path.
func (w *StatusWriter) Path() string { return w.path }

func (w *StatusWriter) loop() {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.Update()
		}
	}
}

// Update publishes the current states and counters now, without waiting
// for the next tick.
func (w *StatusWriter) Update() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.publish()
	}
}

// Stop stops the refreshing, removes the file and lets StartStatus run
// again. Stopping twice returns an error.
func (w *StatusWriter) Stop() error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return errors.New("cgoguard: observe: status writer already stopped")
	}
	w.stopped = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.cleanup.Run()
	err := syscall.Munmap(w.mem)
	statusRunning.Store(false)
	return err
}

// publish writes the record under the sequence lock. w.mu held (or not
// yet shared).
func (w *StatusWriter) publish() {
	var buf [statusSize]byte
	mods := cgoguard.Modules()
	n := min(len(mods), MaxStatusModules)
	le := binary.LittleEndian
	copy(buf[0:8], statusMagic)
	le.PutUint32(buf[8:], statusVersion)
	le.PutUint32(buf[12:], uint32(n))
	le.PutUint32(buf[24:], uint32(os.Getpid()))
	le.PutUint32(buf[28:], MaxStatusModules)
	le.PutUint64(buf[32:], w.start)
	le.PutUint64(buf[40:], uint64(w.started.UnixNano()))
	le.PutUint64(buf[48:], uint64(time.Now().UnixNano()))
	le.PutUint64(buf[56:], uint64(w.interval))
	le.PutUint32(buf[64:], uint32(len(mods)-n))
	for i, m := range mods[:n] {
		s := m.Stats()
		r := buf[statusHeaderSize+i*statusModuleSize:][:statusModuleSize]
		name := s.Name
		if len(name) >= statusNameMax {
			// Cut on a character boundary: readers get valid UTF-8.
			cut := statusNameMax - 1
			for cut > 0 && !utf8.RuneStart(name[cut]) {
				cut--
			}
			name = name[:cut]
		}
		copy(r[0:statusNameMax], name)
		le.PutUint32(r[64:], uint32(s.State))
		le.PutUint64(r[72:], s.OK)
		le.PutUint64(r[80:], s.Errors)
		le.PutUint64(r[88:], s.Crashes)
		le.PutUint64(r[96:], s.Timeouts)
		le.PutUint64(r[104:], s.Rejected)
		le.PutUint64(r[112:], uint64(s.InFlight))
		le.PutUint64(r[120:], uint64(s.Abandoned))
		putModuleSlot(r, m)
	}
	seq := (*atomic.Uint64)(unsafe.Pointer(&w.mem[offSeq]))
	seq.Add(1) // odd: readers retry
	copy(w.mem[:offSeq], buf[:offSeq])
	copy(w.mem[offSeq+8:], buf[offSeq+8:])
	seq.Add(1)
}

// ReadStatus reads the status file of process pid in dir ("" for
// DefaultStatusDir). It returns an error wrapping ErrNoStatus if there is
// none.
func ReadStatus(dir string, pid int) (*Status, error) {
	s, err := ReadStatusFile(StatusPath(dir, pid))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w for pid %d in %s: %w", ErrNoStatus, pid, dirOrDefault(dir), err)
	}
	return s, err
}

func dirOrDefault(dir string) string {
	if dir == "" {
		return DefaultStatusDir
	}
	return dir
}

// ReadStatusFile reads one status file without locks (the writer is never
// blocked) and says whether it is stale.
func ReadStatusFile(path string) (*Status, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < statusSize {
		return nil, fmt.Errorf("%w: %s: %d bytes, want %d", ErrBadStatus, path, fi.Size(), statusSize)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, statusSize, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("cgoguard: observe: mapping %s: %w", path, err)
	}
	defer syscall.Munmap(mem)
	raw, err := readSeqlock(mem)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, path)
	}
	s, err := decodeStatus(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, path)
	}
	s.Path = path
	s.Stale = processGone(s.PID, s.procStart)
	return s, nil
}

// readSeqlock copies a consistent record out of mem.
func readSeqlock(mem []byte) ([]byte, error) {
	seq := (*atomic.Uint64)(unsafe.Pointer(&mem[offSeq]))
	out := make([]byte, len(mem))
	for try := 0; try < 1000; try++ {
		s1 := seq.Load()
		if s1&1 != 0 {
			time.Sleep(10 * time.Microsecond)
			continue
		}
		copy(out, mem)
		if seq.Load() == s1 {
			return out, nil
		}
	}
	return nil, ErrStatusBusy
}

func decodeStatus(raw []byte) (*Status, error) {
	le := binary.LittleEndian
	if len(raw) < statusSize || string(raw[0:8]) != statusMagic {
		return nil, ErrBadStatus
	}
	if v := le.Uint32(raw[8:]); v != statusVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadStatus, v, statusVersion)
	}
	n := int(le.Uint32(raw[12:]))
	if n > MaxStatusModules {
		return nil, fmt.Errorf("%w: %d modules, at most %d", ErrBadStatus, n, MaxStatusModules)
	}
	s := &Status{
		PID:       int(le.Uint32(raw[24:])),
		procStart: le.Uint64(raw[32:]),
		Started:   time.Unix(0, int64(le.Uint64(raw[40:]))).UTC(),
		Updated:   time.Unix(0, int64(le.Uint64(raw[48:]))).UTC(),
		Interval:  time.Duration(le.Uint64(raw[56:])),
		Dropped:   int(le.Uint32(raw[64:])),
		Modules:   make([]ModuleStatus, n),
	}
	for i := range s.Modules {
		r := raw[statusHeaderSize+i*statusModuleSize:][:statusModuleSize]
		name := r[:statusNameMax]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		st := cgoguard.State(le.Uint32(r[64:]))
		s.Modules[i] = ModuleStatus{
			Name: string(name), State: st, StateName: st.String(),
			OK: le.Uint64(r[72:]), Errors: le.Uint64(r[80:]), Crashes: le.Uint64(r[88:]),
			Timeouts: le.Uint64(r[96:]), Rejected: le.Uint64(r[104:]),
			InFlight: int64(le.Uint64(r[112:])), Abandoned: int64(le.Uint64(r[120:])),
			Slot: moduleSlot(r),
		}
	}
	return s, nil
}

// ListStatus reads every status file in dir ("" for DefaultStatusDir),
// sorted by pid, stale ones included (Status.Stale says which). Files that
// cannot be read are reported in the error, after the others are read.
func ListStatus(dir string) ([]*Status, error) {
	dir = dirOrDefault(dir)
	names, err := filepath.Glob(filepath.Join(dir, "cgoguard-*.status"))
	if err != nil {
		return nil, err
	}
	var out []*Status
	var errs []error
	for _, p := range names {
		pid := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "cgoguard-"), ".status")
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		s, err := ReadStatusFile(p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) { // removed meanwhile
				errs = append(errs, err)
			}
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, errors.Join(errs...)
}

// processGone reports whether pid no longer runs, or runs but started at
// another time than start (the pid was reused).
func processGone(pid int, start uint64) bool {
	if pid <= 0 {
		return true
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	now := procStartTicks(pid)
	if now == 0 {
		return true
	}
	return start != 0 && now != start
}

// procStartTicks returns field 22 of /proc/<pid>/stat (start time in clock
// ticks after boot), or 0.
func procStartTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // fields 3 onwards
	if len(f) < 20 {
		return 0
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func errnoError(e int) error {
	switch syscall.Errno(e) {
	case syscall.EPROTO:
		return ErrBadStatus
	case syscall.EAGAIN:
		return ErrStatusBusy
	case syscall.ENOENT:
		return fmt.Errorf("%w: %w", ErrNoStatus, syscall.Errno(e))
	}
	return syscall.Errno(e)
}
