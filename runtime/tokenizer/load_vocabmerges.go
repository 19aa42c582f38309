package tokenizer

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// LoadVocabMerges reads a GPT-2 style byte-level BPE vocabulary: vocab.json
// (token to id) and merges.txt (one "left right" merge per line, in rank
// order, after an optional "#version" line). The spec is Kind BPE with the
// "gpt2" pre-tokenizer, which the caller may change (Qwen2's files are the
// same format with Pre "qwen2"); "<|endoftext|>", when present, is a control
// token and both BOS and EOS.
func LoadVocabMerges(vocabJSON, mergesTXT string) (Spec, error) {
	vocab, err := os.ReadFile(vocabJSON)
	if err != nil {
		return Spec{}, omexerr.Inputf("input.not_found", "cannot read the vocabulary").WithFile(vocabJSON).Wrap(err)
	}
	merges, err := os.ReadFile(mergesTXT)
	if err != nil {
		return Spec{}, omexerr.Inputf("input.not_found", "cannot read the merges").WithFile(mergesTXT).Wrap(err)
	}
	return parseVocabMerges(vocab, merges, vocabJSON, mergesTXT)
}

// ParseVocabMerges is LoadVocabMerges on file contents already in memory;
// name is what errors call the input.
func ParseVocabMerges(vocab, merges []byte, name string) (Spec, error) {
	return parseVocabMerges(vocab, merges, name, name)
}

func parseVocabMerges(vocab, merges []byte, vocabName, mergesName string) (Spec, error) {
	tokens, err := parseVocabJSON(vocab, vocabName)
	if err != nil {
		return Spec{}, err
	}
	spec := Spec{
		Kind:   BPE,
		Tokens: tokens,
		Types:  make([]int32, len(tokens)),
		Pre:    "gpt2",
		BOS:    -1, EOS: -1, UNK: -1, PAD: -1,
	}
	ids := make(map[string]int, len(tokens))
	for id, tok := range tokens {
		spec.Types[id] = TypeNormal
		if tok == "" {
			spec.Types[id] = TypeUnused // a gap in the ids
			continue
		}
		ids[tok] = id
	}
	if id, ok := ids["<|endoftext|>"]; ok {
		spec.Types[id] = TypeControl
		spec.BOS, spec.EOS = id, id
	}
	if spec.Merges, err = parseMergesTXT(merges, mergesName, ids); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// parseVocabJSON reads a JSON object of token to id into the token list.
// Ids must be unique; gaps (rare) are left as empty tokens, but only a few,
// so a hostile file cannot make a huge list. Errors about an entry give the
// offset just after its key.
func parseVocabJSON(data []byte, name string) ([]string, error) {
	bad := func(off int64, format string, args ...any) error {
		return omexerr.Modelf("model.bad_tokenizer", format, args...).WithFile(name).WithOffset(off)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, bad(0, "vocabulary is not a JSON object of token to id")
	}
	byID := map[int]string{}
	maxID := -1
	for dec.More() {
		off := dec.InputOffset()
		kt, err := dec.Token()
		if err != nil {
			return nil, bad(off, "bad JSON: %v", err)
		}
		key, ok := kt.(string)
		if !ok {
			return nil, bad(off, "expected a token string")
		}
		off = dec.InputOffset()
		vt, err := dec.Token()
		if err != nil {
			return nil, bad(off, "bad JSON: %v", err)
		}
		num, ok := vt.(json.Number)
		if !ok {
			return nil, bad(off, "id of token %q is not a number", key)
		}
		id, err := strconv.Atoi(num.String())
		if err != nil || id < 0 || id >= 1<<31-1 {
			return nil, bad(off, "id %s of token %q is not a valid id", num, key)
		}
		if key == "" {
			return nil, bad(off, "empty token with id %d", id)
		}
		if prev, dup := byID[id]; dup {
			return nil, bad(off, "id %d is given to both %q and %q", id, prev, key)
		}
		byID[id] = key
		maxID = max(maxID, id)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(dec.InputOffset(), "bad JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad(dec.InputOffset(), "data after the vocabulary object")
	}
	if len(byID) == 0 {
		return nil, bad(0, "empty vocabulary")
	}
	if maxID >= 2*len(byID)+1024 {
		return nil, bad(0, "ids go up to %d for only %d tokens", maxID, len(byID))
	}
	tokens := make([]string, maxID+1)
	for id, tok := range byID {
		tokens[id] = tok
	}
	return tokens, nil
}

// parseMergesTXT reads merges.txt: "left right" per line, both sides and
// their concatenation vocabulary tokens (Hugging Face refuses others too).
// A "#version" line and blank lines are skipped.
func parseMergesTXT(data []byte, name string, ids map[string]int) ([]string, error) {
	var merges []string
	for ln := range textLines(data) {
		line := ln.Text
		if line == "" || strings.HasPrefix(line, "#version") {
			continue
		}
		bad := func(format string, args ...any) error {
			return lineError(name, ln, format, args...)
		}
		l, r, ok := strings.Cut(line, " ")
		if !ok || l == "" || r == "" || strings.Contains(r, " ") {
			return nil, bad("merge %q is not two tokens separated by one space", line)
		}
		for _, tok := range []string{l, r, l + r} {
			if _, in := ids[tok]; !in {
				return nil, bad("merge %q: %q is not in the vocabulary", line, tok)
			}
		}
		merges = append(merges, line)
	}
	return merges, nil
}
