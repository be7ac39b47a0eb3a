package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/config"
)

func configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print every setting: its value (secrets redacted), where it comes from (env, .env, default) and its default",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sections, err := config.Registered()
			if err != nil {
				return err
			}
			src, err := config.NewSource()
			if err != nil {
				return err
			}
			return config.Report(cmd.OutOrStdout(), sections, src)
		},
	}
	var dir string
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Rewrite .env.example and the settings table of docs/operations.md from the registered sections",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := configFiles(dir)
			if err != nil {
				return err
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				return err
			}
			defer func() { _ = root.Close() }()
			for _, path := range []string{config.EnvExampleFile, config.OperationsFile} {
				// Documentation, world-readable like the rest of the tree.
				if err := root.WriteFile(path, files[path], 0o644); err != nil {
					return fmt.Errorf("write %s: %w", path, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", path)
			}
			return nil
		},
	}
	gen.Flags().StringVar(&dir, "dir", ".", "the repository root")
	cmd.AddCommand(gen)
	return cmd
}

// configFiles renders the files derived from the sections, by path under
// dir (whose docs/operations.md holds the table's markers).
func configFiles(dir string) (map[string][]byte, error) {
	sections, err := config.Registered()
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	doc, err := root.ReadFile(config.OperationsFile)
	if err != nil {
		return nil, err
	}
	doc, err = config.WithOperationsTable(doc, config.OperationsTable(sections))
	if err != nil {
		return nil, err
	}
	return map[string][]byte{config.EnvExampleFile: config.EnvExample(sections), config.OperationsFile: doc}, nil
}

// staleConfigFiles lists the derived files under dir that differ from
// what `app config generate` would write.
func staleConfigFiles(dir string) ([]string, error) {
	files, err := configFiles(dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	var stale []string
	for _, path := range []string{config.EnvExampleFile, config.OperationsFile} {
		have, err := root.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if !bytes.Equal(have, files[path]) {
			stale = append(stale, path)
		}
	}
	return stale, nil
}
