package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
)

func graphCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "graph",
		Short: "Print the fx dependency graph as Graphviz DOT",
		Long:  "Builds the application's dependency graph without starting it (no database connection) and prints it in DOT. Render it with: app graph | dot -Tsvg > graph.svg",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			var g fx.DotGraph
			app := fx.New(appOptions(cfg, fx.Populate(&g), fx.NopLogger))
			if err := app.Err(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(g))
			return nil
		},
	}
}

func openapiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the OpenAPI 3.1 document as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			var s *httpserver.Server
			app := fx.New(appOptions(cfg, fx.Populate(&s), fx.NopLogger))
			if err := app.Err(); err != nil {
				return err
			}
			b, err := json.MarshalIndent(s.API().OpenAPI(), "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
}
