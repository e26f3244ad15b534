// Package client uploads checklist runs to a cgoguard hub: the code behind
// `cgoguard check --report-to URL` and `cgoguard hub push`, for any
// program that produces a run (a chaos experiment runner uploads one check
// per experiment the same way).
//
// An upload carries a client-generated id, so sending it again is safe: the
// hub stores a run once and answers a retry with status "duplicate". Send
// retries with backoff while the hub is unreachable or overloaded. Deliver
// also keeps a run that could not be sent in a spool directory, from which
// the next Deliver, Flush or `cgoguard hub push` sends it: an acknowledged
// run is stored by the hub, an unacknowledged one stays on disk. Each
// hub's spool directory records the hub's URL (SpoolHubFile), so SpoolHub
// and SpooledHubs tell where spooled runs go without being told.
//
// Example:
//
//	c, err := client.New("http://hub.internal:8420",
//		client.WithToken(os.Getenv(client.EnvToken)),
//		client.WithSpool(client.DefaultSpoolDir()))
//	if err != nil {
//		log.Fatal(err)
//	}
//	ctx := client.DetectContext(os.Getenv) // GitHub Actions, GitLab CI, Jenkins
//	up, err := client.FromResult(res, ctx)  // res is a *checklist.Result
//	if err != nil {
//		log.Fatal(err)
//	}
//	c.Flush(context.Background()) // older runs first
//	if rc, err := c.Deliver(context.Background(), up); err != nil {
//		log.Print(err) // errors.Is(err, client.ErrSpooled): kept for later
//	} else {
//		log.Printf("stored at %s%s", c.URL(), rc.URL)
//	}
//
// Concurrency: a Client is safe for concurrent use. Two processes flushing
// one spool at once may both send a run; the hub stores it once.
package client
