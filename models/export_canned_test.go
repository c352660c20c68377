package models

// UserSeesCannedSQL is CanUseCanned's SQL form, for
// TestCannedAccessGoAndSQLAgree.
var UserSeesCannedSQL = userSeesCannedSQL
