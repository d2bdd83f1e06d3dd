// Package crashtest holds the tests that run the built portal binary as a
// process: SIGKILL under load, graceful shutdown on SIGTERM, the static
// file handler, and backup and restore. It has no code of its own.
package crashtest
