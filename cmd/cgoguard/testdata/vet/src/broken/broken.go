// Package broken does not type-check.
package broken

import "C"

func Broken() int { return "not an int" }
