package frontend_test

import (
	"github.com/dynonode/dynonode/internal/testproc"
)

func bulk(s string) string { return testproc.Bulk(s) }
