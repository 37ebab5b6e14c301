import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";

export const segmentsKey = (workspace: number | null) => ["segments", workspace] as const;
export const segmentKey = (workspace: number | null, id: number) => ["segment", workspace, id] as const;
export const referenceKey = (workspace: number | null) => ["segment-reference", workspace] as const;

/** Every segment of the workspace (the list is not paginated). */
export function useSegments() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: segmentsKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/segments")),
  });
}

/** Members per day over the last `days` days of every segment of the workspace. */
export function useSegmentTrends(days: number) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["segment-trends", workspace, days],
    queryFn: () => unwrap(api.GET("/api/v1/segments/trends", { params: { query: { days } } })),
    staleTime: 60_000,
  });
}

/** The builder's choices: operators, definition schema, fields, events, tags, segments. */
export function useSegmentReference() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: referenceKey(workspace),
    queryFn: () => unwrap(api.GET("/api/v1/segments/reference")),
    staleTime: 60_000,
  });
}

/** The properties seen on an event's latest occurrences (none while no event is chosen). */
export function useEventProperties(event: string | null | undefined) {
  const workspace = useWorkspaceKey();
  const name = event?.trim() ?? "";
  return useQuery({
    queryKey: ["event-properties", workspace, name],
    queryFn: () =>
      unwrap(api.GET("/api/v1/segments/reference/properties", { params: { query: { event: name } } })),
    enabled: name !== "",
    staleTime: 60_000,
  });
}

/** Subscription topics, for subscription conditions (none when they cannot be read). */
export function useTopics() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["topics", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/topics")),
    staleTime: 60_000,
  });
}
