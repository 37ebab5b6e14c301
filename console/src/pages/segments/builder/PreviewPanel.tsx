import { Alert, Spin } from "antd";
import { Link } from "react-router";
import { ApiError } from "../../../api/http";
import { errorText } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";
import type { PreviewState } from "./usePreview";

/** The live count, a sample of contacts (links to their profiles) and the server's objections. */
export function PreviewPanel({ preview, incomplete }: { preview: PreviewState; incomplete: boolean }) {
  const { t, lang } = useI18n();
  const { data, error, updating } = preview;
  const invalid = error instanceof ApiError && error.status === 422;
  const number = new Intl.NumberFormat(lang);

  return (
    <section className="preview-panel" aria-labelledby="preview-title">
      <h2 id="preview-title" className="section-title">
        {t("preview.title")} {updating && !incomplete ? <Spin size="small" className="preview-spin" /> : null}
      </h2>
      <div aria-live="polite" aria-atomic="true" className="preview-status">
        {incomplete ? (
          <p className="text-secondary">{t("preview.incomplete")}</p>
        ) : error ? (
          <Alert
            type={invalid ? "warning" : "error"}
            showIcon
            title={invalid ? t("preview.invalid") : errorText(error, t)}
            description={invalid ? <span className="preview-error-message">{error.message}</span> : undefined}
          />
        ) : data ? (
          <p className={`preview-count${updating ? " preview-stale" : ""}`}>
            <span className="preview-number">{number.format(data.count)}</span>{" "}
            {t("preview.matching")}
          </p>
        ) : (
          <p className="text-secondary">{t("preview.counting")}</p>
        )}
        {updating && !incomplete ? <span className="visually-hidden">{t("preview.updating")}</span> : null}
      </div>
      {data && !error && !incomplete ? (
        <>
          <h3 className="preview-subtitle">{t("preview.sample")}</h3>
          {data.sample.length === 0 ? (
            <p className="text-secondary">{t("preview.noSample")}</p>
          ) : (
            <ul className="preview-sample">
              {data.sample.map((c) => (
                <li key={c.id}>
                  <Link to={`/contacts/${c.id}`}>{c.email ?? c.external_id ?? t("contacts.unnamed", { id: c.id })}</Link>
                  {c.email && c.external_id ? <span className="text-secondary"> · {c.external_id}</span> : null}
                </li>
              ))}
            </ul>
          )}
          {data.segments.length > 0 ? (
            <p className="text-secondary">
              {t("preview.refers", { names: data.segments.map((s) => s.name).join(", ") })}
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
