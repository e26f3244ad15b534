package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cgoguard/cgoguard/hub/agent"
	"github.com/cgoguard/cgoguard/hub/client"
)

func init() {
	register(&command{
		name:    "agent",
		summary: "run the checks asked for with /checklist run on pull and merge requests, for a hub",
		run:     runAgent,
	})
}

const agentUsage = `Usage: cgoguard agent --hub URL --clone [REPO=]DIR [flags]

Long-polls the hub's queue of /checklist run requests (comments on pull
and merge requests), leases one at a time and renews the lease while it
runs: checks the head commit out in a workspace from the local clone,
runs the requested checks with the checklist version active on the hub,
and completes the request with the run; the hub stores it and posts the
summary comment. An agent that dies stops renewing and the request goes
to another agent. The token (role runner) comes from $%s.

Exit codes: 0 stopped (SIGINT, SIGTERM, or --once done), 1 the hub
refused the token, 2 usage.

Flags:
`

func runAgent(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hubURL := fs.String("hub", os.Getenv(envHubURL), "the hub's `URL` (default $"+envHubURL+")")
	var clones multiFlag
	fs.Var(&clones, "clone", "local clone `[REPO=]DIR` of the repositories to run (repeatable; REPO is owner/name or forge:owner/name; without REPO, every other repository)")
	workspace := fs.String("workspace", "", "`DIR` where each request's commit is checked out (default $TMPDIR/cgoguard-agent)")
	name := fs.String("name", "", "`NAME` of this agent on the hub's queue page (default host:pid)")
	parallel := fs.Int("j", 2, "run at most `N` checks at once")
	wait := fs.Duration("wait", 25*time.Second, "how long one lease request waits for work")
	once := fs.Bool("once", false, "run at most one request, then exit")
	keep := fs.Bool("keep", false, "keep the workspaces after the runs")
	fs.Usage = func() {
		fmt.Fprintf(stderr, agentUsage, client.EnvToken)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cgoguard agent: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *hubURL == "" {
		fmt.Fprintf(stderr, "cgoguard agent: --hub URL (or $%s) is required\n", envHubURL)
		return 2
	}
	if len(clones) == 0 {
		fmt.Fprintln(stderr, "cgoguard agent: at least one --clone [REPO=]DIR is required")
		return 2
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	opts := []agent.Option{agent.WithToken(os.Getenv(client.EnvToken)), agent.WithName(*name), agent.WithWorkspace(*workspace),
		agent.WithParallelism(*parallel), agent.WithWait(*wait), agent.WithKeepWorkspaces(*keep), agent.WithLog(logf)}
	for _, c := range clones {
		repo, dir, ok := strings.Cut(c, "=")
		if !ok {
			repo, dir = "", c
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "cgoguard agent: --clone %q: %s is not a directory\n", c, dir)
			return 2
		}
		opts = append(opts, agent.WithClone(repo, dir))
	}
	if os.Getenv(client.EnvToken) == "" {
		fmt.Fprintf(stderr, "cgoguard agent: $%s is not set: the hub will refuse the agent\n", client.EnvToken)
	}
	a, err := agent.New(*hubURL, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard agent: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *once {
		for ctx.Err() == nil {
			handled, err := a.Once(ctx)
			if err != nil {
				fmt.Fprintf(stderr, "cgoguard agent: %v\n", err)
				return 1
			}
			if handled {
				return 0
			}
		}
		return 0
	}
	fmt.Fprintf(stderr, "cgoguard agent: polling %s\n", *hubURL)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "cgoguard agent: %v\n", err)
		return 1
	}
	return 0
}
