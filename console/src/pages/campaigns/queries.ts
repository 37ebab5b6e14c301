import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspaceKey } from "../../auth/SessionProvider";

type Schemas = components["schemas"];
export type Campaign = Schemas["CampaignRead"];
export type CampaignStatus = Campaign["status"];
export type CampaignCreate = Schemas["CampaignCreate"];
export type CampaignUpdate = Schemas["CampaignUpdate"];
export type Comment = Schemas["CommentRead"];
export type Broadcast = Schemas["BroadcastRead"];
export type Journey = Schemas["JourneyRead"];
export type CampaignReport = Schemas["CampaignReport"];

export const STATUSES: CampaignStatus[] = ["draft", "pending_approval", "approved", "active", "completed", "cancelled"];
export const CHANNELS = ["email", "sms", "push", "wechat", "webhook", "inapp"] as const;
export type Channel = (typeof CHANNELS)[number];

export const campaignKeys = {
  list: (ws: number | null) => ["campaigns", ws] as const,
  one: (ws: number | null, id: number) => ["campaign", ws, id] as const,
  comments: (ws: number | null, id: number) => ["campaign-comments", ws, id] as const,
};

export function useCampaignList() {
  const ws = useWorkspaceKey();
  return useQuery({ queryKey: campaignKeys.list(ws), queryFn: () => unwrap(api.GET("/api/v1/campaigns")) });
}

export function useCampaign(id: number | null) {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: campaignKeys.one(ws, id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: id! } } })),
    enabled: id !== null,
  });
}

/** The whole thread (at most 500 entries, oldest first). */
export function useComments(id: number) {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: campaignKeys.comments(ws, id),
    queryFn: () =>
      unwrap(api.GET("/api/v1/campaigns/{campaign_id}/comments", { params: { path: { campaign_id: id }, query: { limit: 500 } } })),
  });
}

export function useCampaignBroadcasts(id: number) {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: ["broadcasts", ws, { campaign: id }],
    queryFn: () => unwrap(api.GET("/api/v1/broadcasts", { params: { query: { campaign_id: id } } })),
  });
}

export function useJourneyList() {
  const ws = useWorkspaceKey();
  return useQuery({ queryKey: ["campaign-pages", "journeys", ws], queryFn: () => unwrap(api.GET("/api/v1/journeys")), staleTime: 30_000 });
}

export function useCampaignReport(id: number) {
  const ws = useWorkspaceKey();
  return useQuery({
    queryKey: ["campaign-report-headline", ws, id],
    // JSON (format=json, the default); the route's type also allows its CSV
    queryFn: () =>
      unwrap(api.GET("/api/v1/reports/campaigns/{campaign_id}", { params: { path: { campaign_id: id } } })) as Promise<CampaignReport>,
    staleTime: 60_000,
  });
}

export function useWorkspaceSettings() {
  const ws = useWorkspaceKey();
  return useQuery({ queryKey: ["workspace", ws], queryFn: () => unwrap(api.GET("/api/v1/workspace")), staleTime: 60_000 });
}

/** Segments with their live member counts. */
export function useSegmentList() {
  const ws = useWorkspaceKey();
  return useQuery({ queryKey: ["segments", ws], queryFn: () => unwrap(api.GET("/api/v1/segments")) });
}

export function useTemplateList() {
  const ws = useWorkspaceKey();
  return useQuery({ queryKey: ["campaign-pages", "templates", ws], queryFn: () => unwrap(api.GET("/api/v1/templates")), staleTime: 30_000 });
}

export function useOfferList() {
  const ws = useWorkspaceKey();
  return useQuery({ queryKey: ["campaign-pages", "offers", ws], queryFn: () => unwrap(api.GET("/api/v1/offers")), staleTime: 30_000 });
}
