package devcmd

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/scaffold"
)

func newCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "new", Short: "Generate code (see: app new module --help)"}
	cmd.AddCommand(newModuleCmd())
	return cmd
}

func newModuleCmd() *cobra.Command {
	var root, entity string
	cmd := &cobra.Command{
		Use:   "module NAME",
		Short: "Generate a feature module: layers, tests, ent schema, migration, registration",
		Long: "Creates modules/NAME (fx.Module, NAMEapi, NAMEsvc, NAMEstore, NAMEschema and tests) with a CRUD " +
			"resource owned by the signed-in user, ent/schema/<entity>.go owned by the module, regenerates ent, " +
			"writes the next migration for both dialects (needs the Postgres of MIGRATE_DEV_URL) and adds the module " +
			"to cmd/app/modules/modules.go. NAME is a plural noun (notes gives the entity Note and the packages " +
			"noteapi, notesvc, notestore, noteschema). --entity names the ent entity instead (orders --entity " +
			"PurchaseOrder); a singular that ent refuses as a schema name (clients: Client is ent's) becomes " +
			"<Singular>Record, and the output says so. On any failure nothing is left behind. Run it from the " +
			"repository root.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			// Ctrl-C cancels the generation instead of killing the process,
			// so the half-written files are still removed.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err := scaffold.Generate(ctx, args[0], scaffold.Options{
				Root:   root,
				Entity: entity,
				Log:    func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) },
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "module %s is ready: go test -race ./modules/%s/...\n", args[0], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", ".", "the repository root")
	cmd.Flags().StringVar(&entity, "entity", "", "the ent entity name (a Go type name such as PurchaseOrder); default: the singular of NAME")
	return cmd
}
