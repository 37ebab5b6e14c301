import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";

export const offersKey = (workspace: number | null) => ["offers", workspace] as const;
export const offerKey = (workspace: number | null, id: number) => ["offer", workspace, id] as const;

/** Every offer, archived ones too (the list pages through them all: workspaces have dozens). */
export function useOffers() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: offersKey(workspace),
    queryFn: async () => {
      const all = [];
      let after: string | undefined;
      for (;;) {
        const page = await unwrap(api.GET("/api/v1/offers", { params: { query: { limit: 500, after } } }));
        all.push(...page.data);
        if (!page.next) return all;
        after = page.next;
      }
    },
  });
}

export function useOffer(id: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: offerKey(workspace, id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/offers/{offer_id}", { params: { path: { offer_id: id ?? 0 } } })),
    enabled: id !== null,
  });
}
