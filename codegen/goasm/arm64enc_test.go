package goasm

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// allNEONForms returns every WORD-encoded instruction form with a spread
// of register numbers (low, high, equal and distinct operands, every lane
// index).
func allNEONForms() []neonInst {
	var out []neonInst
	regs := [][3]int{{0, 1, 2}, {31, 30, 29}, {7, 7, 7}, {24, 8, 31}, {16, 3, 28}}
	for _, r := range regs {
		d, n, m := r[0], r[1], r[2]
		out = append(out,
			fadd4s(d, n, m), fmul4s(d, n, m), sub4s(d, n, m), and16b(d, n, m),
			scvtf4s(d, n), sxtl8h(d, n), sxtl2_8h(d, n), sxtl4s(d, n), sxtl2_4s(d, n),
			uxtl8h(d, n), uxtl4s(d, n), uxtl2_4s(d, n), shll16(d, n), shll2_16(d, n),
			ushr4s4(d, n), fcvtl4s(d, n), fcvtl2_4s(d, n),
			fdiv4s(d, n, m), fsub4s(d, n, m), fneg4s(d, n), fcvtl2d(d, n), fcvtl2_2d(d, n), fcvtn2s(d, n), fcvtn2_4s(d, n),
			fmul2d(d, n, m), fadd2d(d, n, m), fsub2d(d, n, m), frintn2d(d, n), fcvtzs2d(d, n), add2d(d, n, m), sub2d(d, n, m),
			shl2d52(d, n), cmhi2d(d, n, m), fcmge2d(d, n, m), fcmgt2d(d, n, m), orr16b(d, n, m), bic16b(d, n, m),
			orn16b(d, n, m), mvn16b(d, n))
		for i := range 4 {
			out = append(out, fmulElem4s(d, n, m, i))
		}
	}
	return out
}

// TestNEONEncodingsMatchGNUAs assembles the comment text of every
// WORD-encoded form with the GNU assembler for aarch64 and compares the
// machine words. It needs aarch64-linux-gnu-as and -objcopy (Debian
// binutils-aarch64-linux-gnu); the qemu run of the generated kernels
// (internal/testkernels) checks them by execution.
func TestNEONEncodingsMatchGNUAs(t *testing.T) {
	as, err1 := exec.LookPath("aarch64-linux-gnu-as")
	objcopy, err2 := exec.LookPath("aarch64-linux-gnu-objcopy")
	if err1 != nil || err2 != nil {
		t.Skip("aarch64-linux-gnu-as/objcopy not installed (binutils-aarch64-linux-gnu)")
	}
	insts := allNEONForms()
	var src strings.Builder
	for _, in := range insts {
		src.WriteString(in.text + "\n")
	}
	dir := t.TempDir()
	sfile, obj, bin := filepath.Join(dir, "n.s"), filepath.Join(dir, "n.o"), filepath.Join(dir, "n.bin")
	if err := os.WriteFile(sfile, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(as, "-o", obj, sfile).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	if out, err := exec.Command(objcopy, "-O", "binary", "-j", ".text", obj, bin).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 4*len(insts) {
		t.Fatalf("GNU as produced %d bytes for %d instructions", len(code), len(insts))
	}
	for i, in := range insts {
		if got := binary.LittleEndian.Uint32(code[4*i:]); got != in.word {
			t.Errorf("%s: we encode %#08x, GNU as %#08x", in.text, in.word, got)
		}
	}
}

// TestNEONLine checks the WORD directive form the kernels carry.
func TestNEONLine(t *testing.T) {
	got := fadd4s(1, 2, 3).line()
	if want := "WORD $0x4e23d441 // fadd v1.4s, v2.4s, v3.4s"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	if !bytes.Contains([]byte(fmulElem4s(0, 0, 30, 3).text), []byte("v30.s[3]")) {
		t.Error("by-element multiply does not name its lane")
	}
}
