//go:build !unix

package resultcache

// lockFile is a no-op where flock is not available: index writes stay
// atomic, but two concurrent processes may lose one another's updates.
func lockFile(path string) (func(), error) { return func() {}, nil }
