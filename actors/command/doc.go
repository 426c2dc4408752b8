// Package command classifies client commands for routing: which arguments
// are keys, whether a command reads or writes, whether a multi-key command
// is split per key and merged back, answered by the node itself, or refused
// because a cluster cannot serve it safely. It is a table and pure lookups;
// executing commands is the datastore's business.
package command
