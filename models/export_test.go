package models

// The SQL forms of the access rules, for TestAccessGoAndSQLAgree.
var (
	UserSeesConversationSQL = userSeesConversationSQL
	UserArgs                = userArgs
	VisitorSeesSQL          = visitorSeesSQL
	VisitorArgs             = visitorArgs
	CustomerSeesMessageSQL  = customerSeesMessageSQL
	CustomerEvents          = customerEvents
)
