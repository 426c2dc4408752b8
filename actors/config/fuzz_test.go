package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts round-trips through
// Format.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../conf/*.yml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("dyn_o_mite:\n  listen: 127.0.0.1:8102\n  tokens: '1,2'\n"))
	f.Add([]byte("dyn_o_mite:\n  listen: '[::1]:1'\n  dyn_listen: h:2\n  tokens: 0\n  dyn_seeds:\n  - h2:3:r:d:0 n\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Add([]byte("%YAML 1.1\n---\na: 1\n...\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			return
		}
		roundTrip(t, cfg)
	})
}
