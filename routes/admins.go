package routes

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/validate"
)

// bindAdmins lists the admins routes.
func bindAdmins(se *core.ServeEvent) {
	r := se.Router
	r.POST("/createAdmin", createAdmin).BindFunc(require(policy.ManageAdmins))
	r.DELETE("/deleteAdmin", deleteAdmin).BindFunc(require(policy.ManageAdmins))
	r.GET("/getAllAdmins", getAllAdmins).BindFunc(require(policy.ManageAdmins))
}

// adminResponse is the answer of createAdmin.
type adminResponse struct {
	Message string       `json:"message"`
	Data    *core.Record `json:"data"`
}

func createAdmin(e *core.RequestEvent) error {
	var in struct {
		Email    string `json:"email"`
		UserName string `json:"userName"`
		Password string `json:"password"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	in.Email = strings.TrimSpace(in.Email)
	errs := validation.Errors{
		"email":    validate.Field(in.Email, validate.EmailRules),
		"userName": validate.Field(in.UserName, validate.UserNameRules),
		"password": validate.Field(in.Password, validate.PasswordRules),
	}
	if err := errs.Filter(); err != nil {
		return e.BadRequestError("The new admin's details are not valid.", err)
	}

	var admin *core.Record
	err := e.App.RunInTransaction(func(tx core.App) error {
		col, err := tx.FindCachedCollectionByNameOrId(policy.Admins)
		if err != nil {
			return err
		}
		admin = core.NewRecord(col)
		admin.Set("userName", in.UserName)
		admin.Set("role", policy.RoleAdmin)
		admin.SetEmail(in.Email)
		admin.SetVerified(true)
		store.SetPassword(admin, in.Password)
		return tx.Save(admin) // uniqueness is checked and written in one transaction
	})
	if err != nil {
		return saveError(e, err)
	}
	admin.IgnoreEmailVisibility(true)
	return e.JSON(http.StatusCreated, adminResponse{Message: "The admin has been created.", Data: admin})
}

// saveError answers a failed account save: 409 for a taken email or user
// name, 400 for other invalid values.
func saveError(e *core.RequestEvent, err error) error {
	var verrs validation.Errors
	if !errors.As(err, &verrs) {
		return e.InternalServerError("", err)
	}
	for _, field := range []string{"userName", "email"} {
		if ve, ok := verrs[field].(validation.Error); ok && ve.Code() == "validation_not_unique" {
			return e.Error(http.StatusConflict, "This "+field+" is already taken.", validation.Errors{field: ve})
		}
	}
	return e.BadRequestError("The new admin's details are not valid.", verrs)
}

func deleteAdmin(e *core.RequestEvent) error {
	var in struct {
		AdminId string `json:"adminId"`
	}
	if err := readJSON(e, &in); err != nil {
		return err
	}
	id := in.AdminId
	if id == "" {
		id = e.Request.URL.Query().Get("adminId")
	}
	if id == "" {
		return fieldError(e, "Say which admin to delete (adminId).", "adminId", "validation_required", "Cannot be blank.")
	}
	admin, err := e.App.FindRecordById(policy.Admins, id)
	if err != nil {
		return e.NotFoundError("There is no admin with this id.", nil)
	}
	// Like the admins' delete rule, and for operators too: superAdmins are
	// managed from the command line or the dashboard only.
	if admin.GetString("role") != policy.RoleAdmin {
		return e.ForbiddenError("A superAdmin cannot be deleted here.", nil)
	}
	// its tokens die with the record; a hook frees the tickets it held
	if err := e.App.Delete(admin); err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]string{"message": "The admin has been deleted."})
}

func getAllAdmins(e *core.RequestEvent) error {
	return respondList(e, "Admins.", listQuery{
		collection: policy.Admins,
		where:      dbx.HashExp{"role": policy.RoleAdmin},
		orderBy:    []string{"[[userName]] COLLATE NOCASE ASC", "id ASC"},
		shape: func(_ core.App, page []*core.Record) error {
			for _, a := range page {
				a.IgnoreEmailVisibility(true) // the superAdmin sees its agents' emails
			}
			return nil
		},
	})
}
