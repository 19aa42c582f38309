package omexerr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorNamesPlace(t *testing.T) {
	e := Modelf("model.truncated", "tensor data ends early").WithFile("m.gguf").WithOffset(1234).WithTensor("blk.0.attn_q.weight")
	s := e.Error()
	for _, want := range []string{"ModelError", "model.truncated", "m.gguf", "offset 1234", "blk.0.attn_q.weight"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
	if strings.Contains(Inputf("x", "y").Error(), "offset") {
		t.Error("an error without a file must not print an offset")
	}
}

func TestCategoriesAndExitCodes(t *testing.T) {
	seen := map[int]Category{}
	for c := Input; c <= Configuration; c++ {
		if strings.HasPrefix(c.String(), "Category(") {
			t.Errorf("category %d has no name", c)
		}
		if prev, dup := seen[c.ExitCode()]; dup {
			t.Errorf("%v and %v share exit code %d", prev, c, c.ExitCode())
		}
		if code := c.ExitCode(); code <= 2 || code > 125 {
			t.Errorf("%v exit code %d collides with conventional statuses", c, code)
		}
		seen[c.ExitCode()] = c
	}
}

func TestAsThroughWrapping(t *testing.T) {
	cause := errors.New("disk full")
	e := Resourcef("resource.write", "cannot write").Wrap(cause)
	wrapped := fmt.Errorf("import: %w", e)
	if got, ok := As(wrapped); !ok || got != e {
		t.Fatal("As did not find the OMEX error through wrapping")
	}
	if CategoryOf(wrapped) != Resource || CategoryOf(cause) != 0 {
		t.Fatal("CategoryOf is wrong")
	}
	if !errors.Is(wrapped, cause) {
		t.Fatal("the cause is not reachable with errors.Is")
	}
}
