// Package config owns the model of a node's configuration file
// (Dynomite's dynomite.yml) and its validation. It is pure: it parses bytes
// handed to it and never opens files, resolves names or binds ports; the
// daemon (cmd/dynonode) reads the file and acts on the result.
//
// Parse follows Dynomite's rules (its dyn_conf.c; docs/config.md): one
// YAML document whose only top-level key is the pool name, mapping to
// `key: value` directives or lists of scalars; no anchors, aliases, tags,
// flow collections, `---` or directives; unknown and duplicate keys are
// errors; numbers are decimal and 0 means "unset, use the default". Every error names the line and the key.
// Parse reports every mistake it finds in one pass (joined with errors.Join,
// one per line), so a user fixes a file in one round trip.
//
// dynonode extensions, kept deliberately few:
//   - data_store: 2 selects the embedded store; a file without `servers`
//     selects it too, so every Dynomite file (where `servers` is required)
//     keeps its meaning.
//   - tokens may list several tokens per node ('1,2,3'); Dynomite parses
//     that but its ring cannot use it.
//
// Addresses are checked by hand (no package net): host:port with port
// 1..65535, IPv6 hosts in [brackets], and unix /paths where Dynomite allows
// them (listen and servers). Host names are not resolved here.
package config
