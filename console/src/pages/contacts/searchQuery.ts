/** What a search box entry is detected as. */
export type DetectedKind = "email" | "phone" | "external_id";
/** What `GET /contacts` can filter by from the box (a name prefix only when chosen). */
export type SearchKind = DetectedKind | "name";
export type SearchBy = SearchKind | "auto";

export interface ContactFilter {
  kind: SearchKind;
  value: string;
}

/**
 * What a search box entry most likely is: an email when it contains "@", a phone number when
 * it starts with "+" or a digit, otherwise an external id (the `userId` of the tracking API).
 */
export function classifySearch(input: string): DetectedKind | null {
  const value = input.trim();
  if (!value) return null;
  if (value.includes("@")) return "email";
  if (/^[+\d]/.test(value)) return "phone";
  return "external_id";
}

/** The filter for `GET /contacts`: the chosen kind, or the detected one for "auto". */
export function contactFilter(input: string, by: SearchBy = "auto"): ContactFilter | null {
  const value = input.trim();
  if (!value) return null;
  const kind = by === "auto" ? classifySearch(value) : by;
  return kind ? { kind, value } : null;
}

export function isSearchBy(value: string | null): value is SearchBy {
  return value === "auto" || value === "email" || value === "phone" || value === "external_id" || value === "name";
}

/** The list's filters, as kept in the address (`?segment=12&tag=vip&stage=lead`). */
export interface ListFilters {
  segment: number | null;
  tag: string | null;
  stage: string | null;
}

export const FILTER_PARAMS = ["segment", "tag", "stage"] as const;

/** The filters of the address; a malformed segment id is ignored. */
export function filtersFromParams(params: URLSearchParams): ListFilters {
  const segment = params.get("segment") ?? "";
  const text = (name: string) => params.get(name)?.trim() || null;
  return {
    segment: /^[1-9]\d{0,17}$/.test(segment) ? Number(segment) : null,
    tag: text("tag"),
    stage: text("stage"),
  };
}

export function hasFilters(filters: ListFilters): boolean {
  return filters.segment !== null || filters.tag !== null || filters.stage !== null;
}

/** The query of `GET /contacts` for the search box, the filters and a cursor. */
export function contactListQuery(
  search: ContactFilter | null,
  filters: ListFilters,
  after: string | null,
  limit: number,
): Record<string, string | number> {
  return {
    limit,
    ...(search ? { [search.kind]: search.value } : {}),
    ...(filters.segment !== null ? { segment_id: filters.segment } : {}),
    ...(filters.tag !== null ? { tag: filters.tag } : {}),
    ...(filters.stage !== null ? { lifecycle_stage: filters.stage } : {}),
    ...(after ? { after } : {}),
  };
}

/** The address's parameters with the search or filters changed (and the others kept). */
export function withParams(
  params: URLSearchParams,
  changes: Partial<Record<"q" | "by" | (typeof FILTER_PARAMS)[number], string | null>>,
): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") next.delete(name);
    else next.set(name, value);
  }
  return next;
}
