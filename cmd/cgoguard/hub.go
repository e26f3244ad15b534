package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/client"
	"github.com/cgoguard/cgoguard/hub/server"
	"github.com/cgoguard/cgoguard/hub/store"
)

func init() {
	register(&command{
		name:    "hub",
		summary: "keep the history of check runs: web pages, JSON API, tokens, uploads",
		run:     runHub,
	})
}

// Environment variables of the hub commands.
const (
	envHubDB  = "CGOGUARD_HUB_DB"  // default of --db
	envHubURL = "CGOGUARD_HUB_URL" // default of hub push --report-to
)

const defaultHubDB = "cgoguard-hub.db"

const hubUsage = `Usage:
  cgoguard hub [--addr HOST:PORT] [--db DSN] [--auth read|write] [flags]
  cgoguard hub token --db DSN --role ROLE --name NAME
  cgoguard hub token --db DSN --revoke NAME
  cgoguard hub token --db DSN --list
  cgoguard hub push [--report-to URL] [--repo R --branch B --commit C] [FILE...]

The hub keeps every uploaded checklist run: which checks fail where, since
when, how long they take, which pass only on retry, and their evidence.
DSN is a SQLite file (default %s in the working directory, or
$%s) or a postgres:// URL shared by several hubs. A SQLite file
is a path, sqlite:FILE or sqlite://FILE (relative to the working
directory), or sqlite:///ABSOLUTE/PATH.

hub token creates a token (printed once; only its hash is stored) or
revokes one, without the server running. Roles: admin, author, reviewer,
runner (uploads runs), viewer.

hub push sends the runs that failed to upload earlier (the spool), then
each FILE: a JSON result (cgoguard check -o json=FILE) or a spooled
upload. Without --report-to, spooled runs go to the hub recorded with
them in the spool. The token comes from $%s.

Exit codes: 0 done, 1 failed (server error, upload not stored), 2 usage
(including a --db DSN that names no usable database).

Flags of the server:
`

// runHub implements "cgoguard hub".
func runHub(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "token":
			return runHubToken(args[1:], stdout, stderr)
		case "push":
			return runHubPush(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8420", "listen on `HOST:PORT`")
	dsn := fs.String("db", dbDefault(), "database: a SQLite file `DSN` or postgres://…")
	auth := fs.String("auth", "read", "what needs a token: `read` (reads and writes) or write (writes only; reads are open)")
	maxBody := fs.Int64("max-body", server.DefaultMaxBody, "largest request body in `BYTES`")
	evidenceCap := fs.Int("evidence-cap", hub.DefaultEvidenceCap, "evidence kept per check in `BYTES`; longer output is cut with a marker")
	metricsWindow := fs.String("metrics-window", "7d", "sliding `WINDOW` of the per-check metrics on /metrics")
	secure := fs.Bool("secure-cookies", false, "mark cookies Secure (the hub is reached over HTTPS through a proxy)")
	metricsAuth := fs.Bool("metrics-auth", false, "/metrics needs a bearer token of any role too (default: open to scrapers)")
	flow := addFlowFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, hubUsage, defaultHubDB, envHubDB, client.EnvToken)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cgoguard hub: unexpected argument %q (subcommands: token, push)\n", fs.Arg(0))
		return 2
	}
	var authReads bool
	switch *auth {
	case "read":
		authReads = true
	case "write":
	default:
		fmt.Fprintf(stderr, "cgoguard hub: --auth must be read or write, not %q\n", *auth)
		return 2
	}
	win, err := hub.ParseWindow(*metricsWindow)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard hub: --metrics-window: %v\n", err)
		return 2
	}
	flowOpts, err := flow.options()
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard hub: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard hub: %v\n", err)
		return dbExit(err)
	}
	defer st.Close()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv, err := server.New(ctx, st, append([]server.Option{server.WithAuthReads(authReads), server.WithMaxBody(*maxBody),
		server.WithEvidenceCap(*evidenceCap), server.WithMetricsWindow(win), server.WithSecureCookies(*secure),
		server.WithMetricsAuth(*metricsAuth), server.WithLogger(logger)}, flowOpts...)...)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard hub: %v\n", err)
		return 1
	}
	if toks, err := st.Tokens(ctx); err == nil && len(toks) == 0 {
		fmt.Fprintf(stderr, "cgoguard hub: no tokens yet; create one with: cgoguard hub token --db %s --role admin --name NAME\n", *dsn)
	}
	err = srv.ListenAndServe(ctx, *addr, func(a net.Addr) {
		v, _ := st.SchemaVersion(ctx)
		fmt.Fprintf(stderr, "cgoguard hub: listening on %s (database: %s, schema %d; open http://%s/)\n", a, st.Backend(), v, a)
	})
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard hub: %v\n", err)
		return 1
	}
	return 0
}

// dbExit is the exit code of a database that did not open: 2 for a --db
// that names no usable database (a usage error), else 1.
func dbExit(err error) int {
	if errors.Is(err, store.ErrBadDSN) {
		return 2
	}
	return 1
}

func dbDefault() string {
	if d := os.Getenv(envHubDB); d != "" {
		return d
	}
	return defaultHubDB
}

