package mcproto

import "strconv"

// command interprets a tokenized request line. For a storage command it
// returns the data block length still to read. In-band errors come back as
// a KindError request (and arm p.swallow to skip a refused data block);
// fatal ones as *Error.
func (p *Parser) command(toks [][]byte) (Request, int, *Error) {
	if len(toks) == 0 || len(toks[0]) < 2 {
		return inband(ReplyError, "empty or one-byte command", false), 0, nil
	}
	name := toks[0]
	switch string(name) {
	case "get":
		return p.get(KindGet, toks), 0, nil
	case "gets":
		return p.get(KindGets, toks), 0, nil
	case "set":
		return p.storage(KindSet, toks)
	case "add":
		return p.storage(KindAdd, toks)
	case "replace":
		return p.storage(KindReplace, toks)
	case "append":
		return p.storage(KindAppend, toks)
	case "prepend":
		return p.storage(KindPrepend, toks)
	case "cas":
		return p.storage(KindCas, toks)
	case "delete":
		return p.delete(toks), 0, nil
	case "incr":
		return p.arith(KindIncr, toks), 0, nil
	case "decr":
		return p.arith(KindDecr, toks), 0, nil
	case "touch":
		return p.touch(toks), 0, nil
	case "gat":
		return p.gat(KindGat, toks), 0, nil
	case "gats":
		return p.gat(KindGats, toks), 0, nil
	case "verbosity":
		return verbosity(toks), 0, nil
	case "version":
		return Request{Kind: KindVersion}, 0, nil
	case "quit":
		return Request{Kind: KindQuit}, 0, nil
	case "mg":
		r, _ := p.meta(KindMetaGet, toks)
		return r, 0, nil
	case "ms":
		r, n := p.meta(KindMetaSet, toks)
		return r, n, nil
	case "md":
		r, _ := p.meta(KindMetaDelete, toks)
		return r, 0, nil
	case "ma":
		r, _ := p.meta(KindMetaArith, toks)
		return r, 0, nil
	case "mn":
		return Request{Kind: KindMetaNoop}, 0, nil
	case "me":
		return inband(ReplyMetaDebug, "meta debug "+quote(joinToks(toks)), false), 0, nil
	}
	return inband(ReplyError, "unknown command "+quote(name), false), 0, nil
}

func inband(reply, detail string, noreply bool) Request {
	return Request{Kind: KindError, NoReply: noreply, Err: &Error{Reply: reply, Detail: detail}}
}

// badKey names what is wrong with a key, or returns "" for a good one.
// Keys are 1..MaxKeyLen bytes without control characters or whitespace
// (memcached's protocol.txt; the server itself checks only the length).
func (p *Parser) badKey(k []byte) string {
	if len(k) > p.limits.MaxKeyLen {
		return "key of " + itoa(len(k)) + " bytes exceeds " + itoa(p.limits.MaxKeyLen)
	}
	for _, c := range k {
		if c <= ' ' || c == 0x7f {
			return "key " + quote(k) + " has a control or space byte"
		}
	}
	return ""
}

func (p *Parser) get(kind Kind, toks [][]byte) Request {
	if len(toks) < 2 {
		return inband(ReplyError, kind.String()+" without a key", false)
	}
	first := len(p.keys)
	for _, k := range toks[1:] {
		if bad := p.badKey(k); bad != "" {
			p.keys = p.keys[:first]
			return inband(ReplyBadFormat, bad, false)
		}
		p.keys = append(p.keys, k)
	}
	keys := p.keys[first:len(p.keys):len(p.keys)]
	return Request{Kind: kind, Key: keys[0], Keys: keys}
}

// storage parses "<cmd> <key> <flags> <exptime> <bytes> [<cas>] [noreply]".
func (p *Parser) storage(kind Kind, toks [][]byte) (Request, int, *Error) {
	want := 5
	if kind == KindCas {
		want = 6
	}
	if len(toks) != want && len(toks) != want+1 {
		// memcached answers ERROR (noreply unread) and reads what follows,
		// the data block if the client sent one, as commands. So does
		// dynonode: those are the client's own bytes on its own
		// connection, nothing it could not have sent as commands itself.
		return inband(ReplyError, kind.String()+" with "+itoa(len(toks))+" tokens", false), 0, nil
	}
	// memcached's set_noreply_maybe reads the last token, whatever it is
	// ("set k 0 0 noreply" fails on its <bytes>, silently).
	r := Request{Kind: kind, Key: toks[1], NoReply: string(toks[len(toks)-1]) == "noreply"}
	// memcached's process_update_command: a key too long, or flags,
	// exptime, <bytes> or cas that its safe_strto* refuse, or <bytes>
	// negative, answer CLIENT_ERROR (unless noreply) and go on with the
	// next line: the data block is not skipped. The numbers are read as
	// memcached reads them (number.go), so exactly the lines memcached
	// refuses are refused, and no value it would store runs as commands.
	badLine := func(detail string) (Request, int, *Error) {
		return inband(ReplyBadFormat, detail, r.NoReply), 0, nil
	}
	if len(r.Key) > p.limits.MaxKeyLen {
		return badLine(p.badKey(r.Key))
	}
	flags, okf := safeStrtoul(toks[2])
	exp, oke := safeStrtol(toks[3])
	size, ok := safeStrtol(toks[4])
	var cas uint64
	okc := true
	if kind == KindCas {
		cas, okc = safeStrtoull(toks[5])
	}
	if !okf || !oke || !ok || !okc || size < 0 || size > 1<<31-1-2 {
		return badLine("bad flags, exptime, bytes or cas in " + quote(joinToks(toks)))
	}
	n := int(size)
	// Refused with the data block's length known (a key with a control
	// byte, which memcached would store but dynonode's routing and the
	// other protocols cannot carry; a value over the item size): the
	// data is skipped (memcached's conn_swallow) and the pipeline goes on.
	refuse := func(reply, detail string) (Request, int, *Error) {
		p.swallow = n + 2
		return inband(reply, detail, r.NoReply), 0, nil
	}
	switch {
	case p.badKey(r.Key) != "":
		return refuse(ReplyBadFormat, p.badKey(r.Key))
	case n > p.limits.MaxItemSize:
		return refuse(ReplyTooLarge, "data block of "+itoa(n)+" bytes exceeds "+itoa(p.limits.MaxItemSize))
	}
	r.Flags, r.Exptime, r.Cas = flags, exp, cas
	return r, n, nil
}

