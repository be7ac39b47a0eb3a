// Package residency drops from a process's resident set the memory it
// touched only to start: the pages of its own executable that start-up
// mapped.
//
// A Go binary's code, read-only data and function tables are mapped from
// its file, and initialising some six hundred packages and building the
// dependency graph touches pages all over them; a page fault maps the 64
// KiB around the page it needs, so most of the binary stays resident in
// an idle process although serving runs a fraction of it. Dropping those
// mappings once the process is ready leaves the pages in the page cache
// (they are the file's, unmodified), and what serving runs afterwards
// maps them again, with a minor fault while they are cached and a read
// from disk if the kernel has reclaimed them since.
package residency
