//go:build !linux

package frontend

import (
	"errors"
	"net"
	"os"
)

// eventLoop exists on Linux only: elsewhere every connection has a read
// loop of its own.
type eventLoop struct{}

const haveLoops = false

type loopOp uint8

const (
	opAdd loopOp = iota
	opClose
	opStopRead
	opStop
)

type loopCmd struct {
	op loopOp
	c  *conn
}

func newLoop(*Listener) (*eventLoop, error) { return nil, errors.New("no event loop here") }

func acceptFile(net.Listener) (*os.File, error) { return nil, errors.New("no event loop here") }

func (*eventLoop) post(loopCmd) {}
func (*eventLoop) queue(*conn)  {}
func (*eventLoop) update(*conn) {}
func (*eventLoop) stop()        {}
func (l *Listener) acceptLoop() { l.acceptConns() }
func closeFD(int)               {}
func localAddr(int) string      { return "" }
func writeFD(int, []byte)       {}
