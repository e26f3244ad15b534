package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/cgoguard/cgoguard/include"
)

func init() {
	register(&command{
		name:    "header",
		summary: "write the cgoguard C headers into a cgo package (-o DIR) or print cgoguard.h",
		run:     runHeader,
	})
}

func runHeader(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("header", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("o", "", "directory to write cgoguard.h and its section headers into")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "cgoguard header: unexpected arguments %v\n", fs.Args())
		return 2
	}
	if *dir == "" {
		for _, n := range include.Names() {
			b, _ := include.File(n)
			fmt.Fprintf(stdout, "/* ==== %s ==== */\n%s\n", n, b)
		}
		return 0
	}
	paths, err := include.Write(*dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return 0
}
