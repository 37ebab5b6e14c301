import type { ReactNode } from "react";
import { LanguageSwitcher } from "./LanguageSwitcher";
import { PageTitle } from "./PageTitle";

/** Sign-in and setup: a card in the middle, the language switcher above it. */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="auth-page">
      <header className="auth-page-top">
        <LanguageSwitcher />
      </header>
      <main className="auth-page-main">
        <div className="auth-card">
          <PageTitle title={title}>{title}</PageTitle>
          {children}
        </div>
      </main>
    </div>
  );
}
