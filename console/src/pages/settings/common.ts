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

export const ROLES: Role[] = ["admin", "marketer", "analyst"];

/** Users, roles and keys are changed by admins only (the server refuses the others anyway). */
export function useIsAdmin(): boolean {
  return useSession().workspace?.role === "admin";
}

/** The error's code when it is an API error with that status, else null. */
export function apiCode(error: unknown, status: number): string | null {
  return error instanceof ApiError && error.status === status ? error.code : null;
}
