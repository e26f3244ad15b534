// Package pkg is a fixture for the gotest and leak check kinds.
package pkg

// Add adds.
func Add(a, b int) int { return a + b }
