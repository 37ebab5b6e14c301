import { useEffect, useRef, useState } from "react";
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../../api/client";
import { useWorkspaceKey } from "../../../auth/SessionProvider";
import type { EnrollmentState } from "./model";
import type { Definition, Journey } from "./overlay";

/** How often the Live panel asks again while the journey is active (the tab visible). */
export const LIVE_REFRESH_MS = 5000;
export const ENROLLMENTS_PAGE = 25;

export const statsKey = (workspace: number | null, journeyId: number) => ["journey-stats", workspace, journeyId] as const;
export const enrollmentsKey = (workspace: number | null, journeyId: number) =>
  ["journey-enrollments", workspace, journeyId] as const;
export const versionsKey = (workspace: number | null, journeyId: number) => ["journey-versions", workspace, journeyId] as const;

/** `GET /journeys/{id}/stats` for one version number (null: every version), refreshed while active. */
export function useJourneyStats(journey: Journey, version: number | null) {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: [...statsKey(workspace, journey.id), version],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/journeys/{journey_id}/stats", {
          params: { path: { journey_id: journey.id }, query: version === null ? {} : { version } },
          signal,
        }),
      ),
    // Paused and archived journeys do not move: no point asking again. TanStack Query stops
    // the interval while the tab is hidden (refetchIntervalInBackground is off).
    refetchInterval: journey.status === "active" ? LIVE_REFRESH_MS : false,
    placeholderData: keepPreviousData,
    enabled: journey.version_id !== null,
  });
}

/** The enrollments at a node (or all of the journey's), page by page. */
export function useNodeEnrollments(
  journey: Journey,
  node: string | null,
  state: EnrollmentState | null,
  live: boolean,
) {
  const workspace = useWorkspaceKey();
  return useInfiniteQuery({
    queryKey: [...enrollmentsKey(workspace, journey.id), node, state],
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/journeys/{journey_id}/enrollments", {
          params: {
            path: { journey_id: journey.id },
            query: {
              limit: ENROLLMENTS_PAGE,
              ...(node ? { node } : {}),
              ...(state ? { enrollment_state: state } : {}),
              ...(pageParam ? { after: pageParam } : {}),
            },
          },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next ?? undefined,
    refetchInterval: live ? LIVE_REFRESH_MS * 2 : false,
  });
}

export function useVersions(journey: Journey, enabled = true) {
  const workspace = useWorkspaceKey();
  return useQuery({
    enabled,
    // a publish changes the list: the live version's id is part of the key
    queryKey: [...versionsKey(workspace, journey.id), journey.version_id],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/journeys/{journey_id}/versions", { params: { path: { journey_id: journey.id } }, signal })),
  });
}

/** The latest value of a callback, for effects that must not re-run when its identity changes. */
export function useLatest<T>(value: T) {
  const ref = useRef(value);
  useEffect(() => {
    ref.current = value;
  });
  return ref;
}

/**
 * The journey's own definition (the draft being edited), kept while the panel shows another
 * one on the canvas: the canvas page may hand the panel what it shows.
 */
export function useOwnDefinition(definition: Definition, showing: boolean): Definition {
  const [own, setOwn] = useState(definition);
  if (!showing && own !== definition) setOwn(definition);
  return showing ? own : definition;
}
