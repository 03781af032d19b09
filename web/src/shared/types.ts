// The shapes of Parley's REST API (docs/api.md) and socket frames
// (docs/protocol.md) that the browser UI uses.

export type Status = "waiting" | "active" | "closed";
export type SenderType = "customer" | "agent" | "system";
export type Kind = "text" | "file" | "system" | "note";
export type Role = "agent" | "senior_agent" | "team_lead" | "admin";
export type Availability = "online" | "away" | "offline";

export interface Attachment {
  id: string;
  type: string;
  contentType: string;
  size: number;
  name: string;
  url: string;
  thumbnailUrl?: string;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  clientMessageId?: string;
  senderId?: string;
  /** The agent's name, on agents' messages. */
  senderName?: string;
  senderType: SenderType;
  kind: Kind;
  content: string;
  createdAt: string;
  attachments?: Attachment[];
  metadata?: Record<string, unknown>;
}

export interface Conversation {
  id: string;
  status: Status;
  customerId: string;
  assigneeId: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  lastMessageAt: string | null;
  lastSeq: number;
  lastCustomerSeq?: number;
  lastMessagePreview: string;
  customerIp?: string;
  metadata?: Record<string, unknown>;
  unread?: number;
  /** In agents' lists: the customer's name and email (when left). */
  customerName?: string;
  customerEmail?: string;
}

export interface ConversationPage {
  conversations: Conversation[];
  totalCount: number;
  unreadCount: number;
  nextCursor: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  availability: Availability;
  maxChats: number;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface VisitorContext {
  pageUrl: string;
  pageTitle: string;
  referrer: string;
  language: string;
  timeZone: string;
}

export interface Device {
  browser: string;
  browserVersion: string;
  os: string;
  osVersion: string;
  type: "desktop" | "mobile" | "tablet" | "bot" | "unknown";
}

export interface Customer {
  id: string;
  name: string;
  email: string;
  userAgent: string;
  ip: string;
  location: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  firstSeen: string;
  lastSeen: string;
  device?: Device;
  context?: VisitorContext;
}

export interface BusinessHours {
  timeZone: string;
  days: Partial<Record<"mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun", { from: string; to: string }[]>>;
}

export interface WidgetConfig {
  title: string;
  greeting: string;
  color: string;
  position: "right" | "left";
  preChatForm: "off" | "optional" | "required";
  online: boolean;
  agentsOnline: boolean;
  withinBusinessHours: boolean;
  businessHours: BusinessHours | null;
  nextOpenAt: string | null;
  offlineMessage: string;
}

export interface Settings {
  widget: Pick<WidgetConfig, "title" | "greeting" | "color" | "position" | "preChatForm">;
  allowedOrigins: string[];
  businessHours: BusinessHours | null;
  offlineMessage: string;
  snippet: string;
}

export interface Party {
  type: "agent" | "customer";
  id: string;
  name: string;
}

// Frames the server sends.
export type ServerFrame =
  | { type: "ready"; version: string; principal: Party }
  | { type: "ack"; ref?: string; clientMessageId: string; messageId: string; conversationId: string; seq: number; createdAt: string; duplicate?: boolean }
  | ({ type: "message" } & Message)
  | { type: "resumed"; ref?: string; conversationId?: string; lastSeq?: number; inbox?: boolean }
  | { type: "typing"; conversationId: string; from: Party; state: "start" | "stop"; note?: boolean }
  | { type: "read"; conversationId: string; from: Party; seq: number }
  | { type: "presence"; from: Party; online: boolean; lastSeen?: string; conversationId?: string }
  | { type: "conversation"; conversationId: string; change: string; conversation: Conversation }
  | { type: "activity"; conversationId: string; seq: number; senderType: SenderType; kind: Kind; createdAt: string; preview: string }
  | { type: "error"; code: string; message: string; ref?: string; conversationId?: string; clientMessageId?: string }
  | { type: "pong"; ref?: string };

// Defaults of GET /api/widget/config (contracts.md), used while it loads and
// on a server that does not have that endpoint yet.
export const defaultWidgetConfig: WidgetConfig = {
  title: "Chat with us",
  greeting: "Hi! How can we help?",
  color: "#2563eb",
  position: "right",
  preChatForm: "optional",
  online: true,
  agentsOnline: true,
  withinBusinessHours: true,
  businessHours: null,
  nextOpenAt: null,
  offlineMessage: "",
};

export interface Rating {
  conversationId: string;
  score: number;
  comment: string;
  createdAt: string;
}

export interface Transfer {
  id: string;
  fromAgent: { id: string; name: string } | null;
  toAgent: { id: string; name: string };
  by: { id: string; name: string } | null;
  reason: string;
  createdAt: string;
}

export interface QuickReply {
  id: string;
  shortcut: string;
  text: string;
  shared: boolean;
  ownerId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SOP {
  id: string;
  title: string;
  body?: string;
  tags: string[];
  version: number;
  createdBy: string;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface SOPVersion {
  version: number;
  title: string;
  body: string;
  tags: string[];
  changedBy: string;
  changedAt: string;
}

export interface Pin {
  sop: SOP;
  pinnedBy: string;
  pinnedAt: string;
}

export interface Timing {
  count: number;
  medianSeconds: number;
  p90Seconds: number;
}

export interface Stats {
  started: number;
  closed: number;
  firstResponse: Timing;
  resolution: Timing;
  satisfaction: { count: number; average: number; distribution: number[] };
}

export interface Report {
  from: string;
  to: string;
  bucket: "hour" | "day";
  overall: Stats;
  agents: (Stats & { agentId: string; name: string })[];
  queue: { at: string; waiting: number }[];
}

export interface SnippetPart {
  text: string;
  highlight?: boolean;
}

export interface SearchHit {
  field: "message" | "customer" | "conversation_id";
  score: number;
  conversation: Conversation;
  customer: { name: string; email: string };
  message: { id: string; seq: number; senderType: SenderType; senderId?: string; kind: Kind; createdAt: string } | null;
  snippet: SnippetPart[];
}

export interface SearchPage {
  results: SearchHit[];
  nextCursor: string;
  truncated: boolean;
}
