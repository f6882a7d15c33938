package cli

import (
	"context"
	"os/signal"
	"syscall"
)

// signalContext ends on SIGTERM or SIGINT.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, syscall.SIGTERM, syscall.SIGINT)
}
