package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/targets"
)

// targetEntry is one target as `omexc targets --json` shows it.
type targetEntry struct {
	targets.Target
	HostBest bool `json:"host_best"` // the default target on this host
	Native   bool `json:"native"`    // its executables run natively here
}

// targetsReport is the whole --json document.
type targetsReport struct {
	Host struct {
		CPU    string `json:"cpu"`
		GOOS   string `json:"goos"`
		GOARCH string `json:"goarch"`
		Best   string `json:"best"`
	} `json:"host"`
	Targets []targetEntry `json:"targets"`
}

func newTargetsCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "targets [--json]",
		Short: "List the hardware targets omexc builds for, marking this host's best",
		Long: `targets lists every target omexc can build an executable for: its platform,
vector width, kernel set, the Go level it builds with, and the CPU features
its kernels use. "*" marks the best target this host supports (what omexc
builds for when --target is not given); "+" marks the other targets whose
executables run natively here. The rest need their hardware, or an emulator
such as qemu-user. The generic target builds pure-Go kernels for any
GOOS/GOARCH the Go toolchain supports. See docs/TARGETS.md.`,
		Example: `  omexc targets
  omexc targets --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r := newTargetsReport()
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			return writeTargets(os.Stdout, r)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	return c
}

func newTargetsReport() targetsReport {
	var r targetsReport
	best := targets.Host()
	r.Host.CPU = targets.HostCPU()
	r.Host.GOOS, r.Host.GOARCH, r.Host.Best = best.GOOS, best.GOARCH, best.Name
	for _, t := range targets.All() {
		r.Targets = append(r.Targets, targetEntry{Target: t, HostBest: t.Name == best.Name, Native: t.Supported()})
	}
	return r
}

func writeTargets(w io.Writer, r targetsReport) error {
	cpu := r.Host.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(w, "host: %s (%s/%s); best target: %s\n\n", cpu, r.Host.GOOS, r.Host.GOARCH, r.Host.Best)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\ttarget\tos/arch\tvector\tkernels\tbuild\tfeatures\tdescription")
	for _, e := range r.Targets {
		mark := ""
		switch {
		case e.HostBest:
			mark = "*"
		case e.Native:
			mark = "+"
		}
		vector, features, level := "none", "-", "-"
		if e.VectorBits > 0 {
			vector = fmt.Sprintf("%d-bit", e.VectorBits)
		}
		if len(e.Features) > 0 {
			features = strings.Join(e.Features, ",")
		}
		if e.LevelVar != "" {
			level = e.LevelVar + "=" + e.Level
		}
		fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\n",
			mark, e.Name, e.GOOS, e.GOARCH, vector, e.Kernels, level, features, e.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprint(w, "\nmarks: * best target for this host (the default), + also runs natively here\n"+
		"generic builds for any Go port: --target=generic --goos=OS --goarch=ARCH (generic is shown for this host)\n")
	return err
}
