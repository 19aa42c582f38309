package llama2c

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

func TestOpenStories260K(t *testing.T) {
	dir := storiesDir(t)
	tokPath := filepath.Join(dir, "tok512.bin")
	for _, file := range []string{"stories260K.bin", "stories260K_q80.bin"} {
		c, err := Open(filepath.Join(dir, file), tokPath)
		if err != nil {
			t.Fatal(err)
		}
		if cfg := c.Config(); cfg != stories260KConfig {
			t.Errorf("%s: config %+v", file, cfg)
		}
		tok := c.Tokenizer()
		if tok.Kind != tokenizer.SPM || len(tok.Tokens) != 512 || tok.BOS != 1 || tok.EOS != 2 {
			t.Errorf("%s: tokenizer kind %s, %d tokens, bos %d, eos %d", file, tok.Kind, len(tok.Tokens), tok.BOS, tok.EOS)
		}
		readAll(t, c)
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		// Reading after Close fails cleanly.
		if _, err := c.ReadTensor("token_embd.weight"); omexerr.CategoryOf(err) != omexerr.Model {
			t.Errorf("%s: read after close: %v", file, err)
		}
	}
}

func TestOpenNeedsTokenizer(t *testing.T) {
	_, err := Open("model.bin", "")
	e, ok := omexerr.As(err)
	if !ok || e.Category != omexerr.Input || e.Code != "input.tokenizer_required" || e.Flag != "--tokenizer" {
		t.Fatalf("got %v, want input.tokenizer_required on --tokenizer", err)
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "absent.bin"), "tok.bin")
	if omexerr.CategoryOf(err) != omexerr.Input {
		t.Fatalf("got %v, want an InputError", err)
	}
}

// TestOpenWrongTokenizer gives stories260K Llama 2's 32000-piece
// tokenizer.bin: the sizes differ, and the error names both.
func TestOpenWrongTokenizer(t *testing.T) {
	dir := storiesDir(t)
	llama := filepath.Join(dir, "..", "..", "tokenizers", "llama2-tokenizer.bin")
	if _, err := os.Stat(llama); err != nil {
		t.Skipf("no %s: %v", llama, err)
	}
	ckpt := filepath.Join(dir, "stories260K.bin")
	_, err := Open(ckpt, llama)
	e := wantModelError(t, err, ckpt)
	if e.Code != "model.vocab_mismatch" {
		t.Fatalf("got %v, want model.vocab_mismatch", err)
	}
	t.Log(err)
}
