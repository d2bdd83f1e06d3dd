// Package settings is the helpdesk's settings object (SPEC.md Part 2,
// "Settings of the helpdesk"): one record of the portalSettings collection,
// seeded from PORTAL_<KEY> environment variables at start, editable through
// PATCH /portalSettings and the dashboard, and read by everyone through Get.
package settings

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

// Collection is the settings' collection; RecordId its one record.
const (
	Collection = "portalSettings"
	RecordId   = "portalsettings1"
)

// Values of inboundNewTickets.
const (
	InboundAnyone    = "anyone"
	InboundCustomers = "customers"
	InboundOff       = "off"
)

// Target is one priority's service-level targets, in minutes.
type Target struct {
	FirstResponseMinutes int `json:"firstResponseMinutes"`
	ResolveMinutes       int `json:"resolveMinutes"`
}

// SLA holds the targets by priority.
type SLA struct {
	High   Target `json:"high"`
	Normal Target `json:"normal"`
}

// Settings is the typed settings object; its JSON is the routes' `data`.
type Settings struct {
	ReopenWindowDays  int    `json:"reopenWindowDays"`
	InboundAddress    string `json:"inboundAddress"`
	InboundNewTickets string `json:"inboundNewTickets"`
	MaxAttachmentMB   int    `json:"maxAttachmentMB"`
	MaxAttachments    int    `json:"maxAttachments"`
	SLA               SLA    `json:"sla"`
	CSAT              bool   `json:"csat"`
	AutoReply         bool   `json:"autoReply"`
}

// Defaults are SPEC.md's defaults.
func Defaults() Settings {
	return Settings{
		ReopenWindowDays:  14,
		InboundAddress:    "",
		InboundNewTickets: InboundAnyone,
		MaxAttachmentMB:   10,
		MaxAttachments:    10,
		SLA: SLA{
			High:   Target{FirstResponseMinutes: 60, ResolveMinutes: 480},
			Normal: Target{FirstResponseMinutes: 480, ResolveMinutes: 4320},
		},
		CSAT:      true,
		AutoReply: false,
	}
}

// Bounds of the numeric settings.
const (
	MaxReopenWindowDays = 3650
	MaxAttachmentMBMax  = 1024
	MaxAttachmentsMax   = 100
	MaxSLAMinutes       = 525600 // a year
)

// Keys are the settings' keys, in the order of the table in SPEC.md.
var Keys = []string{"reopenWindowDays", "inboundAddress", "inboundNewTickets", "maxAttachmentMB", "maxAttachments", "sla", "csat", "autoReply"}

