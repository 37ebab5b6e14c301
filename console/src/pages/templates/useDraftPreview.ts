import { useEffect, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { useDebounced } from "../segments/builder/usePreview";

export const PREVIEW_DEBOUNCE_MS = 400;

export type DraftPreviewRequest = components["schemas"]["TemplateDraftPreview"];
export type RenderedContent = Record<string, unknown>;

export interface DraftPreviewState {
  /** The content as it would be sent, for the latest request answered (kept while the next is on its way). */
  content: RenderedContent | undefined;
  error: unknown;
  /** Waiting for the user to stop typing, or for the server. */
  updating: boolean;
}

/**
 * The unsaved template rendered by `POST /templates/preview`, asked 400 ms after the last
 * change (`request` null: nothing to ask yet, e.g. a required field is empty). Each request
 * is its own query, keyed by its JSON: an answer can only land on the request it was asked
 * for, and the request nobody waits for any more is aborted (TanStack Query aborts the
 * `signal` of a query that lost its observer) — as the segment builder's preview does.
 */
export function useDraftPreview(request: DraftPreviewRequest | null): DraftPreviewState {
  const workspace = useWorkspaceKey();
  const text = request === null ? "" : JSON.stringify(request);
  const debounced = useDebounced(text, PREVIEW_DEBOUNCE_MS);
  const enabled = debounced !== "";
  const query = useQuery({
    queryKey: ["template-preview", workspace, debounced],
    queryFn: ({ signal }) =>
      unwrap(api.POST("/api/v1/templates/preview", { body: JSON.parse(debounced) as DraftPreviewRequest, signal })),
    enabled,
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 10_000,
  });

  // The last settled answer, so an error stays shown while the next request is on its way
  // instead of flickering away.
  const [settled, setSettled] = useState<{ content?: RenderedContent; error?: unknown }>({});
  const { data, error, isSuccess, isError, isPlaceholderData } = query;
  useEffect(() => {
    if (isSuccess && !isPlaceholderData) setSettled({ content: data.content });
    else if (isError) setSettled({ error });
  }, [data, error, isSuccess, isError, isPlaceholderData]);

  return {
    content: settled.error ? undefined : (settled.content ?? (isPlaceholderData ? data?.content : undefined)),
    error: settled.error,
    updating: text !== debounced || (enabled && query.isFetching),
  };
}
