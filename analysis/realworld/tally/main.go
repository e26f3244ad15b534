// Command tally summarises the outputs of analysis/realworld/run: the
// findings of "cgoguard vet" on real cgo modules, by module and rule, with
// the verdicts read by hand from verdicts.tsv, the precision with the
// advisory rules off, and the advisory notes as a share of the output
// when they are on. It prints Markdown (the table of docs/vet.md).
//
//	go run ./analysis/realworld/tally -modules modules.txt -verdicts verdicts.tsv -dir OUT [-list]
//
// A verdict line is: module, file:line (relative to the module), rule,
// verdict (true, false, or for advisory rules useful/noise), note; tab
// separated. A finding without a verdict is "unread" and keeps the
// precision from being computed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cgoguard/cgoguard/analysis/suite"
)

type finding struct {
	Rule       string `json:"rule"`
	Message    string `json:"message"`
	File       string `json:"file"`
	Line       int    `json:"line"`
	Suppressed bool   `json:"suppressed"`
}

type report struct {
	Findings    []finding `json:"findings"`
	Errors      []string  `json:"errors"`
	NotAnalysed []struct {
		Package string `json:"package"`
		Reason  string `json:"reason"`
	} `json:"not_analysed"`
}

type verdict struct{ kind, note string }

func main() {
	modules := flag.String("modules", "modules.txt", "the module list")
	verdicts := flag.String("verdicts", "verdicts.tsv", "the verdicts read by hand")
	dir := flag.String("dir", "", "the directory the run script wrote")
	list := flag.Bool("list", false, "print every finding with its verdict")
	flag.Parse()
	if err := run(*modules, *verdicts, *dir, *list); err != nil {
		fmt.Fprintln(os.Stderr, "tally:", err)
		os.Exit(1)
	}
}

