package commands

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"ticketportal/replicate"
)

// NewRestoreCommand returns `restore --replica URL --dir DIR [--timestamp
// RFC3339]`: it writes the replica's data.db into DIR (a new, empty data
// dir) as of the newest transaction, or as of the timestamp.
//
// It runs without PocketBase's bootstrap (see IsRestore): bootstrapping
// would create an empty data.db in DIR first.
func NewRestoreCommand() *cobra.Command {
	var replica, dir, timestamp string
	cmd := &cobra.Command{
		Use:          "restore --replica URL --dir DIR [--timestamp 2026-12-01T10:00:00Z]",
		Short:        "Restores a data dir from a replica written by serve --replica",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if replica == "" {
				replica = os.Getenv(replicate.URLEnv)
			}
			if replica == "" {
				return fmt.Errorf("--replica URL is required (file:///path or s3://bucket/path)")
			}
			if dir == "" {
				return fmt.Errorf("--dir DIR is required (the data dir to create)")
			}
			var at time.Time
			if timestamp != "" {
				t, err := time.Parse(time.RFC3339, timestamp)
				if err != nil {
					return fmt.Errorf("--timestamp %q: use RFC 3339, e.g. 2026-12-01T10:00:00Z", timestamp)
				}
				at = t
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			began := time.Now()
			if err := replicate.Restore(ctx, replica, dir, at); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored %s/data.db in %s (integrity check ok). Start it with: serve --dir %s\n",
				dir, time.Since(began).Round(time.Millisecond), dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&replica, "replica", "", "the replica URL (default "+replicate.URLEnv+")")
	cmd.Flags().StringVar(&dir, "dir", "", "the data dir to restore into; must not hold a data.db")
	cmd.Flags().StringVar(&timestamp, "timestamp", "", "restore the state as of this time (RFC 3339)")
	return cmd
}

// IsRestore reports whether args (os.Args) run the restore command.
func IsRestore(args []string) bool {
	return len(args) > 1 && args[1] == "restore"
}

// RunRestore runs the restore command on args (os.Args) and returns the
// process's exit code.
func RunRestore(args []string) int {
	cmd := NewRestoreCommand()
	cmd.SetArgs(args[2:])
	if err := cmd.Execute(); err != nil {
		return 1
	}
	return 0
}
