package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/campaign"
)

// readBody reads the file of a template body flag; "" is no body.
func readBody(flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	return string(b), nil
}

// bodyFlags are the content flags of template add and campaign create.
type bodyFlags struct {
	subject, html, text string
}

func (b *bodyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.subject, "subject", "", "the subject (a Go template)")
	cmd.Flags().StringVar(&b.html, "html", "", "file of the HTML body (an html/template)")
	cmd.Flags().StringVar(&b.text, "text", "", "file of the text body (a text/template; default: made from the HTML)")
}

// read returns the subject and the bodies read from their files.
func (b *bodyFlags) read() (subject, html, text string, err error) {
	if html, err = readBody("html", b.html); err != nil {
		return "", "", "", err
	}
	if text, err = readBody("text", b.text); err != nil {
		return "", "", "", err
	}
	return b.subject, html, text, nil
}

func (e *env) templateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Manage campaign templates"}
	var body bodyFlags
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a template (or replace the one of that name with --replace)",
		Args:  exactArgs(1, "one template name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			subject, html, text, err := body.read()
			if err != nil {
				return err
			}
			in := campaign.TemplateInput{Name: args[0], Subject: subject, HTML: html, Text: text}
			replace, _ := cmd.Flags().GetBool("replace")
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				verb := "added"
				if replace {
					verb = "replaced"
					_, err = s.UpdateTemplate(cmd.Context(), in)
				} else {
					_, err = s.CreateTemplate(cmd.Context(), in)
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "%s template %s\n", verb, in.Name)
				return err
			})
		},
	}
	body.register(add)
	add.Flags().Bool("replace", false, "replace the subject and bodies of an existing template")
	cmd.AddCommand(add, &cobra.Command{
		Use:   "list",
		Short: "List the templates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				ts, err := s.Templates(cmd.Context())
				if err != nil {
					return err
				}
				for _, t := range ts {
					fmt.Fprintf(e.stdout, "%s %q (html %d bytes, text %d bytes)\n", t.Name, t.Subject, len(t.HTML), len(t.Text))
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "show NAME",
		Short: "Show a template's subject and bodies",
		Args:  exactArgs(1, "one template name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				t, err := s.Template(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "Subject: %s\n", t.Subject)
				if t.HTML != "" {
					fmt.Fprintf(e.stdout, "--- html\n%s\n", strings.TrimSuffix(t.HTML, "\n"))
				}
				if t.Text != "" {
					fmt.Fprintf(e.stdout, "--- text\n%s\n", strings.TrimSuffix(t.Text, "\n"))
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a template (campaigns made from it keep their copy)",
		Args:  exactArgs(1, "one template name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if err := s.DeleteTemplate(cmd.Context(), args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed template %s\n", args[0])
				return err
			})
		},
	})
	return cmd
}
