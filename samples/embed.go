package samples

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// FS holds the sample sets, one folder each. The script that regenerates a
// set stays out of it: it reads reference data that only a checkout has.
//
//go:embed jilin/README.md jilin/*.txt jilin/*.jsonl jilin/*.csv jilin/*.geojson
var FS embed.FS

// Names returns the names of the sample sets, sorted.
func Names() []string {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries { // fs.ReadDir sorts by name
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// Open opens a file of a sample set, for example Open("jilin",
// "settlements.jsonl").
func Open(set, file string) (fs.File, error) {
	// A set is one folder name and the file a path inside it, so that ".."
	// cannot reach another set.
	if set == "" || set == "." || strings.Contains(set, "/") || !fs.ValidPath(set) || !fs.ValidPath(file) {
		return nil, &fs.PathError{Op: "open", Path: set + "/" + file, Err: fs.ErrInvalid}
	}
	return FS.Open(path.Join(set, file))
}
