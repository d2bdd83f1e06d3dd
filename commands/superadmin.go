// Package commands holds the portal's own command line commands.
package commands

import (
	"database/sql"
	"errors"
	"fmt"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/validate"
)

// NewSuperadminCommand returns `superadmin upsert EMAIL USERNAME PASSWORD`.
func NewSuperadminCommand(app core.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "superadmin",
		Short: "Manages the portal's superAdmin accounts",
	}
	cmd.AddCommand(&cobra.Command{
		Use:          "upsert EMAIL USERNAME PASSWORD",
		Short:        "Creates a superAdmin, or resets the password and role of that email's admin account",
		Args:         cobra.ExactArgs(3),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// bootstrap applies only PocketBase's own migrations
			if err := app.RunAllMigrations(); err != nil {
				return err
			}
			created, err := UpsertSuperAdmin(app, args[0], args[1], args[2])
			if err != nil {
				return err
			}
			verb := "Updated"
			if created {
				verb = "Created"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s superAdmin %s.\n", verb, args[0])
			return nil
		},
	})
	return cmd
}

// UpsertSuperAdmin creates a verified superAdmin with the given email, or
// resets the password, role and user name of the admin that has it. It
// reports whether the account was created.
func UpsertSuperAdmin(app core.App, email, userName, password string) (bool, error) {
	if err := (validation.Errors{
		"email":    validate.Field(email, validate.EmailRules),
		"userName": validate.Field(userName, validate.UserNameRules),
		"password": validate.Field(password, validate.PasswordRules),
	}).Filter(); err != nil {
		return false, fmt.Errorf("invalid superAdmin: %w", err)
	}
	admin, err := app.FindAuthRecordByEmail(policy.Admins, email)
	created := false
	switch {
	case errors.Is(err, sql.ErrNoRows):
		col, err := app.FindCollectionByNameOrId(policy.Admins)
		if err != nil {
			return false, err
		}
		admin = core.NewRecord(col)
		admin.SetEmail(email)
		created = true
	case err != nil:
		return false, err
	}
	admin.Set("userName", userName)
	admin.Set("role", policy.RoleSuperAdmin)
	store.SetPassword(admin, password)
	admin.SetVerified(true)
	if err := app.Save(admin); err != nil {
		return false, err
	}
	return created, nil
}