// Validate checks every key and names each bad one.
func (s Settings) Validate() validation.Errors {
	errs := validation.Errors{}
	if s.ReopenWindowDays < 0 || s.ReopenWindowDays > MaxReopenWindowDays {
		errs["reopenWindowDays"] = validation.NewError("validation_out_of_range", fmt.Sprintf("Must be a whole number of days from 0 to %d.", MaxReopenWindowDays))
	}
	if s.InboundAddress != "" {
		a, err := mail.ParseAddress(s.InboundAddress)
		if err != nil || a.Address != s.InboundAddress || strings.Contains(s.InboundAddress, "+") {
			errs["inboundAddress"] = validation.NewError("validation_invalid_email", "Must be empty or a plain mail address such as support@example.com (no name, no +tag).")
		}
	}
	switch s.InboundNewTickets {
	case InboundAnyone, InboundCustomers, InboundOff:
	default:
		errs["inboundNewTickets"] = validation.NewError("validation_invalid_value", "Must be anyone, customers or off.")
	}
	if s.MaxAttachmentMB < 1 || s.MaxAttachmentMB > MaxAttachmentMBMax {
		errs["maxAttachmentMB"] = validation.NewError("validation_out_of_range", fmt.Sprintf("Must be a whole number of MiB from 1 to %d.", MaxAttachmentMBMax))
	}
	if s.MaxAttachments < 0 || s.MaxAttachments > MaxAttachmentsMax {
		errs["maxAttachments"] = validation.NewError("validation_out_of_range", fmt.Sprintf("Must be a whole number from 0 to %d.", MaxAttachmentsMax))
	}
	for _, t := range []Target{s.SLA.High, s.SLA.Normal} {
		if t.FirstResponseMinutes < 1 || t.FirstResponseMinutes > MaxSLAMinutes || t.ResolveMinutes < 1 || t.ResolveMinutes > MaxSLAMinutes {
			errs["sla"] = validation.NewError("validation_out_of_range", fmt.Sprintf("Every target must be a whole number of minutes from 1 to %d, for high and normal.", MaxSLAMinutes))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// FromRecord reads the typed settings from the record.
func FromRecord(r *core.Record) Settings {
	s := Defaults()
	s.ReopenWindowDays = r.GetInt("reopenWindowDays")
	s.InboundAddress = r.GetString("inboundAddress")
	s.InboundNewTickets = r.GetString("inboundNewTickets")
	s.MaxAttachmentMB = r.GetInt("maxAttachmentMB")
	s.MaxAttachments = r.GetInt("maxAttachments")
	s.CSAT = r.GetBool("csat")
	s.AutoReply = r.GetBool("autoReply")
	var sla SLA
	if err := r.UnmarshalJSONField("sla", &sla); err == nil {
		s.SLA = sla
	}
	return s
}

// ToRecord writes s into the record's fields.
func ToRecord(s Settings, r *core.Record) {
	r.Set("reopenWindowDays", s.ReopenWindowDays)
	r.Set("inboundAddress", s.InboundAddress)
	r.Set("inboundNewTickets", s.InboundNewTickets)
	r.Set("maxAttachmentMB", s.MaxAttachmentMB)
	r.Set("maxAttachments", s.MaxAttachments)
	r.Set("sla", s.SLA)
	r.Set("csat", s.CSAT)
	r.Set("autoReply", s.AutoReply)
}

// cache holds the settings read last, per app; record hooks drop it.
type cache struct {
	mu    sync.RWMutex
	value *Settings
}

const storeKey = "ticketportal.portalSettings"

func cacheOf(app core.App) *cache {
	return app.Store().GetOrSet(storeKey, func() any { return &cache{} }).(*cache)
}

// Invalidate drops the cached settings of app.
func Invalidate(app core.App) {
	c := cacheOf(app)
	c.mu.Lock()
	c.value = nil
	c.mu.Unlock()
}

// Get returns the current settings (cached; the record hooks of Register
// drop the cache on every change, whatever surface made it). Without the
// record (a database before the migration) it returns the defaults.
func Get(app core.App) Settings {
	c := cacheOf(app)
	c.mu.RLock()
	v := c.value
	c.mu.RUnlock()
	if v != nil {
		return *v
	}
	r, err := app.FindRecordById(Collection, RecordId)
	if err != nil {
		return Defaults()
	}
	s := FromRecord(r)
	if app.TxInfo() == nil { // a value read inside a transaction may roll back
		c.mu.Lock()
		c.value = &s
		c.mu.Unlock()
	}
	return s
}

// Register binds the cache invalidation, the validation of dashboard edits
// and the seeding from the environment at start.
func Register(app core.App) {
	drop := func(e *core.RecordEvent) error {
		Invalidate(e.App)
		if tx := e.App.TxInfo(); tx != nil {
			tx.OnComplete(func(error) error { Invalidate(app); return nil })
		}
		return e.Next()
	}
	app.OnRecordAfterCreateSuccess(Collection).BindFunc(drop)
	app.OnRecordAfterUpdateSuccess(Collection).BindFunc(drop)
	app.OnRecordAfterDeleteSuccess(Collection).BindFunc(drop)
	app.OnRecordAfterUpdateError(Collection).BindFunc(func(e *core.RecordErrorEvent) error {
		Invalidate(app)
		return e.Next()
	})

	// The dashboard and the record API obey the same bounds as the route.
	app.OnRecordValidate(Collection).BindFunc(func(e *core.RecordEvent) error {
		if errs := FromRecord(e.Record).Validate(); errs != nil {
			return errs
		}
		var raw map[string]any
		if err := e.Record.UnmarshalJSONField("sla", &raw); err != nil || raw["high"] == nil || raw["normal"] == nil {
			return validation.Errors{"sla": validation.NewError("validation_invalid_sla", `Must be {"high": {...}, "normal": {...}}.`)}
		}
		return e.Next()
	})

	app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		return ApplyEnv(e.App)
	})
}

// EnvName is the environment variable of a key: PORTAL_ and the key in
// upper snake case (reopenWindowDays -> PORTAL_REOPEN_WINDOW_DAYS,
// maxAttachmentMB -> PORTAL_MAX_ATTACHMENT_MB).
func EnvName(key string) string {
	var b strings.Builder
	b.WriteString("PORTAL_")
	prev := rune(0)
	for _, r := range key {
		if r >= 'A' && r <= 'Z' && prev >= 'a' && prev <= 'z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
		prev = r
	}
	return strings.ToUpper(b.String())
}

// FromEnv applies the PORTAL_<KEY> variables that are set (and not empty)
// to s. A malformed value is an error naming the variable.
func FromEnv(s Settings, lookup func(string) (string, bool)) (Settings, error) {
	var bad []string
	for _, key := range Keys {
		name := EnvName(key)
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			continue
		}
		var err error
		switch key {
		case "reopenWindowDays":
			s.ReopenWindowDays, err = strconv.Atoi(v)
		case "inboundAddress":
			s.InboundAddress = v
		case "inboundNewTickets":
			s.InboundNewTickets = v
		case "maxAttachmentMB":
			s.MaxAttachmentMB, err = strconv.Atoi(v)
		case "maxAttachments":
			s.MaxAttachments, err = strconv.Atoi(v)
		case "sla":
			var sla SLA
			if err = strictJSON(v, &sla); err == nil {
				s.SLA = sla
			}
		case "csat":
			s.CSAT, err = strconv.ParseBool(v)
		case "autoReply":
			s.AutoReply, err = strconv.ParseBool(v)
		}
		if err != nil {
			bad = append(bad, name)
		}
	}
	if errs := s.Validate(); errs != nil {
		for key := range errs {
			bad = append(bad, EnvName(key))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return s, fmt.Errorf("malformed helpdesk settings in the environment: %s", strings.Join(bad, ", "))
	}
	return s, nil
}

func strictJSON(v string, dst any) error {
	d := json.NewDecoder(strings.NewReader(v))
	d.DisallowUnknownFields()
	return d.Decode(dst)
}

// ApplyEnv writes the environment's settings into the stored record, so
// that the environment wins at start and the dashboard's later edits hold
// until the next start.
func ApplyEnv(app core.App) error {
	r, err := app.FindRecordById(Collection, RecordId)
	if err != nil {
		return nil // not migrated yet
	}
	cur := FromRecord(r)
	next, err := FromEnv(cur, os.LookupEnv)
	if err != nil {
		return err
	}
	if next == cur {
		return nil
	}
	ToRecord(next, r)
	if err := app.Save(r); err != nil {
		return err
	}
	Invalidate(app)
	return nil
}
