package mcproto

import (
	"fmt"
	"strings"
)

// pipeline returns n "set key:NNNN 0 0 64" with 64-byte values followed by
// n "get key:NNNN".
func pipeline(n int) []byte {
	val := strings.Repeat("v", 64)
	var buf []byte
	for i := range n {
		buf = fmt.Appendf(buf, "set key:%04d 0 0 64\r\n%s\r\n", i, val)
	}
	for i := range n {
		buf = fmt.Appendf(buf, "get key:%04d\r\n", i)
	}
	return buf
}
