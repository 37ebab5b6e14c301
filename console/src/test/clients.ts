import type { QueryClient } from "@tanstack/react-query";

/** The query clients of this test's renders (`clearRenderedClients` after each test). */
export const renderedClients = new Set<QueryClient>();

/**
 * Drop every query of this test's renders: a request still in flight when the test ends
 * then updates no component, so React schedules no work that would run after the file's
 * page is torn down (a `window is not defined` after the file's last test).
 */
export function clearRenderedClients() {
  for (const client of renderedClients) {
    void client.cancelQueries();
    client.clear();
  }
  renderedClients.clear();
}
