package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/frontend/importer"
)

func newImportCmd() *cobra.Command {
	var (
		out, tokPath string
		force        bool
	)
	c := &cobra.Command{
		Use:   "import SRC [-o DIR]",
		Short: "Import a model into an OMEX package",
		Long: `import converts SRC into an OMEX package directory: a GGUF file (v2/v3;
F32, F16, BF16, Q8_0 and Q4_0 tensors kept as they are), a Hugging Face
directory (config.json + model.safetensors or shards + tokenizer.json; Llama,
Mistral, Qwen2), or a llama2.c checkpoint (fp32 version 0 or int8 version 2,
with --tokenizer tokenizer.bin). Tensors stream through one at a time; the
package appears only when complete.`,
		Example: `  omexc import testdata/stories260K/stories260K.bin --tokenizer testdata/stories260K/tok512.bin -o stories260K.omex
  omexc import model.gguf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := importer.Open(args[0], importer.OpenOptions{Tokenizer: tokPath})
			if err != nil {
				return err
			}
			defer src.Close()
			if out == "" {
				base := filepath.Base(strings.TrimSuffix(args[0], string(filepath.Separator)))
				out = strings.TrimSuffix(base, filepath.Ext(base)) + ".omex"
			}
			var total int64
			for _, ti := range src.Tensors() {
				total += int64(ti.DType.DataBytes(elements(ti.Shape)))
			}
			bar := newProgress("import", total)
			err = importer.Import(src, out, importer.ImportOptions{Overwrite: force, Progress: func(name string, n int64) { bar.add(n, name) }})
			if err != nil {
				return err
			}
			bar.finish()
			fmt.Fprintf(os.Stdout, "wrote %s\n", out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "package directory to write (default: SRC's base name + .omex)")
	c.Flags().StringVar(&tokPath, "tokenizer", "", "tokenizer file (llama2.c checkpoints need tokenizer.bin)")
	c.Flags().BoolVar(&force, "force", false, "replace an existing package at the output path")
	return c
}

func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
