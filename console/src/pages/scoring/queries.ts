import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";

export const scoreModelsKey = (workspace: number | null) => ["score-models", workspace] as const;
export const scoreModelKey = (workspace: number | null, id: number) => ["score-model", workspace, id] as const;

/** How often a model's recompute progress is read again while it runs. */
export const RECOMPUTE_POLL_MS = 2_000;

/**
 * Every score model of the workspace (with their rules and recompute progress), read again
 * every 2 s while a recompute is queued or running.
 */
export function useScoreModels(options: { enabled?: boolean } = {}) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: scoreModelsKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/score-models")),
    staleTime: 30_000,
    enabled: options.enabled ?? true,
    refetchInterval: (query) =>
      query.state.data?.data.some((m) => m.recompute.status !== "idle") ? RECOMPUTE_POLL_MS : false,
  });
}

/** One model; read again every 2 s while its recompute is queued or running. */
export function useScoreModel(id: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: scoreModelKey(workspace, id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/score-models/{model_id}", { params: { path: { model_id: id ?? 0 } } })),
    enabled: id !== null,
    refetchInterval: (query) => (query.state.data && query.state.data.recompute.status !== "idle" ? RECOMPUTE_POLL_MS : false),
  });
}
