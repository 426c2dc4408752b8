// Package jepsen is the Jepsen-style harness that checks a real dynonode
// cluster in docker-compose (`make jepsen`, see README.md here): images
// built FROM scratch (cluster), nemeses driven from the host (nemesis),
// RESP workloads recording histories (workload), the simulator's set
// checker plus register and counter checkers (checker), and the report
// (report); cmd/jepsen runs it all, cmd/nodeinit is a container's PID 1.
// It must only ever send traffic to the containers it made and to loopback.
package jepsen
