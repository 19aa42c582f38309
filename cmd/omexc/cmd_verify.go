package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/format"
)

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify PKG",
		Short: "Check an OMEX package's integrity and structure",
		Long: `verify checks every file of an OMEX package against manifest.json (present,
size, sha256, nothing unlisted in weights/), then the structure: every weight
record agrees with the index and every weight the graph needs is present with
the right dtype and shape. It names the first thing that fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.Verify(args[0]); err != nil {
				return err
			}
			fmt.Printf("%s: OK\n", args[0])
			return nil
		},
	}
}
