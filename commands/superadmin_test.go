package commands_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase"

	"ticketportal/commands"
	"ticketportal/hooks"
	_ "ticketportal/migrations"
	"ticketportal/policy"
)

// run executes the portal's CLI against dataDir the way main.go wires it.
func run(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: dataDir, HideStartBanner: true})
	app.RootCmd.AddCommand(commands.NewSuperadminCommand(app))
	hooks.Register(app)
	var out bytes.Buffer
	app.RootCmd.SetOut(&out)
	app.RootCmd.SetArgs(args)
	err := app.Execute()
	if app.IsBootstrapped() {
		app.ClearBootstrap()
	}
	return out.String(), err
}

func TestSuperadminUpsertOnFreshDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")

	out, err := run(t, dir, "superadmin", "upsert", "head@example.com", "head", "first-password")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !strings.Contains(out, "Created superAdmin head@example.com") {
		t.Fatalf("create output %q", out)
	}

	out, err = run(t, dir, "superadmin", "upsert", "head@example.com", "head", "second-password")
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
	if !strings.Contains(out, "Updated superAdmin head@example.com") {
		t.Fatalf("reset output %q", out)
	}

	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	all, err := app.FindAllRecords(policy.Admins)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("%d admins, want 1", len(all))
	}
	a := all[0]
	if a.GetString("role") != policy.RoleSuperAdmin || !a.Verified() || a.GetString("userName") != "head" {
		t.Fatalf("stored account: role=%q verified=%v userName=%q", a.GetString("role"), a.Verified(), a.GetString("userName"))
	}
	if a.ValidatePassword("first-password") || !a.ValidatePassword("second-password") {
		t.Fatal("the second upsert did not reset the password")
	}
}

func TestSuperadminUpsertDemotedAdminGetsRoleBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	if _, err := run(t, dir, "superadmin", "upsert", "lead@example.com", "lead", "first-password"); err != nil {
		t.Fatal(err)
	}
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	a, err := app.FindAuthRecordByEmail(policy.Admins, "lead@example.com")
	if err != nil {
		t.Fatal(err)
	}
	a.Set("role", policy.RoleAdmin)
	if err := app.Save(a); err != nil {
		t.Fatal(err)
	}
	app.ClearBootstrap()

	if _, err := run(t, dir, "superadmin", "upsert", "lead@example.com", "lead", "first-password"); err != nil {
		t.Fatal(err)
	}
	app = pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	a, err = app.FindAuthRecordByEmail(policy.Admins, "lead@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a.GetString("role") != policy.RoleSuperAdmin {
		t.Fatalf("role %q after upsert, want superAdmin", a.GetString("role"))
	}
}

func TestSuperadminUpsertRefusesBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	if _, err := run(t, dir, "superadmin", "upsert", "only-two", "args"); err == nil {
		t.Fatal("two arguments were accepted")
	}
	if _, err := run(t, dir, "superadmin", "upsert", "not-an-email", "head", "password1"); err == nil {
		t.Fatal("a malformed email was accepted")
	}
	if _, err := run(t, dir, "superadmin", "upsert", "x@example.com", "a b", "password1"); err == nil {
		t.Fatal("a malformed user name was accepted")
	}
}
