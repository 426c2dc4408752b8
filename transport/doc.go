// Package transport is dynonode's production runtime: it hosts actors
// (actors.Behaviour) in a process and links the process to its peers.
//
// What hollywood (github.com/anthdm/hollywood v1.0.5) does here, and no
// more: Start creates its engine (actor.NewEngine), and each actor is
// registered in the engine's registry as a process of its own
// (Engine.SpawnProc) under the PID "a/<name>", which calls the process's
// Start; a stopped actor is removed from the registry. hollywood's inboxes,
// its per-actor goroutines and scheduling, its restart path and its remote
// package are not used.
//
// What the project does itself:
//   - delivery and routing (node.go): a name-to-cell map looked up on every
//     send; messages between local actors never pass through the engine;
//   - the mailbox and scheduling (cell.go): each actor's mailbox is a
//     slice under a mutex; a message for an idle actor is handled at once
//     on the sender's goroutine, otherwise a goroutine is started only while
//     messages wait; one message at a time per actor;
//   - actors.Context (cell.go): Self, Sender, Send, Spawn, Stop, the clock
//     (read once per turn, shifted by SetClockOffset for fault injection),
//     Elapsed on the monotonic clock, per-actor seeded randomness, and
//     timers (After/Cancel on time.AfterFunc, dropped when the actor
//     restarts);
//   - panic recovery: a panicking actor is logged, restarted with fresh
//     state (Restarted, then Started) and stopped after maxCrashLoop
//     panics in a row, because hollywood's own restart path crashes the
//     process past its MaxRestarts;
//   - peer links (link.go, node.go): our own TCP, length-prefixed msgpack
//     envelopes (actors/msg), a pool of connections per peer, each with a
//     bounded queue (LinkQueue) under a bound for all links (MaxQueued, as
//     Dynomite's max_msgs), redial with backoff, requests bounced back to
//     their senders while a peer is unreachable, an admission gate on
//     inbound readers, and failpoints. A local mailbox has no bound of its
//     own: load is bounded where it enters the node (the client front
//     end's backpressure, the peer queues, the admission gate).
//
// transport owns goroutines, sockets and time; it must hold no cluster logic:
// everything a node decides is decided in actors/ so the simulator runs it
// too.
package transport
