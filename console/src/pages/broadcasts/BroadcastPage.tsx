// `/broadcasts/new` and `/broadcasts/:id`: a draft in the editor (for those who may edit);
// otherwise the broadcast with its status and actions, its progress while it goes out, and its
// experiment (the report's components) with a link to the full report.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Descriptions, Modal, Spin, message as antMessage } from "antd";
import { ArrowLeftOutlined, BarChartOutlined } from "@ant-design/icons";
import { Link, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { formatsFor } from "../../components/charts/format";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import { ExperimentSection } from "../reports/ExperimentSection";
import { useTemplates } from "../templates/queries";
import { BroadcastEditor } from "./BroadcastEditor";
import { ChannelName, SendProgress, SendTime, StatusTag } from "./common";
import { actionsFor, sentOf, type Action, type Broadcast } from "./model";
import { broadcastKey, broadcastsKey, useBroadcast, useBroadcastReport, useCampaigns, useSegments, useTopics } from "./queries";
import "./broadcasts.css";

function BackLink() {
  const { t } = useI18n();
  return (
    <Link to="/broadcasts" className="back-link">
      <ArrowLeftOutlined /> {t("broadcasts.back")}
    </Link>
  );
}

export function NewBroadcastPage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const [params] = useSearchParams();
  const campaign = Number(params.get("campaign_id") ?? "");
  return (
    <>
      <BackLink />
      <PageTitle title={t("broadcasts.newTitle")}>{t("broadcasts.newTitle")}</PageTitle>
      {canEdit ? (
        <BroadcastEditor campaignId={Number.isInteger(campaign) && campaign > 0 ? campaign : null} />
      ) : (
        <Alert type="warning" showIcon title={t("errors.forbidden")} />
      )}
    </>
  );
}

const ACTION_STYLE: Record<Action, { danger?: boolean; primary?: boolean }> = {
  schedule: { primary: true },
  pause: {},
  resume: {},
  cancel: { danger: true },
};

function Actions({ broadcast }: { broadcast: Broadcast }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const [modal, modalHolder] = Modal.useModal();
  const [message, messageHolder] = antMessage.useMessage();
  const act = useMutation({
    mutationFn: (action: Action) => {
      const params = { params: { path: { broadcast_id: broadcast.id } } };
      switch (action) {
        case "schedule":
          return unwrap(api.POST("/api/v1/broadcasts/{broadcast_id}/schedule", params));
        case "pause":
          return unwrap(api.POST("/api/v1/broadcasts/{broadcast_id}/pause", params));
        case "resume":
          return unwrap(api.POST("/api/v1/broadcasts/{broadcast_id}/resume", params));
        case "cancel":
          return unwrap(api.POST("/api/v1/broadcasts/{broadcast_id}/cancel", params));
      }
    },
    onSuccess: (saved, action) => {
      queryClient.setQueryData(broadcastKey(workspace, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: broadcastsKey(workspace) });
      void message.success(t(`broadcasts.done.${action}` as MessageKey, { name: saved.name }));
    },
  });
  const ask = (action: Action) =>
    void modal.confirm({
      title: t(`broadcasts.confirm.${action}` as MessageKey, { name: broadcast.name }),
      content: t(`broadcasts.confirm.${action}Hint` as MessageKey),
      okText: t(`broadcasts.action.${action}` as MessageKey),
      okButtonProps: { danger: action === "cancel" },
      cancelText: t("broadcasts.confirm.keep"),
      onOk: () => act.mutateAsync(action).catch(() => undefined),
    });
  return (
    <>
      {modalHolder}
      {messageHolder}
      {actionsFor(broadcast.status)
        .filter((a) => broadcast.status !== "draft" || a !== "schedule")
        .map((a) => (
          <Button
            key={a}
            type={ACTION_STYLE[a].primary ? "primary" : "default"}
            danger={ACTION_STYLE[a].danger}
            loading={act.isPending && act.variables === a}
            onClick={() => ask(a)}
          >
            {t(`broadcasts.action.${a}` as MessageKey)}
          </Button>
        ))}
      {act.isError ? <Alert className="page-alert" type="error" showIcon title={errorText(act.error, t)} closable={{ onClose: () => act.reset() }} /> : null}
    </>
  );
}

function Figures({ broadcast }: { broadcast: Broadcast }) {
  const { t, lang } = useI18n();
  const n = new Intl.NumberFormat(lang);
  const p = broadcast.progress;
  const figures: [MessageKey, number | null][] = [
    ["broadcasts.figure.audience", broadcast.audience],
    ["broadcasts.figure.queued", broadcast.queued],
    ["broadcasts.figure.waiting", p.queued + p.sending],
    ["broadcasts.figure.sent", sentOf(broadcast)],
    ["broadcasts.figure.delivered", p.delivered],
    ["broadcasts.figure.failed", p.failed + p.bounced],
    ["broadcasts.figure.skipped", p.skipped],
  ];
  return (
    <section className="broadcast-section" aria-labelledby="bc-progress-title">
      <h2 id="bc-progress-title" className="section-title">
        {t("broadcasts.section.progress")}
      </h2>
      <ul className="broadcast-figures" aria-label={t("broadcasts.section.progress")}>
        {figures.map(([key, value]) => (
          <li key={key}>
            <span className="figure-label">{t(key)}</span>
            <span className="figure-value">{value === null ? t("common.none") : n.format(value)}</span>
          </li>
        ))}
      </ul>
      <SendProgress broadcast={broadcast} />
    </section>
  );
}