func run(modulesFile, verdictsFile, dir string, list bool) error {
	vs, err := readVerdicts(verdictsFile)
	if err != nil {
		return err
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.module"))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("no outputs in %q", dir)
	}
	sort.Strings(names)
	fmt.Println("| module | version | findings, advisory rules off (by rule) | true | false | unread | precision | advisory notes on (capped / all) | share of output |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	var tot struct{ all, tru, fal, unread, adv, advAll, out int }
	var lists []string
	type ruleTally struct{ n, tru, fal, unread int }
	perRule := map[string]*ruleTally{}
	for _, name := range names {
		idb, _ := os.ReadFile(name)
		modVer := strings.TrimSpace(string(idb))
		module, version, _ := strings.Cut(modVer, "@")
		base := strings.TrimSuffix(name, ".module")
		def, err := readReport(base + ".default.json")
		if err != nil {
			fmt.Printf("| %s | %s | not vetted: %v | | | | | | |\n", module, version, err)
			continue
		}
		adv, _ := readReport(base + ".advisory.json")
		advAll, _ := readReport(base + ".advisory-all.json")
		byRule := map[string]int{}
		tru, fal, unread := 0, 0, 0
		for _, f := range open(def) {
			byRule[f.Rule]++
			rt := perRule[f.Rule]
			if rt == nil {
				rt = &ruleTally{}
				perRule[f.Rule] = rt
			}
			rt.n++
			rel := relFile(f.File, modVer)
			v, ok := vs[key(module, rel, f.Line, f.Rule)]
			switch {
			case !ok:
				unread++
				rt.unread++
				v.kind = "UNREAD"
			case v.kind == "true":
				tru++
				rt.tru++
			case v.kind == "false":
				fal++
				rt.fal++
			}
			lists = append(lists, fmt.Sprintf("%s\t%s:%d\t%s\t%s\t%s\t%s", module, rel, f.Line, f.Rule, v.kind, v.note, f.Message))
		}
		nAdv, nAdvAll, nOut := 0, 0, 0
		if adv != nil {
			for _, f := range open(adv) {
				nOut++
				if suite.Advisory(f.Rule) {
					nAdv++
					rel := relFile(f.File, modVer)
					v, ok := vs[key(module, rel, f.Line, f.Rule)]
					if !ok {
						v.kind = "UNREAD"
					}
					lists = append(lists, fmt.Sprintf("%s\t%s:%d\t%s\t%s\t%s\t%s", module, rel, f.Line, f.Rule, "advisory:"+v.kind, v.note, f.Message))
				}
			}
		}
		if advAll != nil {
			for _, f := range open(advAll) {
				if suite.Advisory(f.Rule) {
					nAdvAll++
				}
			}
		}
		n := len(open(def))
		note := ""
		if len(def.NotAnalysed) > 0 {
			note = fmt.Sprintf(" (%d package(s) not analysed)", len(def.NotAnalysed))
		}
		fmt.Printf("| %s | %s | %s%s | %d | %d | %d | %s | %d / %d | %s |\n",
			module, version, rules(byRule, n), note, tru, fal, unread, precision(tru, fal, unread), nAdv, nAdvAll, share(nAdv, nOut))
		tot.all += n
		tot.tru += tru
		tot.fal += fal
		tot.unread += unread
		tot.adv += nAdv
		tot.advAll += nAdvAll
		tot.out += nOut
	}
	fmt.Printf("| **all** | | %d | %d | %d | %d | %s | %d / %d | %s |\n",
		tot.all, tot.tru, tot.fal, tot.unread, precision(tot.tru, tot.fal, tot.unread), tot.adv, tot.advAll, share(tot.adv, tot.out))
	fmt.Println()
	fmt.Println("| rule | findings | true | false | unread | precision |")
	fmt.Println("|---|---|---|---|---|---|")
	var ids []string
	for id := range perRule {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rt := perRule[id]
		fmt.Printf("| %s | %d | %d | %d | %d | %s |\n", id, rt.n, rt.tru, rt.fal, rt.unread, precision(rt.tru, rt.fal, rt.unread))
	}
	if list {
		fmt.Println()
		for _, l := range lists {
			fmt.Println(l)
		}
	}
	return nil
}

func open(r *report) []finding {
	var out []finding
	for _, f := range r.Findings {
		if !f.Suppressed {
			out = append(out, f)
		}
	}
	return out
}

func rules(by map[string]int, n int) string {
	if n == 0 {
		return "0"
	}
	var ids []string
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%s ×%d", id, by[id])
	}
	return fmt.Sprintf("%d: %s", n, strings.Join(parts, ", "))
}

func precision(tru, fal, unread int) string {
	switch {
	case unread > 0:
		return "—"
	case tru+fal == 0:
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(tru)/float64(tru+fal))
}

func share(part, whole int) string {
	if whole == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%% (%d of %d)", 100*float64(part)/float64(whole), part, whole)
}

// relFile makes a module-cache path relative to the module's directory.
func relFile(file, modVer string) string {
	if i := strings.Index(file, "@"+strings.SplitN(modVer, "@", 2)[1]+"/"); i >= 0 {
		return file[i+len(strings.SplitN(modVer, "@", 2)[1])+2:]
	}
	return file
}

func key(module, file string, line int, rule string) string {
	return fmt.Sprintf("%s\t%s:%d\t%s", module, file, line, rule)
}

func readReport(name string) (*report, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &r, nil
}

func readVerdicts(name string) (map[string]verdict, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]verdict{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		fs := strings.SplitN(line, "\t", 5)
		if len(fs) < 4 {
			return nil, fmt.Errorf("%s:%d: want module, file:line, rule, verdict, note (tab separated)", name, n)
		}
		switch fs[3] {
		case "true", "false", "useful", "noise":
		default:
			return nil, fmt.Errorf("%s:%d: verdict %q: want true, false, useful or noise", name, n, fs[3])
		}
		v := verdict{kind: fs[3]}
		if len(fs) == 5 {
			v.note = fs[4]
		}
		out[fs[0]+"\t"+fs[1]+"\t"+fs[2]] = v
	}
	return out, sc.Err()
}
