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