function ExperimentPart({ broadcast }: { broadcast: Broadcast }) {
  const { t, lang } = useI18n();
  const f = formatsFor(lang);
  const report = useBroadcastReport(broadcast);
  const results = (broadcast.results ?? null) as { confidence?: number | null } | null;
  return (
    <section className="broadcast-section" aria-label={t("broadcasts.section.experiment")}>
      {/* the report's section below has the heading; until it loads, this one */}
      {report.data?.experiment ? null : <h2 className="section-title">{t("broadcasts.section.experiment")}</h2>}
      <Descriptions
        size="small"
        column={1}
        items={[
          {
            key: "ends",
            label: t("broadcasts.experiment.testEnds"),
            children: broadcast.test_ends_at ? <DateTime value={broadcast.test_ends_at} /> : t("broadcasts.experiment.notYet"),
          },
          {
            key: "winner",
            label: t("broadcasts.experiment.winner"),
            children: broadcast.winner
              ? t("broadcasts.experiment.winnerValue", {
                  winner: broadcast.winner,
                  confidence: f.percent(results?.confidence ?? null),
                })
              : broadcast.results
                ? t("broadcasts.experiment.measured")
                : t("broadcasts.experiment.notYet"),
          },
        ]}
      />
      {report.isError ? <ErrorAlert error={report.error} onRetry={() => void report.refetch()} /> : null}
      {report.data?.experiment ? <ExperimentSection report={report.data} experiment={report.data.experiment} f={f} /> : null}
    </section>
  );
}

function Details({ broadcast }: { broadcast: Broadcast }) {
  const { t } = useI18n();
  const campaigns = useCampaigns();
  const segments = useSegments();
  const templates = useTemplates();
  const topics = useTopics();
  const campaign = campaigns.data?.data.find((c) => c.id === broadcast.campaign_id);
  const segment = segments.data?.data.find((s) => s.id === broadcast.segment_id);
  const template = templates.data?.data.find((tpl) => tpl.id === broadcast.template_id);
  const topic = topics.data?.data.find((tp) => tp.id === broadcast.topic_id);
  const variants = ((broadcast.experiment as { variants?: { name: string; template_id: number }[] } | null)?.variants ?? []).map(
    (v) => `${v.name}: ${templates.data?.data.find((tpl) => tpl.id === v.template_id)?.name ?? `#${v.template_id}`}`,
  );
  const none = t("common.none");
  return (
    <Descriptions
      className="broadcast-section"
      size="small"
      bordered
      column={{ xs: 1, md: 2 }}
      items={[
        { key: "channel", label: t("broadcasts.field.channel"), children: <ChannelName channel={broadcast.channel} /> },
        { key: "when", label: t("broadcasts.col.sendTime"), children: <SendTime broadcast={broadcast} /> },
        {
          key: "segment",
          label: t("broadcasts.field.segment"),
          children: broadcast.segment_id === null ? none : <Link to={`/segments/${broadcast.segment_id}`}>{segment?.name ?? `#${broadcast.segment_id}`}</Link>,
        },
        {
          key: "campaign",
          label: t("broadcasts.field.campaign"),
          children: broadcast.campaign_id === null ? none : (campaign?.name ?? `#${broadcast.campaign_id}`),
        },
        {
          key: "content",
          label: t("broadcasts.section.content"),
          children: broadcast.template_id !== null ? (
            <Link to={`/templates/${broadcast.template_id}`}>{template?.name ?? `#${broadcast.template_id}`}</Link>
          ) : (
            variants.join(" · ") || none
          ),
        },
        { key: "topic", label: t("broadcasts.field.topic"), children: topic?.name ?? none },
        { key: "snapshot", label: t("broadcasts.field.snapshot"), children: <DateTime value={broadcast.snapshot_at} /> },
        { key: "updated", label: t("broadcasts.field.updated"), children: <DateTime value={broadcast.updated_at} /> },
      ]}
    />
  );
}

export default function BroadcastPage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const id = Number(useParams().id);
  const valid = Number.isInteger(id) && id > 0;
  const query = useBroadcast(valid ? id : null);
  const b = query.data;
  const title = b ? b.name : t("broadcasts.loading");

  if (!valid) {
    return (
      <>
        <BackLink />
        <PageTitle title={t("broadcasts.notFound")}>{t("broadcasts.notFound")}</PageTitle>
      </>
    );
  }
  return (
    <>
      <BackLink />
      <div className="page-head">
        <PageTitle title={title}>{title}</PageTitle>
      </div>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isPending && !query.isError ? <Spin className="page-spin" /> : null}
      {b ? (
        <>
          <div className="broadcast-head">
            <StatusTag status={b.status} />
            <span>
              <ChannelName channel={b.channel} />
            </span>
            {canEdit ? <Actions broadcast={b} /> : null}
            {b.status !== "draft" ? (
              <Link to={`/reports/broadcasts/${b.id}`} className="report-link">
                <BarChartOutlined /> {t("broadcasts.fullReport")}
              </Link>
            ) : null}
          </div>
          {b.status === "draft" && canEdit ? (
            <BroadcastEditor key={b.id} broadcast={b} />
          ) : (
            <>
              <Details broadcast={b} />
              {b.status !== "draft" ? <Figures broadcast={b} /> : null}
              {b.experiment && b.status !== "draft" ? <ExperimentPart broadcast={b} /> : null}
            </>
          )}
        </>
      ) : null}
    </>
  );
}
