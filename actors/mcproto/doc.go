// Package mcproto is a pure codec for the memcached text protocol: it parses
// client requests (get, gets, set, add, replace, append, prepend, cas,
// delete, incr, decr, touch, verbosity, version, quit, and the meta
// commands mg, ms, md, ma, mn: meta.go), encodes replies, and
// frames responses coming back from a real memcached for the store adapter.
// It owns no sockets, goroutines or clocks.
//
// Parser is fed the unconsumed bytes of a connection and returns every
// complete request, pipelined requests included; partial input is left for
// the next call. Keys and data blocks alias the caller's buffer and stay
// valid until the next Parse call. The steady-state path allocates nothing.
//
// Errors come in two kinds, both carrying the exact line memcached sends
// (see Error):
//
//   - in-band: a request memcached 1.6 answers with an error and then
//     carries on (unknown command, bad key, bad number, a storage line with
//     the wrong number of tokens, a data block not ending in CRLF, object
//     too large). It is returned as a Request of KindError in pipeline
//     order, so replies stay in order. As in memcached, a storage command
//     refused for its line (token count, key length, flags, exptime,
//     <bytes>, cas) does not skip its data block: the next line is read as
//     a command; a data block not ending in CRLF costs its <bytes>+2 bytes;
//     an object too large, and a key dynonode refuses for a control byte
//     (memcached would store it), skip the block ("swallow"). Reading the
//     next line as a command is safe only if dynonode refuses exactly the
//     lines memcached refuses: a storage line's numbers are read as
//     memcached's safe_strtoul/safe_strtol/safe_strtoull read them (sign,
//     white space, 32-bit truncation: number.go), a line is cut at a NUL
//     as memcached's C string is, and noreply is the last token
//     (set_noreply_maybe). Meta commands are read as memcached 1.6.18's
//     process_m*_command and _meta_flag_preparse read them, and what they
//     refuse is refused with their lines; an ms's data block is swallowed
//     exactly where memcached swallows it (a flag error after a good
//     <datalen>), and also for every refusal of dynonode's own (a flag a
//     cluster cannot honour, a key with a control byte), so that no value
//     runs as commands. A meta command that passes is forwarded as sent,
//     and each memcached applies its flags.
//   - fatal (Error.Close): a connection whose first byte is 0x80 (the
//     binary protocol, which memcached -B auto serves and dynonode does
//     not: its values would be read as text lines); a line too long (no
//     newline in the first Limits.MaxLine bytes, MaxGetLine for get and
//     gets). Parse stops and returns it; the caller sends the reply line
//     and closes the connection. memcached closes it too when its read holds no newline;
//     one that read a longer line whole (a value over 2 KiB after a refused
//     storage line) answers ERROR and carries on.
package mcproto
