// Package sock holds what the edges share about sockets: a write that
// never waits, for code the runtime may run on a goroutine that serves
// many connections (see transport's inline delivery).
package sock
