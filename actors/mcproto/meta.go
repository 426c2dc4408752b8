package mcproto

import "bytes"

// Meta commands (memcached 1.6's "mg <key> <flag>*", "ms <key> <datalen>
// <flag>*", "md", "ma", "mn") are read here only as far as dynonode needs:
// the key to route on (base64-decoded under the b flag), the data block of
// ms, whether the command changes the item, and the lines memcached refuses
// before it looks at an item. A request that passes is forwarded to the
// datastores as sent, so each memcached computes its own reply (flags,
// opaque, quiet mode), and the client reads one memcached's reply. What
// memcached would echo raw into a reply line (a CR in a token, a base64
// key with control or space bytes) is refused first, so no client can
// forge reply lines on the datastore connection all clients share.

// ReplyMetaCR refuses a meta token holding a carriage return, and
// ReplyMetaBinaryKey a base64 key whose bytes hold a control or space
// byte: memcached would echo either raw into a reply line.
const (
	ReplyMetaCR        = "CLIENT_ERROR a carriage return inside a meta token is not served by dynonode"
	ReplyMetaBinaryKey = "CLIENT_ERROR a base64 key holding control or space bytes is not served by dynonode"
)

// ReplyMetaDebug refuses me, whose reply is one server's item metadata.
const ReplyMetaDebug = "CLIENT_ERROR me is not served by dynonode: it shows one server's LRU state (last access, fetched, slab class)"

// metaMaxTokens is memcached's MFLAG_MAX_OPT_LENGTH, counted as its
// tokenizer counts (the terminal empty token included).
const metaMaxTokens = 20

// unservedMetaFlags maps the meta flags memcached 1.6.18 accepts but a
// cluster cannot honour to the reason sent with their refusal, per command.
var unservedMetaFlags = map[Kind]map[byte]string{
	KindMetaGet: {
		'h': "h (hit before) is one server's LRU state",
		'l': "l (last access) is one server's LRU state",
		'N': "N hands out a win token, one server's state: a replica in another rack would hand out its own",
		'R': "R hands out a win token, one server's state: a replica in another rack would hand out its own",
	},
	KindMetaSet:    {'I': "I marks an item stale for a win token, one server's state"},
	KindMetaDelete: {'I': "I marks an item stale for a win token, one server's state"},
}

// metaFlags is what dynonode reads of a meta command's flags.
type metaFlags struct {
	binary bool // b: the key is base64
	touch  bool // T: mg sets the item's TTL
}

// meta parses a meta command line. For ms it returns the data block length.
func (p *Parser) meta(kind Kind, toks [][]byte) (Request, int) {
	// memcached's process_m*_command: fewer than a key is ERROR; then the
	// key's length and the token count are checked before the flags.
	if len(toks) < 2 {
		return inband(ReplyError, kind.String()+" without a key", false), 0
	}
	key := toks[1]
	if len(key) > p.limits.MaxKeyLen {
		return inband(ReplyBadFormat, p.badKey(key), false), 0
	}
	first := 2
	if kind == KindMetaSet {
		if len(toks) == 2 {
			return inband(ReplyBadFormat, "ms without a datalen", false), 0
		}
		first = 3
	}
	if len(toks)+1 > metaMaxTokens {
		long := "CLIENT_ERROR options flags too long"
		if kind == KindMetaGet {
			long = "CLIENT_ERROR options flags are too long"
		}
		return inband(long, kind.String()+" with "+itoa(len(toks))+" tokens", false), 0
	}
	size := 0
	if kind == KindMetaSet {
		n, ok := safeStrtol(toks[2])
		if !ok || n < 0 || n > 1<<31-1-2 {
			return inband(ReplyBadFormat, "bad ms datalen "+quote(toks[2]), false), 0
		}
		size = int(n)
	}
	// From here on memcached swallows an ms's data block on an error, and
	// so does dynonode for every refusal of its own.
	refuse := func(reply, detail string) (Request, int) {
		if kind == KindMetaSet {
			p.swallow = size + 2
		}
		return inband(reply, detail, false), 0
	}
	f, errLine := metaPreparse(key, toks[first:])
	if errLine != "" {
		if kind == KindMetaDelete || kind == KindMetaArith {
			errLine = "CLIENT_ERROR invalid or duplicate flag" // memcached drops the detail
		}
		return refuse(errLine, "meta flags in "+quote(joinToks(toks)))
	}
	for _, t := range toks[first:] {
		if why, ok := unservedMetaFlags[kind][t[0]]; ok {
			return refuse("CLIENT_ERROR meta flag "+why+": not served by dynonode", "unserved flag in "+quote(joinToks(toks)))
		}
		// memcached echoes a token (the opaque) byte for byte: a CR in it
		// would end a reply line early on the datastore connection every
		// client shares (found by review: three such commands ejected
		// every rack's memcached).
		if bytes.IndexByte(t, '\r') >= 0 {
			return refuse(ReplyMetaCR, "carriage return in "+quote(joinToks(toks)))
		}
	}
	if kind == KindMetaSet {
		// memcached refuses these before it reads the data block (which
		// is then swallowed, whatever it ends with): a bad mode first.
		if line := metaSetLine(toks[first:]); line != "" {
			return refuse(line, "ms flags in "+quote(joinToks(toks)))
		}
	}
	r := Request{Kind: kind, Key: key, Touch: kind == KindMetaGet && f.touch}
	if f.binary {
		start := len(p.decoded)
		p.decoded, _ = base64DecodeMemcached(p.decoded, key) // metaPreparse saw it decode
		r.Key = p.decoded[start:len(p.decoded):len(p.decoded)]
		// memcached writes a base64 key's bytes raw in some replies (an
		// item that lost its binary mark: ma ... N, an ms append): a CR,
		// LF or space there would forge reply lines on the datastore
		// connection every client shares (found by review: one client
		// fed another forged values). Such keys are refused.
		if bad := p.badKey(r.Key); bad != "" {
			return refuse(ReplyMetaBinaryKey, "base64 "+bad)
		}
	} else if bad := p.badKey(key); bad != "" {
		return refuse(ReplyBadFormat, bad)
	}
	if kind == KindMetaSet && size > p.limits.MaxItemSize {
		return refuse(ReplyTooLarge, "data block of "+itoa(size)+" bytes exceeds "+itoa(p.limits.MaxItemSize))
	}
	return r, size
}

