// Command mailbench drives a mail server with load and reports throughput and latency. It speaks
// only the standard protocols, so the same run can be pointed at posthorn and at another server
// (Postfix, say) and the figures compared. It is a separate tool, not part of the server binary.
//
// Each mode is a subcommand in its own file (smtp.go); stats.go holds what the modes share: the
// per-worker tally, the percentile computation and the report, printed as text or as one JSON
// object. A new mode (imap, pop3, sink) adds a file with its command and its run function and
// one line in newRootCommand.
//
// Exit status: 0 when every message went through, 1 when any was refused or failed (the first
// few distinct errors are printed on stderr), 2 for a bad command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // a message was refused or failed, or the report could not be written
	exitUsage  = 2 // bad command line
)

func main() {
	// The first SIGINT or SIGTERM stops the run: no new message is started, the report covers
	// what was done. A second one kills the program as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runFailure is an error of a run that started: it ends the program with exitFailed. Any other
// error (flags, arguments, configuration) ends it with exitUsage.
type runFailure struct{ err error }

func (f runFailure) Error() string { return f.err.Error() }
func (f runFailure) Unwrap() error { return f.err }

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	if errors.As(err, new(runFailure)) {
		return exitFailed
	}
	return exitUsage
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "mailbench",
		Short: "Load generator and benchmark for mail servers",
		Long: "mailbench drives a mail server over its standard protocols and reports messages/s,\n" +
			"MB/s and latency percentiles, so that different servers can be compared in one run.",
		SilenceErrors: true, // run prints them, on one line
		SilenceUsage:  true,
		// Suggestions ("Did you mean this?") would take the error message over several lines.
		DisableSuggestions: true,
		CompletionOptions:  cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w (see --help)", err)
	})
	root.AddCommand(newSMTPCommand())
	root.AddCommand(newPOP3Command())
	root.AddCommand(newIMAPCommand())
	root.AddCommand(newFillCommand())
	root.AddCommand(newSinkCommand())
	root.AddCommand(newLoginCommand())
	root.AddCommand(newDNSCommand())
	root.AddCommand(newSampleCommand())
	return root
}
