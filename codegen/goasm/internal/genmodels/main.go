// Command genmodels writes the generated schedules of internal/testmodels
// (run by `go generate` in that directory): one package per
// modelset.Models entry, from the shared test models.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/omex-dev/omex/codegen/goasm/internal/modelset"
)

func main() {
	shared := filepath.Join("..", "..", "..", "..", "..", "shared", "testdata")
	if len(os.Args) > 1 {
		shared = os.Args[1]
	}
	for _, m := range modelset.Models {
		files, err := m.Files(shared)
		if err != nil {
			fmt.Fprintf(os.Stderr, "genmodels: %s: %v\n", m.Package, err)
			os.Exit(1)
		}
		if err := os.MkdirAll(m.Package, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "genmodels:", err)
			os.Exit(1)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(m.Package, f.Name), f.Data, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "genmodels:", err)
				os.Exit(1)
			}
		}
	}
}
