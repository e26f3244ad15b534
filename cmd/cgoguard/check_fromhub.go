package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub/client"
)

// fromHubFlag is `cgoguard check --from-hub URL/NAME[@VERSION]`: the
// checklist that runs is a reviewed version kept by a hub, fetched at run
// time (cached with its ETag; the cached copy runs when the hub is
// unreachable, and the report says so).
type fromHubFlag struct {
	ref   string
	files flag.Value // the -f flag, which --from-hub replaces
}

func addFromHubFlag(fs *flag.FlagSet) *fromHubFlag {
	f := &fromHubFlag{}
	fs.StringVar(&f.ref, "from-hub", "", "run the active (or @VERSION) reviewed checklist `URL/NAME[@VERSION]` kept by a cgoguard hub (token from $"+client.EnvToken+")")
	if fl := fs.Lookup("f"); fl != nil {
		f.files = fl.Value
	}
	return f
}

func (f *fromHubFlag) validate() error {
	if f.ref == "" {
		return nil
	}
	if f.files != nil && f.files.String() != "" {
		return fmt.Errorf("--from-hub and -f cannot be combined: the hub's checklist replaces the files")
	}
	_, err := client.ParseChecklistRef(f.ref)
	return err
}

// load returns the checklist to run when no -f is given: the hub's
// version with --from-hub, else the default (the shipped one).
func (f *fromHubFlag) load(defName string, def []byte, opts checklist.LoadOptions, stderr io.Writer) (*checklist.Checklist, error) {
	if f.ref == "" {
		return checklist.Parse(defName, def, opts)
	}
	ref, err := client.ParseChecklistRef(f.ref)
	if err != nil {
		return nil, err
	}
	c, err := client.New(ref.Hub, client.WithToken(os.Getenv(client.EnvToken)),
		client.WithLog(func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fetched, err := c.FetchChecklist(ctx, ref.Name, ref.Version)
	if err != nil {
		return nil, err
	}
	if fetched.Source.Cached {
		fmt.Fprintf(stderr, "cgoguard check: WARNING: the hub is unreachable; running the CACHED copy of %s@%d fetched %s\n",
			fetched.Document.Name, fetched.Document.Version, fetched.Source.Fetched.Format(time.RFC3339))
	} else {
		fmt.Fprintf(stderr, "cgoguard check: running %s@%d from %s (approved by %s)\n", fetched.Document.Name, fetched.Document.Version,
			ref.Hub, fetched.Document.Approver)
	}
	return fetched.Load(opts)
}
