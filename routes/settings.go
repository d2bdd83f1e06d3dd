package routes

import (
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/settings"
)

// The helpdesk settings: read and changed by a superAdmin
// (and operators); stored in the portalSettings record, so the dashboard
// edits the same object.

func bindSettings(se *core.ServeEvent) {
	se.Router.GET("/portalSettings", getPortalSettings).BindFunc(require(policy.ManageSettings))
	se.Router.PATCH("/portalSettings", patchPortalSettings).BindFunc(require(policy.ManageSettings))
}

type settingsResponse struct {
	Message string            `json:"message"`
	Data    settings.Settings `json:"data"`
}

func getPortalSettings(e *core.RequestEvent) error {
	return e.JSON(http.StatusOK, settingsResponse{Message: "The helpdesk settings.", Data: settings.Get(e.App)})
}

func patchPortalSettings(e *core.RequestEvent) error {
	var in struct {
		ReopenWindowDays  *int          `json:"reopenWindowDays"`
		InboundAddress    *string       `json:"inboundAddress"`
		InboundNewTickets *string       `json:"inboundNewTickets"`
		MaxAttachmentMB   *int          `json:"maxAttachmentMB"`
		MaxAttachments    *int          `json:"maxAttachments"`
		SLA               *settings.SLA `json:"sla"`
		CSAT              *bool         `json:"csat"`
		AutoReply         *bool         `json:"autoReply"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	var saved settings.Settings
	err := e.App.RunInTransaction(func(tx core.App) error {
		r, err := tx.FindRecordById(settings.Collection, settings.RecordId)
		if err != nil {
			return err
		}
		s := settings.FromRecord(r)
		set(&s.ReopenWindowDays, in.ReopenWindowDays)
		set(&s.InboundAddress, in.InboundAddress)
		set(&s.InboundNewTickets, in.InboundNewTickets)
		set(&s.MaxAttachmentMB, in.MaxAttachmentMB)
		set(&s.MaxAttachments, in.MaxAttachments)
		set(&s.SLA, in.SLA)
		set(&s.CSAT, in.CSAT)
		set(&s.AutoReply, in.AutoReply)
		if errs := s.Validate(); errs != nil {
			return errs
		}
		settings.ToRecord(s, r)
		saved = s
		return tx.Save(r)
	})
	if errs, ok := err.(validation.Errors); ok {
		name := ""
		for _, k := range settings.Keys {
			if errs[k] != nil {
				name = k
				break
			}
		}
		return e.BadRequestError("The setting "+name+" is not valid.", errs)
	}
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, settingsResponse{Message: "The helpdesk settings are saved.", Data: saved})
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
