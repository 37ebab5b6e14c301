// The contact profile's Scores tab: the contact's score in every model, when it last
// changed, and the latest changes with their reasons in the user's language
// (GET /contacts/{id}/scores).
import { useQuery } from "@tanstack/react-query";
import { Empty, Table } from "antd";
import { Link } from "react-router";
import { api, unwrap } from "../../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../../auth/SessionProvider";
import { DateTime } from "../../../components/DateTime";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { useI18n } from "../../../i18n";
import "../../../i18n/scoring";
import { kindLabel, numberText, reasonText, type ContactScore, type LedgerEntry } from "../../scoring/model";
import { Points } from "../../scoring/Points";
import "../../scoring/scoring.css";

/** Ledger entries shown per model. */
export const LATEST = 10;

export function contactScoresKey(workspace: number | null, contactId: number) {
  return ["contact-scores", workspace, contactId] as const;
}

function ModelScore({ score }: { score: ContactScore }) {
  const { t, lang } = useI18n();
  const headingId = `score-model-${score.model.id}`;
  return (
    <section className="profile-score" aria-labelledby={headingId}>
      <div className="profile-score-head">
        <h2 id={headingId} className="section-title" style={{ margin: 0 }}>
          <Link to={`/scoring/${score.model.id}`}>{score.model.name}</Link>
        </h2>
        <span>
          <span className="visually-hidden">{t("scoring.profile.score")}: </span>
          <span className="profile-score-value">{numberText(score.score, lang)}</span>
        </span>
        <span className="text-secondary">
          {score.changed_at ? (
            <>
              {t("scoring.profile.lastChange")}: <DateTime value={score.changed_at} />
            </>
          ) : (
            t("scoring.profile.never")
          )}
        </span>
      </div>
      {score.ledger.length > 0 ? (
        <Table<LedgerEntry>
          aria-label={t("scoring.profile.latest", { model: score.model.name })}
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={score.ledger}
          scroll={{ x: "max-content" }}
          columns={[
            { title: t("scoring.profile.col.when"), dataIndex: "at", render: (v: string) => <DateTime value={v} /> },
            { title: t("scoring.profile.col.change"), dataIndex: "delta", align: "right", render: (d: number) => <Points value={d} /> },
            { title: t("scoring.profile.col.score"), dataIndex: "score", align: "right", render: (s: number) => numberText(s, lang) },
            { title: t("scoring.rule.col.kind"), dataIndex: "kind", render: (k: string) => kindLabel(k, t) },
            // text only: rule and event names are workspace data, never HTML
            { title: t("scoring.profile.col.reason"), key: "reason", render: (_: unknown, e) => reasonText(e, t, lang) },
          ]}
        />
      ) : (
        <p className="text-secondary">{t("scoring.profile.noChanges")}</p>
      )}
    </section>
  );
}

export function ScoresPanel({ contactId }: { contactId: number }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const canEdit = useCanEdit();
  const query = useQuery({
    queryKey: contactScoresKey(workspace, contactId),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/contacts/{contact_id}/scores", {
          params: { path: { contact_id: contactId }, query: { latest: LATEST } },
        }),
      ),
  });
  if (query.isError) return <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  if (!query.data) return null;
  if (query.data.data.length === 0) {
    return (
      <Empty
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={
          <>
            {t("scoring.profile.empty")} {canEdit ? <Link to="/scoring">{t("scoring.profile.setUp")}</Link> : null}
          </>
        }
      />
    );
  }
  return (
    <div>
      {query.data.data.map((s) => (
        <ModelScore key={s.model.id} score={s} />
      ))}
    </div>
  );
}
export default ScoresPanel;
