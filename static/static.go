// Package static holds the browser assets Parley serves: its stylesheet and
// scripts, and vendored third-party files under vendor/ with their version in
// the file name. Everything is embedded, so the binary needs no asset folder.
package static

import "embed"

// Files is the asset tree, served under /static/.
//
//go:embed *.css *.js *.svg vendor
var Files embed.FS
