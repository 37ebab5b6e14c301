import { useEffect, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";

/**
 * A preview's HTML, asked 400 ms after the last change: `body` is the query key (one query per
 * draft, the answer lands only on the draft it was asked for; an unobserved one is aborted).
 */
export function usePreviewHtml<T>(name: string, body: T | null, ask: (body: T, signal: AbortSignal) => Promise<{ html: string }>) {
  const key = body === null ? null : JSON.stringify(body);
  const [settled, setSettled] = useState(key);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(key), 400);
    return () => clearTimeout(timer);
  }, [key]);
  return useQuery({
    queryKey: [name, settled],
    queryFn: ({ signal }) => ask(JSON.parse(settled ?? "null") as T, signal),
    enabled: settled !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
}
