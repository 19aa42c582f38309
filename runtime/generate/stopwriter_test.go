package generate

import (
	"strings"
	"testing"
)

func TestStopWriterHoldsBackPrefixes(t *testing.T) {
	var out strings.Builder
	w := newStopWriter(&out, []string{"END"})
	for _, piece := range []string{"hello ", "E", "N", "x", " more E", "ND tail"} {
		stopped, err := w.write(piece)
		if err != nil {
			t.Fatal(err)
		}
		if stopped {
			break
		}
		if strings.Contains(out.String(), "END") {
			t.Fatalf("stop sequence leaked: %q", out.String())
		}
	}
	if got, want := out.String(), "hello ENx more "; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if w.generated() != out.String() {
		t.Fatalf("generated %q differs from written %q", w.generated(), out.String())
	}
}

func TestStopWriterEarliestStopWins(t *testing.T) {
	var out strings.Builder
	w := newStopWriter(&out, []string{"cd", "b"})
	stopped, err := w.write("abcd")
	if err != nil || !stopped {
		t.Fatalf("stopped=%v err=%v", stopped, err)
	}
	if out.String() != "a" {
		t.Fatalf("got %q", out.String())
	}
}

func TestStopWriterNoStops(t *testing.T) {
	var out strings.Builder
	w := newStopWriter(&out, []string{""})
	w.write("abc")
	w.flush()
	if out.String() != "abc" {
		t.Fatalf("got %q", out.String())
	}
}
