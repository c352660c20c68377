package app

import (
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Each handler lives in the file its URL names: /account/… in account*.go,
// /desk/<name> in desk_<name>.go, /conversations/:pid/… in
// desk_conversation.go, /admin/<area> in admin_<area>.go, /widget/… in
// widget_*.go, and so on; where the name is less obvious, the comment above
// a group of routes says the file. Helpers several handlers share are in
// helpers.go.

// routes lists every route Parley serves, in one place. Every request body
// is limited to formBodyLimit (64 KiB, any form of short fields) unless its
// route declares more with bodyLimit; multipart bodies (uploads) only where
// a route's rule allows them (edge.go).
func (a *App) routes(e *echo.Echo) {
	// health.go; static.go.
	e.GET("/healthz", a.healthz)
	// Prometheus metrics for a scraper with PARLEY_METRICS_TOKEN (metrics.go).
	e.GET("/metrics", a.serveMetrics)
	e.GET("/readyz", a.readyz)
	e.GET("/static/*", a.serveStatic)
	// Every layout links the icon; browsers that ask anyway get it here.
	e.GET("/favicon.ico", a.serveFavicon)

	// Signing in (auth_login.go, with "/", which sends each visitor where
	// they belong) and the first admin's setup (auth_setup.go).
	e.GET("/", a.home)
	e.GET("/setup", a.showSetup)
	e.POST("/setup", a.createFirstAdmin)
	e.GET("/login", a.showLogin)
	e.POST("/login", a.login)
	e.POST("/logout", a.logout)

	// Signed-in pages take their middleware per route: an echo group with an
	// empty prefix would also catch unknown paths and turn 404s into redirects.
	// account.go; email preferences in account_email.go.
	e.GET("/account", a.showAccount, a.requireUser)
	e.POST("/account/language", a.setLanguage, a.requireUser)
	e.POST("/account/password", a.changePassword, a.requireUser)
	e.POST("/account/sound", a.setNotifySound, a.requireUser)
	e.POST("/account/email", a.saveEmailPrefs, a.requireUser)
	e.POST("/account/composer", a.saveComposerPrefs, a.requireUser)

	// The desk: the customers inbox and My conversations (desk_inbox.go),
	// teammate chats (desk_teammates.go), conversations
	// (desk_conversation.go), the online switch (desk_status.go), the live
	// stream of every open desk tab (desk_events.go) and the unread counts
	// (desk_unread.go).
	e.GET("/inbox", a.listInbox, a.requireUser)
	e.GET("/mine", a.listMine, a.requireUser)
	e.GET("/mine/new", a.newTeammateChat, a.requireUser)
	a.bodyLimit(e.POST("/mine", a.createTeammateChat, a.requireUser), bodyRule{limit: messageBodyLimit})
	e.GET("/conversations/:pid", a.showConversation, a.requireUser)
	a.bodyLimit(e.POST("/conversations/:pid/messages", a.postMessage, a.requireUser), bodyRule{limit: messageBodyLimit})
	e.POST("/conversations/:pid/status", a.setConversationStatus, a.requireUser)
	e.POST("/conversations/:pid/assign", a.assignConversation, a.requireUser)
	e.POST("/conversations/:pid/follow", a.followConversation, a.requireUser)
	e.POST("/conversations/:pid/transfer", a.transferConversation, a.requireUser)
	e.GET("/conversations/:pid/menus/:menu", a.showMenu, a.requireUser)
	e.GET("/desk/menus/people", a.showPeopleMenu, a.requireUser)
	// The Participants panel (desk_participants.go).
	e.POST("/conversations/:pid/participants/join", a.joinConversation, a.requireUser)
	e.POST("/conversations/:pid/participants/leave", a.leaveConversation, a.requireUser)
	e.POST("/conversations/:pid/participants/invite", a.inviteParticipant, a.requireUser)
	e.POST("/conversations/:pid/read", a.markConversationRead, a.requireUser)
	// Files (files.go): uploads stream the raw body (no multipart), capped
	// by the desk's limit in the handler before anything is read; pending
	// uploads can be discarded; downloads are signed links (below).
	a.bodyLimit(e.POST("/conversations/:pid/files", a.uploadDeskFile, a.requireUser), bodyRule{limit: uploadBodyLimit})
	e.POST("/conversations/:pid/files/:fid/discard", a.discardDeskUpload, a.requireUser)
	// The per-message menu (desk_message_menu.go): the author's card, edit
	// and delete, the history (admins).
	e.GET("/conversations/:pid/messages/:mid", a.showMessage, a.requireUser)
	e.GET("/conversations/:pid/messages/:mid/edit", a.editMessageForm, a.requireUser)
	a.bodyLimit(e.POST("/conversations/:pid/messages/:mid/edit", a.updateMessage, a.requireUser), bodyRule{limit: messageBodyLimit})
	e.POST("/conversations/:pid/messages/:mid/delete", a.deleteMessage, a.requireUser)
	e.GET("/conversations/:pid/messages/:mid/author", a.messageAuthor, a.requireUser)
	e.GET("/conversations/:pid/messages/:mid/history", a.messageHistory, a.requireUser)
	// Typing and presence signals (ephemeral, nothing stored): desk_typing.go.
	e.POST("/conversations/:pid/typing", a.postTyping, a.requireUser)
	e.POST("/conversations/:pid/viewing", a.postViewing, a.requireUser)
	e.POST("/desk/status", a.setDeskStatus, a.requireUser)
	// The agent's own availability (desk_availability.go).
	e.POST("/desk/availability", a.setAvailability, a.requireUser)
	e.GET("/desk/events", a.streamDeskEvents, a.requireUser)
	e.GET("/desk/unread", a.deskUnread, a.requireUser)
	// Search (search.go): the header's box and the results page.
	e.GET("/search", a.search, a.requireUser)
	// Support sessions, the desk's side (sessions.go): support agents only.
	e.GET("/sessions/new", a.newSession, a.requireUser)
	e.POST("/sessions", a.createSession, a.requireUser)
	e.POST("/sessions/:pid/end", a.endSession, a.requireUser)
	e.POST("/sessions/:pid/invite", a.inviteToSession, a.requireUser)
	// Reports (reports_<name>.go): admins and the agents an admin allowed
	// (models.CanViewReports), 403 for anyone else.
	e.GET("/reports/sessions", a.sessionReport, a.requireUser, a.requireReports)
	e.GET("/reports/sessions.csv", a.sessionReportCSV, a.requireUser, a.requireReports)
	e.GET("/reports/service-levels", a.showReports, a.requireUser, a.requireReports)

	// Tickets and tasks (items.go): lists, new-item form, item pages with
	// in-place edits and following; linking conversations to items (these
	// /conversations/:pid/item routes are in items.go too).
	for _, kind := range []string{models.ItemTicket, models.ItemTask} {
		base, k := views.ItemBase(kind), itemKind(kind)
		e.GET(base, a.listItems, a.requireUser, k)
		e.GET(base+"/new", a.newItem, a.requireUser, k)
		a.bodyLimit(e.POST(base, a.createItem, a.requireUser, k), bodyRule{limit: itemBodyLimit})
		e.GET(base+"/:number", a.showItem, a.requireUser, k)
		e.GET(base+"/:number/menus/assignee", a.showItemAssigneeMenu, a.requireUser, k)
		a.bodyLimit(e.POST(base+"/:number/update", a.updateItem, a.requireUser, k), bodyRule{limit: itemBodyLimit})
		e.POST(base+"/:number/follow", a.followItem, a.requireUser, k)
		a.bodyLimit(e.POST(base+"/:number/comments", a.commentOnItem, a.requireUser, k), bodyRule{limit: itemBodyLimit})
	}
	e.GET("/conversations/:pid/item-search", a.searchItems, a.requireUser)
	e.POST("/conversations/:pid/item", a.linkConversationItem, a.requireUser)
	e.POST("/conversations/:pid/item/unlink", a.unlinkConversationItem, a.requireUser)

	// Canned replies (canned.go): the page, and the composer's '#' picker.
	e.GET("/canned", a.listCanned, a.requireUser)
	e.GET("/canned/new", a.newCanned, a.requireUser)
	a.bodyLimit(e.POST("/canned", a.createCanned, a.requireUser), bodyRule{limit: cannedFormBodyLimit})
	e.GET("/canned/:id/edit", a.editCanned, a.requireUser)
	a.bodyLimit(e.POST("/canned/:id", a.updateCanned, a.requireUser), bodyRule{limit: cannedFormBodyLimit})
	e.POST("/canned/:id/delete", a.deleteCanned, a.requireUser)
	e.GET("/conversations/:pid/canned", a.cannedPicker, a.requireUser)
	e.POST("/conversations/:pid/canned/:id", a.useCanned, a.requireUser)

	// Pushing a URL to the customer (pushurl.go) and the transcripts of a
	// customer conversation, as a .txt file and a page to print
	// (transcript.go).
	e.POST("/conversations/:pid/push", a.pushURL, a.requireUser)
	e.GET("/conversations/:pid/transcript.txt", a.deskTranscriptText, a.requireUser)
	e.GET("/conversations/:pid/transcript", a.deskTranscriptPrint, a.requireUser)
	// Downloading a file (files.go): the signed, expiring token names its
	// viewer (staff or visitor), so no session or visitor header is needed.
	e.GET("/files/:fid/:name", a.downloadFile)

	// Co-browsing (cobrowse.go): request, end, the agent's highlight and
	// scroll, the viewer page (framed by the desk, rrweb's replayer) and the
	// chunks it reads.
	e.POST("/conversations/:pid/cobrowse", a.requestCobrowse, a.requireUser)
	e.POST("/conversations/:pid/cobrowse/:sid/end", a.endCobrowse, a.requireUser)
	e.POST("/conversations/:pid/cobrowse/:sid/command", a.cobrowseCommand, a.requireUser)
	e.GET("/conversations/:pid/cobrowse/:sid/view", a.showCobrowseViewer, a.requireUser)
	e.GET("/conversations/:pid/cobrowse/:sid/chunks", a.cobrowseChunks, a.requireUser)
	// Knowledge-base articles in the composer (kb.go): the picker with its
	// search, and sending one to the customer.
	e.GET("/conversations/:pid/articles", a.articlePicker, a.requireUser)
	e.POST("/conversations/:pid/articles/:id", a.sendArticle, a.requireUser)

	// The customer context panel beside a customer conversation: editing the
	// customer's name, email, phone and notes (customer_context.go).
	e.POST("/conversations/:pid/customer", a.updateCustomer, a.requireUser)

	// Remote support over WebRTC, the agent's side (rtc.go): media
	// sessions, their signalling and ICE servers.
	e.POST("/conversations/:pid/rtc", a.requestMedia, a.requireUser)
	e.POST("/conversations/:pid/rtc/:sid/start", a.startMedia(a.rtcDesk), a.requireUser)
	e.POST("/conversations/:pid/rtc/:sid/end", a.endMedia(a.rtcDesk), a.requireUser)
	a.bodyLimit(e.POST("/conversations/:pid/rtc/:sid/signals", a.postSignal(a.rtcDesk), a.requireUser), bodyRule{limit: signalBodyLimit})
	e.GET("/conversations/:pid/rtc/signals/:id", a.showSignal(a.rtcDesk), a.requireUser)
	e.GET("/conversations/:pid/rtc/:sid/signals", a.showPendingSignals(a.rtcDesk), a.requireUser)
	e.GET("/conversations/:pid/rtc/ice", a.showICE(a.rtcDesk), a.requireUser)
	// Calls the customer starts, conferences, heartbeats (rtc_conference.go).
	e.POST("/conversations/:pid/rtc/:sid/answer", a.answerCall, a.requireUser)
	e.POST("/conversations/:pid/rtc/:sid/join", a.joinCall, a.requireUser)
	e.POST("/conversations/:pid/rtc/:sid/leave", a.leaveCall, a.requireUser)
	e.POST("/conversations/:pid/rtc/:sid/alive", a.mediaAlive(a.rtcDesk), a.requireUser)

	// Notifications (notifications.go): the bell's page and popover, marking
	// read.
	e.GET("/notifications", a.listNotifications, a.requireUser)
	e.GET("/notifications/panel", a.notificationsPanel, a.requireUser)
	e.POST("/notifications/read-all", a.readAllNotifications, a.requireUser)
	e.POST("/notifications/:id/read", a.readNotification, a.requireUser)

	// Administration: /admin/<area> in admin_<area>.go ("/admin" itself
	// redirects to the agents, in admin_agents.go).
	admin := e.Group("/admin", a.requireUser, a.requireAdmin)
	admin.GET("", a.adminHome)
	admin.GET("/agents", a.listAgents)
	admin.GET("/agents/new", a.newAgent)
	admin.POST("/agents", a.createAgent)
	admin.GET("/agents/:id/edit", a.editAgent)
	admin.POST("/agents/:id", a.updateAgent)
	admin.POST("/agents/:id/password", a.setAgentPassword)
	admin.POST("/agents/:id/deactivate", a.deactivateAgent)
	admin.POST("/agents/:id/reactivate", a.reactivateAgent)
	admin.POST("/agents/:id/capacity", a.setAgentCapacity)
	admin.POST("/agents/:id/reports", a.setAgentReports)
	admin.GET("/teams", a.listTeams)
	admin.POST("/teams", a.createTeam)
	admin.GET("/teams/:id", a.showTeam)
	admin.POST("/teams/:id", a.renameTeam)
	admin.POST("/teams/:id/delete", a.deleteTeam)
	admin.POST("/teams/:id/members", a.addTeamMember)
	admin.POST("/teams/:id/members/:user/remove", a.removeTeamMember)
	admin.GET("/routing", a.showRouting)
	admin.POST("/routing", a.createRoutingRule)
	admin.POST("/routing/:id/delete", a.deleteRoutingRule)
	admin.POST("/routing/:id/move", a.moveRoutingRule)
	admin.GET("/widget", a.showWidgetSettings)
	admin.POST("/widget", a.saveWidgetSettings)
	admin.POST("/widget/rotate-secret", a.rotateWidgetSecret)
	admin.GET("/conversations", a.showConversationSettings)
	admin.POST("/conversations", a.saveConversationSettings)
	admin.POST("/conversations/typing-preview", a.saveTypingPreview)
	admin.POST("/conversations/customer-calls", a.saveCustomerCalls)
	admin.POST("/conversations/waiting", a.saveWaitingThresholds)
	admin.POST("/conversations/support-key", a.saveSupportKeyMinutes)
	admin.GET("/service-levels", a.showServiceLevels)
	admin.POST("/service-levels", a.saveServiceLevels)
	admin.POST("/conversations/files", a.saveFileLimits)
	admin.GET("/articles", a.listArticles)
	admin.GET("/articles/new", a.newArticle)
	a.bodyLimit(admin.POST("/articles", a.createArticle), bodyRule{limit: articleFormBodyLimit})
	a.bodyLimit(admin.POST("/articles/preview", a.previewArticle), bodyRule{limit: articleFormBodyLimit})
	admin.GET("/articles/:id/edit", a.editArticle)
	a.bodyLimit(admin.POST("/articles/:id", a.updateArticle), bodyRule{limit: articleFormBodyLimit})
	admin.POST("/articles/:id/delete", a.deleteArticle)
	// Background jobs: River's UI (admin_jobs.go), never cached, not even
	// its refusals: noStore comes before the admin check.
	e.Any("/admin/jobs", a.serveJobsUI, noStore, a.requireUser, a.requireAdmin)
	e.Any("/admin/jobs/*", a.serveJobsUI, noStore, a.requireUser, a.requireAdmin)

	a.widgetRoutes(e)
}

// widgetRoutes are the public messenger: the loader, the iframe and its API
// (authenticated by the visitor token, rate-limited per IP and per visitor),
// and the demo page.
func (a *App) widgetRoutes(e *echo.Echo) {
	// The loader and the frame's theme (widget_loader.go), the frame and the
	// demo page (widget_frame.go), visitors (widget_visitor.go), the
	// conversations and their read receipts (widget_conversation.go), the
	// stream (widget_events.go).
	e.GET("/widget.js", a.serveWidgetLoader)
	e.GET("/demo", a.showDemo)

	reads := []echo.MiddlewareFunc{a.widgetContext, a.limitIP(ipReads)}
	visitorReads := append(reads[:len(reads):len(reads)], a.requireVisitor)
	visitorWrites := []echo.MiddlewareFunc{a.widgetContext, a.limitIP(ipPosts), a.requireVisitor, a.limitVisitor}
	e.GET("/widget/frame", a.showWidgetFrame, reads...)
	e.GET("/widget/theme.css", a.widgetTheme, reads...)
	e.POST("/widget/api/visitors", a.createVisitor, a.widgetContext, a.limitIP(ipVisitors))
	// Identifying runs on every page view of a signed-in user: it spends the
	// read allowance, not the visitor's message allowance.
	e.POST("/widget/api/identify", a.identifyVisitor, visitorReads...)
	e.GET("/widget/home", a.widgetHome, visitorReads...)
	a.bodyLimit(e.POST("/widget/conversations", a.startWidgetConversation, visitorWrites...), bodyRule{limit: messageBodyLimit})
	e.GET("/widget/conversations/:pid", a.showWidgetConversation, visitorReads...)
	a.bodyLimit(e.POST("/widget/conversations/:pid/messages", a.postWidgetMessage, visitorWrites...), bodyRule{limit: messageBodyLimit})
	e.POST("/widget/contact", a.saveWidgetContact, visitorWrites...)
	// A visitor's uploads (files.go): the write allowance, like a message.
	a.bodyLimit(e.POST("/widget/conversations/:pid/files", a.uploadWidgetFile, visitorWrites...), bodyRule{limit: uploadBodyLimit})
	e.POST("/widget/conversations/:pid/files/:fid/discard", a.discardWidgetUpload, visitorReads...)
	e.GET("/widget/events", a.widgetEvents, visitorReads...)
	// Email continuity: read receipts (replies the customer saw are not
	// emailed), and the link in a customer's email that reopens their
	// conversation (chat_link.go).
	e.POST("/widget/conversations/:pid/read", a.markWidgetRead, visitorReads...)
	// The visitor's typing signal (desk_typing.go): ephemeral, throttled per
	// sender on top of the read allowance.
	e.POST("/widget/conversations/:pid/typing", a.postWidgetTyping, visitorReads...)
	// The page of the customer's site the widget is open on (widget_page.go):
	// ephemeral, throttled per frame on top of the read allowance.
	e.POST("/widget/page", a.postWidgetPage, visitorReads...)
	e.GET("/chat/:token", a.openChatLink, a.limitIP(ipVisitors))
	// Support sessions, the customer's side (support.go): public, CSRF by
	// the signed-out token, key attempts rate-limited per IP in the handlers.
	e.GET("/support", a.showSupport)
	e.POST("/support", a.joinWithKey)
	e.GET("/s/:key", a.showJoinLink)
	e.POST("/s/:key", a.joinWithLink)
	// A pushed URL the customer opened (pushurl.go), and the customer's
	// transcript, a download whose signed link stands for the visitor's
	// header (transcript.go).
	e.POST("/widget/conversations/:pid/links/:id/opened", a.openWidgetLink, visitorReads...)
	e.GET("/widget/conversations/:pid/transcript.txt", a.widgetTranscript, reads...)
	// Remote support over WebRTC, the customer's side (rtc.go): answering,
	// reporting, signalling. Many small posts per session (ICE batches):
	// the read allowance, like typing.
	e.POST("/widget/conversations/:pid/rtc/:sid/answer", a.answerMedia, visitorReads...)
	e.POST("/widget/conversations/:pid/rtc/:sid/start", a.startMedia(a.rtcWidget), visitorReads...)
	e.POST("/widget/conversations/:pid/rtc/:sid/end", a.endMedia(a.rtcWidget), visitorReads...)
	a.bodyLimit(e.POST("/widget/conversations/:pid/rtc/:sid/signals", a.postSignal(a.rtcWidget), visitorReads...), bodyRule{limit: signalBodyLimit})
	e.GET("/widget/conversations/:pid/rtc/signals/:id", a.showSignal(a.rtcWidget), visitorReads...)
	e.GET("/widget/conversations/:pid/rtc/:sid/signals", a.showPendingSignals(a.rtcWidget), visitorReads...)
	e.GET("/widget/conversations/:pid/rtc/ice", a.showICE(a.rtcWidget), visitorReads...)
	// The customer's call (when the desk allows it) and heartbeat
	// (rtc_conference.go).
	e.POST("/widget/conversations/:pid/rtc", a.callAgents, visitorReads...)
	e.POST("/widget/conversations/:pid/rtc/:sid/alive", a.mediaAlive(a.rtcWidget), visitorReads...)
	// Co-browsing, the customer's side (cobrowse.go): the consent answer and
	// End spend the message allowance; the recorder's chunks (a few a
	// second while active) the read allowance, up to the chunk cap.
	e.POST("/widget/conversations/:pid/cobrowse/:sid/answer", a.answerCobrowse, visitorWrites...)
	e.POST("/widget/conversations/:pid/cobrowse/:sid/end", a.endWidgetCobrowse, visitorWrites...)
	a.bodyLimit(e.POST("/widget/conversations/:pid/cobrowse/:sid/chunks", a.postCobrowseChunk, visitorReads...), bodyRule{limit: models.CobrowseChunkLimit})
	// Knowledge-base articles (kb.go): the widget's search before a chat
	// (public, like the articles; the read allowance) and an article's
	// public page (published only).
	e.GET("/widget/articles", a.widgetArticles, reads...)
	e.GET("/help/:slug", a.showHelpArticle, a.limitIP(ipReads))
}
