package chaos

import "github.com/cgoguard/cgoguard"

// Hook returns the hook the package installs, for benchmarks that remove
// and reinstall it.
func Hook() cgoguard.ChaosHook { return hook{} }
