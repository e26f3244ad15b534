package probe

// withPerfLinks makes Open attach one perf-event link per probe, the path
// of kernels before 6.6, where uprobe_multi links exist too.
func withPerfLinks() Option {
	return func(c *config) error {
		c.perfLinks = true
		return nil
	}
}
