package mcproto

import "strconv"

// One-line replies, without their CRLF.
const (
	Stored    = "STORED"
	NotStored = "NOT_STORED"
	Exists    = "EXISTS"
	NotFound  = "NOT_FOUND"
	Deleted   = "DELETED"
	Touched   = "TOUCHED"
	End       = "END"
	OK        = "OK"
)

// AppendLine appends a one-line reply (a status above, an error's Reply,
// "VERSION x") and its CRLF. CR and LF inside line become spaces, so no
// text can forge a further reply.
func AppendLine(dst []byte, line string) []byte {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, '\r', '\n')
}

// AppendValue appends one get hit: "VALUE <key> <flags> <bytes>\r\n<data>\r\n".
// The caller ends the response with AppendLine(dst, End).
func AppendValue(dst, key []byte, flags uint32, data []byte) []byte {
	dst = appendValueHead(dst, key, flags, len(data))
	return appendData(dst, data)
}

// AppendValueCas appends one gets hit, with its cas unique.
func AppendValueCas(dst, key []byte, flags uint32, data []byte, cas uint64) []byte {
	dst = appendValueHead(dst, key, flags, len(data))
	dst = strconv.AppendUint(append(dst, ' '), cas, 10)
	return appendData(dst, data)
}

func appendValueHead(dst, key []byte, flags uint32, n int) []byte {
	dst = append(dst, "VALUE "...)
	dst = append(dst, key...)
	dst = strconv.AppendUint(append(dst, ' '), uint64(flags), 10)
	return strconv.AppendInt(append(dst, ' '), int64(n), 10)
}

func appendData(dst, data []byte) []byte {
	dst = append(dst, '\r', '\n')
	dst = append(dst, data...)
	return append(dst, '\r', '\n')
}

// AppendNumber appends the reply to a successful incr/decr: the new value.
func AppendNumber(dst []byte, v uint64) []byte {
	return append(strconv.AppendUint(dst, v, 10), '\r', '\n')
}

// AppendRequest encodes r as a client would send it; the memcached store
// adapter uses it to forward requests. KindError requests encode nothing;
// meta commands encode as they were sent (r.Raw).
func AppendRequest(dst []byte, r *Request) []byte {
	switch {
	case r.Kind == KindError:
		return dst
	case r.Kind.IsMeta():
		return append(dst, r.Raw...) // forwarded as sent: see meta.go
	}
	dst = append(dst, r.Kind.String()...)
	switch r.Kind {
	case KindGet, KindGets, KindGat, KindGats:
		if r.Kind == KindGat || r.Kind == KindGats {
			dst = strconv.AppendInt(append(dst, ' '), int64(r.Exptime), 10)
		}
		for _, k := range r.Keys {
			dst = append(append(dst, ' '), k...)
		}
	case KindSet, KindAdd, KindReplace, KindAppend, KindPrepend, KindCas:
		dst = append(append(dst, ' '), r.Key...)
		dst = strconv.AppendUint(append(dst, ' '), uint64(r.Flags), 10)
		dst = strconv.AppendInt(append(dst, ' '), int64(r.Exptime), 10)
		dst = strconv.AppendInt(append(dst, ' '), int64(len(r.Data)), 10)
		if r.Kind == KindCas {
			dst = strconv.AppendUint(append(dst, ' '), r.Cas, 10)
		}
		dst = appendNoReply(dst, r.NoReply)
		return appendData(dst, r.Data)
	case KindDelete:
		dst = append(append(dst, ' '), r.Key...)
	case KindIncr, KindDecr:
		dst = append(append(dst, ' '), r.Key...)
		dst = strconv.AppendUint(append(dst, ' '), r.Delta, 10)
	case KindTouch:
		dst = append(append(dst, ' '), r.Key...)
		dst = strconv.AppendInt(append(dst, ' '), int64(r.Exptime), 10)
	case KindVerbosity:
		dst = strconv.AppendUint(append(dst, ' '), uint64(r.Level), 10)
	}
	return append(appendNoReply(dst, r.NoReply), '\r', '\n')
}

func appendNoReply(dst []byte, noreply bool) []byte {
	if noreply {
		dst = append(dst, " noreply"...)
	}
	return dst
}
