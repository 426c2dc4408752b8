package coord

// SetPlantFirstWake plants a bug for the external tests: blocking pops try
// at the first replica's wake (see allWoken). It returns the undo.
func SetPlantFirstWake() func() {
	plantFirstWake = true
	return func() { plantFirstWake = false }
}

// SetPlantNoDecider plants a bug for the external tests: each node's own
// rack decides its blocking pops (see popReplicas). It returns the undo.
func SetPlantNoDecider() func() {
	plantNoDecider = true
	return func() { plantNoDecider = false }
}

// SetPlantAttemptEverywhere plants a bug for the external tests: blocking
// pops send each attempt to every replica (see tryPop). It returns the undo.
func SetPlantAttemptEverywhere() func() {
	plantAttemptEverywhere = true
	return func() { plantAttemptEverywhere = false }
}

// DeciderIndex is the index, among n replicas that all serve reads and
// writes in node-id order, of the one that decides key's pops.
func DeciderIndex(key string, n int) int { return int(popHash([]byte(key)) % uint64(n)) }
