package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/config"
	"github.com/omex-dev/omex/telemetry"
)

// registerConfig adds the persistent --config flag and the `config`
// command to the root command.
func registerConfig(root *cobra.Command) {
	root.PersistentFlags().String("config", "", "configuration file (default: ~/.omex/config.toml when it exists; see docs/CONFIG.md)")
	root.AddCommand(newConfigCmd())
}

// loadConfig returns the effective configuration for a command (--config,
// else ~/.omex/config.toml, then OMEX_* variables) and installs the
// [logging] logger as slog's default. Commands that read the
// configuration call it first.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	path := ""
	if f := cmd.Flag("config"); f != nil {
		path = f.Value.String()
	}
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return nil, err
	}
	logger, _, err := telemetry.NewLogger(cfg.Logging, os.Stderr)
	if err != nil {
		return nil, err
	}
	// The log file is written unbuffered and closed by the exit of the
	// process, so its closer is not kept.
	slog.SetDefault(logger)
	slog.Debug("configuration loaded", "file", cfg.File)
	return cfg, nil
}

func newConfigCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Show or check the configuration",
		Long: `config shows the effective configuration or checks a configuration file.
The configuration is --config FILE, else ~/.omex/config.toml when it exists,
then OMEX_<SECTION>_<KEY> environment variables (see docs/CONFIG.md).`,
	}
	c.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration as TOML, with where each value came from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return cfg.WriteTOML(cmd.OutOrStdout())
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a configuration file (default: the one --config or ~/.omex/config.toml names) and the OMEX_* environment",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := cmd.Flag("config").Value.String()
			if len(args) == 1 {
				path = args[0]
			}
			cfg, err := config.Load(path, os.Environ())
			if err != nil {
				return err
			}
			fromFile, fromEnv := 0, 0
			for _, k := range config.Keys() {
				switch cfg.Source(k) {
				case config.FromFile:
					fromFile++
				case config.FromEnv:
					fromEnv++
				}
			}
			if cfg.File == "" {
				fmt.Fprintf(cmd.OutOrStdout(), "OK: no configuration file; %d keys set by the environment, the rest are defaults\n", fromEnv)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "OK: %s (%d keys set by the file, %d by the environment)\n", cfg.File, fromFile, fromEnv)
			return nil
		},
	})
	return c
}
