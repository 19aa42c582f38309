package ir

import (
	"testing"
)

// FuzzParse feeds arbitrary text to the parser. Parse must never panic;
// when it accepts the text, its module must print to text that parses back
// and prints the same (the printer's output is a fixed point), and Verify
// and Clone must not panic on it either; a module that verifies still
// verifies after the round trip.
func FuzzParse(f *testing.F) {
	m := buildLlama(f, testShape)
	f.Add(Print(m))
	for _, c := range opCases {
		f.Add(opModule(c.body))
	}
	f.Add("module \"m\"\ndim n = 3\nweight @\"a\\tb\" : q8_0[n,32]\nfunc @f(%x: f32[]) -> f32[] {\n  return %x\n}\n")
	f.Add("module \"\" // comment\nfunc @g() {\n  %c = const {value=-inf} : f32[]\n  return\n}\n")
	// A memory plan and a weight layout, so the fuzzer starts from their syntax too.
	f.Add("module \"p\"\nweight @w : f32[4,4] layout \"rows4\"\nfunc @f(%x: f32[seq,4]) -> f32[seq,4] {\n  %a = silu %x : f32[seq,4]\n  %b = matmul %a, @w : f32[seq,4]\n  return %b\n}\nplan @f (seq = 8) arena 256 {\n  %a at 0 size 128\n  %b at 128 size 128\n}\n")
	f.Fuzz(func(t *testing.T, src string) {
		m, err := Parse(src)
		if err != nil {
			return
		}
		verr := Verify(m)
		text := Print(m)
		m2, err := Parse(text)
		if err != nil {
			t.Fatalf("printed module does not parse: %v\n%s", err, text)
		}
		if again := Print(m2); again != text {
			t.Fatalf("print/parse is not a fixed point:\n%s\n---\n%s", text, again)
		}
		if verr == nil {
			if err := Verify(m2); err != nil {
				t.Fatalf("module verified, its reparsed text does not: %v\n%s", err, text)
			}
		}
		if Print(m.Clone()) != text {
			t.Fatal("clone prints differently")
		}
	})
}
