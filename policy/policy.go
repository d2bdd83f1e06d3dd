// Package policy is the portal's role policy in one place.
//
// The collection API rules below are what PocketBase enforces on its own
// record API, realtime record events and batch API; the migrations store
// them on the collections and the custom routes reuse them through
// core.App.CanAccessRecord. The Allowed table covers what is not about one
// record (who may list the closed tickets, manage admins, ...).
package policy

import (
	"github.com/pocketbase/pocketbase/core"
)

// Collection names.
const (
	Users   = "users"
	Admins  = "admins"
	Tickets = "tickets"
)

// Roles. An operator is a PocketBase superuser; every custom route treats it
// as a superAdmin.
const (
	RoleUser       = "user"
	RoleAdmin      = "admin"
	RoleSuperAdmin = "superAdmin"
	RoleOperator   = "operator"
)

// Ticket states.
const (
	StatusActive = "active"
	StatusClosed = "closed"
)

// Actions that are not tied to one record's content.
type Action string

const (
	SendTicket        Action = "sendTicket"
	ListOwnTickets    Action = "listOwnTickets"
	ListActive        Action = "listActiveTickets"
	ListClosed        Action = "listClosedTickets"
	ReadAnyTicket     Action = "readAnyTicket"
	AnswerTicket      Action = "answerTicket"
	MarkTakenOrClosed Action = "markTakenOrClosed"
	MarkHighPriority  Action = "markHighPriority"
	DeleteTicket      Action = "deleteTicket"
	ManageAdmins      Action = "manageAdmins"
	JoinAdminsRoom    Action = "joinAdminsRoom"

	// Part 2: the conversation and the settings.
	ViewTicket     Action = "viewTicket" // which tickets: the tickets' view rule
	ReplyTicket    Action = "replyOnTicket"
	NoteTicket     Action = "addNoteOnTicket"
	AssignTicket   Action = "assignTicket"
	TagTicket      Action = "tagTicket"
	ViewHistory    Action = "getTicketHistory"
	ViewingTicket  Action = "viewingTicket"
	ManageSettings Action = "portalSettings"
	ReadReports    Action = "readReports"
)

// Allowed is the product's role table: which roles may take each action.
// Operators are handled by Can (they may do whatever a superAdmin may).
var Allowed = map[Action][]string{
	SendTicket:        {RoleUser},
	ListOwnTickets:    {RoleUser},
	ListActive:        {RoleAdmin, RoleSuperAdmin},
	ListClosed:        {RoleSuperAdmin},
	ReadAnyTicket:     {RoleSuperAdmin},
	AnswerTicket:      {RoleAdmin, RoleSuperAdmin},
	MarkTakenOrClosed: {RoleAdmin, RoleSuperAdmin},
	MarkHighPriority:  {RoleSuperAdmin},
	DeleteTicket:      {RoleSuperAdmin},
	ManageAdmins:      {RoleSuperAdmin},
	JoinAdminsRoom:    {RoleAdmin, RoleSuperAdmin},
	ViewTicket:        {RoleUser, RoleAdmin, RoleSuperAdmin},
	ReplyTicket:       {RoleUser},
	NoteTicket:        {RoleAdmin, RoleSuperAdmin},
	AssignTicket:      {RoleSuperAdmin},
	TagTicket:         {RoleAdmin, RoleSuperAdmin},
	ViewHistory:       {RoleAdmin, RoleSuperAdmin},
	ViewingTicket:     {RoleAdmin, RoleSuperAdmin},
	ManageSettings:    {RoleSuperAdmin},
	ReadReports:       {RoleSuperAdmin},
}

// RoleOf names the role of an authenticated record ("" for a guest or an
// unknown collection).
func RoleOf(auth *core.Record) string {
	if auth == nil {
		return ""
	}
	switch auth.Collection().Name {
	case core.CollectionNameSuperusers:
		return RoleOperator
	case Users:
		return RoleUser
	case Admins:
		switch r := auth.GetString("role"); r {
		case RoleAdmin, RoleSuperAdmin:
			return r
		}
	}
	return ""
}

// Can reports whether auth may take the action. Operators may take every
// action a superAdmin may.
func Can(auth *core.Record, action Action) bool {
	role := RoleOf(auth)
	if role == RoleOperator {
		role = RoleSuperAdmin
	}
	if role == "" {
		return false
	}
	for _, r := range Allowed[action] {
		if r == role {
			return true
		}
	}
	return false
}

// StaffRequest says whether a request (or a realtime subscriber seen as
// one) is made by staff: a superuser or an agent.
func StaffRequest(info *core.RequestInfo) bool {
	if info == nil {
		return false
	}
	return info.HasSuperuserAuth() || IsStaff(info.Auth)
}

// IsStaff reports whether auth is an admin, a superAdmin or an operator.
func IsStaff(auth *core.Record) bool {
	switch RoleOf(auth) {
	case RoleAdmin, RoleSuperAdmin, RoleOperator:
		return true
	}
	return false
}
