package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dynonode/dynonode/transport"
)

// faultHandler is the admin port's handler plus, with --fault-injection,
// the fault endpoints the Jepsen harness drives:
//
//	GET /fault/clock_offset/<ms>  shift the wall clock the node's actors see
//	                              by ms (negative: behind); 0 undoes it
//	GET /fault/clock_offset       the current shift in ms
//
// Without the flag the paths fall through to the admin server (404).
func faultHandler(adm http.Handler, node *transport.Node, enabled bool) http.Handler {
	if !enabled {
		return adm
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/fault/clock_offset", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", node.ClockOffset().Milliseconds())
	})
	mux.HandleFunc("/fault/clock_offset/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "dynonode: "+r.Method+" not allowed, use GET", http.StatusMethodNotAllowed)
			return
		}
		arg := strings.TrimPrefix(r.URL.Path, "/fault/clock_offset/")
		ms, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || ms < -int64(24*time.Hour/time.Millisecond) || ms > int64(24*time.Hour/time.Millisecond) {
			http.Error(w, fmt.Sprintf("dynonode: clock offset %q is not milliseconds within ±1 day", arg), http.StatusBadRequest)
			return
		}
		node.SetClockOffset(time.Duration(ms) * time.Millisecond)
		fmt.Fprintln(w, "OK")
	})
	mux.Handle("/", adm)
	return mux
}
