import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspaceKey } from "../../auth/SessionProvider";

export type Account = components["schemas"]["AccountRead"];
export type AccountScore = components["schemas"]["AccountScore"];
export type AccountMember = components["schemas"]["AccountMemberRead"];
export type AccountWrite = components["schemas"]["AccountCreate"];

export const PAGE = 50;
export const accountsKey = (workspace: number | null) => ["accounts", workspace] as const;
export const accountKey = (workspace: number | null, id: number) => ["account", workspace, id] as const;
export const membersKey = (workspace: number | null, id: number) => ["account-members", workspace, id] as const;

/** The account list, cursor pages, filtered by a name or domain prefix. */
export function useAccounts(q: string) {
  const workspace = useWorkspaceKey();
  return useInfiniteQuery({
    queryKey: [...accountsKey(workspace), q],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/accounts", { params: { query: { limit: PAGE, after: pageParam ?? undefined, q: q || undefined } } })),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

export function useAccount(id: number) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: accountKey(workspace, id),
    queryFn: () => unwrap(api.GET("/api/v1/accounts/{account_id}", { params: { path: { account_id: id } } })),
  });
}

export function useMembers(id: number) {
  const workspace = useWorkspaceKey();
  return useInfiniteQuery({
    queryKey: membersKey(workspace, id),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/accounts/{account_id}/contacts", {
          params: { path: { account_id: id }, query: { limit: PAGE, after: pageParam ?? undefined } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
}

/** Who may own an account: the workspace's sales users, marketers and admins. */
export function useOwners(enabled: boolean) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["lead-owners", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/lead-owners")),
    staleTime: 60_000,
    enabled,
  });
}

/** The name people read: the name, else the domain, else the external id, else its number. */
export function accountName(a: Pick<Account, "id" | "name" | "domain" | "external_id">, unnamed: (id: number) => string): string {
  return a.name || a.domain || a.external_id || unnamed(a.id);
}
