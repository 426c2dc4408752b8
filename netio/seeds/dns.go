package seeds

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/dynonode/dynonode/actors/config"
)

// DefaultDNSTimeout bounds one DNS lookup.
const DefaultDNSTimeout = 5 * time.Second

// DNS is dns_provider: the seed list is the text of the TXT records of one
// name, in the florida "|" format.
//
// Dynomite keeps only the first character-string (at most 255 bytes) of the
// last TXT record in the answer. Here the strings of a record are
// concatenated (as net.Resolver does) and the records joined with "|", so a
// single-record setup reads the same and longer lists fit.
type DNS struct {
	// Domain is the name queried. It is queried as written, without the
	// resolver's search domains (a final "." is added), as Dynomite's
	// res_query does. New: DYNOMITE_DNS_NAME, default DefaultDNSName.
	Domain string
	// Resolver does the lookup; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// Timeout bounds one lookup. Default DefaultDNSTimeout (5 s) when 0.
	Timeout time.Duration
}

// Name implements Provider.
func (*DNS) Name() string { return DNSName }

// Fetch implements Provider. Every error names the queried name.
func (d *DNS) Fetch(ctx context.Context) ([]config.Seed, error) {
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := d.Domain
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	txts, err := r.LookupTXT(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("dns TXT %s: %w", d.Domain, err)
	}
	seeds, err := config.ParseSeedList(strings.Join(txts, "|"))
	if err != nil {
		return nil, fmt.Errorf("dns TXT %s: bad payload: %w", d.Domain, err)
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("dns TXT %s: no seeds in %d TXT records", d.Domain, len(txts))
	}
	return seeds, nil
}
