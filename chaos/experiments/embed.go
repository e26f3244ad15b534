// Package experiments holds the red-blue experiments shipped with
// cgoguard, embedded so the binary carries them.
//
//   - service.yaml: one experiment per fault type (segv, bus, fpe, abort,
//     delay, hang, errno, error, command) against examples/service, with
//     its SLOs as PromQL on a Prometheus server scraping the service.
//
// Example:
//
//	f, err := chaos.ParseFile(experiments.ServiceName, experiments.Service,
//		map[string]string{"SERVICE": "http://127.0.0.1:8080", "PROMETHEUS": "http://127.0.0.1:9090"})
//
// The variables are read-only; they are safe for concurrent use.
package experiments

import _ "embed"

// ServiceName is the path of service.yaml in the repository.
const ServiceName = "chaos/experiments/service.yaml"

// Service is service.yaml.
//
//go:embed service.yaml
var Service []byte
