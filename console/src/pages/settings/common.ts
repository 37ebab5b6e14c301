import type { components } from "../../api/schema";
import { ApiError } from "../../api/http";
import { useSession } from "../../auth/SessionProvider";
// (each page imports i18n/settings itself: a type-only import of this module would not load it)

type Schemas = components["schemas"];
export type WorkspaceUser = Schemas["kairos__api__routes__users__UserRead"];
export type ApiKey = Schemas["KeyRead"];
export type KeyCreated = Schemas["KeyCreated"];
export type AuditEntry = Schemas["AuditEntry"];
export type Role = WorkspaceUser["role"];
export type WorkspaceSettings = Schemas["WorkspaceRead"];
export type WorkspaceChange = Schemas["WorkspaceUpdate"];
export type Channel = Schemas["ChannelRead"];
export type ChannelKind = Channel["kind"];
export type Provider = Schemas["ProviderRead"];
export type ProviderName = Schemas["ChannelCreate"]["provider"];
export type Topic = Schemas["TopicRead"];
export type Template = Schemas["TemplateRead"];
export type Attribute = Schemas["AttributeRead"];
export type AttributeType = Schemas["AttributeCreate"]["type"];
export type AttributeConversion = Schemas["AttributeConversion"];
export type Policy = Schemas["MessagingPolicy"];
export type FrequencyCap = Schemas["FrequencyCap"];
export type QuietHours = Schemas["QuietHours"];

export const CHANNEL_KINDS: ChannelKind[] = ["email", "sms", "push", "wechat", "webhook", "inapp"];
export const ATTRIBUTE_TYPES: AttributeType[] = ["string", "number", "boolean", "datetime", "list"];

export const ROLES: Role[] = ["admin", "marketer", "analyst"];

/** Users, roles and keys are changed by admins only (the server refuses the others anyway). */
export function useIsAdmin(): boolean {
  return useSession().workspace?.role === "admin";
}

/** The error's code when it is an API error with that status, else null. */
export function apiCode(error: unknown, status: number): string | null {
  return error instanceof ApiError && error.status === status ? error.code : null;
}

/** Query keys of the Settings pages' data (per workspace). */
export const settingsKeys = {
  workspace: (ws: number | null) => ["workspace", ws] as const,
  channels: (ws: number | null) => ["channels", ws] as const,
  providers: ["channel-providers"] as const,
  topics: (ws: number | null) => ["topics", ws] as const,
  templates: (ws: number | null) => ["templates", ws] as const,
  policy: (ws: number | null) => ["messaging-policy", ws] as const,
  attributes: (ws: number | null) => ["attributes", ws] as const,
};

/** The field a 422's message names first ("key: …" → "key", "settings.host: …" → "settings.host",
 * "frequency_caps[0].limit: …" → "frequency_caps[0].limit"), or null. */
export function errorPath(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 422) return null;
  const match = /^([A-Za-z_][\w.[\]]*): /.exec(error.message);
  return match ? match[1]! : null;
}
