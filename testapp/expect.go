package testapp

// Each gives every listed caller kind the same expectation (of any type the
// scenario tables use).
func Each[W any](w W, kinds ...string) map[string]W {
	m := make(map[string]W, len(kinds))
	for _, k := range kinds {
		m[k] = w
	}
	return m
}

// Merge overlays expectation maps, later ones winning.
func Merge[W any](ms ...map[string]W) map[string]W {
	out := map[string]W{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
