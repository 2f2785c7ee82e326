// Package race tells tests whether the binary was built with the race
// detector, under which the coverage computation and batches run several
// times slower, so that time bounds can allow for it.
package race
