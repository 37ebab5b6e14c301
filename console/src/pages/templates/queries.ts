import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";

export const templatesKey = (workspace: number | null) => ["templates", workspace] as const;
export const templateKey = (workspace: number | null, id: number) => ["template", workspace, id] as const;

/** Every template of the workspace (the list is not paginated). */
export function useTemplates() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: templatesKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/templates")),
  });
}

export function useTemplate(id: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: templateKey(workspace, id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/templates/{template_id}", { params: { path: { template_id: id ?? 0 } } })),
    enabled: id !== null,
  });
}

/** The workspace's attributes (custom traits), for the Liquid completion. */
export function useAttributes() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["attributes", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/attributes")),
    staleTime: 60_000,
  });
}

/** Computed traits, for the Liquid completion (`computed.…`). */
export function useComputedTraits() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["computed-traits", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/computed-traits")),
    staleTime: 60_000,
  });
}

/** Active offers, to preview `{{ offer.… }}` with (the first 100). */
export function useOffers() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["offers", workspace, "active"],
    queryFn: () => unwrap(api.GET("/api/v1/offers", { params: { query: { status: "active", limit: 100 } } })),
    staleTime: 60_000,
  });
}

/** The contact a preview starts with: the workspace's first (null in an empty workspace). */
export function useFirstContact() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["contacts-first", workspace],
    queryFn: async () => (await unwrap(api.GET("/api/v1/contacts", { params: { query: { limit: 1 } } }))).data[0] ?? null,
    staleTime: 60_000,
  });
}
