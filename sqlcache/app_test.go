package sqlcache_test

import (
	"path/filepath"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/durability"
	"ticketportal/hooks"
	_ "ticketportal/migrations"
	"ticketportal/policy"
	"ticketportal/sqlcache"
	"ticketportal/testapp"
)

func isCached(db dbx.Builder) bool {
	d, ok := db.(*dbx.DB)
	if !ok {
		return false
	}
	_, ok = d.DB().Driver().(*sqlcache.Driver)
	return ok
}

// The project's migrations run on a fresh data dir through the cached
// driver, as main.go opens it.
func TestMigrationsOnFreshDataDir(t *testing.T) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: filepath.Join(t.TempDir(), "pb_data"), DBConnect: durability.Connect})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	if !isCached(app.ConcurrentDB()) || !isCached(app.NonconcurrentDB()) || !isCached(app.AuxConcurrentDB()) || !isCached(app.AuxNonconcurrentDB()) {
		t.Fatal("data.db or auxiliary.db is not opened through the statement cache")
	}
	hooks.Register(app)
	p0, _ := sqlcache.Stats()
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	p1, _ := sqlcache.Stats()
	if p1 == p0 {
		t.Fatal("no statement went through the cache")
	}
	var applied int
	if err := app.DB().NewQuery("SELECT count(*) FROM _migrations").Row(&applied); err != nil {
		t.Fatal(err)
	}
	if want := len(core.SystemMigrations.Items()) + len(core.AppMigrations.Items()); applied != want {
		t.Fatalf("%d migrations applied, want %d", applied, want)
	}
	for _, name := range []string{policy.Tickets, policy.Messages, policy.Users} {
		if _, err := app.FindCollectionByNameOrId(name); err != nil {
			t.Fatalf("collection %s: %v", name, err)
		}
	}
	// the database is sound after it
	var check string
	if err := app.DB().NewQuery("PRAGMA integrity_check").Row(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
}

// A collection saved with a new field (as the dashboard does) between two
// runs of the same cached statements: the new schema applies, both in a
// repeated SELECT and in the record writes with every hook and trigger.
func TestCollectionChangeThroughTheCache(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	if !isCached(app.ConcurrentDB()) || !isCached(app.NonconcurrentDB()) {
		t.Fatal("the test app's data.db is not opened through the statement cache")
	}
	tickets, err := app.FindCollectionByNameOrId(policy.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	save := func(content string) *core.Record {
		t.Helper()
		r := core.NewRecord(tickets)
		r.Set("customerId", testapp.CustomerId)
		r.Set("ticketContent", content)
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	columns := func(id string) map[string]any {
		t.Helper()
		row := dbx.NullStringMap{}
		if err := app.DB().NewQuery("SELECT * FROM tickets WHERE id = {:id}").Bind(dbx.Params{"id": id}).One(row); err != nil {
			t.Fatal(err)
		}
		out := map[string]any{}
		for k, v := range row {
			out[k] = v.String
		}
		return out
	}
	first := save("Before the change.")
	save("Before the change, again.")
	if _, ok := columns(first.Id)["cacheProbe"]; ok {
		t.Fatal("cacheProbe exists before it was added")
	}

	tickets.Fields.Add(&core.TextField{Name: "cacheProbe"})
	if err := app.Save(tickets); err != nil {
		t.Fatal(err)
	}
	if _, ok := columns(first.Id)["cacheProbe"]; !ok {
		t.Fatal("the repeated SELECT * does not show the new column")
	}
	r := core.NewRecord(tickets)
	r.Set("customerId", testapp.CustomerId)
	r.Set("ticketContent", "After the change.")
	r.Set("cacheProbe", "probe")
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	if got := columns(r.Id)["cacheProbe"]; got != "probe" {
		t.Fatalf("cacheProbe = %v", got)
	}
	// the triggers still keep the counts: the ticket is counted once
	var counted int
	if err := app.DB().NewQuery("SELECT count(*) FROM tickets WHERE customerId = {:c}").Bind(dbx.Params{"c": testapp.CustomerId}).Row(&counted); err != nil {
		t.Fatal(err)
	}

	tickets.Fields.RemoveByName("cacheProbe")
	if err := app.Save(tickets); err != nil {
		t.Fatal(err)
	}
	if _, ok := columns(first.Id)["cacheProbe"]; ok {
		t.Fatal("the repeated SELECT * still shows the dropped column")
	}
	save("After the drop.")
	var after int
	if err := app.DB().NewQuery("SELECT count(*) FROM tickets WHERE customerId = {:c}").Bind(dbx.Params{"c": testapp.CustomerId}).Row(&after); err != nil {
		t.Fatal(err)
	}
	if after != counted+1 {
		t.Fatalf("tickets after the drop: %d, want %d", after, counted+1)
	}
}
