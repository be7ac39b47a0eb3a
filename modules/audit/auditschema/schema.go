// Package auditschema holds the audit module's wire DTOs, the only shapes
// that cross the API boundary.
package auditschema

import (
	"time"

	"github.com/google/uuid"
)

// Actor is who acted.
type Actor struct {
	Kind string `json:"kind" enum:"user,service,system" doc:"user: an account (no id: someone signing in); service: a service account; system: the application or an operator's command."`
	ID   string `json:"id,omitempty" doc:"The account's id; absent for the system and for sign-in attempts." example:"3f1c2d9e-8b7a-4c6d-9e0f-1a2b3c4d5e6f"`
}

// Target is what the action was done to.
type Target struct {
	Type string `json:"type" example:"user"`
	ID   string `json:"id,omitempty" example:"3f1c2d9e-8b7a-4c6d-9e0f-1a2b3c4d5e6f"`
}

// Event is one entry of the audit log.
type Event struct {
	ID        uuid.UUID         `json:"id"`
	Time      time.Time         `json:"time" example:"2026-03-14T09:26:53Z"`
	Actor     Actor             `json:"actor"`
	Action    string            `json:"action" example:"users.role.assigned"`
	Target    Target            `json:"target"`
	ClientIP  string            `json:"client_ip,omitempty" example:"203.0.113.7"`
	RequestID string            `json:"request_id,omitempty" example:"01HV6X3S8M2Q4R5T6Y7Z8A9B0C"`
	Payload   map[string]string `json:"payload,omitempty" doc:"A few facts about the action (never a secret)."`
}
