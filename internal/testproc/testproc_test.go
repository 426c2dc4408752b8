package testproc

import (
	"bufio"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func roundTrip(t *testing.T, addr, req string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(3*time.Second)))
	_, err = c.Write([]byte(req))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
}

func TestRedisAndMemcachedStartAndDie(t *testing.T) {
	r := Redis(t)
	require.Equal(t, "+PONG\r\n", roundTrip(t, r.Addr, "PING\r\n"))
	m := Memcached(t)
	require.Contains(t, roundTrip(t, m.Addr, "version\r\n"), "VERSION ")
	r.Restart()
	require.Equal(t, "+PONG\r\n", roundTrip(t, r.Addr, "PING\r\n"))
	r.Kill()
	_, err := net.DialTimeout("tcp", r.Addr, 200*time.Millisecond)
	require.Error(t, err, "killed redis still accepts connections")
}

func TestStopWaitsUntilStopped(t *testing.T) {
	r := Redis(t)
	require.NoError(t, r.Stop())
	c, err := net.DialTimeout("tcp", r.Addr, time.Second)
	require.NoError(t, err, "the kernel still accepts for a stopped process")
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(300*time.Millisecond)))
	_, err = c.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	_, err = c.Read(make([]byte, 16))
	require.Error(t, err, "a stopped redis-server must not answer")
	require.NoError(t, r.Signal(syscall.SIGCONT))
}

// TestFreeAddrAvoidsEphemeralPorts: FreeAddr's ports are below the range
// the kernel gives connections their local ports from, bindable, and
// distinct from one call to the next.
func TestFreeAddrAvoidsEphemeralPorts(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		addr := FreeAddr(t, "127.0.0.1")
		require.False(t, seen[addr], "%s twice", addr)
		seen[addr] = true
		require.Less(t, Port(t, addr), ephemeralLow(), addr)
		ln, err := net.Listen("tcp", addr)
		require.NoError(t, err)
		ln.Close()
	}
}
