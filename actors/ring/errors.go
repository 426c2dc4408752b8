package ring

import "errors"

// Errors returned (wrapped, with the offending input named) by ParseHash,
// ParseHashTag and New; test with errors.Is.
var (
	ErrUnknownHash    = errors.New("unknown hash")
	ErrInvalidHashTag = errors.New("invalid hash tag")
	ErrInvalidNode    = errors.New("invalid node")
	ErrDuplicateNode  = errors.New("duplicate node")
	ErrDuplicateToken = errors.New("duplicate token in rack")
	ErrUnknownLocal   = errors.New("local node not in node list")
)
