package tokenizer

import (
	"reflect"
	"slices"
	"testing"
)

func TestTextLines(t *testing.T) {
	got := slices.Collect(textLines([]byte("a b\r\n\nlast")))
	want := []textLine{{1, 0, "a b"}, {2, 5, ""}, {3, 6, "last"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("textLines = %+v, want %+v", got, want)
	}
	if got := slices.Collect(textLines(nil)); len(got) != 0 {
		t.Fatalf("textLines(nil) = %+v", got)
	}
	// Stopping early must not run on.
	for ln := range textLines([]byte("x\ny\n")) {
		if ln.No != 1 {
			t.Fatalf("saw line %d after break", ln.No)
		}
		break
	}
}
