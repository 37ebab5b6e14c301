import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";

export const journeysKey = (workspace: number | null) => ["journeys", workspace] as const;
export const journeyKey = (workspace: number | null, id: number) => ["journey", workspace, id] as const;

/** Every journey of the workspace (the list is not paginated). */
export function useJourneys() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: journeysKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/journeys")),
  });
}

export function useJourney(id: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: journeyKey(workspace, id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{journey_id}", { params: { path: { journey_id: id ?? 0 } } })),
    enabled: id !== null,
    // a draft being edited is never replaced behind the user's back
    refetchOnWindowFocus: false,
  });
}

/** The JSON Schema of a definition: the inspectors are drawn from it. */
export function useJourneySchema() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["journey-schema", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/journeys/schema")),
    staleTime: Infinity,
  });
}

export function useTemplateList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["templates", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/templates")),
    staleTime: 60_000,
  });
}

/** Offers for the offer picker (the first 200, any status: a paused offer may resume). */
export function useOfferList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["offers", workspace, "picker"],
    queryFn: () => unwrap(api.GET("/api/v1/offers", { params: { query: { limit: 200 } } })),
    staleTime: 60_000,
  });
}

export function useTopicList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["topics", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/topics")),
    staleTime: 60_000,
  });
}

export function useLifecycleStages() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["lifecycle-stages", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/contacts/lifecycle-stages")),
    staleTime: 60_000,
  });
}

/** The campaigns a journey can belong to (its reports then count in the campaign's). */
export function useCampaignList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["journey-campaigns", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/campaigns")),
    staleTime: 30_000,
  });
}

/** The score models a `score_crossed` trigger can name (by key). */
export function useScoreModelList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["score-models", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/score-models")),
    staleTime: 60_000,
  });
}

/** The predictive models a `predicted_crossed` trigger can name (by key). */
export function usePredictiveModelList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["journey-predictive-models", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/predictive-models")),
    staleTime: 60_000,
  });
}

/** Who may be given a task (`user:<id>`): sales users, marketers, admins. */
export function useLeadOwnerList() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["lead-owners", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/lead-owners")),
    staleTime: 60_000,
  });
}
