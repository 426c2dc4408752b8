package datastore

import (
	"errors"
	"fmt"

	"github.com/dynonode/dynonode/actors/mcproto"
	"github.com/dynonode/dynonode/actors/resp"
)

// requestCheck validates Exec.Args for one protocol and returns what the
// reader needs to frame the reply: the memcached request kind (zero for
// Redis). It is used only by the actor, one request at a time.
type requestCheck struct {
	proto Protocol
	mc    *mcproto.Parser
}

func newRequestCheck(p Protocol) *requestCheck {
	rc := &requestCheck{proto: p}
	if p == Memcached {
		// memcached itself decides what is too large: forward what parses.
		rc.mc = mcproto.NewParser(mcproto.Limits{MaxItemSize: 1<<31 - 1})
	}
	return rc
}

func (rc *requestCheck) check(args [][]byte) (mcproto.Kind, error) {
	if rc.proto == Redis {
		if len(args) == 0 {
			return 0, errors.New("empty command")
		}
		return 0, nil
	}
	if len(args) != 1 {
		return 0, fmt.Errorf("a memcached Exec carries one raw request, got %d args", len(args))
	}
	raw := args[0]
	reqs, n, err := rc.mc.Parse(raw)
	rc.mc.Reset()
	// A meta command comes with mn after it (mcproto.MetaSuffix), whose
	// MN ends its reply even when quiet mode suppresses the command's own.
	meta := len(reqs) == 2 && reqs[0].Kind.IsMeta() && reqs[1].Kind == mcproto.KindMetaNoop
	switch {
	case err != nil:
		return 0, fmt.Errorf("memcached request: %w", err)
	case n != len(raw) || (len(reqs) != 1 || reqs[0].Kind.IsMeta()) && !meta:
		return 0, fmt.Errorf("memcached request: want exactly one complete request (a meta command and mn), got %d in %d of %d bytes", len(reqs), n, len(raw))
	}
	r := reqs[0]
	switch {
	case r.Kind == mcproto.KindError:
		return 0, fmt.Errorf("memcached request answered in-band with %q: %s", r.Err.Reply, r.Err.Detail)
	case r.NoReply:
		return 0, fmt.Errorf("memcached %s with noreply: the front end must strip it", r.Kind)
	case r.Kind == mcproto.KindQuit:
		return 0, errors.New("memcached quit has no reply")
	case r.Kind == mcproto.KindMetaNoop:
		return 0, errors.New("memcached mn is answered by the front end")
	}
	return r.Kind, nil
}

// encode appends one validated request in the datastore's protocol.
func encode(p Protocol, dst []byte, args [][]byte) []byte {
	if p == Redis {
		return resp.AppendCommand(dst, args)
	}
	return append(dst, args[0]...)
}

// framer finds the end of one complete reply at the start of buf, which
// answers a request of kind. Incomplete replies return errIncomplete.
type framer interface {
	frame(kind mcproto.Kind, buf []byte) (int, error)
}

var errIncomplete = errors.New("incomplete reply")

// redisFramer resumes a partly scanned reply, so a large array or bulk
// arriving in many reads is not walked again from its start.
type redisFramer struct{ s resp.ReplyScanner }

func (f *redisFramer) frame(_ mcproto.Kind, buf []byte) (int, error) {
	n, err := f.s.Scan(buf)
	if err == resp.ErrIncomplete {
		return 0, errIncomplete
	}
	return n, err
}

type memcachedFramer struct{}

func (memcachedFramer) frame(kind mcproto.Kind, buf []byte) (int, error) {
	n, err := mcproto.ResponseLen(kind, buf)
	if err == mcproto.ErrIncomplete {
		return 0, errIncomplete
	}
	return n, err
}

func newFramer(p Protocol) framer {
	if p == Redis {
		return &redisFramer{}
	}
	return memcachedFramer{}
}
