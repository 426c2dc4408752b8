// Package scenarios holds outage replays: YAML files describing a topology,
// config overrides, a workload, a timeline of faults at virtual times and
// the expectations to check, run by the simulator. It owns the files and
// their format; it must not hold simulator or cluster logic (that is sim/
// and actors/).
package scenarios