// runHubToken implements "cgoguard hub token".
func runHubToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hub token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", dbDefault(), "database `DSN` (as for cgoguard hub)")
	role := fs.String("role", "", "`ROLE` of a new token: admin, author, reviewer, runner or viewer")
	name := fs.String("name", "", "`NAME` of a new token")
	revoke := fs.String("revoke", "", "revoke the active token called `NAME`")
	list := fs.Bool("list", false, "list the tokens")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cgoguard hub token --db DSN --role ROLE --name NAME | --revoke NAME | --list")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	modes := 0
	for _, on := range []bool{*revoke != "", *list, *role != "" || *name != ""} {
		if on {
			modes++
		}
	}
	if modes != 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "cgoguard hub token: give either --role and --name, or --revoke NAME, or --list")
		return 2
	}
	var r hub.Role
	if *revoke == "" && !*list {
		var err error
		if r, err = hub.ParseRole(*role); err != nil {
			fmt.Fprintf(stderr, "cgoguard hub token: --role: %v\n", err)
			return 2
		}
		if *name == "" {
			fmt.Fprintln(stderr, "cgoguard hub token: --name is required")
			return 2
		}
	}
	ctx := hub.WithActor(context.Background(), cliActor())
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard hub token: %v\n", err)
		return dbExit(err)
	}
	defer st.Close()
	switch {
	case *revoke != "":
		if err := st.RevokeToken(ctx, *revoke); err != nil {
			fmt.Fprintf(stderr, "cgoguard hub token: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "revoked token %q\n", *revoke)
	case *list:
		toks, err := st.Tokens(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard hub token: %v\n", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tSTATE")
		for _, t := range toks {
			state := "active"
			if !t.Active() {
				state = "revoked " + t.Revoked.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.Created.Format(time.DateTime), state)
		}
		tw.Flush()
	default:
		secret, _, err := st.CreateToken(ctx, *name, r)
		if err != nil {
			fmt.Fprintf(stderr, "cgoguard hub token: %v\n", err)
			if errors.Is(err, hub.ErrInvalid) {
				return 2
			}
			return 1
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "cgoguard hub token: created %s token %q; it is shown only now (e.g. export %s=…)\n", r, *name, client.EnvToken)
	}
	return 0
}

// runHubPush implements "cgoguard hub push".
func runHubPush(args []string, stdout, stderr io.Writer) int {
	const prog = "cgoguard hub push"
	fs := flag.NewFlagSet("hub push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("report-to", os.Getenv(envHubURL), "the hub's `URL` (default $"+envHubURL+", else the hub recorded in the spool with each FILE)")
	repo := fs.String("repo", "", "`repository` recorded with a bare JSON result (default: CI variables or git)")
	branch := fs.String("branch", "", "`branch` recorded with a bare JSON result")
	commit := fs.String("commit", "", "`commit` recorded with a bare JSON result")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cgoguard hub push [--report-to URL] [--repo R] [--branch B] [--commit C] [FILE...]")
		fmt.Fprintln(stderr, "\nSends the spooled runs, then each FILE (a JSON result or a spooled upload).")
		fmt.Fprintln(stderr, "Without --report-to (and $"+envHubURL+"), a spooled FILE goes to the hub recorded next to it,")
		fmt.Fprintln(stderr, "and with no FILE every hub that has spooled runs is sent its runs.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// Which hub each file goes to, in the order first named.
	var hubs []string
	files := map[string][]string{}
	switch {
	case *url != "":
		hubs = []string{*url}
		files[*url] = fs.Args()
	case fs.NArg() > 0:
		for _, f := range fs.Args() {
			u, err := client.SpoolHub(f)
			if err != nil {
				if errors.Is(err, client.ErrNoSpoolHub) {
					fmt.Fprintf(stderr, "%s: %s: no hub URL is recorded for it (only runs spooled by a failed upload have one); pass --report-to URL (or set $%s)\n", prog, f, envHubURL)
				} else {
					fmt.Fprintf(stderr, "%s: %v\n", prog, err)
				}
				return 2
			}
			if _, seen := files[u]; !seen {
				hubs = append(hubs, u)
			}
			files[u] = append(files[u], f)
		}
	default:
		root := client.DefaultSpoolDir()
		var err error
		if hubs, err = client.SpooledHubs(root); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
		if orphans := unrecordedSpools(root); len(orphans) > 0 {
			fmt.Fprintf(stderr, "%s: runs wait in %s without a recorded hub URL; pass --report-to URL (or set $%s) to send them\n", prog, strings.Join(orphans, ", "), envHubURL)
			if len(hubs) == 0 {
				return 2
			}
		}
		if len(hubs) == 0 {
			fmt.Fprintf(stdout, "no spooled runs in %s (give --report-to URL to push a result file)\n", root)
			return 0
		}
	}
	rc := runContext(*repo, *branch, *commit)
	ups := map[string][]*hub.Upload{}
	for _, u := range hubs {
		for _, f := range files[u] {
			up, err := client.ReadUpload(f, rc)
			if err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", prog, err)
				return 2
			}
			ups[u] = append(ups[u], up)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := 0
	for _, u := range hubs {
		if c := pushFiles(ctx, u, files[u], ups[u], stdout, stderr, prog); c > code {
			code = c
		}
	}
	return code
}

// pushFiles sends the spool of the hub at url, then ups (read from files).
func pushFiles(ctx context.Context, url string, files []string, ups []*hub.Upload, stdout, stderr io.Writer, prog string) int {
	c, err := hubClient(url, stderr, prog)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 2
	}
	if !flush(ctx, c, stderr, prog) {
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintf(stdout, "spool of %s is empty\n", c.URL())
		return 0
	}
	code := 0
	for i, up := range ups {
		r, err := c.Send(ctx, up)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s: %v\n", prog, files[i], err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: run %s %s: %s%s\n", files[i], r.ID, r.Status, c.URL(), r.URL)
	}
	return code
}

// unrecordedSpools lists the hub directories under the spool root that
// hold runs but no recorded hub URL (spooled by an older cgoguard).
func unrecordedSpools(root string) []string {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if _, err := client.SpoolHub(dir); !errors.Is(err, client.ErrNoSpoolHub) {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(m) > 0 {
			out = append(out, dir)
		}
	}
	return out
}
