package transport

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/dynonode/dynonode/actors"
	"github.com/dynonode/dynonode/actors/store"
	"github.com/dynonode/dynonode/internal/testcert"
	"github.com/dynonode/dynonode/netio/tlsconf"
	"github.com/stretchr/testify/require"
)

// startTLSNode starts a node whose every peer link is mutual TLS with the
// given identity.
func startTLSNode(t *testing.T, id actors.NodeID, f tlsconf.Files) *Node {
	t.Helper()
	s, err := tlsconf.Load(f)
	require.NoError(t, err)
	n, err := Start(Options{ID: id, PeerListen: "127.0.0.1:0", Seed: 1, Log: quietLog(), TLS: &PeerTLS{
		Server:  s.ServerConfig(tls.VersionTLS13),
		Client:  func() *tls.Config { return s.ClientConfig(tls.VersionTLS13) },
		Encrypt: func(actors.NodeID) bool { return true },
	}})
	require.NoError(t, err)
	t.Cleanup(func() { n.Close(5 * time.Second) })
	return n
}

// TestTLSRefusedLinkBounces: a node whose certificate the peer's CA did
// not sign cannot open a link (the peer refuses it after the handshake,
// and the dialler waits for the peer's acceptance), so its requests bounce
// as failures at once rather than vanish into a link that looked
// connected; a node with a good certificate is delivered to.
func TestTLSRefusedLinkBounces(t *testing.T) {
	ca, rogue := testcert.NewCA(t, "cluster"), testcert.NewCA(t, "rogue")
	good, bad, other := ca.Issue(t, "b", "127.0.0.1"), rogue.Issue(t, "a", "127.0.0.1"), ca.Issue(t, "c", "127.0.0.1")
	b := startTLSNode(t, "b", tlsconf.Files{Cert: good.Cert, Key: good.Key, CA: ca.Cert})
	inbox := spawnRecorder(t, b, "store")
	next(t, inbox, isType[actors.Started])

	a := startTLSNode(t, "a", tlsconf.Files{Cert: bad.Cert, Key: bad.Key, CA: ca.Cert}) // trusts b; b does not trust it
	a.AddPeer("b", b.PeerAddr(), 1)
	ch := spawnRecorder(t, a, "coord")
	next(t, ch, isType[actors.Started])
	a.Send(actors.Addr{Node: "a", Name: "coord"}, actors.Addr{Node: "b", Name: "store"}, store.Exec{ID: 42, Args: [][]byte{[]byte("get"), []byte("k")}})
	r := next(t, ch, isType[store.Result]).m.(store.Result)
	require.Equal(t, uint64(42), r.ID)
	require.Equal(t, store.KindPeer, r.Kind, "bounced: %s", r.Failure)
	require.Eventually(t, func() bool { return b.Stats().Refused >= 1 }, 5*time.Second, 20*time.Millisecond)
	require.Zero(t, a.Stats().Sent, "nothing was written to a refused link")

	c := startTLSNode(t, "c", tlsconf.Files{Cert: other.Cert, Key: other.Key, CA: ca.Cert})
	c.AddPeer("b", b.PeerAddr(), 1)
	c.Send(actors.Addr{Node: "c", Name: "coord"}, actors.Addr{Node: "b", Name: "store"}, store.Exec{ID: 7, Quiet: true})
	require.Equal(t, uint64(7), next(t, inbox, isType[store.Exec]).m.(store.Exec).ID)
}
