package store

// list is a deque of byte strings in a ring buffer: O(1) push and pop at
// both ends and O(1) indexing; inserts and removals in the middle rebuild.
type list struct {
	buf  [][]byte
	head int
	n    int
}

func (l *list) len() int { return l.n }

func (l *list) at(i int) []byte { return l.buf[(l.head+i)%len(l.buf)] }

func (l *list) setAt(i int, b []byte) { l.buf[(l.head+i)%len(l.buf)] = b }

func (l *list) grow() {
	if l.n < len(l.buf) {
		return
	}
	nb := make([][]byte, max(8, 2*len(l.buf)))
	for i := 0; i < l.n; i++ {
		nb[i] = l.at(i)
	}
	l.buf, l.head = nb, 0
}

func (l *list) pushBack(b []byte) {
	l.grow()
	l.buf[(l.head+l.n)%len(l.buf)] = b
	l.n++
}

func (l *list) pushFront(b []byte) {
	l.grow()
	l.head = (l.head - 1 + len(l.buf)) % len(l.buf)
	l.buf[l.head] = b
	l.n++
}

func (l *list) popFront() []byte {
	b := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) % len(l.buf)
	l.n--
	return b
}

func (l *list) popBack() []byte {
	i := (l.head + l.n - 1) % len(l.buf)
	b := l.buf[i]
	l.buf[i] = nil
	l.n--
	return b
}

// items copies the elements out in order.
func (l *list) items() [][]byte {
	out := make([][]byte, l.n)
	for i := range out {
		out[i] = l.at(i)
	}
	return out
}

// reset replaces the contents with items, in order.
func (l *list) reset(items [][]byte) {
	l.buf = make([][]byte, max(8, len(items)))
	copy(l.buf, items)
	l.head, l.n = 0, len(items)
}
