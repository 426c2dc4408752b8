package main

import (
	"net/http"
	"net/http/pprof"
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
