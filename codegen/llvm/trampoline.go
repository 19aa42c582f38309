package llvm

import (
	"fmt"
	"strings"
)

// The trampolines are Go assembly (ABI0) functions NAME_asm that call the
// kernel's C symbol with the C calling convention (System V on amd64,
// AAPCS64 on arm64): arguments move from the Go stack frame into
// registers, the constant table's address goes last, and the kernel runs
// on a stack area inside the trampoline's own frame, so it never writes
// below what Go's stack check guaranteed. The frame is sized from the
// kernels' measured stack use (Object.StackBytes). Registers: System V and
// AAPCS64 preserve the registers Go pins (R14/R15 and R28 hold g or are
// restored by Go's ABI wrappers; X15 is re-zeroed by them on return), and
// the saved stack pointer lives in a callee-saved register (R12, R19).
// Kernels are leaf functions that never call back into Go, so no Go
// runtime state is touched while they run; a signal arriving meanwhile
// sees a PC outside Go and is not a preemption point.

// trampolineFrame is the frame size a trampoline reserves for a kernel
// using stack bytes of its own stack and stackArgs bytes of arguments:
// room for the return address, the 16-byte alignment and a margin.
func trampolineFrame(stack, stackArgs int) int {
	return roundUp(stack+stackArgs+16, 16) + 32
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// goArgs is the Go parameter list of NAME_asm and the size of its
// argument frame (pointers and ints 8 bytes, float32 4).
func goArgs(as []arg) (params string, size int) {
	ps := make([]string, len(as))
	for i, a := range as {
		ps[i] = a.name + " " + a.goType
		if a.float {
			size = roundUp(size, 4) + 4
		} else {
			size = roundUp(size, 8) + 8
		}
	}
	return strings.Join(ps, ", "), size
}

// argOffsets are the arguments' offsets in the ABI0 argument frame.
func argOffsets(as []arg) []int {
	offs := make([]int, len(as))
	off := 0
	for i, a := range as {
		if a.float {
			off = roundUp(off, 4)
			offs[i] = off
			off += 4
		} else {
			off = roundUp(off, 8)
			offs[i] = off
			off += 8
		}
	}
	return offs
}

// trampolineAMD64 is NAME_asm for amd64: integer and pointer arguments in
// DI, SI, DX, CX, R8, R9 and then on the stack, float32 ones in X0...
func trampolineAMD64(k Kernel, stack int) string {
	as := k.args()
	intRegs := []string{"DI", "SI", "DX", "CX", "R8", "R9"}
	params, size := goArgs(as)
	offs := argOffsets(as)
	var moves []string
	var stackArgs []string // registers holding values for the stack slots
	scratch := []string{"AX", "BX", "R10", "R11"}
	ni, nf := 0, 0
	place := func(load func(reg string) string) {
		if ni < len(intRegs) {
			moves = append(moves, load(intRegs[ni]))
		} else {
			r := scratch[len(stackArgs)]
			moves = append(moves, load(r))
			stackArgs = append(stackArgs, r)
		}
		ni++
	}
	for i, a := range as {
		if a.float {
			moves = append(moves, fmt.Sprintf("MOVSS %s+%d(FP), X%d", a.name, offs[i], nf))
			nf++
			continue
		}
		place(func(r string) string { return fmt.Sprintf("MOVQ %s+%d(FP), %s", a.name, offs[i], r) })
	}
	place(func(r string) string { return fmt.Sprintf("MOVQ $%s(SB), %s", ConstTableSymbol(k.kernelSet()), r) })

	argBytes := roundUp(8*len(stackArgs), 16)
	frame := trampolineFrame(stack, argBytes)
	var b strings.Builder
	fmt.Fprintf(&b, "// func %s_asm(%s)\n", k.Name(), params)
	fmt.Fprintf(&b, "TEXT ·%s_asm(SB), 0, $%d-%d\n", k.Name(), frame, size)
	for _, m := range moves {
		fmt.Fprintf(&b, "\t%s\n", m)
	}
	b.WriteString("\tMOVQ SP, R12 // callee-saved in System V\n")
	fmt.Fprintf(&b, "\tLEAQ %d(SP), R13 // the kernel's stack: the top of this frame, 16-byte aligned\n", frame)
	b.WriteString("\tANDQ $~15, R13\n")
	if argBytes > 0 {
		fmt.Fprintf(&b, "\tSUBQ $%d, R13\n", argBytes)
	}
	b.WriteString("\tMOVQ R13, SP\n")
	for i, r := range stackArgs {
		fmt.Fprintf(&b, "\tMOVQ %s, %d(SP)\n", r, 8*i)
	}
	fmt.Fprintf(&b, "\tCALL %s%s(SB)\n", SymbolPrefix, k.Name())
	b.WriteString("\tMOVQ R12, SP\n\tRET\n")
	return b.String()
}

// trampolineARM64 is NAME_asm for arm64: integer and pointer arguments in
// R0..R7, float32 ones in F0..F7 (no kernel has more than eight).
func trampolineARM64(k Kernel, stack int) string {
	as := k.args()
	params, size := goArgs(as)
	offs := argOffsets(as)
	frame := trampolineFrame(stack, 0)
	var b strings.Builder
	fmt.Fprintf(&b, "// func %s_asm(%s)\n", k.Name(), params)
	fmt.Fprintf(&b, "TEXT ·%s_asm(SB), 0, $%d-%d\n", k.Name(), frame, size)
	ni, nf := 0, 0
	for i, a := range as {
		if a.float {
			fmt.Fprintf(&b, "\tFMOVS %s+%d(FP), F%d\n", a.name, offs[i], nf)
			nf++
			continue
		}
		fmt.Fprintf(&b, "\tMOVD %s+%d(FP), R%d\n", a.name, offs[i], ni)
		ni++
	}
	fmt.Fprintf(&b, "\tMOVD $%s(SB), R%d\n", ConstTableSymbol(k.kernelSet()), ni)
	b.WriteString("\tMOVD RSP, R19 // callee-saved in AAPCS64\n")
	// The frame's locals span 8(RSP) up to at least frame(RSP)+8, and
	// RSP is 16-byte aligned, so the kernel's stack grows down from
	// frame(RSP) inside them.
	fmt.Fprintf(&b, "\tADD $%d, RSP, R20\n", frame)
	b.WriteString("\tMOVD R20, RSP\n")
	fmt.Fprintf(&b, "\tBL %s%s(SB)\n", SymbolPrefix, k.Name())
	b.WriteString("\tMOVD R19, RSP\n\tRET\n")
	return b.String()
}
