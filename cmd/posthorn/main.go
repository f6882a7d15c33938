// Command posthorn is the mail server and its admin command line.
package main

import (
	"context"
	"os"

	"posthorn/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
