package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// openTokenizer loads a tokenizer; pre, when set, overrides the BPE
// pre-tokenizer (vocab.json + merges.txt do not say which one they need).
func openTokenizer(path, pre string) (*tokenizer.Tokenizer, error) {
	spec, err := importer.OpenTokenizer(path)
	if err != nil {
		return nil, err
	}
	if pre != "" {
		if spec.Kind != tokenizer.BPE {
			return nil, omexerr.Inputf("input.bad_flag", "--pre applies to byte-level BPE tokenizers; %s is %s", path, spec.Kind).WithFlag("--pre")
		}
		spec.Pre, spec.PreRegex = pre, nil
	}
	return importer.NewTokenizer(spec, path)
}

func newTokenizeCmd() *cobra.Command {
	var (
		idsOnly, noBOS, parseSpecial bool
		file, pre                    string
	)
	c := &cobra.Command{
		Use:   "tokenize MODEL|TOKENIZER-FILE [TEXT]",
		Short: "Show the token ids of a text",
		Long: `tokenize encodes TEXT (or the contents of --file) with the tokenizer of a
model or tokenizer file: an OMEX package, GGUF (vocab-only files too), a
Hugging Face directory or tokenizer.json, vocab.json + merges.txt, a
SentencePiece .model, a tiktoken ranks file, or a llama2.c tokenizer.bin.
BOS is added when the tokenizer asks for it, unless --no-bos.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var text string
			switch {
			case file != "" && len(args) == 2:
				return usageError{fmt.Errorf("give TEXT or --file, not both")}
			case file != "":
				b, err := os.ReadFile(file)
				if err != nil {
					return omexerr.Inputf("input.text_file", "cannot read the text file").WithFile(file).WithFlag("--file").Wrap(err)
				}
				text = string(b)
			case len(args) == 2:
				text = args[1]
			default:
				return usageError{fmt.Errorf("give TEXT or --file")}
			}
			tok, err := openTokenizer(args[0], pre)
			if err != nil {
				return err
			}
			spec := tok.Spec()
			ids := tok.Encode(text, tokenizer.EncodeOptions{AddBOS: spec.AddBOS && !noBOS, AddEOS: spec.AddEOS, ParseSpecial: parseSpecial})
			if idsOnly {
				s := make([]string, len(ids))
				for i, id := range ids {
					s[i] = strconv.Itoa(id)
				}
				fmt.Println(strings.Join(s, " "))
				return nil
			}
			for _, id := range ids {
				fmt.Printf("%6d  %q\n", id, spec.Tokens[id])
			}
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&idsOnly, "ids", false, "print only the ids, space-separated")
	f.BoolVar(&noBOS, "no-bos", false, "do not add the BOS token")
	f.BoolVar(&parseSpecial, "parse-special", false, "recognise special token texts such as <s> in the input")
	f.StringVarP(&file, "file", "f", "", "read the text from this file")
	f.StringVar(&pre, "pre", "", "BPE pre-tokenizer to use (e.g. qwen2, llama3), for vocab.json + merges.txt which do not name theirs")
	return c
}

func newDetokenizeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "detokenize MODEL|TOKENIZER-FILE IDS...",
		Short: "Turn token ids back into text",
		Long:  `detokenize decodes token ids (separate arguments, or one argument with ids separated by spaces or commas) into text.`,
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := openTokenizer(args[0], "")
			if err != nil {
				return err
			}
			var ids []int
			for _, a := range args[1:] {
				for _, f := range strings.FieldsFunc(a, func(r rune) bool { return r == ',' || r == ' ' || r == '[' || r == ']' }) {
					id, err := strconv.Atoi(f)
					if err != nil || id < 0 || id >= tok.VocabSize() {
						return omexerr.Inputf("input.bad_token_id", "%q is not a token id in [0, %d)", f, tok.VocabSize())
					}
					ids = append(ids, id)
				}
			}
			fmt.Println(tok.Decode(ids))
			return nil
		},
	}
}
