import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { LIVE, type Broadcast } from "./model";

export const broadcastsKey = (workspace: number | null) => ["broadcasts", workspace] as const;
export const broadcastKey = (workspace: number | null, id: number) => ["broadcast", workspace, id] as const;

/** How often a broadcast that is going out is asked again. */
export const POLL_MS = 3000;

/** Every broadcast of the workspace (the list is not paginated), each with its progress. */
export function useBroadcasts() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: broadcastsKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/broadcasts")),
    refetchInterval: (q) => (q.state.data?.data.some((b) => LIVE.includes(b.status)) ? POLL_MS * 2 : false),
  });
}

/** One broadcast; asked again every few seconds while it is scheduled, sending, testing or queued. */
export function useBroadcast(id: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: broadcastKey(workspace, id ?? 0),
    enabled: id !== null,
    queryFn: () => unwrap(api.GET("/api/v1/broadcasts/{broadcast_id}", { params: { path: { broadcast_id: id ?? 0 } } })),
    refetchInterval: (q) => (q.state.data && LIVE.includes(q.state.data.status) ? POLL_MS : false),
  });
}

export function useCampaigns() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["campaigns", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/campaigns")),
    staleTime: 30_000,
  });
}

/** Segments with their member counts (`member_count`: the live membership). */
export function useSegments() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["segments", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/segments")),
    staleTime: 30_000,
  });
}

/** One segment's live count, asked again when the segment picked changes. */
export function useSegment(id: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["segment", workspace, id ?? 0],
    enabled: id !== null,
    queryFn: () => unwrap(api.GET("/api/v1/segments/{segment_id}", { params: { path: { segment_id: id ?? 0 } } })),
    refetchInterval: 30_000,
  });
}

export function useTopics() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["topics", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/topics")),
    staleTime: 60_000,
  });
}

/** Offers a variant can give (the first 100 that are not archived). */
export function useOfferList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["offers", workspace, "all"],
    queryFn: () => unwrap(api.GET("/api/v1/offers", { params: { query: { limit: 100 } } })),
    staleTime: 60_000,
  });
}

/** The broadcast's report (its experiment, per variant), while the page is open. */
export function useBroadcastReport(b: Broadcast | undefined) {
  const workspace = useWorkspaceKey();
  const id = b?.id ?? 0;
  return useQuery({
    queryKey: ["reports", "broadcast", workspace, id, "last", null, b?.status, b?.queued, b?.winner],
    enabled: b !== undefined && b.status !== "draft",
    queryFn: async ({ signal }) => {
      const report = await unwrap(api.GET("/api/v1/reports/broadcasts/{broadcast_id}", { params: { path: { broadcast_id: id } }, signal }));
      if (typeof report === "string") throw new TypeError("the report answered CSV where JSON was asked");
      return report;
    },
    refetchInterval: b && LIVE.includes(b.status) ? POLL_MS * 3 : false,
  });
}
