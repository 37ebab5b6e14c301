import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { isBusy } from "./model";

export const predictiveModelsKey = (workspace: number | null) => ["predictive-models", workspace] as const;
export const predictiveModelKey = (workspace: number | null, id: number) => ["predictive-model", workspace, id] as const;
export const contactPredictionsKey = (workspace: number | null, contactId: number) =>
  ["contact-predictions", workspace, contactId] as const;

/** How often a queued or training model is read again. */
export const TRAINING_POLL_MS = 3_000;

/** The workspace's predictive models, read again while one is queued or training. */
export function usePredictiveModels(options: { enabled?: boolean } = {}) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: predictiveModelsKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/predictive-models")),
    staleTime: 30_000,
    enabled: options.enabled ?? true,
    refetchInterval: (query) => (query.state.data?.data.some(isBusy) ? TRAINING_POLL_MS : false),
  });
}

/** One model with its card; read again while it is queued or training. */
export function usePredictiveModel(id: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: predictiveModelKey(workspace, id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/predictive-models/{model_id}", { params: { path: { model_id: id ?? 0 } } })),
    enabled: id !== null,
    refetchInterval: (query) => (query.state.data && isBusy(query.state.data) ? TRAINING_POLL_MS : false),
  });
}
