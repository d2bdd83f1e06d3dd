package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"golang.org/x/crypto/bcrypt"

	"ticketportal/hooks"
	_ "ticketportal/migrations"
	"ticketportal/policy"
)

// seeded is what the load phase needs to know about the seeded data.
type seeded struct {
	customerToken   string
	customerId      string
	customerName    string
	adminToken      string
	superAdminToken string
	operatorToken   string   // a PocketBase superuser
	subscriberToks  []string // admins that subscribe in the fan-out phase
	customerToks    []string // customers 1.. that subscribe in the scale phase (customer0 sends)
}

const benchPassword = "bench-password-1"

// newId is a PocketBase-style record id (15 of a-z0-9).
func newId() string {
	return security.RandomStringWithAlphabet(15, "abcdefghijklmnopqrstuvwxyz0123456789")
}

// seed migrates dataDir and fills it: customers, tickets (about 20% active,
// 5% of those high priority, spread over a year), admins with tokens minted
// offline (no bcrypt login per admin).
//
// With text set (the search bench), every ticket gets generated text and
// about three messages, and the search index is built once at the end.
func seed(dataDir string, tickets, customers, admins, customerSubs int, text *textGen) (*seeded, error) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir})
	if err := app.Bootstrap(); err != nil {
		return nil, err
	}
	defer app.ClearBootstrap()
	hooks.Register(app)
	if err := app.RunAllMigrations(); err != nil {
		return nil, err
	}

	// the bench measures the server, not the throttle
	s := app.Settings()
	s.RateLimits.Enabled = false
	if err := app.Save(s); err != nil {
		return nil, err
	}

	hash, err := bcrypt.GenerateFromPassword([]byte(benchPassword), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	stamp := func(t time.Time) string { return t.Format("2006-01-02 15:04:05.000Z") }

	customerIds := make([]string, customers)
	err = app.RunInTransaction(func(tx core.App) error {
		for i := range customers {
			id := newId()
			customerIds[i] = id
			_, err := tx.DB().Insert(policy.Users, dbx.Params{
				"id": id, "email": fmt.Sprintf("customer%d@example.com", i), "emailVisibility": false,
				"verified": true, "password": string(hash), "tokenKey": security.RandomString(50),
				"userName": fmt.Sprintf("customer%d", i), "userFirstName": "Bench", "userLastName": fmt.Sprint(i),
				"mobileNumber": "+1 555 0100", "createdAt": stamp(now), "updatedAt": stamp(now),
			}).Execute()
			if err != nil {
				return err
			}
		}
		roles := []string{policy.RoleAdmin, policy.RoleSuperAdmin}
		for i := range admins + 2 {
			role := roles[0]
			if i == 1 {
				role = roles[1]
			}
			_, err := tx.DB().Insert(policy.Admins, dbx.Params{
				"id": fmt.Sprintf("benchadmin%05d", i), "email": fmt.Sprintf("agent%d@example.com", i), "emailVisibility": false,
				"verified": true, "password": string(hash), "tokenKey": security.RandomString(50),
				"userName": fmt.Sprintf("agent%d", i), "role": role, "createdAt": stamp(now), "updatedAt": stamp(now),
			}).Execute()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	var restore func() error
	if text != nil {
		if restore, err = pauseSearchTriggers(app); err != nil {
			return nil, err
		}
	}

	// tickets in chunks, one transaction each
	const chunk = 5000
	rng := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < tickets; start += chunk {
		err := app.RunInTransaction(func(tx core.App) error {
			for i := start; i < min(start+chunk, tickets); i++ {
				c := rng.IntN(customers)
				status := policy.StatusClosed
				if rng.IntN(5) == 0 {
					status = policy.StatusActive
				}
				created := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
				id, content := newId(), "My order has not arrived yet, could you look into it please?"
				if text != nil {
					content = text.ticket(rng)
				}
				_, err := tx.DB().Insert(policy.Tickets, dbx.Params{
					"id": id, "customerId": customerIds[c],
					"customerUserName": fmt.Sprintf("customer%d", c), "customerFirstName": "Bench", "customerLastName": fmt.Sprint(c),
					"userEmail":     fmt.Sprintf("customer%d@example.com", c),
					"ticketContent": content, "ticketSubject": subjectOf(content),
					"isTaken": false, "takenBy": "", "markedBy": "", "ticketStatus": status,
					"isHighPriority": status == policy.StatusActive && rng.IntN(20) == 0,
					"createdAt":      stamp(created), "updatedAt": stamp(created),
				}).Execute()
				if err != nil {
					return err
				}
				if text != nil {
					if err := text.messages(tx, rng, id, created, stamp); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "\rseeded %d/%d tickets", min(start+chunk, tickets), tickets)
	}
	fmt.Fprintln(os.Stderr)
	if restore != nil {
		if err := restore(); err != nil {
			return nil, err
		}
	}
	if _, err := app.DB().NewQuery("ANALYZE").Execute(); err != nil {
		return nil, err
	}

	out := &seeded{customerId: customerIds[0], customerName: "customer0"}
	supers, err := app.FindCachedCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		return nil, err
	}
	op := core.NewRecord(supers)
	op.SetEmail("operator@example.com")
	op.SetPassword(benchPassword)
	if err := app.Save(op); err != nil {
		return nil, err
	}
	if out.operatorToken, err = op.NewAuthToken(); err != nil {
		return nil, err
	}
	token := func(collection, id string) (string, error) {
		r, err := app.FindRecordById(collection, id)
		if err != nil {
			return "", err
		}
		return r.NewAuthToken()
	}
	if out.customerToken, err = token(policy.Users, customerIds[0]); err != nil {
		return nil, err
	}
	if out.adminToken, err = token(policy.Admins, "benchadmin00000"); err != nil {
		return nil, err
	}
	if out.superAdminToken, err = token(policy.Admins, "benchadmin00001"); err != nil {
		return nil, err
	}
	for i := 2; i < admins+2; i++ {
		t, err := token(policy.Admins, fmt.Sprintf("benchadmin%05d", i))
		if err != nil {
			return nil, err
		}
		out.subscriberToks = append(out.subscriberToks, t)
	}
	for i := 1; i <= customerSubs && i < customers; i++ {
		t, err := token(policy.Users, customerIds[i])
		if err != nil {
			return nil, err
		}
		out.customerToks = append(out.customerToks, t)
	}
	return out, nil
}
