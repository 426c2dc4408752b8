// Package acl holds the users Redis clients authenticate as and what each
// may run, read from a file in Redis's ACL file syntax (the aclfile config
// key) or made from requirepass. It is pure: the daemon reads the file,
// Parse reads its bytes, and the coordinator asks a User whether a command
// may run.
//
// Supported rules, applied in order as Redis applies them: on, off,
// nopass, resetpass, >password, <password, #sha256, !sha256, ~pattern,
// allkeys, resetkeys, &pattern, allchannels, resetchannels (checked for
// SUBSCRIBE, PUBLISH and PSUBSCRIBE as Redis 7.0 checks them; a user
// without channel rules has no channel, as with Redis 7.0's default
// acl-pubsub-default), +command, -command,
// +command|subcommand, -command|subcommand, +@category, -@category,
// allcommands, nocommands, reset, sanitize-payload, skip-sanitize-payload.
// Selectors ("(...)") and read/write key permissions (%R~, %W~) are
// refused with an error naming the line.
package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dynonode/dynonode/actors/command"
)

// DefaultUser is the user a connection is before AUTH.
const DefaultUser = "default"

// Users is a node's users.
type Users struct {
	users map[string]*User
	names []string // sorted
}

// User is one user: whether it is on, its passwords (SHA-256), the key
// patterns it may touch and the commands it may run.
type User struct {
	Name      string
	On        bool
	NoPass    bool
	passwords [][sha256.Size]byte
	allKeys   bool
	patterns  []string
	allChans  bool
	chans     []string
	// allowed is, per command and "command|subcommand" of the table, whether
	// the user may run it; others: commands Redis 7.0 does not know, allowed
	// by +@all only.
	allowed map[string]bool
	others  bool
	rules   []string // the command rules, in order (ACL LIST)
	// unrestricted: every command on every key (settle).
	unrestricted bool
}

// Open is the users of a node without passwords: default, on, nopass, every
// key and command (Redis's default).
func Open() *Users {
	u := newUser(DefaultUser)
	must(u.apply("on"), u.apply("nopass"), u.apply("~*"), u.apply("&*"), u.apply("+@all"))
	return single(u)
}

// FromRequirePass is requirepass's users: default, on, with that password,
// every key and command.
func FromRequirePass(pass string) *Users {
	u := newUser(DefaultUser)
	must(u.apply("on"), u.apply(">"+pass), u.apply("~*"), u.apply("&*"), u.apply("+@all"))
	return single(u)
}

func must(errs ...error) {
	if err := errors.Join(errs...); err != nil {
		panic(err)
	}
}

func single(u *User) *Users {
	u.settle()
	return &Users{users: map[string]*User{u.Name: u}, names: []string{u.Name}}
}

// Parse reads an ACL file: one "user <name> <rule>..." per line (blank
// lines and lines starting with # are skipped). A user the file does not
// name "default" is added as Redis does: on, nopass, every key and
// command. Errors name the line and never repeat a password.
func Parse(data []byte) (*Users, error) {
	us := &Users{users: map[string]*User{}}
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if f[0] != "user" || len(f) < 2 {
			errs = append(errs, fmt.Errorf("aclfile line %d: a line is \"user <name> <rule>...\"", i+1))
			continue
		}
		name := f[1]
		if _, dup := us.users[name]; dup {
			errs = append(errs, fmt.Errorf("aclfile line %d: user %q is defined twice", i+1, name))
			continue
		}
		u := newUser(name)
		for _, r := range f[2:] {
			if err := u.apply(r); err != nil {
				errs = append(errs, fmt.Errorf("aclfile line %d: user %q: %w", i+1, name, err))
			}
		}
		u.settle()
		us.users[name] = u
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if _, ok := us.users[DefaultUser]; !ok {
		us.users[DefaultUser] = Open().users[DefaultUser]
	}
	for n := range us.users {
		us.names = append(us.names, n)
	}
	slices.Sort(us.names)
	return us, nil
}

func newUser(name string) *User {
	return &User{Name: name, allowed: map[string]bool{}}
}

// apply applies one rule.
func (u *User) apply(r string) error {
	low := strings.ToLower(r)
	switch low {
	case "on":
		u.On = true
	case "off":
		u.On = false
	case "nopass":
		u.NoPass, u.passwords = true, nil
	case "resetpass":
		u.NoPass, u.passwords = false, nil
	case "allkeys":
		u.allKeys, u.patterns = true, nil
	case "resetkeys":
		u.allKeys, u.patterns = false, nil
	case "allchannels":
		u.allChans, u.chans = true, nil
	case "resetchannels":
		u.allChans, u.chans = false, nil
	case "allcommands":
		return u.apply("+@all")
	case "nocommands":
		return u.apply("-@all")
	case "reset":
		*u = *newUser(u.Name)
		u.rules = nil
	case "sanitize-payload", "skip-sanitize-payload":
	default:
		return u.applyValued(r)
	}
	return nil
}

