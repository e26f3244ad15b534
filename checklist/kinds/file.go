package kinds

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/checklist/internal/proc"
)

// fileParams are the `with` keys of a file check. At least one of paths,
// package_files, env or go_env is required.
type fileParams struct {
	// Paths are file globs, relative to the run's directory.
	Paths []string `yaml:"paths"`
	// PackageFiles selects source files of the run's packages: any of
	// go (non-test Go files without cgo), cgo (Go files that import "C"),
	// c (.c files) and h (.h files).
	PackageFiles []string `yaml:"package_files"`
	// Packages override the run's packages for package_files.
	Packages []string `yaml:"packages"`
	// Exists says whether the paths must match something (default true).
	Exists *bool `yaml:"exists"`
	// Mode is the exact permission bits, e.g. "0644"; MaxMode the most
	// permissive allowed, e.g. "0755".
	Mode    string `yaml:"mode"`
	MaxMode string `yaml:"max_mode"`
	// Matches must match in every file; NotMatches in none (each hit is
	// reported with its line).
	Matches    string `yaml:"matches"`
	NotMatches string `yaml:"not_matches"`
	// Env maps environment variables of the run to patterns they must match.
	Env map[string]string `yaml:"env"`
	// GoEnv maps `go env` keys (CGO_ENABLED, CGO_CFLAGS, ...) to patterns.
	GoEnv map[string]string `yaml:"go_env"`
	// CgoCFLAGS is a pattern the #cgo CFLAGS of every package of the run
	// that uses cgo must match (all its files' directives, joined by
	// spaces), e.g. "-Werror".
	CgoCFLAGS string `yaml:"cgo_cflags"`
}

var packageFileSets = map[string]bool{"go": true, "cgo": true, "c": true, "h": true}

