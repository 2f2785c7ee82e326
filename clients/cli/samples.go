package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/civic-standards/coverage/samples"
)

func samplesCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "samples [SET] [--dir DIR]",
		Short: "List the embedded sample sets of settlements, or write one out to audit",
		Long: `Without SET, list the embedded sample sets and their files. With SET, write its files
(settlements.jsonl, settlements.csv, central-areas.geojson, bus-stops.csv, README.md and
licences) into --dir, ready for

  coverage audit --in DIR/settlements.jsonl --out results.jsonl

The README of each set says which figures are real (with sources) and which are illustrative.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if len(args) == 0 {
				for _, name := range samples.Names() {
					entries, err := fs.ReadDir(samples.FS, name)
					if err != nil {
						return err
					}
					fmt.Fprintln(out, name)
					for _, e := range entries {
						info, err := e.Info()
						if err != nil {
							return err
						}
						fmt.Fprintf(out, "  %-24s %9d bytes\n", e.Name(), info.Size())
					}
				}
				return nil
			}
			set := args[0]
			entries, err := fs.ReadDir(samples.FS, set)
			if err != nil || !validSet(set) {
				return fmt.Errorf("%w: no sample set %q; `coverage samples` lists them", errUsage, set)
			}
			if dir == "" {
				return fmt.Errorf("%w: --dir is required to write a set out", errUsage)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("%w: --dir: %v", errUsage, err)
			}
			for _, e := range entries {
				if err := copyOut(set, e.Name(), filepath.Join(dir, e.Name())); err != nil {
					return err
				}
				fmt.Fprintln(out, filepath.Join(dir, e.Name()))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder to write the set's files into (created if missing; existing files are replaced)")
	return cmd
}

func validSet(set string) bool {
	for _, n := range samples.Names() {
		if n == set {
			return true
		}
	}
	return false
}

func copyOut(set, name, dest string) error {
	src, err := samples.Open(set, name)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, src)
	return errors.Join(err, f.Close())
}
