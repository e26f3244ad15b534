package observe

import (
	"errors"

	"github.com/cgoguard/cgoguard"
)

var (
	// ErrNilRegisterer is returned by Register given a nil Registerer.
	ErrNilRegisterer = errors.New("cgoguard: observe: nil prometheus Registerer")
	// ErrNotSupported is returned where a feature needs cgo and the program
	// was built without it.
	ErrNotSupported = cgoguard.ErrNotSupported
)
