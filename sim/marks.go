package sim

import (
	"maps"
	"slices"
	"sync"
)

// Every coverage mark (actors.Mark) any run in this process reached, for
// campaign checks (TestMain in marks_test.go): runs go on in parallel, so
// the union is kept under a lock; a World also counts its own (Marks).
var reached struct {
	sync.Mutex
	names map[string]uint64
}

func noteMark(name string) {
	reached.Lock()
	if reached.names == nil {
		reached.names = map[string]uint64{}
	}
	reached.names[name]++
	reached.Unlock()
}

// MarksReached returns every coverage mark reached by any run in this
// process so far, with how many times, and their names sorted.
func MarksReached() (map[string]uint64, []string) {
	reached.Lock()
	defer reached.Unlock()
	m := maps.Clone(reached.names)
	return m, slices.Sorted(maps.Keys(m))
}
