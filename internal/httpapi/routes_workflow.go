package httpapi

// workflowRoutes are the routes of the agents' workflow, with their rows of
// the authorization matrix (see Routes for the columns and helpers).
func workflowRoutes(agentsOnly func(string) Access, conversation Access) []Route {
	//                      anonymous visitor_a visitor_b  agent_assigned agent_unassigned senior  lead  admin disabled
	leads := func(st string) Access { return row("401", "403", "403", "403", "403", "403", st, st, "401") }
	seen := func(st string) Access { return row("401", "403", "403", st+"/404", "404", st, st, st, "401") }
	// Own: agent_assigned's personal reply; foreign: a shared one.
	quickReply := func(st string) Access {
		return row("401", "403", "403", st+"/403", "404/403", "404/403", "404/"+st, "404/"+st, "401")
	}
	return []Route{
		{Method: "GET", Pattern: "/api/conversations/{id}/transfers", Summary: "A conversation's transfers, oldest first",
			Access: seen("200"), handle: listTransfers},
		{Method: "POST", Pattern: "/api/conversations/{id}/rating", Summary: "Rate a closed conversation (the visitor, once)",
			Access: row("401", "201/404", "404/201", "403", "403", "403", "403", "403", "401"), handle: rateConversation},
		{Method: "GET", Pattern: "/api/conversations/{id}/rating", Summary: "A conversation's rating (null when none)",
			Access: conversation, handle: getRating},
		{Method: "GET", Pattern: "/api/conversations/{id}/sops", Summary: "The SOP documents pinned to a conversation",
			Access: seen("200"), handle: listPinnedSOPs},
		{Method: "PUT", Pattern: "/api/conversations/{id}/sops/{sopId}", Summary: "Pin an SOP document to a conversation",
			Access: seen("204"), handle: pinSOP},
		{Method: "DELETE", Pattern: "/api/conversations/{id}/sops/{sopId}", Summary: "Unpin an SOP document",
			Access: seen("204"), handle: unpinSOP},

		{Method: "GET", Pattern: "/api/quick-replies", Summary: "The shared quick replies and the caller's own",
			Access: agentsOnly("200"), handle: listQuickReplies},
		{Method: "POST", Pattern: "/api/quick-replies", Summary: "Create a quick reply (shared: team leads and admins)",
			Access: agentsOnly("201"), handle: createQuickReply},
		{Method: "PATCH", Pattern: "/api/quick-replies/{id}", Summary: "Change a quick reply",
			Access: quickReply("200"), handle: updateQuickReply},
		{Method: "DELETE", Pattern: "/api/quick-replies/{id}", Summary: "Delete a quick reply",
			Access: quickReply("204"), handle: deleteQuickReply},
		{Method: "POST", Pattern: "/api/quick-replies/{id}/expand", Summary: "A quick reply's text with its variables filled in for a conversation",
			Access: row("401", "403", "403", "200/404", "404", "200", "200", "200", "401"), handle: expandQuickReply},

		{Method: "GET", Pattern: "/api/sops", Summary: "Search SOP documents (q, tag, limit)", Access: agentsOnly("200"), handle: listSOPs},
		{Method: "POST", Pattern: "/api/sops", Summary: "Create an SOP document", Access: leads("201"), handle: createSOP},
		{Method: "GET", Pattern: "/api/sops/{id}", Summary: "Get an SOP document", Access: agentsOnly("200"), handle: getSOP},
		{Method: "PATCH", Pattern: "/api/sops/{id}", Summary: "Change an SOP document (expectVersion required)", Access: leads("200"), handle: updateSOP},
		{Method: "DELETE", Pattern: "/api/sops/{id}", Summary: "Delete an SOP document", Access: leads("204"), handle: deleteSOP},
		{Method: "GET", Pattern: "/api/sops/{id}/versions", Summary: "An SOP document's versions, newest first", Access: agentsOnly("200"), handle: listSOPVersions},

		{Method: "GET", Pattern: "/api/reports/summary", Summary: "Conversations, response and resolution times, satisfaction and the queue over a range",
			Access: leads("200"), handle: reportSummary},
	}
}
