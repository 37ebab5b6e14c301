import { useState, type ReactNode } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Input, message as antMessage, Popconfirm, Space, Spin, Table, Tag } from "antd";
import { ArrowLeftOutlined, PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useSession, useWorkspaceKey, useWorkspaceTimeZone } from "../../auth/SessionProvider";
import { DateTime, dateTimeFormat } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/campaigns";
import { notificationsKey } from "../../layout/Notifications";
import { civilDate } from "../calendar/zoned";
import { CampaignStatusTag, dayFormat, money } from "./common";
import { draftOf, emptyDraft, planBody, planChanges, type PlanDraft } from "./planModel";
import { PlanForm } from "./PlanForm";
import {
  campaignKeys,
  useCampaign,
  useCampaignBroadcasts,
  useCampaignReport,
  useComments,
  useJourneyList,
  useOfferList,
  useSegmentList,
  useTemplateList,
  useWorkspaceSettings,
  type Broadcast,
  type Campaign,
  type Comment,
} from "./queries";
import "./campaigns.css";

function Back() {
  const { t } = useI18n();
  return (
    <Link to="/campaigns" className="back-link">
      <ArrowLeftOutlined /> {t("campaign.back")}
    </Link>
  );
}

/** `/campaigns/new` and `/campaigns/:id`. */
export default function CampaignPage() {
  const { id } = useParams();
  return id === undefined ? <NewCampaign /> : <ExistingCampaign id={Number(id)} />;
}

function NewCampaign() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const { session } = useSession();
  const zone = useWorkspaceTimeZone() ?? "UTC";
  const settings = useWorkspaceSettings();
  const [message, holder] = antMessage.useMessage();
  const create = useMutation({
    mutationFn: (d: PlanDraft) => unwrap(api.POST("/api/v1/campaigns", { body: planBody(d, zone) })),
    onSuccess: (c) => {
      queryClient.setQueryData(campaignKeys.one(ws, c.id), c);
      void queryClient.invalidateQueries({ queryKey: campaignKeys.list(ws) });
      void message.success(t("campaign.created", { name: c.name }));
      navigate(`/campaigns/${c.id}`);
    },
  });
  return (
    <>
      {holder}
      <Back />
      <div className="page-head">
        <PageTitle title={t("campaign.newTitle")}>{t("campaign.newTitle")}</PageTitle>
      </div>
      {settings.isPending ? (
        <Spin />
      ) : (
        <PlanForm
          initial={emptyDraft(session?.user.name ?? "", settings.data?.currency ?? null)}
          zone={zone}
          workspaceCurrency={settings.data?.currency ?? null}
          submitLabel={t("campaign.create")}
          saving={create.isPending}
          error={create.error}
          onSubmit={(d) => create.mutate(d)}
        />
      )}
    </>
  );
}

type Action = "launch" | "complete" | "cancel";

