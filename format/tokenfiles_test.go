package format

import (
	"testing"

	"github.com/omex-dev/omex/omexerr"
)

func TestEscapeToken(t *testing.T) {
	cases := map[string]string{
		"hello":     "hello",
		"a b":       "a b",
		"\n":        `\x0a`,
		"\\":        `\\`,
		`\x41`:      `\\x41`,
		"\x00\x7f":  `\x00\x7f`,
		"\xff":      `\xff`,
		"é▁":        "é▁",
		"\xe2\x96":  `\xe2\x96`, // a cut-off UTF-8 sequence is bytes
		"tab\there": `tab\x09here`,
	}
	for in, want := range cases {
		got := EscapeToken(in)
		if got != want {
			t.Errorf("EscapeToken(%q) = %q, want %q", in, got, want)
		}
		back, err := UnescapeToken(got)
		if err != nil || back != in {
			t.Errorf("UnescapeToken(%q) = %q, %v; want %q", got, back, err, in)
		}
	}
	for _, bad := range []string{`\`, `\q`, `\x4`, `\xzz`, "raw\ttab", "\xff", "cr\r"} {
		if _, err := UnescapeToken(bad); omexerr.CategoryOf(err) != omexerr.Model {
			t.Errorf("UnescapeToken(%q) accepted: %v", bad, err)
		}
	}
}

func TestDecodeLinesOffsets(t *testing.T) {
	_, err := decodeLines([]byte("ok\nbad\\q\n"), VocabFile, 2)
	if err == nil || err.File != VocabFile || err.Offset != 6 {
		t.Fatalf("want an error at offset 6 of %s, got %v", VocabFile, err)
	}
	got, err := decodeLines(nil, VocabFile, 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty file: %q %v", got, err)
	}
}
