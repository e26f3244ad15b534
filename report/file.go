package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cgoguard/cgoguard/checklist"
)

// Write writes the result in o's format to o.Path: standard output (the
// stdout writer) for "-" and for a path naming the same file as the
// process's standard output (/dev/stdout, /proc/self/fd/1), else a file.
//
// Only a regular file, or a path that does not exist yet (its directories
// are created), is replaced atomically: the report is written beside it and
// renamed over it, so a reader such as node_exporter's textfile collector
// never sees half a report. Anything else is opened and written through,
// and stays what it was: a symlink (its target gets the report), a FIFO, a
// character device such as /dev/null. When the directory of a regular file
// is not writable, the file is rewritten in place.
func (o Output) Write(r *checklist.Result, stdout io.Writer) error {
	f, err := Lookup(o.Format)
	if err != nil {
		return err
	}
	if o.ToStdout() {
		return f.Write(stdout, r)
	}
	fi, err := os.Lstat(o.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
			return err
		}
		return replaceFile(o.Path, f, r)
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", o.Path)
	case fi.Mode().IsRegular():
		err := replaceFile(o.Path, f, r)
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return writeThrough(o.Path, f, r)
		}
		return err
	}
	return writeThrough(o.Path, f, r)
}

// ToStdout reports whether o goes to standard output: its path is "-" or
// names the same file as the process's standard output.
func (o Output) ToStdout() bool {
	if o.Path == "-" {
		return true
	}
	out, err := os.Stdout.Stat()
	if err != nil {
		return false
	}
	fi, err := os.Stat(o.Path) // follows /dev/stdout -> /proc/self/fd/1 -> the pipe
	return err == nil && os.SameFile(fi, out)
}

// replaceFile writes the report to a temporary file beside path and renames
// it over path.
func replaceFile(path string, f Format, r *checklist.Result) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := f.Write(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeThrough opens path (following a symlink) and writes the report into
// it. A regular file at the end of the path is truncated first; a FIFO or
// device is written as is (opening a FIFO waits for its reader).
func writeThrough(path string, f Format, r *checklist.Result) error {
	flags := os.O_WRONLY
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		flags |= os.O_TRUNC
	} else if errors.Is(err, fs.ErrNotExist) {
		flags |= os.O_CREATE // a dangling symlink: create its target
	}
	out, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if err := f.Write(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
