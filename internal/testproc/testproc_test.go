package testproc

import (
	"bufio"
	"net"
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
