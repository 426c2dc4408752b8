package coord

import (
	"strings"

	"github.com/dynonode/dynonode/actors/acl"
	"github.com/dynonode/dynonode/actors/resp"
)

// Client authentication and ACL users (the requirepass and aclfile config
// keys, actors/acl), as Redis 7.0 does it: a connection starts as the
// default user when that user is on and needs no password, else it must
// authenticate, and until then every command but AUTH, HELLO and QUIT is
// answered -NOAUTH (after the unknown-command and arity checks, as Redis
// orders them); AUTH [user] <password> and HELLO <2|3> AUTH <user>
// <password> authenticate; a wrong pair is -WRONGPASS and leaves the
// connection as it was (an authenticated one stays so). A user may run
// only its commands on keys matching its patterns: -NOPERM otherwise,
// checked before routing. Every reply is byte for byte Redis's
// (TestAuthLikeRedis and TestACLLikeRedis compare them with a real
// redis-server's configured alike).

const (
	noAuthErr      = "NOAUTH Authentication required."
	wrongPassErr   = "WRONGPASS invalid username-password pair or user is disabled."
	noPasswordErr  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	helloNoAuthErr = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
)

// noAuth reports whether a client that has not authenticated may run the
// command (Redis's CMD_NO_AUTH).
func noAuth(name string) bool { return name == "auth" || name == "hello" || name == "quit" }

// auth answers AUTH [username] password.
func (c *Redis) auth(args [][]byte) []byte {
	switch len(args) {
	case 2:
		if c.cfg.Users == nil || c.cfg.Users.DefaultNoPass() {
			return errReply(noPasswordErr)
		}
		return c.authenticate([]byte(acl.DefaultUser), args[1])
	case 3:
		return c.authenticate(args[1], args[2])
	}
	return errReply("ERR syntax error")
}

// authenticate logs the connection in as user with pass; a wrong pair
// leaves it as it was. Without Config.Users there is only Redis's default
// user, which takes any password (nopass).
func (c *Redis) authenticate(user, pass []byte) []byte {
	if c.cfg.Users == nil {
		if string(user) != acl.DefaultUser {
			return errReply(wrongPassErr)
		}
		return okReply
	}
	u := c.cfg.Users.Authenticate(user, pass)
	if u == nil {
		return errReply(wrongPassErr)
	}
	c.setUser(u)
	return okReply
}

// setUser makes u the connection's user (nil: not authenticated).
func (c *Redis) setUser(u *acl.User) {
	c.user, c.restricted = u, u != nil && !u.Unrestricted()
}

// aclCommand answers ACL WHOAMI, ACL LIST and ACL USERS; the users are
// read from aclfile at start, so the commands that change them are
// refused.
func (c *Redis) aclCommand(args [][]byte) []byte {
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "whoami", "list", "users":
		if len(args) != 2 {
			return errReply("ERR wrong number of arguments for 'acl|" + sub + "' command")
		}
	default:
		return errReply("ERR dynonode: 'ACL " + strings.ToUpper(sub) + "' is not supported: the users are read from aclfile (or requirepass) at start")
	}
	users := c.cfg.Users
	if users == nil {
		users = acl.Open()
	}
	switch sub {
	case "whoami":
		name := acl.DefaultUser
		if c.user != nil {
			name = c.user.Name
		}
		return resp.AppendBulkString(nil, name)
	case "users":
		out := resp.AppendArrayHeader(nil, len(users.Names()))
		for _, n := range users.Names() {
			out = resp.AppendBulkString(out, n)
		}
		return out
	}
	out := resp.AppendArrayHeader(nil, len(users.Names()))
	for _, n := range users.Names() {
		out = resp.AppendBulkString(out, users.Find(n).Describe())
	}
	return out
}

var okReply = []byte("+OK\r\n")

// hello checks HELLO [protover [AUTH username password] [SETNAME
// clientname]] as Redis 7.0 does, authenticating at each AUTH option as it
// comes (a later error leaves an earlier AUTH done); it returns the error
// to answer, or nil to answer the HELLO map. Only RESP2 is spoken: HELLO 3
// is refused (-NOPROTO) once its options are applied.
func (c *Redis) hello(args [][]byte) []byte {
	ver := int64(2)
	if len(args) >= 2 {
		v, ok := resp.ParseInt(args[1])
		if !ok {
			return errReply("ERR Protocol version is not an integer or out of range")
		}
		if v < 2 || v > 3 {
			return errReply("NOPROTO unsupported protocol version")
		}
		ver = v
	}
	var name []byte
	for j := 2; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := string(args[j]); {
		case strings.EqualFold(opt, "auth") && more >= 2:
			if reply := c.authenticate(args[j+1], args[j+2]); reply[0] == '-' {
				return reply
			}
			j += 2
		case strings.EqualFold(opt, "setname") && more >= 1:
			name = args[j+1]
			j++
		default:
			return errReply("ERR Syntax error in HELLO option '" + opt + "'")
		}
	}
	if c.cfg.Users != nil && c.user == nil {
		return errReply(helloNoAuthErr)
	}
	if name != nil {
		if !validName(name) {
			return errReply(badClientName)
		}
		c.name = string(name)
	}
	if ver == 3 {
		return errReply("NOPROTO sorry, this protocol version is not supported")
	}
	return nil
}
