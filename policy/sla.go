package policy

// SLAFields are the service-level fields of a ticket: staff only (part of StaffOnlyTicketFields), written by
// the server only (hooks/sla.go refuses them from any client but an
// operator). nextDueAt and dueAt are the scheduler's and the queue's
// bookkeeping.
var SLAFields = []string{"firstResponseDueAt", "resolveDueAt", "firstRespondedAt", "firstRespondedBy", "resolvedAt", "slaBreached", "nextDueAt", "dueAt"}
