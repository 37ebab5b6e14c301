import { useEffect, type ReactNode } from "react";

/** The page's one <h1>, and the document title. */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  useEffect(() => {
    document.title = `${title} · Kairos`;
  }, [title]);
  return (
    <h1 className="page-title">{children}</h1>
  );
}
