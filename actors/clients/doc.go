// Package clients is a node's registry of its Redis client connections,
// behind CLIENT LIST and CLIENT KILL: one actor, named Name on every node,
// and the line format CLIENT LIST and CLIENT INFO share (Entry).
//
// Each connection's coordinator (actors/coord) sends an Update when it
// starts and whenever a part of its state that changes on a few commands
// only changes (name, user, subscriptions, entering or leaving MULTI,
// NO-EVICT), and Left when it ends: nothing is sent per request. What
// changes per request (the last command, idle time, the commands queued
// in MULTI, a blocking pop waiting) the registry asks each coordinator for
// when a CLIENT LIST comes (Ask, answered by Report), waiting at most
// Config.Wait; a connection that has not answered by then is shown as the
// registry last knew it. CLIENT KILL is decided on what the registry
// knows: it tells each connection it kills to close (Close), and forgets
// it at once.
//
// The registry answers ListReq and KillReq with a store.Result carrying
// the client's reply, as the pub/sub broker answers PUBSUB, so that the
// asking coordinator keeps its replies in order and times the request
// out like any other. Entries live in the registry's memory only: a
// registry restarted after a panic learns a connection again at its next
// Update.
package clients
