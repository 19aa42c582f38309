package llvm

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"sort"

	"github.com/omex-dev/omex/omexerr"
)

// maxKernelStack bounds the stack a kernel may use: the trampoline
// reserves it in its Go frame, and a kernel needing more than this has
// gone wrong (the kernels keep their state in registers).
const maxKernelStack = 4096

// Object is a compiled kernel object, checked to be linkable into a Go
// executable without cgo:
//
//   - no relocations in any loaded section: the Go linker, linking a static
//     executable internally, silently leaves relocations inside a .syso
//     unapplied (it only processes them when building a dynamic
//     executable), so code relying on one would misbehave;
//   - no undefined symbols: the kernels call nothing (no libm, no
//     memcpy);
//   - every kernel's symbol and the constant table are defined;
//   - each function's stack use is known and small.
type Object struct {
	Data       []byte   // the ELF relocatable object (shipped as a .syso)
	Symbols    []string // defined global symbols, sorted
	StackBytes int      // the largest stack frame of any kernel
}

// inspectObject checks an llc object for machine m holding kernels ks.
func inspectObject(data []byte, m machine, ks []Kernel) (*Object, error) {
	bad := func(format string, args ...any) error {
		return omexerr.Executionf("codegen.llvm_object", "kernel object for %s: "+format, append([]any{m.target.Name}, args...)...)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, bad("not an ELF object: %v", err)
	}
	defer f.Close()
	want := elf.EM_X86_64
	if m.goarch == "arm64" {
		want = elf.EM_AARCH64
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != want || f.Type != elf.ET_REL {
		return nil, bad("ELF %v %v %v, want a 64-bit %v relocatable object", f.Class, f.Machine, f.Type, want)
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, bad("reading symbols: %v", err)
	}
	defined := map[string]elf.SymType{}
	var names []string
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF {
			if s.Name != "" {
				return nil, bad("calls undefined symbol %s; kernels must not call anything", s.Name)
			}
			continue
		}
		if elf.ST_BIND(s.Info) == elf.STB_GLOBAL {
			defined[s.Name] = elf.ST_TYPE(s.Info)
			names = append(names, s.Name)
		}
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_RELA && s.Type != elf.SHT_REL {
			continue
		}
		if int(s.Info) >= len(f.Sections) {
			return nil, bad("relocation section %s points at section %d of %d", s.Name, s.Info, len(f.Sections))
		}
		target := f.Sections[s.Info]
		if target.Flags&elf.SHF_ALLOC != 0 && s.Size > 0 {
			return nil, bad("section %s has relocations (%s, %d bytes); the Go linker does not apply relocations inside a .syso of a static executable, so the kernels must not need any (a constant pool or a call slipped in)", target.Name, s.Name, s.Size)
		}
	}
	for _, k := range ks {
		if defined[SymbolPrefix+k.Name()] != elf.STT_FUNC {
			return nil, bad("function %s%s is missing", SymbolPrefix, k.Name())
		}
	}
	if _, ok := defined[ConstTableSymbol(m.target.Kernels)]; !ok {
		return nil, bad("constant table %s is missing", ConstTableSymbol(m.target.Kernels))
	}
	sort.Strings(names)
	stack, err := stackSizes(f)
	if err != nil {
		return nil, bad("%v", err)
	}
	if stack > maxKernelStack {
		return nil, bad("a kernel uses %d bytes of stack, more than %d", stack, maxKernelStack)
	}
	return &Object{Data: data, Symbols: names, StackBytes: stack}, nil
}

// stackSizes is the largest entry of the .stack_sizes section llc writes
// with -stack-size-section: per function, an 8-byte address then the
// frame size as a ULEB128.
func stackSizes(f *elf.File) (int, error) {
	s := f.Section(".stack_sizes")
	if s == nil {
		return 0, errors.New("no .stack_sizes section (llc without -stack-size-section?)")
	}
	data, err := s.Data()
	if err != nil {
		return 0, err
	}
	largest := 0
	for len(data) > 0 {
		if len(data) < 9 {
			return 0, errors.New("truncated .stack_sizes section")
		}
		v, n := binary.Uvarint(data[8:])
		if n <= 0 || v > 1<<31 {
			return 0, errors.New("bad .stack_sizes entry")
		}
		largest = max(largest, int(v))
		data = data[8+n:]
	}
	return largest, nil
}
