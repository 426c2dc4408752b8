package resp

import (
	"fmt"
	"strings"
)

// pipeline returns n "SET key:NNNN <64-byte value>" commands followed by n
// "GET key:NNNN", as one client might pipeline them.
func pipeline(n int) []byte {
	val := []byte(strings.Repeat("v", 64))
	var buf []byte
	for i := range n {
		buf = AppendCommand(buf, [][]byte{[]byte("SET"), fmt.Appendf(nil, "key:%04d", i), val})
	}
	for i := range n {
		buf = AppendCommand(buf, [][]byte{[]byte("GET"), fmt.Appendf(nil, "key:%04d", i)})
	}
	return buf
}
