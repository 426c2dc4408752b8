package actors

import "math/rand/v2"

// splitmix64 is a full-avalanche mixer: nearby inputs give unrelated outputs,
// so streams derived from one master seed are independent.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Stream derives the random source of one named component from a master
// seed. Runtimes seed every actor this way. Deriving by name rather than by
// creation order means adding a node or an actor does not reshuffle any other
// component's random choices.
func Stream(master int64, name string) *rand.Rand {
	a := splitmix64(uint64(master) ^ fnv64a(name))
	return rand.New(rand.NewPCG(a, splitmix64(a)))
}
