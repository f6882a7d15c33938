package postgres

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestSubmissionConformance(t *testing.T) {
	storetest.RunSubmission(t, func(t *testing.T) storetest.SubmissionBackend {
		return openStore(t)
	})
}
