package llvm

import (
	"bytes"
	"context"
	"testing"

	"github.com/omex-dev/omex/codegen/goasm"
)

// FuzzInspectObject feeds arbitrary bytes to the object check (ELF
// reading, relocation and symbol scans, the .stack_sizes parser): it must
// return an error, never panic. Seeds: real kernel objects when llc is
// installed, and a few truncations of them.
func FuzzInspectObject(f *testing.F) {
	f.Add([]byte("\x7fELF"))
	f.Add([]byte{})
	var m machine
	var ks []Kernel
	if l, err := FindLLC(); err == nil {
		tg := simdTargets(f)[1]
		m, _ = machineFor(tg)
		ks = []Kernel{MatVec{goasm.ISA(tg.Kernels), 0, 8, 8}, Elementwise{OpAdd, tg.Kernels, 5}}
		if obj, err := l.Compile(context.Background(), tg, ks); err == nil {
			f.Add(obj.Data)
			f.Add(obj.Data[:len(obj.Data)/2])
			f.Add(bytes.Repeat(obj.Data[:64], 3))
		}
	} else {
		m, _ = machineFor(simdTargets(f)[1])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := inspectObject(data, m, ks)
		if err == nil && (obj.StackBytes > maxKernelStack || len(obj.Data) != len(data)) {
			t.Fatalf("accepted object with stack %d", obj.StackBytes)
		}
	})
}
