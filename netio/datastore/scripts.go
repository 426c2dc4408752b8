package datastore

import (
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/dynonode/dynonode/actors/resp"
)

// The Lua scripts of versions on Redis (lua/*.lua): each is the prelude
// (lua/prelude.lua: the companion names, version order, tombstones)
// followed by its body, except lua/set.lua, the plain SET's, which stands
// alone to be cheap. Their SHA1s are computed once, when the package
// loads; a connection loads them (SCRIPT LOAD) as it connects, and a
// request answered NOSCRIPT (SCRIPT FLUSH, a restarted server) is sent
// again once as EVAL with the whole body, which loads it again.
//
//go:embed lua/*.lua
var luaFS embed.FS

type script struct {
	name string
	body string
	sha  string
}

var (
	// scriptApply runs whole-value writes and deletes if newer.
	scriptApply = newScript("apply")
	// scriptBump runs read-modify-write and multi-key writes and leaves
	// the newer version.
	scriptBump = newScript("bump")
	// scriptAdmin answers DBSIZE and RANDOMKEY without the companions,
	// anti-entropy's DYNO.KEYS, DYNO.VERSIONS and DYNO.MARK, and purges
	// the companions.
	scriptAdmin = newScript("admin")
	// scriptSet runs a plain SET key value if newer (apply's rules, in
	// fewer calls).
	scriptSet = newScript("set")

	allScripts = []*script{scriptApply, scriptBump, scriptAdmin, scriptSet}
)

func newScript(name string) *script {
	body, err := luaFS.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	s := &script{name: name, body: string(body)}
	if name != "set" {
		prelude, err := luaFS.ReadFile("lua/prelude.lua")
		if err != nil {
			panic(err)
		}
		s.body = string(prelude) + "\n" + s.body
	}
	s.sha = newScriptSHA(s.body)
	return s
}

func newScriptSHA(body string) string {
	sum := sha1.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// loadScripts loads every script on a fresh connection, before it serves
// requests. An error reply (scripting disabled) is logged by the caller
// and the connection serves anyway: versioned requests then answer that
// error; an I/O error ends the connection.
func loadScripts(nc net.Conn, timeout time.Duration) (replyErr, ioErr error) {
	var out []byte
	for _, s := range allScripts {
		out = resp.AppendCommand(out, [][]byte{[]byte("SCRIPT"), []byte("LOAD"), []byte(s.body)})
	}
	replies, err := exchange(nc, out, len(allScripts), timeout)
	if err != nil {
		return nil, fmt.Errorf("SCRIPT LOAD: %w", err)
	}
	for i, r := range replies {
		if r[0] == '-' {
			replyErr = errors.Join(replyErr, fmt.Errorf("SCRIPT LOAD %s: %s", allScripts[i].name, r[1:len(r)-2]))
		} else if want := resp.AppendBulkString(nil, allScripts[i].sha); string(r) != string(want) {
			replyErr = errors.Join(replyErr, fmt.Errorf("SCRIPT LOAD %s: unexpected reply %q", allScripts[i].name, r))
		}
	}
	return replyErr, nil
}

// exchange writes out on a fresh connection and reads n replies to it,
// within timeout.
func exchange(nc net.Conn, out []byte, n int, timeout time.Duration) ([][]byte, error) {
	_ = nc.SetDeadline(time.Now().Add(timeout))
	defer func() { _ = nc.SetDeadline(time.Time{}) }()
	if _, err := nc.Write(out); err != nil {
		return nil, err
	}
	var replies [][]byte
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for len(replies) < n {
		m, err := resp.ReplyLen(buf)
		if err == nil {
			replies = append(replies, buf[:m:m])
			buf = buf[m:]
			continue
		}
		if !errors.Is(err, resp.ErrIncomplete) {
			return nil, err
		}
		k, err := nc.Read(tmp)
		if err != nil {
			return nil, err
		}
		buf = append(buf, tmp[:k]...)
	}
	return replies, nil
}

// authenticate sends AUTH [username] password on a fresh connection
// (Options.Password). A refusal is an error naming the reply, never the
// password.
func authenticate(nc net.Conn, username, password string, timeout time.Duration) error {
	cmd := [][]byte{[]byte("AUTH"), []byte(password)}
	if username != "" {
		cmd = [][]byte{[]byte("AUTH"), []byte(username), []byte(password)}
	}
	replies, err := exchange(nc, resp.AppendCommand(nil, cmd), 1, timeout)
	if err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	if r := replies[0]; r[0] == '-' {
		return fmt.Errorf("%w: %s", errAuthRefused, r[1:len(r)-2])
	}
	return nil
}

// errAuthRefused: the datastore refused the node's AUTH.
var errAuthRefused = errors.New("datastore refused AUTH")
