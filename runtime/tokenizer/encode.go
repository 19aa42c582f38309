package tokenizer

import (
	"sort"
	"strings"
)

// Encode turns text into token ids. Special-token texts found in the text
// become their ids and the text between them is encoded by the algorithm,
// following llama.cpp's llama_vocab::tokenize: user-defined (added) tokens
// are always recognised, control and unknown tokens ("<s>", "<|eot_id|>")
// only when opt.ParseSpecial is set, so that untrusted text cannot inject
// them. BOS and EOS are added when asked for and the vocabulary has them.
func (t *Tokenizer) Encode(text string, opt EncodeOptions) []int {
	var out []int
	if opt.AddBOS && t.validID(t.spec.BOS) {
		out = append(out, t.spec.BOS)
	}
	for _, f := range t.partition(text, opt.ParseSpecial) {
		if f.id >= 0 {
			out = append(out, f.id)
			continue
		}
		out = append(out, t.impl.encode(f.text)...)
	}
	if opt.AddEOS && t.validID(t.spec.EOS) {
		out = append(out, t.spec.EOS)
	}
	return out
}

func (t *Tokenizer) validID(id int) bool { return id >= 0 && id < len(t.spec.Tokens) }

// fragment is a piece of the input: raw text (id -1) or a special token.
type fragment struct {
	text string
	id   int
}

// partition splits text on special-token texts the way llama.cpp's
// tokenizer_st_partition does: each special token in turn, longest first,
// is cut out of every text fragment that remains. That is not always the
// same as a left-to-right longest match (a longer token later in the text
// wins over a shorter overlapping one earlier), and llama.cpp's result is
// the one models are used with.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{text: text, id: -1}}
	for _, id := range t.specialOrder {
		typ := t.spec.Types[id]
		if !parseSpecial && (typ == TypeControl || typ == TypeUnknown) {
			continue
		}
		sp := t.spec.Tokens[id]
		var out []fragment
		for _, f := range frags {
			if f.id >= 0 || !strings.Contains(f.text, sp) {
				out = append(out, f)
				continue
			}
			rest := f.text
			for {
				i := strings.Index(rest, sp)
				if i < 0 {
					break
				}
				if i > 0 {
					out = append(out, fragment{text: rest[:i], id: -1})
				}
				out = append(out, fragment{id: id})
				rest = rest[i+len(sp):]
			}
			if rest != "" {
				out = append(out, fragment{text: rest, id: -1})
			}
		}
		frags = out
	}
	return frags
}

// specialOrder lists the ids of the tokens that partition may cut out of
// text (control, user-defined and unknown tokens with non-empty text),
// longest text first as llama.cpp's cache_special_tokens is sorted; equal
// lengths go by id so the order is deterministic.
func specialOrder(spec *Spec) []int {
	var ids []int
	for id, typ := range spec.Types {
		if id >= len(spec.Tokens) || spec.Tokens[id] == "" {
			continue
		}
		if typ == TypeControl || typ == TypeUserDefined || typ == TypeUnknown {
			ids = append(ids, id)
		}
	}
	sort.SliceStable(ids, func(i, j int) bool {
		return len(spec.Tokens[ids[i]]) > len(spec.Tokens[ids[j]])
	})
	return ids
}
