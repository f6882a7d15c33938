package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"posthorn/internal/config"
)

func (e *env) configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show the configuration reference or check a file"}
	cmd.AddCommand(&cobra.Command{
		Use:   "reference",
		Short: "Print every configuration key with its unit and default",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(e.stdout, config.Reference)
			return err
		},
	}, &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a configuration file (FILE or -c)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := e.configPath
			if len(args) == 1 {
				path = args[0]
			}
			if path == "" {
				return fmt.Errorf("config check: give a file, or -c FILE")
			}
			if _, err := config.Load(path); err != nil {
				return err
			}
			_, err := fmt.Fprintf(e.stdout, "%s: ok\n", path)
			return err
		},
	})
	return cmd
}