func parseFile(with map[string]any) (*fileParams, error) {
	var p fileParams
	if err := decode(with, &p); err != nil {
		return nil, err
	}
	if len(p.Paths) == 0 && len(p.PackageFiles) == 0 && len(p.Env) == 0 && len(p.GoEnv) == 0 && p.CgoCFLAGS == "" {
		return nil, errors.New("one of paths, package_files, env, go_env or cgo_cflags is required")
	}
	var errs []error
	if _, err := compile("cgo_cflags", p.CgoCFLAGS); err != nil {
		errs = append(errs, err)
	}
	for i, s := range p.PackageFiles {
		if !packageFileSets[s] {
			errs = append(errs, fieldErr(fmt.Sprintf("package_files[%d]", i), "%q is not one of go, cgo, c, h", s))
		}
	}
	for i, g := range p.Paths {
		if _, err := filepath.Match(g, ""); err != nil {
			errs = append(errs, fieldErr(fmt.Sprintf("paths[%d]", i), "%q: %v", g, err))
		}
	}
	for _, m := range []struct{ key, mode string }{{"mode", p.Mode}, {"max_mode", p.MaxMode}} {
		if m.mode != "" {
			if v, err := strconv.ParseUint(m.mode, 8, 32); err != nil || v > 0o7777 {
				errs = append(errs, fieldErr(m.key, "%q is not an octal mode from 0000 to 7777, like 0644", m.mode))
			}
		}
	}
	for _, k := range []struct{ key, pat string }{{"matches", p.Matches}, {"not_matches", p.NotMatches}} {
		if _, err := compile(k.key, k.pat); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedMapKeys(p.Env) {
		if _, err := compile("env."+k, p.Env[k]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedMapKeys(p.GoEnv) {
		if _, err := compile("go_env."+k, p.GoEnv[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &p, nil
}

type fileKind struct{}

func (fileKind) Validate(with map[string]any) error {
	_, err := parseFile(with)
	return err
}

func (fileKind) Run(ctx context.Context, env *checklist.Env, c *checklist.Check) checklist.Observation {
	p, err := parseFile(c.With)
	if err != nil {
		return checklist.Observation{Err: err}
	}
	var obs checklist.Observation
	var cmds, why, ev []string
	var files []string
	if len(p.Paths) > 0 {
		cmds = append(cmds, "glob "+strings.Join(p.Paths, " "))
		for _, g := range p.Paths {
			m, _ := filepath.Glob(filepath.Join(env.Dir, g))
			files = append(files, m...)
		}
	}
	if len(p.PackageFiles) > 0 {
		pkgs := p.Packages
		if len(pkgs) == 0 {
			pkgs = env.Packages
		}
		cmds = append(cmds, fmt.Sprintf("%s files of go list %s", strings.Join(p.PackageFiles, ","), strings.Join(pkgs, " ")))
		pf, err := packageFiles(ctx, env, pkgs, p.PackageFiles)
		if err != nil {
			obs.Err = err
			return obs
		}
		files = append(files, pf...)
	}
	sort.Strings(files)
	files = dedupe(files)
	wd, _ := os.Getwd()
	exists := p.Exists == nil || *p.Exists
	if len(p.Paths) > 0 || len(p.PackageFiles) > 0 {
		switch {
		case exists && len(files) == 0 && len(p.Paths) > 0:
			why = append(why, "no file matches "+strings.Join(p.Paths, " "))
		case !exists && len(files) > 0:
			why = append(why, fmt.Sprintf("%s exists but must not", relPath(wd, "", files[0])))
		}
	}
	mustRe, _ := compile("matches", p.Matches)
	notRe, _ := compile("not_matches", p.NotMatches)
	hits := 0
	for _, f := range files {
		if !exists {
			break
		}
		rel := relPath(wd, "", f)
		st, err := os.Stat(f)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		perm := st.Mode().Perm()
		if p.Mode != "" {
			want, _ := strconv.ParseUint(p.Mode, 8, 32)
			if uint32(perm) != uint32(want) {
				why = append(why, fmt.Sprintf("%s has mode %04o, want %s", rel, perm, p.Mode))
			}
		}
		if p.MaxMode != "" {
			most, _ := strconv.ParseUint(p.MaxMode, 8, 32)
			if extra := uint32(perm) &^ uint32(most); extra != 0 {
				why = append(why, fmt.Sprintf("%s has mode %04o, more than %s", rel, perm, p.MaxMode))
			}
		}
		if mustRe == nil && notRe == nil || st.IsDir() {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		if mustRe != nil && !mustRe.Match(data) {
			why = append(why, fmt.Sprintf("%s does not match %q", rel, p.Matches))
			ev = append(ev, rel+": no match for "+p.Matches)
		}
		if notRe != nil {
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(make([]byte, 64<<10), 4<<20)
			for n := 1; sc.Scan(); n++ {
				if notRe.Match(sc.Bytes()) {
					hits++
					ev = append(ev, fmt.Sprintf("%s:%d: %s", rel, n, strings.TrimSpace(sc.Text())))
				}
			}
		}
	}
	if hits > 0 {
		why = append(why, fmt.Sprintf("%d line(s) match %q, first: %s", hits, p.NotMatches, firstNotMatch(ev)))
	}
	keys := sortedKeys(p.Env)
	for _, k := range keys {
		v, set := lookupEnv(env.Environ, k)
		re, _ := compile("env", p.Env[k])
		ev = append(ev, fmt.Sprintf("env %s=%q", k, v))
		if !set || !re.MatchString(v) {
			why = append(why, fmt.Sprintf("environment %s=%q does not match %q", k, v, p.Env[k]))
		}
	}
	if len(p.GoEnv) > 0 {
		cmds = append(cmds, "go env -json")
		genv, err := goEnv(ctx, env)
		if err != nil {
			obs.Err = err
			return obs
		}
		for _, k := range sortedKeys(p.GoEnv) {
			v := genv[k]
			re, _ := compile("go_env", p.GoEnv[k])
			ev = append(ev, fmt.Sprintf("go env %s=%q", k, v))
			if !re.MatchString(v) {
				why = append(why, fmt.Sprintf("go env %s=%q does not match %q", k, v, p.GoEnv[k]))
			}
		}
	}
	if p.CgoCFLAGS != "" {
		pkgs := p.Packages
		if len(pkgs) == 0 {
			pkgs = env.Packages
		}
		cmds = append(cmds, "#cgo CFLAGS of go list "+strings.Join(pkgs, " "))
		list, err := listPackages(ctx, env, pkgs)
		if err != nil {
			obs.Err = err
			return obs
		}
		re, _ := compile("cgo_cflags", p.CgoCFLAGS)
		n := 0
		for _, lp := range list {
			if len(lp.CgoFiles) == 0 {
				continue
			}
			n++
			flags := strings.Join(lp.CgoCFLAGS, " ")
			ev = append(ev, fmt.Sprintf("%s: #cgo CFLAGS: %s", lp.ImportPath, flags))
			if !re.MatchString(flags) {
				why = append(why, fmt.Sprintf("%s: #cgo CFLAGS %q do not match %q", lp.ImportPath, flags, p.CgoCFLAGS))
			}
		}
		ev = append(ev, fmt.Sprintf("%d cgo package(s) checked", n))
	}
	obs.Evidence = checklist.Evidence{Command: strings.Join(cmds, "; "), ExitCode: 0}
	if len(files) > 0 {
		ev = append([]string{fmt.Sprintf("%d file(s) checked", len(files))}, ev...)
	}
	b := proc.NewBuffer(env.EvidenceLimit)
	b.Write([]byte(strings.Join(ev, "\n")))
	obs.Evidence.Stdout = b.String()
	if len(why) > 0 {
		obs.Evidence.ExitCode = 1
		obs.Message = strings.Join(why, "; ")
		return obs
	}
	obs.Passed = true
	switch {
	case len(files) > 0:
		obs.Message = fmt.Sprintf("%d file(s) checked", len(files))
	case len(p.Paths) > 0 || len(p.PackageFiles) > 0:
		obs.Message = "no files to check"
	case p.CgoCFLAGS != "":
		obs.Message = "#cgo CFLAGS as expected"
	default:
		obs.Message = "environment as expected"
	}
	return obs
}

func firstNotMatch(ev []string) string {
	for _, e := range ev {
		if !strings.Contains(e, ": no match for ") {
			return e
		}
	}
	return ""
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lookupEnv(environ []string, key string) (string, bool) {
	val, set := "", false
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, set = v, true
		}
	}
	return val, set
}

type listedPackage struct {
	Dir        string
	ImportPath string
	GoFiles    []string
	CgoFiles   []string
	CFiles     []string
	HFiles     []string
	CgoCFLAGS  []string
}

// listPackages runs go list over pkgs, once per run.
func listPackages(ctx context.Context, env *checklist.Env, pkgs []string) ([]listedPackage, error) {
	v, err := env.Memo(ctx, "golist\x00"+strings.Join(pkgs, "\x00"), func(runCtx context.Context) any {
		argv := append([]string{"go", "list", "-e", "-json=Dir,ImportPath,GoFiles,CgoFiles,CFiles,HFiles,CgoCFLAGS"}, pkgs...)
		stdout := proc.NewBuffer(0)
		out, err := proc.Run(runCtx, proc.Cmd{Argv: argv, Dir: env.Dir, Env: env.Environ, Limit: env.EvidenceLimit, Stdout: stdout})
		if err != nil {
			return err
		}
		if out.ExitCode != 0 {
			return fmt.Errorf("go list exited %d: %s", out.ExitCode, lastLines(out.Stderr, 1))
		}
		var list []listedPackage
		dec := json.NewDecoder(strings.NewReader(stdout.String()))
		for {
			var lp listedPackage
			if err := dec.Decode(&lp); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("go list output: %v", err)
			}
			list = append(list, lp)
		}
		return list
	})
	if err != nil {
		return nil, err
	}
	if e, ok := v.(error); ok {
		return nil, e
	}
	return v.([]listedPackage), nil
}

// packageFiles lists the chosen source files of pkgs.
func packageFiles(ctx context.Context, env *checklist.Env, pkgs, sets []string) ([]string, error) {
	list, err := listPackages(ctx, env, pkgs)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, lp := range list {
		for _, s := range sets {
			var names []string
			switch s {
			case "go":
				names = lp.GoFiles
			case "cgo":
				names = lp.CgoFiles
			case "c":
				names = lp.CFiles
			case "h":
				names = lp.HFiles
			}
			for _, n := range names {
				files = append(files, filepath.Join(lp.Dir, n))
			}
		}
	}
	return files, nil
}

func goEnv(ctx context.Context, env *checklist.Env) (map[string]string, error) {
	v, err := env.Memo(ctx, "goenv", func(runCtx context.Context) any {
		stdout := proc.NewBuffer(0)
		out, err := proc.Run(runCtx, proc.Cmd{Argv: []string{"go", "env", "-json"}, Dir: env.Dir, Env: env.Environ, Stdout: stdout})
		if err != nil {
			return err
		}
		if out.ExitCode != 0 {
			return fmt.Errorf("go env exited %d: %s", out.ExitCode, lastLines(out.Stderr, 1))
		}
		m := map[string]string{}
		if err := json.Unmarshal([]byte(stdout.String()), &m); err != nil {
			return fmt.Errorf("go env output: %v", err)
		}
		return m
	})
	if err != nil {
		return nil, err
	}
	if e, ok := v.(error); ok {
		return nil, e
	}
	return v.(map[string]string), nil
}
