package coord

import (
	"crypto/sha256"
	"crypto/subtle"
	"strconv"
	"strings"
)

// Client authentication (the requirepass config key), as Redis 7.0 does it
// for its default user: before a client authenticates, every command but
// AUTH, HELLO and QUIT is answered -NOAUTH (after the unknown-command and
// arity checks, as Redis orders them); AUTH <password>, AUTH default
// <password> and HELLO <2|3> AUTH default <password> authenticate; a wrong
// password is -WRONGPASS and leaves the connection as it was (an
// authenticated one stays so). Every reply is byte for byte Redis's
// (TestAuthLikeRedis compares them with a real redis-server's).

// Password is a client password, kept as its SHA-256 digest: a Config
// printed or dumped shows no password.
type Password struct{ sum [sha256.Size]byte }

// NewPassword returns the Password for s.
func NewPassword(s string) *Password { return &Password{sum: sha256.Sum256([]byte(s))} }

// matches compares in constant time.
func (p *Password) matches(s []byte) bool {
	sum := sha256.Sum256(s)
	return subtle.ConstantTimeCompare(p.sum[:], sum[:]) == 1
}

const (
	noAuthErr      = "NOAUTH Authentication required."
	wrongPassErr   = "WRONGPASS invalid username-password pair or user is disabled."
	noPasswordErr  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	helloNoAuthErr = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	defaultUser    = "default"
)

// noAuth reports whether a client that has not authenticated may run the
// command (Redis's CMD_NO_AUTH).
func noAuth(name string) bool { return name == "auth" || name == "hello" || name == "quit" }

// auth answers AUTH [username] password.
func (c *Redis) auth(args [][]byte) []byte {
	switch len(args) {
	case 2:
		if c.cfg.Password == nil {
			return errReply(noPasswordErr)
		}
		return c.authenticate([]byte(defaultUser), args[1])
	case 3:
		return c.authenticate(args[1], args[2])
	}
	return errReply("ERR syntax error")
}

// authenticate checks a user and password, as Redis's default user: with
// no password configured it takes any password (nopass).
func (c *Redis) authenticate(user, pass []byte) []byte {
	if string(user) != defaultUser || c.cfg.Password != nil && !c.cfg.Password.matches(pass) {
		return errReply(wrongPassErr)
	}
	c.authed = true
	return okReply
}

var okReply = []byte("+OK\r\n")

// hello checks HELLO [protover [AUTH username password] [SETNAME
// clientname]] as Redis does, authenticating when asked; it returns the
// error to answer, or nil to answer the HELLO map. Only RESP2 is spoken:
// HELLO 3 is refused (-NOPROTO) once its options are checked.
func (c *Redis) hello(args [][]byte) []byte {
	ver := int64(2)
	if len(args) >= 2 {
		v, err := strconv.ParseInt(string(args[1]), 10, 64)
		if err != nil {
			return errReply("ERR Protocol version is not an integer or out of range")
		}
		if v < 2 || v > 3 {
			return errReply("NOPROTO unsupported protocol version")
		}
		ver = v
	}
	var user, pass []byte
	for j := 2; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := string(args[j]); {
		case strings.EqualFold(opt, "auth") && more >= 2:
			user, pass = args[j+1], args[j+2]
			j += 2
		case strings.EqualFold(opt, "setname") && more >= 1:
			j++ // accepted; CLIENT GETNAME is not served
		default:
			return errReply("ERR Syntax error in HELLO option '" + opt + "'")
		}
	}
	if user != nil {
		if reply := c.authenticate(user, pass); reply[0] == '-' {
			return reply
		}
	}
	if c.cfg.Password != nil && !c.authed {
		return errReply(helloNoAuthErr)
	}
	if ver == 3 {
		return errReply("NOPROTO sorry, this protocol version is not supported")
	}
	return nil
}
