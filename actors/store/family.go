package store

import "strings"

// Family is what versions do to a command (see version.go), exported for
// the Redis adapter (netio/datastore), which must treat each command as
// this engine does.
type Family uint8

// The families, as lwwKind.
const (
	FamilyNone   = Family(lwwNone)   // no key: PING, KEYS, SCAN, FLUSHDB...
	FamilyRead   = Family(lwwRead)   // reads its key, args[1]
	FamilyWhole  = Family(lwwWhole)  // replaces its key's value (or expiry) whole
	FamilyDelete = Family(lwwDelete) // deletes its key
	FamilyRMW    = Family(lwwRMW)    // modifies its key in place
	FamilyMulti  = Family(lwwMulti)  // reads or writes several keys
)

// CommandFamily is the family of command args (args[0] its name, any
// case), and whether it has one key: DEL, UNLINK, EXISTS, TOUCH and MGET
// of several keys and MSET of several pairs are not single-key. written
// are the keys a FamilyMulti command writes (none when it has too few
// args to be valid: three, or two for PFMERGE dst, which merges dst
// alone).
func CommandFamily(args [][]byte) (f Family, single bool, written [][]byte) {
	c := &command{name: strings.ToLower(string(args[0]))}
	c.lww = lwwClass(c.name)
	if c.lww == lwwMulti && (len(args) >= 3 || len(args) == 2 && c.name == "pfmerge") {
		written = writtenKeys(c, args)
	}
	return Family(c.lww), singleKey(c, args), written
}
