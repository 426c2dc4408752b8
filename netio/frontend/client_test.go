package frontend_test

import (
	"github.com/dynonode/dynonode/internal/testproc"
)

// ioWait bounds every wait of these tests; the client is testproc's.
const ioWait = testproc.IOWait

func bulk(s string) string { return testproc.Bulk(s) }
