package models

// AppendEvent lets this package's tests record an event directly; outside
// models only domain operations record events.
var AppendEvent = appendEvent