func (u *User) applyValued(r string) error {
	switch r[0] {
	case '>', '<':
		sum := sha256.Sum256([]byte(r[1:]))
		return u.password(r[0] == '>', sum)
	case '#', '!':
		raw, err := hex.DecodeString(r[1:])
		if err != nil || len(raw) != sha256.Size {
			return errors.New("a password hash rule needs 64 hexadecimal characters (SHA-256)")
		}
		return u.password(r[0] == '#', [sha256.Size]byte(raw))
	case '~':
		switch {
		case r == "~*":
			u.allKeys, u.patterns = true, nil
		case u.allKeys:
			return fmt.Errorf("rule %q: adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns", r)
		default:
			u.patterns = append(u.patterns, r[1:])
		}
		return nil
	case '&':
		if r == "&*" {
			u.allChans, u.chans = true, nil
		} else if !u.allChans {
			u.chans = append(u.chans, r[1:])
		}
		return nil
	case '+', '-':
		return u.command(r[0] == '+', strings.ToLower(r[1:]), r)
	case '%':
		return fmt.Errorf("rule %q: read/write key permissions are not supported (use ~pattern)", r)
	case '(':
		return fmt.Errorf("rule %q: selectors are not supported", r)
	}
	return fmt.Errorf("rule %q is not an ACL rule", r)
}

func (u *User) password(add bool, sum [sha256.Size]byte) error {
	i := slices.Index(u.passwords, sum)
	switch {
	case add:
		u.NoPass = false
		if i < 0 {
			u.passwords = append(u.passwords, sum)
		}
	case i >= 0:
		u.passwords = slices.Delete(u.passwords, i, i+1)
	default:
		return errors.New("a password to remove is not one of the user's")
	}
	return nil
}

// command applies +/- of a command, subcommand or @category.
func (u *User) command(allow bool, what, rule string) error {
	names := command.ACLNames()
	switch {
	case what == "@all":
		for _, n := range names {
			u.allowed[n] = allow
		}
		u.others = allow
	case strings.HasPrefix(what, "@"):
		cat := what[1:]
		if !slices.Contains(Categories, cat) {
			return fmt.Errorf("rule %q: unknown command category %q", rule, cat)
		}
		for _, n := range names {
			if cats, _ := command.ACLCategories(n); slices.Contains(cats, cat) {
				u.allowed[n] = allow
			}
		}
	default:
		if _, ok := command.ACLCategories(what); !ok {
			return fmt.Errorf("rule %q: unknown command", rule)
		}
		for _, n := range names {
			if n == what || strings.HasPrefix(n, what+"|") {
				u.allowed[n] = allow
			}
		}
	}
	u.rules = append(u.rules, strings.ToLower(rule))
	return nil
}

// Categories are Redis 7.0's ACL categories.
var Categories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
	"transaction", "scripting"}

// Find returns the user named name, or nil.
func (us *Users) Find(name string) *User { return us.users[name] }

// Initial is the user a new connection is: default when it is on and
// needs no password, else nil (the connection must authenticate).
func (us *Users) Initial() *User {
	if d := us.users[DefaultUser]; d != nil && d.On && d.NoPass {
		return d
	}
	return nil
}

// DefaultNoPass reports whether the default user needs no password (AUTH
// <password> alone is then Redis's configuration error).
func (us *Users) DefaultNoPass() bool {
	d := us.users[DefaultUser]
	return d == nil || d.NoPass
}

// Authenticate returns the user name may log in as with pass, or nil.
func (us *Users) Authenticate(name, pass []byte) *User {
	u := us.users[string(name)]
	if u == nil || !u.On {
		return nil
	}
	if u.NoPass {
		return u
	}
	sum := sha256.Sum256(pass)
	ok := 0
	for _, p := range u.passwords {
		ok |= subtle.ConstantTimeCompare(p[:], sum[:])
	}
	if ok == 1 {
		return u
	}
	return nil
}

// Names lists the users, sorted.
func (us *Users) Names() []string { return us.names }

// Unrestricted reports whether u may run every command on every key and
// channel (nothing to check).
func (u *User) Unrestricted() bool { return u.unrestricted && u.allChans }

// settle computes what the rules add up to, once they are all applied.
func (u *User) settle() {
	u.unrestricted = u.allKeys && u.others // channels are checked apart (channelDenied)
	for _, ok := range u.allowed {
		u.unrestricted = u.unrestricted && ok
	}
}

