import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import type { TaskFilters } from "./model";

type Schemas = components["schemas"];
export type Lead = Schemas["LeadRead"];
export type Task = Schemas["TaskRead"];
export type TaskKind = Task["kind"];
export type LeadOwner = Schemas["OwnerCandidate"];
export type ContactScore = Schemas["ContactScore"];
export type LedgerEntry = Schemas["LedgerEntry"];

export const TASK_KINDS: TaskKind[] = ["call", "wechat", "visit", "custom"];

/** Leads of one owner (`me`, `any` or a user id), at one stage or any, by cursor pages. */
export function useLeads(owner: string, stage: string | null) {
  const workspace = useWorkspaceKey();
  return useInfiniteQuery({
    queryKey: ["leads", workspace, owner, stage],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/leads", {
          params: { query: { owner, stage: stage ?? undefined, limit: 50, after: pageParam ?? undefined } },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next ?? null,
    placeholderData: keepPreviousData,
  });
}

/** Who may own leads (for the owner filter): any role may read it. */
export function useLeadOwners(enabled = true) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["lead-owners", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/lead-owners")),
    staleTime: 60_000,
    enabled,
  });
}

export function useContactScores(contactId: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["contact-scores", workspace, contactId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/contacts/{contact_id}/scores", { params: { path: { contact_id: contactId ?? 0 }, query: { latest: 20 } } })),
    enabled: contactId !== null,
  });
}

export function useContact(contactId: number | null, enabled: boolean) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["contact", workspace, contactId],
    queryFn: () => unwrap(api.GET("/api/v1/contacts/{contact_id}", { params: { path: { contact_id: contactId ?? 0 } } })),
    enabled: contactId !== null && enabled,
  });
}

/** The query string of `GET /tasks` for the inbox's filters. */
export function taskQuery(f: TaskFilters) {
  return {
    mine: f.who === "mine" ? true : undefined,
    unassigned: f.who === "queue" ? true : undefined,
    status: f.status === "overdue" ? undefined : (f.status ?? undefined),
    overdue: f.status === "overdue" ? true : undefined,
    kind: f.kind ?? undefined,
  };
}

export function useTasks(f: TaskFilters) {
  const workspace = useWorkspaceKey();
  return useInfiniteQuery({
    queryKey: ["tasks", workspace, f.who, f.status, f.kind],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/tasks", { params: { query: { ...taskQuery(f), limit: 50, after: pageParam ?? undefined } }, signal })),
    getNextPageParam: (last) => last.next ?? null,
    placeholderData: keepPreviousData,
  });
}

export function useContactTasks(contactId: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["tasks", workspace, "contact", contactId],
    queryFn: () => unwrap(api.GET("/api/v1/tasks", { params: { query: { contact_id: contactId ?? 0, limit: 20 } } })),
    enabled: contactId !== null,
  });
}

export function useTask(taskId: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["task", workspace, taskId],
    queryFn: () => unwrap(api.GET("/api/v1/tasks/{task_id}", { params: { path: { task_id: taskId ?? 0 } } })),
    enabled: taskId !== null,
  });
}

/** After a decision or a task change: the lists, the contact's tasks and scores, the profile. */
function useRefresh() {
  const client = useQueryClient();
  const workspace = useWorkspaceKey();
  return (contactId: number) => {
    void client.invalidateQueries({ queryKey: ["leads", workspace] });
    void client.invalidateQueries({ queryKey: ["tasks", workspace] });
    void client.invalidateQueries({ queryKey: ["task", workspace] });
    void client.invalidateQueries({ queryKey: ["contact", workspace, contactId] });
    void client.invalidateQueries({ queryKey: ["lead-owners", workspace] });
  };
}

export function useAcceptLead() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (contactId: number) =>
      unwrap(api.POST("/api/v1/leads/{contact_id}/accept", { params: { path: { contact_id: contactId } } })),
    onSuccess: (_, contactId) => refresh(contactId),
  });
}

export function useRejectLead() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: ({ contactId, reason }: { contactId: number; reason: string }) =>
      unwrap(api.POST("/api/v1/leads/{contact_id}/reject", { params: { path: { contact_id: contactId } }, body: { reason } })),
    onSuccess: (_, { contactId }) => refresh(contactId),
  });
}

export function useClaimTask() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (taskId: number) => unwrap(api.POST("/api/v1/tasks/{task_id}/claim", { params: { path: { task_id: taskId } } })),
    onSuccess: (task) => refresh(task.contact_id),
  });
}

export function useCompleteTask() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: ({ taskId, outcome, notes }: { taskId: number; outcome: string; notes: string | null }) =>
      unwrap(api.POST("/api/v1/tasks/{task_id}/complete", { params: { path: { task_id: taskId } }, body: { outcome, notes } })),
    onSuccess: (task) => refresh(task.contact_id),
  });
}

/** The B2B accounts a contact belongs to (usually one). */
export function useContactAccounts(contactId: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["accounts", workspace, "contact", contactId],
    queryFn: () => unwrap(api.GET("/api/v1/accounts", { params: { query: { contact_id: contactId ?? 0, limit: 5 } } })),
    enabled: contactId !== null,
  });
}
