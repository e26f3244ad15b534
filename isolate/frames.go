package isolate

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cgoguard/cgoguard"
)

// mapping is one line of /proc/<pid>/maps that maps a file.
type mapping struct {
	start, end, off uint64
	path            string
}

// readMaps reads the file mappings of process pid ("self" for this one).
func readMaps(pid string) ([]mapping, error) {
	f, err := os.Open("/proc/" + pid + "/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []mapping
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		if m, ok := parseMapsLine(sc.Text()); ok {
			ms = append(ms, m)
		}
	}
	return ms, sc.Err()
}

// parseMapsLine parses "start-end perms offset dev inode path"; lines
// without a file path ([heap], anonymous memory) are skipped.
func parseMapsLine(line string) (mapping, bool) {
	f := strings.Fields(line)
	if len(f) < 6 || !strings.HasPrefix(f[5], "/") {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	off, err3 := strconv.ParseUint(f[2], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil || end <= start {
		return mapping{}, false
	}
	path := strings.Join(f[5:], " ")
	path = strings.TrimSuffix(path, " (deleted)")
	return mapping{start: start, end: end, off: off, path: path}, true
}

func find(ms []mapping, pc uint64) (mapping, bool) {
	for _, m := range ms {
		if pc >= m.start && pc < m.end {
			return m, true
		}
	}
	return mapping{}, false
}

// translate moves pc of a process with mappings from to the same byte of
// the same file in a process with mappings to. It returns the object path
// and, when to maps that byte, the address there.
func translate(from, to []mapping, pc uint64) (path string, fileOff uint64, there uint64, ok bool) {
	m, found := find(from, pc)
	if !found {
		return "", 0, 0, false
	}
	fileOff = pc - m.start + m.off
	for _, t := range to {
		if t.path == m.path && fileOff >= t.off && fileOff < t.off+(t.end-t.start) {
			return m.path, fileOff, t.start + fileOff - t.off, true
		}
	}
	return m.path, fileOff, 0, false
}

// workerFrames names the C frames of a crash in worker pid. The worker runs
// the same executable and, as a rule, the same shared libraries, at other
// addresses: each PC is moved to the same byte of the same file in this
// process and symbolised here (cgoguard.Symbolize), then given back the
// worker's PC. A PC in an object this process does not map keeps the
// object's path and its offset in the file.
func workerFrames(pid int, pcs []uintptr) []cgoguard.Frame {
	frames := make([]cgoguard.Frame, 0, len(pcs))
	theirs, err1 := readMaps(fmt.Sprint(pid))
	ours, err2 := readMaps("self")
	for _, pc := range pcs {
		f := cgoguard.Frame{PC: pc}
		if err1 == nil && err2 == nil {
			if path, off, here, ok := translate(theirs, ours, uint64(pc)); ok {
				f = cgoguard.Symbolize(uintptr(here))
				f.PC = pc
			} else if path != "" {
				f.Object, f.Offset = path, uintptr(off)
			}
		}
		frames = append(frames, f)
	}
	return frames
}