function ExistingCampaign({ id }: { id: number }) {
  const { t, lang } = useI18n();
  const ws = useWorkspaceKey();
  const canEdit = useCanEdit();
  const zone = useWorkspaceTimeZone() ?? "UTC";
  const queryClient = useQueryClient();
  const query = useCampaign(id);
  const settings = useWorkspaceSettings();
  const [editing, setEditing] = useState(false);
  const [message, holder] = antMessage.useMessage();
  const c = query.data;

  const saved = (next: Campaign) => {
    queryClient.setQueryData(campaignKeys.one(ws, id), next);
    void queryClient.invalidateQueries({ queryKey: campaignKeys.list(ws) });
    void queryClient.invalidateQueries({ queryKey: campaignKeys.comments(ws, id) });
    void queryClient.invalidateQueries({ queryKey: notificationsKey(ws) });
  };
  const save = useMutation({
    mutationFn: (d: PlanDraft) =>
      unwrap(api.PATCH("/api/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: id } }, body: planChanges(c!, d, zone) })),
    onSuccess: (next) => {
      saved(next);
      setEditing(false);
      void message.success(t("campaign.saved"));
    },
  });
  const act = useMutation({
    mutationFn: (action: Action) => {
      const params = { params: { path: { campaign_id: id } } };
      if (action === "launch") return unwrap(api.POST("/api/v1/campaigns/{campaign_id}/launch", params));
      if (action === "complete") return unwrap(api.POST("/api/v1/campaigns/{campaign_id}/complete", params));
      return unwrap(api.POST("/api/v1/campaigns/{campaign_id}/cancel", params));
    },
    onSuccess: (next, action) => {
      saved(next);
      void message.success(t(`campaign.done.${action}`));
    },
  });

  if (query.isPending) return <Spin className="page-spin" />;
  if (query.isError || !c) {
    return (
      <>
        <Back />
        <PageTitle title={t("campaign.notFound")}>{t("campaign.notFound")}</PageTitle>
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      </>
    );
  }
  const closed = c.status === "completed" || c.status === "cancelled";
  const actions: { action: Action; show: boolean; primary?: boolean; confirm?: string }[] = [
    {
      action: "launch",
      show: c.status === "approved" || (c.status === "draft" && !c.requires_approval),
      primary: true,
    },
    { action: "complete", show: c.status === "active", confirm: t("campaign.confirmComplete", { name: c.name }) },
    { action: "cancel", show: !closed, confirm: t("campaign.confirmCancel", { name: c.name }) },
  ];
  let stateText: string | null = null;
  if (c.status === "draft" && c.requires_approval) stateText = t("campaign.state.draftApproval");
  if (c.status === "pending_approval") stateText = t("campaign.state.pending");
  if (c.status === "approved") {
    stateText = t("campaign.state.approved", { when: c.approved_at ? dateTimeFormat(lang, zone).format(new Date(c.approved_at)) : "" });
  }
  if (c.status === "active") stateText = t("campaign.state.active");
  if (closed) stateText = t("campaign.state.closed", { status: t(`campaigns.status.${c.status}`) });

  return (
    <>
      {holder}
      <Back />
      <div className="page-head">
        <PageTitle title={c.name}>
          {c.name} <CampaignStatusTag status={c.status} />
        </PageTitle>
        {canEdit ? (
          <Space wrap>
            {actions
              .filter((a) => a.show)
              .map((a) =>
                a.confirm ? (
                  <Popconfirm
                    key={a.action}
                    title={a.confirm}
                    okText={t("campaign.confirmYes")}
                    cancelText={t("campaign.confirmNo")}
                    onConfirm={() => act.mutate(a.action)}
                  >
                    <Button danger={a.action === "cancel"} loading={act.isPending && act.variables === a.action}>
                      {t(`campaign.action.${a.action}`)}
                    </Button>
                  </Popconfirm>
                ) : (
                  <Button
                    key={a.action}
                    type={a.primary ? "primary" : "default"}
                    loading={act.isPending && act.variables === a.action}
                    onClick={() => act.mutate(a.action)}
                  >
                    {t(`campaign.action.${a.action}`)}
                  </Button>
                ),
              )}
          </Space>
        ) : null}
      </div>
      {stateText ? <Alert type={c.status === "pending_approval" ? "warning" : "info"} showIcon title={stateText} className="page-alert" /> : null}
      {act.error ? <Alert type="error" showIcon closable title={errorText(act.error, t)} className="page-alert" /> : null}
      <div className="campaign-layout">
        <div className="campaign-main">
          <section className="campaign-section" aria-labelledby="plan-heading">
            <div className="section-head">
              <h2 id="plan-heading">{t("campaign.plan")}</h2>
              {canEdit && !closed && !editing ? <Button onClick={() => setEditing(true)}>{t("campaign.edit")}</Button> : null}
            </div>
            {editing ? (
              <PlanForm
                initial={draftOf(c, zone)}
                zone={zone}
                workspaceCurrency={settings.data?.currency ?? null}
                submitLabel={t("campaign.save")}
                saving={save.isPending}
                error={save.error}
                warning={c.status === "pending_approval" || c.status === "approved" ? t("campaign.backToDraft") : null}
                onSubmit={(d) => save.mutate(d)}
                onCancel={() => (save.reset(), setEditing(false))}
              />
            ) : (
              <PlanSummary c={c} />
            )}
          </section>
          <Results id={id} />
          <Broadcasts c={c} />
          <Journeys id={id} />
        </div>
        <Thread c={c} onChanged={saved} notify={(text) => void message.success(text)} />
      </div>
    </>
  );
}

function PlanSummary({ c }: { c: Campaign }) {
  const { t, lang } = useI18n();
  const segments = useSegmentList();
  const templates = useTemplateList();
  const offers = useOfferList();
  const number = new Intl.NumberFormat(lang);
  const none = <span className="text-secondary">{t("campaign.none")}</span>;
  const goal = c.goal as { event?: string; window_days?: number; where?: unknown[] } | null | undefined;
  const segment = segments.data?.data.find((s) => s.id === c.segment_id);
  const offer = offers.data?.data.find((o) => o.id === c.offer_id);
  const channelName = (ch: string) => t(`campaign.channel.${ch as "email"}`);
  const rows: [string, ReactNode][] = [
    [t("campaign.field.description"), c.description ? <span className="pre-text">{c.description}</span> : none],
    [
      t("campaign.field.goal"),
      goal?.event ? (
        <>
          {t("campaigns.goalText", { event: goal.event, days: goal.window_days ?? 7 })}
          {goal.where?.length ? <code className="goal-where">{JSON.stringify(goal.where)}</code> : null}
        </>
      ) : (
        none
      ),
    ],
    [
      t("campaign.field.segment"),
      c.segment_id ? (
        <>
          <Link to={`/segments/${c.segment_id}`}>{segment?.name ?? `#${c.segment_id}`}</Link>
          {segment ? <span className="text-secondary"> · {t("campaign.segmentCount", { count: number.format(segment.member_count) })}</span> : null}
        </>
      ) : (
        none
      ),
    ],
    [t("campaign.field.channels"), c.channels?.length ? c.channels.map((ch) => <Tag key={ch}>{channelName(ch)}</Tag>) : none],
    [t("campaign.field.budget"), c.budget !== null && c.budget !== undefined ? money(lang, c.budget, c.currency) : none],
    [
      t("campaign.field.costs"),
      c.costs && Object.keys(c.costs).length
        ? Object.entries(c.costs)
            .map(([ch, cost]) => `${channelName(ch)} ${money(lang, cost, c.currency)}`)
            .join(" · ")
        : none,
    ],
    [t("campaign.field.offer"), c.offer_id ? <Link to={`/offers/${c.offer_id}`}>{offer?.name ?? `#${c.offer_id}`}</Link> : none],
    [
      t("campaign.field.templates"),
      c.template_ids?.length
        ? c.template_ids.map((tid) => (
            <Link key={tid} to={`/templates/${tid}`} className="plan-link">
              {templates.data?.data.find((x) => x.id === tid)?.name ?? `#${tid}`}
            </Link>
          ))
        : none,
    ],
    [t("campaign.field.owner"), c.owner || none],
    [t("campaign.field.startsAt"), c.starts_at ? <DateTime value={c.starts_at} /> : none],
    [t("campaign.field.endsAt"), c.ends_at ? <DateTime value={c.ends_at} /> : none],
    [t("campaign.field.requiresApproval"), c.requires_approval ? t("common.yes") : t("common.no")],
  ];
  return (
    <dl className="plan-summary">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Results({ id }: { id: number }) {
  const { t, lang } = useI18n();
  const report = useCampaignReport(id);
  const r = report.data;
  const number = new Intl.NumberFormat(lang);
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  const figures: [string, string][] = r
    ? [
        [t("campaign.fig.sent"), number.format(r.totals.sent)],
        [t("campaign.fig.openRate"), r.totals.open_rate === null ? "—" : percent.format(r.totals.open_rate)],
        [t("campaign.fig.converted"), number.format(r.totals.converted)],
        [t("campaign.fig.revenue"), money(lang, r.totals.revenue, r.currency)],
        [
          t("campaign.fig.budgetUsed"),
          r.budget.budget ? `${money(lang, r.budget.used, r.budget.currency)} / ${money(lang, r.budget.budget, r.budget.currency)}` : money(lang, r.budget.used, r.budget.currency),
        ],
        [t("campaign.fig.roi"), r.totals.roi === null ? "—" : percent.format(r.totals.roi)],
      ]
    : [];
  return (
    <section className="campaign-section" aria-labelledby="results-heading">
      <div className="section-head">
        <h2 id="results-heading">{t("campaign.results")}</h2>
        <Link to={`/reports/campaigns/${id}`}>{t("campaign.fullReport")}</Link>
      </div>
      {report.isError ? <Alert type="warning" showIcon title={t("campaign.resultsFailed")} description={errorText(report.error, t)} /> : null}
      {report.isPending ? <Spin /> : null}
      {r ? (
        <dl className="figure-row">
          {figures.map(([label, value]) => (
            <div key={label} className="figure">
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
    </section>
  );
}

function SendTime({ b }: { b: Broadcast }) {
  const { t, lang } = useI18n();
  if (b.local_date && b.local_time) {
    return <>{t("campaign.localTime", { date: dayFormat(lang, "UTC").format(civilDate(b.local_date)), time: b.local_time })}</>;
  }
  if (b.send_at) return <DateTime value={b.send_at} />;
  return <span className="text-secondary">{t("campaign.sendNow")}</span>;
}

function Broadcasts({ c }: { c: Campaign }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const canEdit = useCanEdit();
  const list = useCampaignBroadcasts(c.id);
  const closed = c.status === "completed" || c.status === "cancelled";
  return (
    <section className="campaign-section" aria-labelledby="broadcasts-heading">
      <div className="section-head">
        <h2 id="broadcasts-heading">{t("campaign.broadcasts")}</h2>
        {canEdit && !closed ? (
          <Button icon={<PlusOutlined />} onClick={() => navigate(`/broadcasts/new?campaign_id=${c.id}`)}>
            {t("campaign.newBroadcast")}
          </Button>
        ) : null}
      </div>
      {list.isError ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      <Table<Broadcast>
        rowKey="id"
        size="small"
        loading={list.isPending}
        dataSource={list.data?.data ?? []}
        pagination={false}
        locale={{ emptyText: t("campaign.noBroadcasts") }}
        columns={[
          { title: t("campaign.col.name"), dataIndex: "name", render: (name: string, b) => <Link to={`/broadcasts/${b.id}`}>{name}</Link> },
          { title: t("campaign.col.channel"), dataIndex: "channel", render: (ch: string) => t(`campaign.channel.${ch as "email"}`) },
          { title: t("campaign.col.status"), dataIndex: "status", render: (s: Broadcast["status"]) => t(`campaign.bstatus.${s}`) },
          { title: t("campaign.col.when"), key: "when", render: (_: unknown, b) => <SendTime b={b} /> },
        ]}
      />
    </section>
  );
}

function Journeys({ id }: { id: number }) {
  const { t } = useI18n();
  const list = useJourneyList();
  const mine = (list.data?.data ?? []).filter((j) => j.campaign_id === id);
  return (
    <section className="campaign-section" aria-labelledby="journeys-heading">
      <div className="section-head">
        <h2 id="journeys-heading">{t("campaign.journeys")}</h2>
      </div>
      {list.isError ? <ErrorAlert error={list.error} /> : null}
      {list.isSuccess && mine.length === 0 ? <p className="text-secondary">{t("campaign.noJourneys")}</p> : null}
      <ul className="plain-list">
        {mine.map((j) => (
          <li key={j.id}>
            <Link to={`/journeys/${j.id}`}>{j.name}</Link> <Tag>{t(`campaign.jstatus.${j.status}`)}</Tag>
          </li>
        ))}
      </ul>
    </section>
  );
}

type ThreadAction = "request" | "approve" | "reject" | "comment";

/**
 * The thread: comments and approval steps, oldest first, and one comment box for all that
 * can be said: a comment, or a request for approval, an approval or a rejection with it.
 */
function Thread({ c, onChanged, notify }: { c: Campaign; onChanged: (c: Campaign) => void; notify: (text: string) => void }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const queryClient = useQueryClient();
  const { workspace, session } = useSession();
  const canEdit = useCanEdit();
  const thread = useComments(c.id);
  const [text, setText] = useState("");
  const [needsComment, setNeedsComment] = useState(false);
  const isApprover = workspace?.role === "admin" || Boolean(workspace?.approver);
  const canWrite = canEdit || isApprover;
  const ownRequest = c.requested_by_user !== null && c.requested_by_user === session?.user.id;
  const path = { params: { path: { campaign_id: c.id } } };

  const send = useMutation({
    mutationFn: async (action: ThreadAction): Promise<Campaign | null> => {
      const comment = text.trim() || null;
      if (action === "comment") {
        await unwrap(api.POST("/api/v1/campaigns/{campaign_id}/comments", { ...path, body: { body: text } }));
        return null;
      }
      if (action === "reject") {
        return unwrap(api.POST("/api/v1/campaigns/{campaign_id}/reject", { ...path, body: { comment: text } }));
      }
      const route = action === "request" ? "/api/v1/campaigns/{campaign_id}/request-approval" : "/api/v1/campaigns/{campaign_id}/approve";
      return unwrap(api.POST(route, { ...path, body: { comment } }));
    },
    onSuccess: (next, action) => {
      setText("");
      setNeedsComment(false);
      if (next) onChanged(next);
      void queryClient.invalidateQueries({ queryKey: campaignKeys.comments(ws, c.id) });
      notify(t(`campaign.done.${action}`));
    },
  });
  const run = (action: ThreadAction) => {
    if ((action === "reject" || action === "comment") && !text.trim()) {
      setNeedsComment(true);
      return;
    }
    send.mutate(action);
  };
  const boxError =
    needsComment ? t("campaign.thread.rejectNeedsComment") : send.error instanceof ApiError && send.error.code === "comment_required" ? send.error.message : null;

  return (
    <section className="campaign-thread campaign-section" aria-labelledby="thread-heading">
      <h2 id="thread-heading">{t("campaign.thread")}</h2>
      {thread.isError ? <ErrorAlert error={thread.error} onRetry={() => void thread.refetch()} /> : null}
      {thread.isSuccess && thread.data.data.length === 0 ? <p className="text-secondary">{t("campaign.thread.empty")}</p> : null}
      <ol className="thread">
        {(thread.data?.data ?? []).map((e) => (
          <ThreadEntry key={e.id} entry={e} />
        ))}
      </ol>
      {canWrite && c.status !== "completed" && c.status !== "cancelled" ? (
        <div className="thread-box">
          <label htmlFor="thread-comment" className="thread-label">
            {t("campaign.thread.label")}
          </label>
          <Input.TextArea
            id="thread-comment"
            rows={3}
            maxLength={5000}
            value={text}
            status={boxError ? "error" : undefined}
            aria-describedby="thread-hint"
            onChange={(e) => (setText(e.target.value), setNeedsComment(false))}
          />
          <p id="thread-hint" className={boxError ? "thread-error" : "text-secondary thread-hint"} role={boxError ? "alert" : undefined}>
            {boxError ?? t("campaign.thread.hint")}
          </p>
          {c.status === "pending_approval" && isApprover ? (
            <p className="text-secondary thread-hint">{ownRequest ? t("campaign.thread.ownRequest") : t("campaign.thread.youMayApprove")}</p>
          ) : null}
          {send.error && !boxError ? <Alert type="error" showIcon title={errorText(send.error, t)} className="page-alert" /> : null}
          <Space wrap>
            {c.status === "pending_approval" && isApprover && !ownRequest ? (
              <>
                <Button type="primary" loading={send.isPending && send.variables === "approve"} onClick={() => run("approve")}>
                  {t("campaign.thread.approve")}
                </Button>
                <Button danger loading={send.isPending && send.variables === "reject"} onClick={() => run("reject")}>
                  {t("campaign.thread.reject")}
                </Button>
              </>
            ) : null}
            {c.status === "draft" && canEdit ? (
              <Button type={c.requires_approval ? "primary" : "default"} loading={send.isPending && send.variables === "request"} onClick={() => run("request")}>
                {t("campaign.thread.request")}
              </Button>
            ) : null}
            <Button loading={send.isPending && send.variables === "comment"} onClick={() => run("comment")}>
              {t("campaign.thread.post")}
            </Button>
          </Space>
        </div>
      ) : null}
    </section>
  );
}

function ThreadEntry({ entry }: { entry: Comment }) {
  const { t } = useI18n();
  const kindClass = entry.kind === "comment" ? "" : ` thread-${entry.kind}`;
  return (
    <li className={`thread-entry${kindClass}`}>
      <div className="thread-meta">
        <strong>{entry.author_name}</strong>
        {entry.author_type === "key" ? <Tag className="thread-key">{t("campaign.thread.apiKey")}</Tag> : null}
        <span> {t(`campaign.entry.${entry.kind}`)}</span>
        <span className="text-secondary thread-time">
          <DateTime value={entry.created_at} />
        </span>
      </div>
      {/* plain text, never HTML: React escapes it; line breaks kept by CSS */}
      {entry.body ? <p className="thread-body">{entry.body}</p> : null}
    </li>
  );
}
