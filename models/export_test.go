package models

// AppendEvent lets this package's tests record an event directly; outside
// models only domain operations record events.
var AppendEvent = appendEvent

// The SQL forms of the access rules, for TestAccessGoAndSQLAgree.
var (
	UserSeesConversationSQL = userSeesConversationSQL
	UserArgs                = userArgs
	VisitorSeesSQL          = visitorSeesSQL
	VisitorArgs             = visitorArgs
	CustomerSeesMessageSQL  = customerSeesMessageSQL
	CustomerEvents          = customerEvents
	UserSeesItemSQL         = userSeesItemSQL
	UsersSeeItemSQL         = usersSeeItemSQL
	SupportAgentSQL         = supportAgentSQL
	UsersSeeCustomerDataSQL = usersSeeCustomerDataSQL
	UserSeesMessageSQL      = userSeesMessageSQL
	UsersSeeMessageSQL      = usersSeeMessageSQL
	LoadRecipients          = loadRecipients
)
