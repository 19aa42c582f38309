package llvm

import (
	"encoding/binary"
	"math"
)

// ConstTableSymbol is the symbol of an object's table of kernel constants
// for kernel set set ("omex_llvm_consts_avx2"; named per set so packages
// for several sets can share an executable). Every kernel takes a pointer
// to it as its last argument and loads its constants from there; the Go
// trampolines pass its address.
//
// Every float or vector constant of a kernel comes from the table, even
// zero (LLVM folds a zero vector into a memory operand under register
// pressure); IR literals are kept for integer immediates: loop bounds,
// offsets and shift counts.
//
// Why: the Go linker, linking a static executable internally, never
// applies the relocations inside a host object (.syso), so code that
// addressed its own constant pool (.rodata) would read address zero.
// Loading through a pointer argument leaves LLVM nothing to fold into a
// constant pool, and the object then has no relocations at all (Compile
// checks). The trampoline's reference to the table is a relocation in a
// Go object, which the Go linker does apply.
func ConstTableSymbol(set string) string { return "omex_llvm_consts_" + set }

// rowBytes is the size of one table row: one constant repeated to fill the
// widest vector (512 bits), so a row loads as a scalar or any vector.
const rowBytes = 64

// constTable collects the distinct constants of a module's kernels.
type constTable struct {
	rows  [][rowBytes]byte
	index map[[rowBytes]byte]int
}

func newConstTable() *constTable { return &constTable{index: map[[rowBytes]byte]int{}} }

// row returns the index of the row holding the little-endian bits of an
// element of size bytes, repeated.
func (c *constTable) row(bits uint64, size int) int {
	var r [rowBytes]byte
	var e [8]byte
	binary.LittleEndian.PutUint64(e[:], bits)
	for i := 0; i < rowBytes; i += size {
		copy(r[i:i+size], e[:size])
	}
	if i, ok := c.index[r]; ok {
		return i
	}
	c.rows = append(c.rows, r)
	c.index[r] = len(c.rows) - 1
	return len(c.rows) - 1
}

// bytes is the table's content (one zero row when empty, so the symbol
// always exists).
func (c *constTable) bytes() []byte {
	if len(c.rows) == 0 {
		return make([]byte, rowBytes)
	}
	out := make([]byte, 0, len(c.rows)*rowBytes)
	for _, r := range c.rows {
		out = append(out, r[:]...)
	}
	return out
}

// consts loads a kernel's constants from the table pointer it was given.
// Loads go to the function's entry block, once per distinct constant and
// type, so loops reuse them; the entry block jumps to the body when the
// kernel is finished (see finish).
type consts struct {
	table *constTable
	base  Value  // the kernel's table parameter
	entry *Block // holds the loads; terminated by finish
	cache map[constKey]Value
}

type constKey struct {
	t    Type
	bits uint64
}

// newConsts starts a kernel's constants in block entry, which must be the
// function's first block and get no other instructions.
func newConsts(table *constTable, base Value, entry *Block) *consts {
	return &consts{table: table, base: base, entry: entry, cache: map[constKey]Value{}}
}

// Int is the integer v of type t (scalar or vector of i32 or i64).
func (k *consts) Int(t Type, v int64) Value { return k.load(t, uint64(v)) }

// Float32 is v in every lane of t (float or <n x float>).
func (k *consts) Float32(t Type, v float32) Value { return k.load(t, uint64(math.Float32bits(v))) }

func (k *consts) load(t Type, bits uint64) Value {
	key := constKey{t, bits}
	if v, ok := k.cache[key]; ok {
		return v
	}
	size := t.Scalar().Bytes()
	if t.Bytes() > rowBytes || size < 1 || size > 8 {
		panic("llvm: constant of type " + t.String() + " does not fit a table row")
	}
	r := k.table.row(bits, size)
	p := k.entry.ByteOffset(k.base, ConstInt(I64, int64(r*rowBytes)), "k.p")
	v := k.entry.Load(t, p, size, "k")
	k.cache[key] = v
	return v
}

// finish ends the entry block with a jump to body, the kernel's code.
func (k *consts) finish(body *Block) { k.entry.Br(body) }
