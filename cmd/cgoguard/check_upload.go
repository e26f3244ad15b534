package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/client"
)

// uploadFlags are the flags of `cgoguard check` that send the run to a hub.
type uploadFlags struct {
	reportTo, repo, branch, commit string
	// fromHub is --from-hub, registered with these flags.
	fromHub *fromHubFlag
}

func addUploadFlags(fs *flag.FlagSet) *uploadFlags {
	u := &uploadFlags{}
	fs.StringVar(&u.reportTo, "report-to", "", "upload the run's JSON result to the cgoguard hub at `URL` (token from $"+client.EnvToken+")")
	fs.StringVar(&u.repo, "repo", "", "`repository` recorded with an upload (default: from CI variables or git)")
	fs.StringVar(&u.branch, "branch", "", "`branch` recorded with an upload (default: from CI variables or git)")
	fs.StringVar(&u.commit, "commit", "", "`commit` recorded with an upload (default: from CI variables or git)")
	u.fromHub = addFromHubFlag(fs)
	return u
}

// validate checks the flags before the run starts.
func (u *uploadFlags) validate() error {
	if err := u.fromHub.validate(); err != nil {
		return err
	}
	if u.reportTo == "" {
		if u.repo != "" || u.branch != "" || u.commit != "" {
			return fmt.Errorf("--repo, --branch and --commit need --report-to")
		}
		return nil
	}
	_, err := client.New(u.reportTo)
	return err
}

// send uploads res; it never changes the exit code: a failure is reported
// on stderr and the run is kept in the spool for the next upload.
func (u *uploadFlags) send(res *checklist.Result, stderr io.Writer) {
	if u.reportTo == "" || res == nil {
		return
	}
	up, err := client.FromResult(res, runContext(u.repo, u.branch, u.commit))
	if err != nil {
		fmt.Fprintf(stderr, "cgoguard check: upload: %v\n", err)
		return
	}
	pushOne(u.reportTo, up, stderr, "cgoguard check")
}

// pushOne sends the spooled runs, then up; what cannot be sent is spooled.
func pushOne(url string, up *hub.Upload, stderr io.Writer, prog string) bool {
	c, err := hubClient(url, stderr, prog)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if !flush(ctx, c, stderr, prog) {
		// The hub is unreachable or refuses the token: do not wait for it
		// a second time, keep this run with the others.
		if path, err := c.Spool(up); err != nil {
			fmt.Fprintf(stderr, "%s: the run could not be kept in the spool either: %v\n", prog, err)
		} else {
			fmt.Fprintf(stderr, "%s: run %s kept in %s; it is sent by the next check --report-to or cgoguard hub push\n", prog, up.ID, path)
		}
		return false
	}
	rc, err := c.Deliver(ctx, up)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return false
	}
	fmt.Fprintf(stderr, "%s: run %s %s: %s%s\n", prog, rc.ID, map[string]string{"created": "stored", "duplicate": "was already stored"}[rc.Status], c.URL(), rc.URL)
	return true
}

func hubClient(url string, stderr io.Writer, prog string) (*client.Client, error) {
	tok := os.Getenv(client.EnvToken)
	if tok == "" {
		fmt.Fprintf(stderr, "%s: $%s is not set: the hub will refuse the upload\n", prog, client.EnvToken)
	}
	return client.New(url, client.WithToken(tok), client.WithSpool(client.DefaultSpoolDir()),
		client.WithLog(func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }))
}

// flush sends the spooled runs and reports false when the hub could not be
// reached (or refused the token), so the caller does not wait again.
func flush(ctx context.Context, c *client.Client, stderr io.Writer, prog string) bool {
	res, err := c.Flush(ctx)
	if len(res.Sent) > 0 {
		fmt.Fprintf(stderr, "%s: sent %d spooled run(s)\n", prog, len(res.Sent))
	}
	for _, r := range res.Rejected {
		fmt.Fprintf(stderr, "%s: the hub refused a spooled run; it is kept in %s\n", prog, r)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (%d run(s) still in %s)\n", prog, err, res.Left, c.SpoolDir())
		return false
	}
	return true
}

// runContext says where the run happened: flags first, then the CI's
// variables, then the git checkout in the working directory, and the host.
func runContext(repo, branch, commit string) hub.Context {
	c := client.DetectContext(os.Getenv)
	for _, f := range []struct {
		dst *string
		v   string
	}{{&c.Repo, repo}, {&c.Branch, branch}, {&c.Commit, commit}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	client.FillFromGit(context.Background(), &c, ".")
	if h, err := os.Hostname(); err == nil {
		c.Host = h
	}
	return c
}
