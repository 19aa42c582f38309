package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/gguf"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/tensor"
)

// inspection is what inspect shows, also its --json form.
type inspection struct {
	Path      string          `json:"path"`
	Kind      importer.Kind   `json:"kind"`
	Meta      frontend.Meta   `json:"meta"`
	Config    model.Config    `json:"config"`
	Tokenizer tokenizerInfo   `json:"tokenizer"`
	Tensors   []tensorInfo    `json:"tensors"`
	Metadata  []metadataEntry `json:"metadata,omitempty"` // GGUF key/values
}

type tokenizerInfo struct {
	Kind      string `json:"kind"`
	VocabSize int    `json:"vocab_size"`
	BOS       int    `json:"bos"`
	EOS       int    `json:"eos"`
	AddBOS    bool   `json:"add_bos"`
	Pre       string `json:"pre_tokenizer,omitempty"`
}

type tensorInfo struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

type metadataEntry struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

func newInspectCmd() *cobra.Command {
	var (
		asJSON  bool
		tokPath string
	)
	c := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Show a model's metadata, architecture, tokenizer and tensors",
		Long:  `inspect describes any input run and import accept: an OMEX package, a GGUF file (with all its metadata keys), a Hugging Face directory or a llama2.c checkpoint.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			kind, err := importer.Detect(path)
			if err != nil {
				return err
			}
			src, err := importer.Open(path, importer.OpenOptions{Tokenizer: tokPath})
			if err != nil {
				return err
			}
			defer src.Close()
			in := inspection{Path: path, Kind: kind, Meta: src.Meta(), Config: src.Config()}
			spec := src.Tokenizer()
			in.Tokenizer = tokenizerInfo{Kind: string(spec.Kind), VocabSize: len(spec.Tokens), BOS: spec.BOS, EOS: spec.EOS, AddBOS: spec.AddBOS, Pre: spec.Pre}
			for _, ti := range src.Tensors() {
				in.Tensors = append(in.Tensors, tensorInfo{Name: ti.Name, DType: dtypeName(ti, src), Shape: ti.Shape})
			}
			if f, ok := src.(*gguf.File); ok {
				for _, kv := range f.KVs() {
					in.Metadata = append(in.Metadata, metadataEntry{Key: kv.Key, Type: kv.TypeName(), Value: kv.Format(8)})
				}
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			printInspection(&in)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&tokPath, "tokenizer", "", "tokenizer file (llama2.c checkpoints need tokenizer.bin)")
	return c
}

// dtypeName names a tensor's type; GGUF tensors of types OMEX cannot read
// keep their ggml name so the user sees what the file holds.
func dtypeName(ti tensor.Info, src frontend.Source) string {
	if ti.DType.Valid() {
		return ti.DType.String()
	}
	if f, ok := src.(*gguf.File); ok {
		if gi, ok := f.TensorInfo(ti.Name); ok {
			return gi.TypeName() + " (unsupported)"
		}
	}
	return ti.DType.String()
}

func printInspection(in *inspection) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	m, c := in.Meta, in.Config
	fmt.Fprintf(w, "path\t%s (%s)\n", in.Path, in.Kind)
	fmt.Fprintf(w, "name\t%s\n", m.Name)
	fmt.Fprintf(w, "architecture\t%s (from %s)\n", m.Architecture, m.SourceFormat)
	if m.License != "" {
		fmt.Fprintf(w, "license\t%s\n", m.License)
	}
	fmt.Fprintf(w, "shape\tdim %d, hidden %d, %d layers, %d heads, %d kv heads, head dim %d\n", c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.HeadDim)
	fmt.Fprintf(w, "context\t%d tokens\n", c.SeqLen)
	fmt.Fprintf(w, "rope\t%s, theta %g\n", c.RopeLayout, c.RopeTheta)
	fmt.Fprintf(w, "norm eps\t%g\n", c.NormEps)
	fmt.Fprintf(w, "classifier\t%s\n", map[bool]string{true: "tied to the embedding", false: "separate"}[c.Tied])
	t := in.Tokenizer
	fmt.Fprintf(w, "tokenizer\t%s, %d tokens, bos %d, eos %d, add_bos %v%s\n", t.Kind, t.VocabSize, t.BOS, t.EOS, t.AddBOS, map[bool]string{true: ", pre " + t.Pre}[t.Pre != ""])
	var params int64
	for _, ti := range in.Tensors {
		params += int64(elements(ti.Shape))
	}
	fmt.Fprintf(w, "tensors\t%d (%d parameters)\n", len(in.Tensors), params)
	w.Flush()
	fmt.Println()
	for _, ti := range in.Tensors {
		fmt.Fprintf(w, "  %s\t%s\t%v\n", ti.Name, ti.DType, ti.Shape)
	}
	w.Flush()
	if len(in.Metadata) > 0 {
		fmt.Println()
		for _, kv := range in.Metadata {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", kv.Key, kv.Type, strings.ReplaceAll(kv.Value, "\n", `\n`))
		}
		w.Flush()
	}
}
