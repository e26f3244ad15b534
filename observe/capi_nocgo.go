//go:build !cgo

package observe

func cSnapshot(module string) (map[string]string, bool) { return nil, false }
func cSnapshotModules() []string                        { return nil }
func setCStatusPath(path string)                        {}
func cReadStatus(path string) (*Status, error)          { return nil, ErrNotSupported }

const cStatusSize = statusSize