// metaSetLine is what memcached's process_mset_command refuses after the
// flags parse: an M mode it does not know, then an opaque over 32 bytes.
func metaSetLine(flags [][]byte) string {
	long := false
	for _, t := range flags {
		switch {
		case t[0] == 'M' && !bytes.ContainsAny(t[1:], "EAPRS"):
			return "CLIENT_ERROR invalid mode for ms M token"
		case t[0] == 'O' && len(t) > metaMaxOpaque:
			long = true
		}
	}
	if long {
		return "CLIENT_ERROR opaque token too long"
	}
	return ""
}

// metaMaxOpaque is memcached's MFLAG_MAX_OPAQUE_LENGTH, the O included.
const metaMaxOpaque = 32

// metaPreparse is memcached's _meta_flag_preparse: each flag's first byte
// may appear once and must be a known flag (the first offence answers at
// once); a bad number or key encoding is remembered, the last one's line
// answered after every flag is read. It returns the line to answer, or "".
func metaPreparse(key []byte, flags [][]byte) (metaFlags, string) {
	var f metaFlags
	var seen [127]bool
	failed := ""
	fail := func(line string) { failed = line }
	for _, t := range flags {
		o := t[0]
		if o >= 127 || seen[o] {
			return f, "CLIENT_ERROR duplicate flag"
		}
		seen[o] = true
		arg := t[1:]
		switch o {
		case 'b':
			f.binary = true
			if _, ok := base64DecodeMemcached(nil, key); !ok {
				fail("CLIENT_ERROR error decoding key")
			}
		case 'N', 'R', 'T':
			if _, ok := safeStrtol(arg); !ok {
				fail("CLIENT_ERROR bad token in command line format")
			}
			f.touch = f.touch || o == 'T'
		case 'F':
			if _, ok := safeStrtoul(arg); !ok && failed == "" {
				fail(ReplyBadFormat) // memcached keeps the line it had
			}
		case 'C':
			if _, ok := safeStrtoull(arg); !ok {
				fail("CLIENT_ERROR bad token in command line format")
			}
		case 'M':
			if len(t) != 2 {
				fail("CLIENT_ERROR incorrect length for M token")
			}
		case 'J':
			if _, ok := safeStrtoull(arg); !ok {
				fail("CLIENT_ERROR invalid numeric initial value")
			}
		case 'D':
			if _, ok := safeStrtoull(arg); !ok {
				fail("CLIENT_ERROR invalid numeric delta value")
			}
		case 'O', 'P', 'L', 'k', 's', 't', 'c', 'f', 'v', 'h', 'l', 'u', 'q', 'I':
		default:
			return f, "CLIENT_ERROR invalid flag"
		}
	}
	return f, failed
}

// base64DecodeMemcached appends src decoded as memcached's base64_decode
// decodes it (the routing key must be the key memcached stores): bytes
// outside the alphabet are ignored, the rest must come in fours, and the
// first block with padding ends the key. ok is false where memcached's
// returns 0 (nothing decoded, a bad count or padding).
func base64DecodeMemcached(dst, src []byte) ([]byte, bool) {
	count := 0
	for _, c := range src {
		if base64Value(c) >= 0 {
			count++
		}
	}
	if count == 0 || count%4 != 0 {
		return dst, false
	}
	start := len(dst)
	var block [4]byte
	n, pad := 0, 0
	for _, c := range src {
		v := base64Value(c)
		if v < 0 {
			continue
		}
		if c == '=' {
			pad++
		}
		block[n] = byte(v)
		n++
		if n < 4 {
			continue
		}
		dst = append(dst, block[0]<<2|block[1]>>4, block[1]<<4|block[2]>>2, block[2]<<6|block[3])
		n = 0
		if pad > 0 {
			if pad > 2 {
				return dst[:start], false
			}
			dst = dst[:len(dst)-pad]
			break
		}
	}
	if len(dst) == start {
		return dst, false
	}
	return dst, true
}

// base64Value is a byte's value in the standard alphabet, 0 for the
// padding '=', or -1 outside it.
func base64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	case c == '=':
		return 0
	}
	return -1
}
