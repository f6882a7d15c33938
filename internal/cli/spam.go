package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/config"
	"posthorn/internal/dns"
	"posthorn/internal/filter/spam"
	"posthorn/internal/operr"
)

func (e *env) spamCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "spam", Short: "Train and inspect the spam classifier; manage allow and block lists"}
	cmd.AddCommand(e.spamTrainCmd(), e.spamExplainCmd(), e.spamListCmd(false), e.spamListCmd(true))
	return cmd
}

func (e *env) spamTrainCmd() *cobra.Command {
	var spamPath, hamPath, account string
	cmd := &cobra.Command{
		Use:   "train --spam DIR|MBOX --ham DIR|MBOX [--account ADDRESS]",
		Short: "Train the global model (or an account's and the global) with a corpus of spam and one of ham",
		Long: "Train the spam classifier with messages known to be spam and messages known to be ham: a\n" +
			"directory holds one message per file (a maildir's cur/ and new/ included), a file is an mbox.\n" +
			"Without --account the global model learns; with it, the account's model and the global one.\n" +
			"The model needs messages of both classes before it judges anything.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if spamPath == "" && hamPath == "" {
				return errors.New("spam train: want --spam DIR|MBOX, --ham DIR|MBOX or both")
			}
			for _, p := range []struct{ flag, path string }{{"--spam", spamPath}, {"--ham", hamPath}} {
				if p.path == "" {
					continue
				}
				if _, err := os.Stat(p.path); err != nil {
					return fmt.Errorf("%s %s: %w", p.flag, p.path, errors.Unwrap(err))
				}
			}
			ctx := cmd.Context()
			return e.withAdmin(ctx, func(a *admin.Admin) error {
				var counts [2]int
				for i, c := range []struct {
					flag, path string
					spam       bool
				}{{"--spam", spamPath, true}, {"--ham", hamPath, false}} {
					if c.path == "" {
						continue
					}
					n, err := a.TrainSpam(ctx, account, c.path, c.spam)
					var refused *operr.Error
					if errors.As(err, &refused) {
						return err // the account, not the corpus
					}
					switch {
					case errors.Is(err, spam.ErrEmptyCorpus):
						return fmt.Errorf("%s %s: no messages in it", c.flag, c.path)
					case err != nil && n > 0:
						return fmt.Errorf("%s: %w (the %d messages before were trained)", c.flag, err, n)
					case err != nil:
						return fmt.Errorf("%s: %w", c.flag, err)
					}
					counts[i] = n
				}
				global, acc, err := a.SpamTotals(ctx, account)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "trained %d spam and %d ham messages\n", counts[0], counts[1])
				fmt.Fprintf(e.stdout, "global model: %d spam, %d ham\n", global.Spam, global.Ham)
				if account != "" {
					fmt.Fprintf(e.stdout, "model of %s: %d spam, %d ham\n", account, acc.Spam, acc.Ham)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&spamPath, "spam", "", "directory or mbox of spam")
	cmd.Flags().StringVar(&hamPath, "ham", "", "directory or mbox of ham (wanted mail)")
	cmd.Flags().StringVar(&account, "account", "", "also train this account's own model")
	return cmd
}

func (e *env) spamExplainCmd() *cobra.Command {
	var account string
	var tokens int
	cmd := &cobra.Command{
		Use:   "explain FILE [--account ADDRESS]",
		Short: "Score a message file as the MX would and show why: signals and the most telling tokens",
		Args:  exactArgs(1, "one message file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("message: %w", err)
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() || fi.Size() == 0 {
				return fmt.Errorf("message %s: not a file with a message in it", args[0])
			}
			ctx := cmd.Context()
			cfg, err := e.config()
			if err != nil {
				return err
			}
			sc := cfg.Filter.Spam
			return e.withAdmin(ctx, func(a *admin.Admin) error {
				a.Spam = spam.Config{
					JunkThreshold: sc.JunkThreshold, RejectThreshold: sc.RejectThreshold,
					DNSBLZones: sc.DNSBL, URIBLZones: sc.URIBL,
				}
				a.Resolver = dns.New(cfg.DNS.Resolver)
				score, ex, err := a.ExplainSpam(ctx, account, f, fi.Size())
				if err != nil {
					return err
				}
				return writeExplanation(e.stdout, sc, score, ex, tokens)
			})
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "score for this account: its model, lists and correspondents")
	cmd.Flags().IntVar(&tokens, "tokens", 20, "how many of the deciding tokens to show")
	return cmd
}

// writeExplanation prints a score, its reasons and the top tokens.
func writeExplanation(w io.Writer, cfg config.FilterSpam, sc spam.Score, ex *spam.Explanation, top int) error {
	verdict := "INBOX"
	switch {
	case sc.Reject:
		verdict = "reject"
	case sc.Spam:
		verdict = "Junk"
	}
	reject := "off"
	if cfg.RejectThreshold > 0 {
		reject = fmt.Sprintf("%.1f", cfg.RejectThreshold)
	}
	fmt.Fprintf(w, "score %.2f: %s (junk at %.1f, reject %s)\n", sc.Value, verdict, cfg.JunkThreshold, reject)
	fmt.Fprintf(w, "bayes probability %.4f; global model %d spam, %d ham; account model %d spam, %d ham\n",
		sc.Bayes, ex.Global.Spam, ex.Global.Ham, ex.Account.Spam, ex.Account.Ham)
	fmt.Fprintf(w, "reasons:\n")
	if len(sc.Reasons) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	}
	for _, r := range sc.Reasons {
		fmt.Fprintf(w, "  %-22s %+7.2f  %s\n", r.Name, r.Points, r.Detail)
	}
	fmt.Fprintf(w, "tokens: %d in the message, %d deciding", ex.Tokens, len(ex.Clues))
	if ex.Features.Truncated {
		fmt.Fprintf(w, " (message cut at the token or text bound)")
	}
	fmt.Fprintln(w)
	for i, c := range ex.Clues {
		if i == top {
			break
		}
		fmt.Fprintf(w, "  %.4f  spam %-5d ham %-5d %q\n", c.Prob, c.Spam, c.Ham, c.Token)
	}
	return nil
}

// spamListCmd is "spam allow" or "spam block": add, remove and list an account's entries.
func (e *env) spamListCmd(block bool) *cobra.Command {
	name, what := "allow", "Senders whose mail never goes to Junk: ADDRESS or @DOMAIN (subdomains too)"
	if block {
		name, what = "block", "Senders whose mail always goes to Junk: ADDRESS or @DOMAIN (subdomains too)"
	}
	cmd := &cobra.Command{Use: name, Short: what}
	change := func(verb string, apply func(a *admin.Admin, ctx context.Context, account, entry string, block bool) error) *cobra.Command {
		return &cobra.Command{
			Use:   verb + " ACCOUNT ADDRESS-OR-@DOMAIN",
			Short: strings.ToUpper(verb[:1]) + verb[1:] + " an entry of an account's " + name + " list",
			Args:  exactArgs(2, "ACCOUNT and ADDRESS-OR-@DOMAIN"),
			RunE: func(cmd *cobra.Command, args []string) error {
				entry, err := admin.ParseAddressOrDomain("entry", args[1])
				if err != nil {
					return err
				}
				return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
					if err := apply(a, cmd.Context(), args[0], entry, block); err != nil {
						return err
					}
					_, err = fmt.Fprintf(e.stdout, "%s: %s %s\n", args[0], verb, entry)
					return err
				})
			},
		}
	}
	cmd.AddCommand(change("add", (*admin.Admin).AddSpamListEntry), change("remove", (*admin.Admin).RemoveSpamListEntry), &cobra.Command{
		Use:   "list ACCOUNT",
		Short: "List an account's " + name + " list",
		Args:  exactArgs(1, "ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				entries, err := a.SpamList(cmd.Context(), args[0], block)
				if err != nil {
					return err
				}
				for _, en := range entries {
					fmt.Fprintln(e.stdout, en)
				}
				return nil
			})
		},
	})
	return cmd
}
