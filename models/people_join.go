package models

import (
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm/schema"
)

// The conversation and message reads that live delivery and every write run
// (MessagesAndConversations, the scoped and locked conversation
// lookups) bring the customer and staff user they refer to. GORM's joined
// preload wrote them as plain LEFT JOINs, which the generic plans those
// reads run on (GenericPlans) hash: every customer of the desk read for
// each batch (0.36 ms a call at 1,000 customers, growing with the desk).
// Each person is read here by its primary key instead, a LATERAL lookup per
// row, under the alias GORM scans into the relation ("Customer__name" fills
// Conversation.Customer.Name), so the structs come back as before.

// personColumns selects, from the lateral alias named after a relation
// (Customer, Assignee, AuthorUser, AuthorCustomer), every readable column of
// its model but users' password hash, as GORM's nested columns.
func personColumns(model any, relation string) string {
	s, err := schema.Parse(model, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic(fmt.Sprintf("models: parse %T: %v", model, err))
	}
	var cols []string
	for _, f := range s.Fields {
		if f.DBName == "" || !f.Readable || f.DBName == "password_hash" {
			continue
		}
		cols = append(cols, fmt.Sprintf(`%q.%q AS %q`, relation, f.DBName, relation+"__"+f.DBName))
	}
	return strings.Join(cols, ", ")
}

// lateralPerson joins the row of table whose id is fk as relation.
func lateralPerson(table, fk, relation string) string {
	return fmt.Sprintf(` LEFT JOIN LATERAL (SELECT * FROM %s WHERE %s.id = %s LIMIT 1) %q ON true`, table, table, fk, relation)
}

// conversationWithPeople reads conversations with their Customer and
// Assignee; a WHERE on "conversations" follows.
var conversationWithPeople = `SELECT conversations.*, ` +
	personColumns(&Customer{}, "Customer") + `, ` + personColumns(&User{}, "Assignee") +
	` FROM conversations` +
	lateralPerson("customers", "conversations.customer_id", "Customer") +
	lateralPerson("users", "conversations.assignee_id", "Assignee")

// messageWithAuthors reads messages with their AuthorUser and
// AuthorCustomer; a WHERE on "messages" follows.
var messageWithAuthors = `SELECT messages.*, ` +
	personColumns(&User{}, "AuthorUser") + `, ` + personColumns(&Customer{}, "AuthorCustomer") +
	` FROM messages` +
	lateralPerson("users", "messages.author_user_id", "AuthorUser") +
	lateralPerson("customers", "messages.author_customer_id", "AuthorCustomer")
