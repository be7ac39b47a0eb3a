package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/fxgraph"
)

func graphCmd() *cobra.Command {
	var format, level string
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Draw the dependency graph: modules, what they consume from each other, routes, hooks",
		Long: "Builds the application without starting it (no database connection, no listener) and draws it. " +
			"--level module: one node per fx.Module with the routes it serves and the lifecycle hooks it registers, " +
			"edges labelled with the types a module consumes from another. --level provider: every constructor, " +
			"grouped by module. --format dot, svg (laid out in-process, no graphviz needed), json or mermaid.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			g, err := fxgraph.Collect(appOptions(platform.WithConfig(cfg)))
			if err != nil {
				return err
			}
			out, err := fxgraph.Render(g, format, level)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "dot", "dot, svg, json or mermaid")
	cmd.Flags().StringVar(&level, "level", "module", "module or provider")
	return cmd
}

func openapiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the OpenAPI 3.1 document as JSON (docs/openapi.json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			oapi, err := document()
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(oapi, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
}

// debugGraph serves /debug/graph in development (404 in production).
func debugGraph(cfg config.Config) fx.Option {
	return fxgraph.Debug(cfg.IsProduction(), func() fx.Option { return appOptions(platform.WithConfig(cfg)) })
}
