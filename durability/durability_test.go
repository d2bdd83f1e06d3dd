package durability_test

import (
	"path/filepath"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/durability"
	_ "ticketportal/migrations"
)

func pragma(t *testing.T, app core.App, name string) string {
	t.Helper()
	var v string
	if err := app.DB().NewQuery("PRAGMA " + name).Row(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// data.db commits are fsynced (FULL = 2), the logs' are not (NORMAL = 1);
// both are in WAL mode with foreign keys on, as PocketBase sets them.
func TestDataDBIsOpenedWithSynchronousFull(t *testing.T) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: filepath.Join(t.TempDir(), "pb_data"), DBConnect: durability.Connect})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	for name, want := range map[string]string{"synchronous": "2", "journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
		if got := pragma(t, app, name); got != want {
			t.Errorf("data.db %s = %s, want %s", name, got, want)
		}
	}
	var aux string
	if err := app.AuxDB().NewQuery("PRAGMA synchronous").Row(&aux); err != nil {
		t.Fatal(err)
	}
	if aux != "1" {
		t.Errorf("auxiliary.db synchronous = %s, want 1 (NORMAL)", aux)
	}
}
