package kinds

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/cgoguard/cgoguard/checklist/internal/proc"
)

// streamWindow is how many of the latest bytes a pattern's reader keeps, to
// show the text of a forbidden match.
const streamWindow = 8 << 10

// streamCheck matches patterns against the whole of one output stream as it
// is written, in bounded memory, and keeps a bounded copy as evidence.
// Each pattern reads the stream through a pipe with regexp's RuneReader
// matching (RE2: linear time, a fixed amount of state), so a forbidden line
// anywhere in the output is seen however long the output is.
type streamCheck struct {
	name string
	keep *proc.Buffer
	pats []*streamPattern
}

// streamPattern is one pattern being matched against a stream.
type streamPattern struct {
	re     *regexp.Regexp
	expr   string
	negate bool // must not match
	pw     *io.PipeWriter
	ended  atomic.Bool // the pattern has its answer; writes may skip it
	done   chan struct{}

	found bool
	text  string // the line where a forbidden match starts
	line  int    // its number, 0 when not known
}

// newStreamCheck starts matching must and mustNot (either may be "")
// against a stream named name, keeping limit bytes of it as evidence.
func newStreamCheck(name string, limit int, must, mustNot string) *streamCheck {
	s := &streamCheck{name: name, keep: proc.NewBuffer(limit)}
	for _, p := range []struct {
		expr   string
		negate bool
	}{{must, false}, {mustNot, true}} {
		if p.expr == "" {
			continue
		}
		re, err := regexp.Compile(p.expr)
		if err != nil {
			continue // Validate reported it
		}
		pr, pw := io.Pipe()
		sp := &streamPattern{re: re, expr: p.expr, negate: p.negate, pw: pw, done: make(chan struct{})}
		s.pats = append(s.pats, sp)
		go sp.run(pr)
	}
	return s
}

// Write keeps a bounded copy and feeds every pattern still undecided.
func (s *streamCheck) Write(p []byte) (int, error) {
	s.keep.Write(p)
	for _, sp := range s.pats {
		if !sp.ended.Load() {
			_, _ = sp.pw.Write(p) // after its answer a pattern drains its pipe
		}
	}
	return len(p), nil
}

// close ends the stream and waits for every pattern's answer.
func (s *streamCheck) close() {
	for _, sp := range s.pats {
		sp.pw.Close()
	}
	for _, sp := range s.pats {
		<-sp.done
	}
}

// problems says which patterns did not hold, after close.
func (s *streamCheck) problems() []string {
	var why []string
	for _, sp := range s.pats {
		switch {
		case !sp.negate && !sp.found:
			why = append(why, fmt.Sprintf("%s does not match %q", s.name, sp.expr))
		case sp.negate && sp.found:
			at := ""
			if sp.line > 0 {
				at = " at line " + strconv.Itoa(sp.line)
			}
			if sp.text != "" {
				why = append(why, fmt.Sprintf("%s matches %q%s: %q", s.name, sp.expr, at, sp.text))
			} else {
				why = append(why, fmt.Sprintf("%s matches %q%s", s.name, sp.expr, at))
			}
		}
	}
	return why
}

func (sp *streamPattern) run(pr *io.PipeReader) {
	defer close(sp.done)
	wr := &windowReader{r: bufio.NewReaderSize(pr, 32<<10)}
	if sp.negate {
		if loc := sp.re.FindReaderIndex(wr); loc != nil {
			sp.found = true
			wr.readLine(maxShownLine) // the rest of the line, to show it whole
			sp.text, sp.line = wr.lineAt(int64(loc[0]))
		}
	} else {
		sp.found = sp.re.MatchReader(wr)
	}
	sp.ended.Store(true)
	_, _ = io.Copy(io.Discard, pr) // let writers finish
}

// windowReader is an io.RuneReader that keeps the last streamWindow bytes it
// read and counts the lines before them, so that a match found by offset
// can be shown with its line.
type windowReader struct {
	r        *bufio.Reader
	off      int64 // bytes read so far
	win      []byte
	winStart int64 // stream offset of win[0]
	linesOut int   // newlines before win[0]
}

func (w *windowReader) ReadRune() (rune, int, error) {
	r, n, err := w.r.ReadRune()
	if n > 0 {
		var b [utf8.UTFMax]byte
		if r == utf8.RuneError && n == 1 {
			w.r.UnreadByte()
			c, _ := w.r.ReadByte()
			b[0] = c
		} else {
			utf8.EncodeRune(b[:], r)
		}
		w.win = append(w.win, b[:n]...)
		w.off += int64(n)
		if len(w.win) > 2*streamWindow {
			cut := len(w.win) - streamWindow
			for _, c := range w.win[:cut] {
				if c == '\n' {
					w.linesOut++
				}
			}
			w.win = append(w.win[:0], w.win[cut:]...)
			w.winStart += int64(cut)
		}
	}
	return r, n, err
}

// maxShownLine bounds the line shown for a forbidden match.
const maxShownLine = 200

// readLine reads on up to the next newline, at most n bytes.
func (w *windowReader) readLine(n int) {
	for i := 0; i < n; {
		r, size, err := w.ReadRune()
		if err != nil || r == '\n' {
			return
		}
		i += size
	}
}

// lineAt returns the line holding stream offset start and its number, when
// start is still in the window (else "" and 0). A line longer than
// maxShownLine is cut around start.
func (w *windowReader) lineAt(start int64) (string, int) {
	if start < w.winStart || start > w.off {
		return "", 0
	}
	rel := int(start - w.winStart)
	line := w.linesOut + 1
	from := 0
	for i, c := range w.win[:rel] {
		if c == '\n' {
			line++
			from = i + 1
		}
	}
	to := len(w.win)
	for i := rel; i < len(w.win); i++ {
		if w.win[i] == '\n' {
			to = i
			break
		}
	}
	if to-from > maxShownLine {
		from = max(from, rel-maxShownLine/4)
		to = min(to, from+maxShownLine)
	}
	return string(w.win[from:to]), line
}
