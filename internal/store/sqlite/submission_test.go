package sqlite

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestSubmissionConformance(t *testing.T) {
	storetest.RunSubmission(t, func(t *testing.T) storetest.SubmissionBackend {
		s, _ := openTemp(t)
		return s
	})
}
