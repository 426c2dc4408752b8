package coord

// SetPlantFirstWake plants a bug for the external tests: blocking pops try
// at the first replica's wake (see allWoken). It returns the undo.
func SetPlantFirstWake() func() {
	plantFirstWake = true
	return func() { plantFirstWake = false }
}
