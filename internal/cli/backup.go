package cli

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"posthorn/internal/app"
	"posthorn/internal/backup"
)

func (e *env) backupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Create and verify backups of the data directory (the server may run)",
	}
	var incrementalFrom string
	create := &cobra.Command{
		Use:   "create FILE [--incremental-from BASE]",
		Short: "Write a consistent backup of the database and every message body it references",
		Long: `Write a consistent backup of the data directory to FILE (a zstd-compressed tar with a manifest of
checksums), while the server runs. FILE.partial is written first and renamed once complete.

With --incremental-from BASE, FILE holds the whole database but only the bodies that neither BASE
nor the archives BASE relies on hold; its manifest names them. BASE is verified first. Keep
the chain together: verify and restore look for it beside FILE, or take it with --base.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			return withData(cmd.Context(), cfg, func(d *app.Data) error {
				snap, ok := d.Store.(backup.Snapshotter)
				if !ok {
					return fmt.Errorf("backup create: the store %T takes no snapshot", d.Store)
				}
				bar := e.progress("backup")
				sum, err := backup.Create(cmd.Context(), backup.Source{Database: snap, Bodies: d.Blobs.Bodies(),
					TempDir: cfg.DataDir, Progress: bar.report, Base: incrementalFrom}, args[0])
				bar.finish()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "backup %s: %s\n", args[0], sum)
				return err
			})
		},
	}
	create.Flags().StringVar(&incrementalFrom, "incremental-from", "", "make an incremental backup of what BASE (an archive) does not hold")
	var verifyBases []string
	verify := &cobra.Command{
		Use:   "verify FILE [--base FILE]...",
		Short: "Check every entry of a backup against its manifest and checksums",
		Long: `Check every entry of the backup FILE against its manifest and checksums. For an incremental backup,
also check that every body it relies on is in its chain: in the archives given with --base, or
in the files its manifest names beside FILE.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			bar := e.progress("verify")
			_, sum, err := backup.VerifyChain(cmd.Context(), args[0], verifyBases, bar.report)
			bar.finish()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "ok %s: %s\n", args[0], sum)
			return err
		},
	}
	verify.Flags().StringArrayVar(&verifyBases, "base", nil, "an archive of an incremental backup's chain (repeatable; default: found beside FILE)")
	cmd.AddCommand(create, verify)
	return cmd
}

func (e *env) restoreCmd() *cobra.Command {
	var dataDir string
	var bases []string
	cmd := &cobra.Command{
		Use:   "restore FILE [--base FILE]... [--data DIR]",
		Short: "Restore a backup into an empty or new data directory",
		Long: `Restore the backup FILE into the configuration's data_dir, or into --data DIR; the directory must be
empty or not exist. The archive is checked while it is written; on any failure what was written
is removed. An incremental backup brings the bodies it relies on from its chain: the archives
given with --base, or the files its manifest names beside FILE.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataDir == "" {
				cfg, err := e.config()
				if err != nil {
					return err
				}
				dataDir = cfg.DataDir
			}
			bar := e.progress("restore")
			_, sum, err := backup.RestoreChain(cmd.Context(), args[0], bases, backup.Destination{Dir: dataDir,
				Database: app.DatabaseFile(dataDir), Bodies: app.BodiesDir(dataDir)}, bar.report)
			bar.finish()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "restored %s into %s: %s\n", args[0], dataDir, sum)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "data directory to restore into (default: the configuration's data_dir)")
	cmd.Flags().StringArrayVar(&bases, "base", nil, "an archive of an incremental backup's chain (repeatable; default: found beside FILE)")
	return cmd
}

func (e *env) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the program's version and schema version, and the data directory's schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			v, err := app.ReadSchemaVersions(cmd.Context(), cfg.DataDir)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "posthorn %s\n", programVersion())
			fmt.Fprintf(e.stdout, "schema version %d (this program)\n", v.Program)
			switch {
			case !v.HasData:
				_, err = fmt.Fprintf(e.stdout, "no database in %s\n", cfg.DataDir)
			case v.Data > v.Program:
				_, err = fmt.Fprintf(e.stdout, "schema version %d (%s): newer than this program, which will refuse to start on it\n", v.Data, v.Database)
			case v.Data < v.Program:
				_, err = fmt.Fprintf(e.stdout, "schema version %d (%s): older, migrated at the next start after a copy to %s\n",
					v.Data, v.Database, "backups/")
			default:
				_, err = fmt.Fprintf(e.stdout, "schema version %d (%s)\n", v.Data, v.Database)
			}
			return err
		},
	}
}

// programVersion is the module version the binary was built from, with its VCS revision.
func programVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev != "" {
		v += fmt.Sprintf(" (revision %.12s%s)", rev, modified)
	}
	return v
}

// progressBar draws a run's progress on a terminal; on anything else it draws nothing.
type progressBar struct {
	bar *progressbar.ProgressBar
}

// progress returns a bar for standard output when it is a terminal.
func (e *env) progress(what string) *progressBar {
	f, ok := e.stdout.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progressBar{}
	}
	return &progressBar{bar: progressbar.NewOptions64(-1, progressbar.OptionSetWriter(io.Writer(f)),
		progressbar.OptionSetDescription(what), progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true))}
}

func (p *progressBar) report(done, total int64) {
	if p.bar == nil {
		return
	}
	if p.bar.GetMax64() != total {
		p.bar.ChangeMax64(total)
	}
	_ = p.bar.Set64(done)
}

func (p *progressBar) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
