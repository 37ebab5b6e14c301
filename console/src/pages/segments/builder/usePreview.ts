import { useEffect, useMemo, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../../api/client";
import type { SegmentPreview } from "../../../api/types";
import { useWorkspaceKey } from "../../../auth/SessionProvider";
import type { Definition } from "./model";

export const PREVIEW_DEBOUNCE_MS = 400;
export const PREVIEW_SAMPLE = 10;

/** `value`, once it has stayed the same for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export interface PreviewState {
  /** The answer for the latest definition asked about (kept while the next one is on its way). */
  data: SegmentPreview | undefined;
  error: unknown;
  /** Waiting for the user to stop typing, or for the server. */
  updating: boolean;
}

/**
 * The count and a sample of an unsaved definition, asked ~400 ms after the last change. Each
 * definition is its own query: when the definition changes, the request of the previous one
 * is aborted (TanStack Query aborts the `signal` of a query nobody watches any more), and an
 * answer can only ever land on the definition it was asked for.
 */
export function usePreview(definition: Definition, isComplete: (d: Definition) => boolean): PreviewState {
  const workspace = useWorkspaceKey();
  const text = JSON.stringify(definition);
  const debounced = useDebounced(text, PREVIEW_DEBOUNCE_MS);
  // Whether the definition about to be sent is complete (not the one on screen, which may be ahead).
  const enabled = useMemo(() => isComplete(JSON.parse(debounced) as Definition), [debounced, isComplete]);
  const query = useQuery({
    queryKey: ["segment-preview", workspace, debounced],
    queryFn: ({ signal }) =>
      unwrap(
        api.POST("/api/v1/segments/preview", {
          body: { definition: JSON.parse(debounced) as Record<string, unknown>, sample: PREVIEW_SAMPLE },
          signal,
        }),
      ),
    enabled,
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 10_000,
  });

  // The last settled answer (data or error), so an error stays shown while the next
  // definition is being counted instead of flickering away.
  const [settled, setSettled] = useState<{ data?: SegmentPreview; error?: unknown }>({});
  const { data, error, isSuccess, isError, isPlaceholderData } = query;
  useEffect(() => {
    if (isSuccess && !isPlaceholderData) setSettled({ data });
    else if (isError) setSettled({ error });
  }, [data, error, isSuccess, isError, isPlaceholderData]);

  return {
    data: settled.error ? undefined : (settled.data ?? (isPlaceholderData ? data : undefined)),
    error: settled.error,
    updating: text !== debounced || (enabled && query.isFetching),
  };
}
