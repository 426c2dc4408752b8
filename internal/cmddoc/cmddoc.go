// Package cmddoc renders docs/commands.md, the table of every Redis
// command dynonode knows, from the router's table (actors/command) and
// the embedded engine's (actors/store): how a cluster serves each one, or
// why it refuses it, and whether the embedded store implements it.
// TestCommandsDoc keeps the file equal to Render; after changing either
// table, regenerate it with `make docs`.
package cmddoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dynonode/dynonode/actors/command"
	"github.com/dynonode/dynonode/actors/store"
)

// Render returns docs/commands.md.
func Render() string {
	engine := store.Commands()
	var b strings.Builder
	b.WriteString(`# Commands

Generated from the router's table (` + "`actors/command`" + `) and the embedded
engine's (` + "`actors/store`" + `) by ` + "`internal/cmddoc`" + `; ` + "`make docs`" + ` regenerates it and
` + "`TestCommandsDoc`" + ` fails when it is out of date. Routing and consistency
levels: [cluster.md](cluster.md).

- **served**: routed to the replicas of its key (writes to every rack at
  ` + "`write_consistency`" + `, reads at ` + "`read_consistency`" + `), split per key and merged
  for the multi-key ones, or answered by the node;
- **served with a rule**: the rule is given (keys sharing replicas, the
  local datastore only, admin mode);
- **refused**: an error naming the reason; the connection stays open.

The last column says whether the embedded store (` + "`data_store: 2`" + `)
implements the command; a node in front of Redis (` + "`data_store: 0`" + `) serves
every command the router serves.

| command | cluster | embedded store |
|---|---|---|
`)
	served, rule, refused, embedded := 0, 0, 0, 0
	for _, name := range command.Names() {
		s := command.Lookup([]byte(name))
		how := ""
		switch s.Class {
		case command.SingleKey:
			how, served = "served: the key's replicas", served+1
		case command.MultiKey:
			how, served = "served: split per key, merged in key order", served+1
		case command.SameOwner:
			how, rule = "served with a rule: every key on the same replicas (a common hash tag)", rule+1
			if s.NumKeysAt == 2 && strings.HasPrefix(name, "eval") {
				how += "; no key: the local datastore"
			}
		case command.LocalStore:
			how, rule = "served with a rule: this node's datastore only", rule+1
			if name == "script" {
				how = "served with a rule: LOAD and FLUSH on every node's datastore, EXISTS and KILL on the local one, DEBUG refused"
			}
		case command.Node:
			how, served = "served: answered by the node", served+1
			if name == "client" {
				how += " (SETNAME, GETNAME, ID, INFO, SETINFO, NO-EVICT, NO-TOUCH about the connection; LIST and KILL about the node's " +
					"connections; PAUSE, UNPAUSE, UNBLOCK, REPLY, TRACKING, CACHING, GETREDIR, TRACKINGINFO, HELP refused)"
			}
		case command.Admin:
			how, rule = "served with a rule: admin mode (`-x 1`) only, local datastore", rule+1
		case command.Transaction:
			how, served = "served: the node's transaction (MULTI ... EXEC on one owner's replicas)", served+1
			if name == "watch" {
				how, served, refused = "refused: replicas take writes on their own, none can tell a watched key changed; use a script", served-1, refused+1
			}
		case command.PubSub:
			how, served = "served: the nodes' pub/sub brokers (PUBLISH reaches every node's subscribers)", served+1
		case command.Blocking:
			how, rule = "served with a rule: every key on the same replicas; waits by retrying the non-blocking pop, woken by writes to the keys", rule+1
		case command.Owner:
			how, rule = "served with a rule: one owner of the key answers (ENCODING, FREQ, IDLETIME, REFCOUNT, USAGE; HELP the local datastore); on the embedded store OBJECT IDLETIME and MEMORY are refused (no access times, no allocator)", rule+1
		case command.Unsupported:
			how, refused = "refused: "+s.Why, refused+1
			if name == "config" {
				how = "refused in front of redis-server: " + s.Why + "; on the embedded store, GET and SET of the encoding thresholds (" +
					strings.Join(store.ConfigParams(), ", ") + "), SET on every node"
			}
		}
		if s.Write {
			how += " (write)"
		}
		impl := "-"
		if slices.Contains(engine, name) {
			impl, embedded = "yes", embedded+1
		} else if s.Class == command.Node || s.Class == command.Transaction || s.Class == command.PubSub || s.Class == command.Blocking {
			impl = "yes (the node)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.ToUpper(name), how, impl)
	}
	fmt.Fprintf(&b, "\n%d commands: %d served, %d served with a rule, %d refused; %d implemented by the embedded store's engine.\n",
		served+rule+refused, served, rule, refused, embedded)
	return b.String()
}
