// "Train now": POST /predictive-models/{id}/train answers 202 (the worker trains it; the
// model is read again until it is ready) or 422 `too_few_positives` with the reason, which
// the caller shows (the server has marked the model failed with it).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import type { PredictiveModel } from "./model";
import { predictiveModelKey, predictiveModelsKey } from "./queries";

export function useTrain(onQueued: (model: PredictiveModel) => void) {
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const refresh = (id: number) => {
    void queryClient.invalidateQueries({ queryKey: predictiveModelsKey(workspace) });
    void queryClient.invalidateQueries({ queryKey: predictiveModelKey(workspace, id) });
  };
  return useMutation({
    mutationFn: (m: PredictiveModel) =>
      unwrap(api.POST("/api/v1/predictive-models/{model_id}/train", { params: { path: { model_id: m.id } } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(predictiveModelKey(workspace, saved.id), saved);
      refresh(saved.id);
      onQueued(saved);
    },
    // a refusal set the model failed with its reason: read it again
    onError: (_, m) => refresh(m.id),
  });
}
