package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/dynonode/dynonode/actors/config"
)

// serve runs the node until ctx is cancelled. For now it only binds the
// listeners (so a taken port fails the start with a clear error) and closes
// every connection: the protocol front ends are not wired yet.
func serve(ctx context.Context, cfg *config.Config, opts Options, log *slog.Logger) error {
	endpoints := []struct {
		key  string
		addr config.Addr
	}{{"listen", cfg.Listen}, {"dyn_listen", cfg.DynListen}, {"stats_listen", cfg.StatsListen}}
	var lc net.ListenConfig
	var listeners []net.Listener
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}()
	var names []string
	for _, ep := range endpoints {
		if ep.addr.IsZero() {
			continue
		}
		ln, err := lc.Listen(ctx, ep.addr.Network(), ep.addr.String())
		if err != nil {
			return fmt.Errorf("cannot bind %s %s: %w", ep.key, ep.addr, err)
		}
		listeners = append(listeners, ln)
		names = append(names, ep.key)
		log.Info("listening", "key", ep.key, "addr", ln.Addr().String())
	}
	log.Info("dynonode is up", "pool", cfg.Pool, "dc", cfg.Datacenter, "rack", cfg.Rack,
		"admin_operation", opts.AdminOperation)

	var wg sync.WaitGroup
	for i, ln := range listeners {
		wg.Go(func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					if !errors.Is(err, net.ErrClosed) {
						log.Error("accept failed", "key", names[i], "err", err)
					}
					return
				}
				log.Warn("closing connection: protocol front end not wired yet", "key", names[i], "remote", conn.RemoteAddr().String())
				_ = conn.Close()
			}
		})
	}
	<-ctx.Done()
	for _, ln := range listeners {
		_ = ln.Close()
	}
	wg.Wait()
	return nil
}