// Denied returns the error a command is refused with (Redis's NOPERM
// text), or "" when u may run it: first the command (or its subcommand,
// named "command|subcommand" as Redis names it), then every key it names
// against u's patterns.
func (u *User) Denied(spec *command.Spec, args [][]byte) string {
	name := spec.Name
	if len(args) > 1 {
		if sub := name + "|" + strings.ToLower(string(args[1])); hasCategories(sub) {
			name = sub
		}
	}
	allowed, known := u.allowed[name]
	if !known {
		allowed = u.others
	}
	if !allowed {
		return "NOPERM this user has no permissions to run the '" + name + "' command"
	}
	if scripts[spec.Name] && !u.unrestricted {
		// Redis checks a script's redis.call()s against the caller; here a
		// script runs on the datastore with the node's own rights, which
		// would let a restricted user past its rules.
		return "NOPERM dynonode: scripts run with the node's datastore rights, so a user with restricted permissions may not run '" + spec.Name + "'"
	}
	if reply := u.channelDenied(spec.Name, args); reply != "" {
		return reply
	}
	if u.allKeys || spec.Channels {
		return ""
	}
	if spec.Name == "sort" || spec.Name == "sort_ro" {
		if reply := sortPatterns(args); reply != "" {
			return reply
		}
	}
	idx, _ := spec.KeyIndexes(args, nil)
	if spec.Class == command.Owner && len(args) > 2 { // OBJECT ENCODING key, MEMORY USAGE key...: the subcommand's key
		idx = append(idx, 2)
	}
	for _, i := range idx {
		if i >= len(args) || !u.keyAllowed(args[i]) {
			return "NOPERM this user has no permissions to access one of the keys used as arguments"
		}
	}
	return ""
}

// scripts are the commands that run code the user sends (checked only for
// users that may not run everything on every key).
var scripts = map[string]bool{"eval": true, "evalsha": true, "eval_ro": true, "evalsha_ro": true, "fcall": true, "fcall_ro": true}

// sortPatterns is Redis's refusal of SORT's GET, and of BY with a pattern,
// to a user without access to every key (they read keys the command does
// not name), or "".
func sortPatterns(args [][]byte) string {
	for j := 2; j+1 < len(args); j++ {
		switch a := strings.ToLower(string(args[j])); a {
		case "by":
			if strings.Contains(string(args[j+1]), "*") {
				return "ERR BY option of SORT denied due to insufficient ACL permissions."
			}
			j++
		case "get":
			return "ERR GET option of SORT denied due to insufficient ACL permissions."
		case "limit":
			j += 2
		}
	}
	return ""
}

func hasCategories(name string) bool {
	_, ok := command.ACLCategories(name)
	return ok
}

// channelDenied is Redis 7.0's refusal of a pub/sub command naming a
// channel u may not use, or "": SUBSCRIBE's and PUBLISH's channels must
// match one of u's channel patterns, PSUBSCRIBE's patterns must be one of
// them, literally.
func (u *User) channelDenied(name string, args [][]byte) string {
	if u.allChans {
		return ""
	}
	var chans [][]byte
	switch name {
	case "subscribe", "psubscribe", "ssubscribe":
		chans = args[1:]
	case "publish", "spublish":
		chans = args[1:2]
	default:
		return ""
	}
	for _, ch := range chans {
		ok := false
		for _, p := range u.chans {
			if name == "psubscribe" && p == string(ch) || name != "psubscribe" && Match([]byte(p), ch) {
				ok = true
				break
			}
		}
		if !ok {
			return "NOPERM this user has no permissions to access one of the channels used as arguments"
		}
	}
	return ""
}

func (u *User) keyAllowed(key []byte) bool {
	for _, p := range u.patterns {
		if Match([]byte(p), key) {
			return true
		}
	}
	return false
}

// Describe is the user as ACL LIST shows it in dynonode: its flags,
// password hashes, key and channel patterns, then its command rules as
// written (Redis expands categories into a longer canonical list).
func (u *User) Describe() string {
	f := []string{"user", u.Name}
	if u.On {
		f = append(f, "on")
	} else {
		f = append(f, "off")
	}
	if u.NoPass {
		f = append(f, "nopass")
	}
	for _, p := range u.passwords {
		f = append(f, "#"+hex.EncodeToString(p[:]))
	}
	switch {
	case u.allKeys:
		f = append(f, "~*")
	case len(u.patterns) == 0:
		f = append(f, "resetkeys")
	}
	for _, p := range u.patterns {
		f = append(f, "~"+p)
	}
	switch {
	case u.allChans:
		f = append(f, "&*")
	default:
		f = append(f, "resetchannels")
	}
	for _, c := range u.chans {
		f = append(f, "&"+c)
	}
	if len(u.rules) == 0 {
		f = append(f, "-@all")
	}
	f = append(f, u.rules...)
	return strings.Join(f, " ")
}
