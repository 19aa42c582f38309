// Command omexc is the OMEX compiler toolchain: it imports models into OMEX
// packages, inspects and verifies them, tokenizes text, and runs models.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/omexerr"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	os.Exit(exitCode(err))
}

// usageError marks mistakes in how the command was called (cobra's own
// flag errors included); they exit with status 2.
type usageError struct{ error }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "omexc:", err)
	if e, ok := omexerr.As(err); ok {
		return e.Category.ExitCode()
	}
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "omexc",
		Short: "OMEX: compile language models into self-contained executables",
		Long: `omexc compiles a language model into one self-contained executable.

It imports models (GGUF, Hugging Face safetensors, llama2.c checkpoints) into
OMEX packages, inspects and verifies them, tokenizes text exactly as the
reference tokenizers do, lowers models to a typed IR and optimizes it with
a pass pipeline (compile), runs them (run), and builds executables for the
host or another target with generated SIMD kernels (build). Execution
containers (container) run task graphs with agents and sandboxed tools.

Exit status: 0 success, 1 unexpected failure, 2 usage error,
11 InputError, 12 ModelError, 13 ResourceError, 14 ExecutionError,
15 HardwareError, 16 ZseiError, 17 ConfigurationError.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(newImportCmd(), newInspectCmd(), newVerifyCmd(), newRunCmd(), newTokenizeCmd(), newDetokenizeCmd())
	root.AddCommand(newCompileCmd())
	root.AddCommand(newBuildCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newTargetsCmd())
	registerConfig(root)
	root.AddCommand(newContainerCmd())
	return root
}
