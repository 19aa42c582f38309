//go:build linux && (amd64 || arm64)

package sandbox

import (
	"syscall"
	"unsafe"
)

// Linux constants the syscall package does not define. The numbers are the
// same on amd64 and arm64 (mount_setattr is in the unified syscall table).
const (
	sysMountSetattr  = 442
	atRecursive      = 0x8000
	atFdcwd          = -100
	mountAttrRdonly  = 0x1
	mountAttrNosuid  = 0x2
	rlimitNproc      = 6
	prSetPdeathsig   = 1
	prCapbsetDrop    = 24
	prSetNoNewPrivs  = 38
	linuxCapVersion3 = 0x20080522
	maxCapability    = 63 // PR_CAPBSET_DROP answers EINVAL past the kernel's last one
)

// mountAttr is struct mount_attr of mount_setattr(2).
type mountAttr struct {
	attrSet     uint64
	attrClr     uint64
	propagation uint64
	usernsFd    uint64
}

// mountSetattr sets and clears mount attributes on path's mount, and on
// every mount below it when recursive is set. Unlike remounting each mount
// point it covers mounts it does not know about, atomically.
func mountSetattr(path string, recursive bool, set, clear uint64) error {
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		return err
	}
	flags := 0
	if recursive {
		flags = atRecursive
	}
	attr := mountAttr{attrSet: set, attrClr: clear}
	dirfd := atFdcwd
	_, _, errno := syscall.Syscall6(sysMountSetattr, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
		uintptr(flags), uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// prctl calls prctl(2) with one argument.
func prctl(option, arg uintptr) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, option, arg, 0, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// dropBoundingSet removes every capability from the calling thread's
// bounding set, so no later execve can grant one, not even to uid 0.
func dropBoundingSet() error {
	for c := uintptr(0); c <= maxCapability; c++ {
		if err := prctl(prCapbsetDrop, c); err != nil {
			if err == syscall.EINVAL {
				break // past the last capability this kernel knows
			}
			return err
		}
	}
	return nil
}

// clearCapabilities empties the calling thread's effective, permitted and
// inheritable capability sets.
func clearCapabilities() error {
	hdr := struct {
		version uint32
		pid     int32
	}{version: linuxCapVersion3}
	var data [2]struct{ effective, permitted, inheritable uint32 }
	_, _, errno := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