// delete parses "delete <key> [0] [noreply]"; the "0" is a legacy hold
// time memcached still accepts.
func (p *Parser) delete(toks [][]byte) Request {
	if len(toks) < 2 || len(toks) > 4 {
		return inband(ReplyError, "delete with "+itoa(len(toks))+" tokens", false)
	}
	// memcached looks for noreply only after the key (delete noreply
	// deletes the key "noreply").
	r := Request{Kind: KindDelete, Key: toks[1], NoReply: len(toks) > 2 && string(toks[len(toks)-1]) == "noreply"}
	if len(toks) > 2 {
		zero := string(toks[2]) == "0"
		if !(len(toks) == 3 && (zero || r.NoReply)) && !(len(toks) == 4 && zero && r.NoReply) {
			return inband(ReplyDeleteUsage, "bad delete arguments "+quote(joinToks(toks)), r.NoReply)
		}
	}
	if bad := p.badKey(r.Key); bad != "" {
		return inband(ReplyBadFormat, bad, r.NoReply)
	}
	return r
}

// arith parses "incr|decr <key> <delta> [noreply]".
func (p *Parser) arith(kind Kind, toks [][]byte) Request {
	if len(toks) != 3 && len(toks) != 4 {
		return inband(ReplyError, kind.String()+" with "+itoa(len(toks))+" tokens", false)
	}
	// memcached's set_noreply_maybe reads the last token: "incr k noreply"
	// fails on its delta, silently.
	r := Request{Kind: kind, Key: toks[1], NoReply: string(toks[len(toks)-1]) == "noreply"}
	if bad := p.badKey(r.Key); bad != "" {
		return inband(ReplyBadFormat, bad, r.NoReply)
	}
	d, ok := parseUint(toks[2], 64)
	if !ok {
		return inband(ReplyBadDelta, "bad delta "+quote(toks[2]), r.NoReply)
	}
	r.Delta = d
	return r
}

// touch parses "touch <key> <exptime> [noreply]".
func (p *Parser) touch(toks [][]byte) Request {
	if len(toks) != 3 && len(toks) != 4 {
		return inband(ReplyError, "touch with "+itoa(len(toks))+" tokens", false)
	}
	r := Request{Kind: KindTouch, Key: toks[1], NoReply: string(toks[len(toks)-1]) == "noreply"} // the last token, as memcached
	if bad := p.badKey(r.Key); bad != "" {
		return inband(ReplyBadFormat, bad, r.NoReply)
	}
	exp, ok := parseInt32(toks[2])
	if !ok {
		return inband(ReplyBadExptime, "bad exptime "+quote(toks[2]), r.NoReply)
	}
	r.Exptime = exp
	return r
}

// gat parses "gat|gats <exptime> <key>*": with no key memcached answers
// END, which the coordinator does.
func (p *Parser) gat(kind Kind, toks [][]byte) Request {
	if len(toks) < 2 {
		return inband(ReplyError, kind.String()+" without an exptime", false)
	}
	exp, ok := parseInt32(toks[1])
	if !ok {
		return inband(ReplyBadExptime, "bad exptime "+quote(toks[1]), false)
	}
	r := Request{Kind: kind, Exptime: exp}
	if len(toks) > 2 {
		r = p.get(kind, toks[1:]) // toks[1] plays the command's place
		if r.Kind == KindError {
			return r
		}
		r.Exptime = exp
	}
	return r
}

// verbosity parses "verbosity <level> [noreply]".
func verbosity(toks [][]byte) Request {
	if len(toks) != 2 && len(toks) != 3 {
		return inband(ReplyError, "verbosity with "+itoa(len(toks))+" tokens", false)
	}
	r := Request{Kind: KindVerbosity, NoReply: string(toks[len(toks)-1]) == "noreply"}
	lvl, ok := parseUint(toks[1], 32)
	if !ok {
		return inband(ReplyBadFormat, "bad verbosity level "+quote(toks[1]), r.NoReply)
	}
	r.Level = uint32(lvl)
	return r
}

func itoa(n int) string { return strconv.Itoa(n) }

// quote renders client bytes for an error's Detail, cut short so a huge
// key cannot bloat the logs.
func quote(b []byte) string {
	const most = 64
	if len(b) > most {
		return strconv.Quote(string(b[:most])) + "..."
	}
	return strconv.Quote(string(b))
}

func joinToks(toks [][]byte) []byte {
	var b []byte
	for i, t := range toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, t...)
	}
	return b
}
