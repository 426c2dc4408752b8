// Package jepsen will hold the Jepsen-style harness that checks a real
// dynonode cluster in docker-compose: images built FROM scratch, nemeses
// driven from the host, workloads, histories and the same checkers the
// simulator uses. It must only ever send traffic to the containers it made
// and to loopback.
package jepsen
