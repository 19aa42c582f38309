// Command gentest writes the generated kernels of package testkernels
// (run by `go generate` there): the files of kernelset.Files, into the
// current directory.
package main

import (
	"fmt"
	"os"

	"github.com/omex-dev/omex/codegen/goasm/internal/kernelset"
)

func main() {
	files, err := kernelset.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentest:", err)
		os.Exit(1)
	}
	for _, f := range files {
		if err := os.WriteFile(f.Name, f.Data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gentest:", err)
			os.Exit(1)
		}
	}
}
