package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/dynonode/dynonode/actors/config"
)

// adminHandler is the admin port's handler: the admin server, plus Go's
// profiler under /debug/pprof/ when --pprof is given. It is off by default
// because profiles expose internals and cost CPU while they run.
func adminHandler(adm http.Handler, withPprof bool) http.Handler {
	if !withPprof {
		return adm
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", adm)
	return mux
}

// checkDebugExposure refuses --pprof and --fault-injection on a
// stats_listen other machines can reach (not a loopback address, not a
// unix socket), unless --remote-debug says so: profiles expose the
// process's internals and the fault endpoints change its clock.
func checkDebugExposure(stats config.Addr, opts Options) error {
	if !opts.Pprof && !opts.FaultInjection || opts.RemoteDebug || stats.Network() == "unix" {
		return nil
	}
	if ip := net.ParseIP(stats.Host); ip != nil && ip.IsLoopback() || stats.Host == "localhost" {
		return nil
	}
	var which []string
	if opts.Pprof {
		which = append(which, "--pprof")
	}
	if opts.FaultInjection {
		which = append(which, "--fault-injection")
	}
	return fmt.Errorf("%s on stats_listen %s, which is not a loopback address: bind stats_listen to 127.0.0.1, or add --remote-debug to expose them on purpose",
		strings.Join(which, " and "), stats)
}
