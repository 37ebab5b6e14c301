import type { ReactNode } from "react";
import { renderedClients } from "./clients";
import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { AppProviders, createQueryClient } from "../AppProviders";
import { SessionProvider } from "../auth/SessionProvider";
import type { Role, SessionRead } from "../api/session";
import type { Language } from "../i18n";

export function sessionFor(role: Role, extra: Partial<SessionRead> = {}): SessionRead {
  return {
    user: { id: 1, email: "ana@example.com", name: "Ana" },
    workspaces: [{ id: 7, name: "Acme", role, approver: false, sandbox: false, time_zone: "UTC" }],
    csrf_token: "csrf-123",
    ...extra,
  };
}

/** The console's providers around `ui`, at `path`, in English unless told. */
export function renderWithProviders(ui: ReactNode, { path = "/", language = "en" as Language } = {}) {
  const queryClient = createQueryClient();
  renderedClients.add(queryClient);
  queryClient.setDefaultOptions({ queries: { ...queryClient.getDefaultOptions().queries, retry: false } });
  return render(
    <AppProviders queryClient={queryClient} language={language}>
      <MemoryRouter initialEntries={[path]}>
        <SessionProvider>{ui}</SessionProvider>
      </MemoryRouter>
    </AppProviders>,
  );
}
