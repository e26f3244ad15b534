// Package agent runs the hub's run requests: the `/checklist run` comments
// on pull and merge requests that the hub queued from forge webhooks. It
// is the code behind `cgoguard agent --hub URL`.
//
// An agent long-polls the hub for a request and leases it; while the
// checks run it renews the lease every third of its lifetime. It checks
// the request's head commit out in a workspace (a shared clone of a
// configured local clone, fetching the pull or merge request's ref when
// the commit is missing), fetches the checklist version that was active
// when it took the lease (cached with its ETag; hub waivers applied),
// runs the requested checks and the checks they depend on, and completes
// the request with the run. The hub stores the run and completes the
// request in one transaction and posts the summary comment on the forge.
//
// An agent that dies stops renewing: its lease expires and the hub hands
// the request to another agent. A request is completed once, by the
// holder of its current lease; an agent that lost its lease (paused past
// the expiry) learns it at its next renewal, stops, and drops its result.
//
// Example:
//
//	a, err := agent.New("https://hub.example",
//		agent.WithToken(os.Getenv("CGOGUARD_HUB_TOKEN")), // a runner token
//		agent.WithClone("", "/srv/clones/service"),       // origin: the forge
//		agent.WithLog(log.Printf))
//	if err != nil {
//		log.Fatal(err)
//	}
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	log.Fatal(a.Run(ctx))
//
// Concurrency: an Agent is safe for concurrent use and runs one request
// at a time; run several agent processes (on one or many machines) for
// more.
package agent
