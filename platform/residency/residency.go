// Package residency returns to the kernel the memory a process touched
// only to start: the pages of its own executable that start-up mapped.
//
// A Go binary's code, read-only data and function tables are mapped from
// its file, and initialising some six hundred packages and building the
// dependency graph touches pages all over them; a page fault maps the 64
// KiB around the page it needs, so most of the binary stays resident in
// an idle process although serving runs a fraction of it. Dropping those
// mappings once the process is ready leaves the pages in the page cache
// (they are the file's, unmodified), and what serving runs afterwards
// comes back with a minor fault: the resident set becomes what the
// process uses, not what it used once.
package residency
