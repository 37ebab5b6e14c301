import { useMemo, useState, type ReactNode } from "react";
import { Alert, Button, Drawer, Empty, message, Select, Space, Spin, Table, Tag, type TableColumnsType } from "antd";
import { CheckOutlined, CloseOutlined, ExportOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useCanEdit, useCanWorkLeads, useSession, useWorkspaceKey, useWorkspaceTimeZone } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/leads";
import { RejectDialog } from "./LeadDialogs";
import { leadName, mayDecide, personName, scoreText, signedPoints, topReasons } from "./model";
import {
  useAcceptLead,
  useContact,
  useContactAccounts,
  useContactScores,
  useContactTasks,
  useLeadOwners,
  useLeads,
  useRejectLead,
  type Lead,
} from "./queries";
import { TaskStatusTag } from "./TaskBits";
import "./leads.css";

function useStages() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["lifecycle-stages", workspace],
    queryFn: () => unwrap(api.GET("/api/v1/contacts/lifecycle-stages")),
    staleTime: 60_000,
  });
}

/** The lead's SLA: due, overdue (red), escalated. */
function SlaCell({ lead }: { lead: Pick<Lead, "sla_due_at" | "overdue" | "escalated"> }) {
  const { t } = useI18n();
  if (!lead.sla_due_at) return <span className="text-secondary">{t("leads.noSla")}</span>;
  return (
    <span className={lead.overdue ? "lead-overdue" : undefined}>
      {lead.overdue ? <Tag className="lead-tag lead-tag-overdue">{t("leads.overdue")}</Tag> : null}
      {lead.escalated ? <Tag className="lead-tag lead-tag-escalated">{t("leads.escalated")}</Tag> : null}
      <DueText value={lead.sla_due_at} />
    </span>
  );
}

function DueText({ value }: { value: string }) {
  const { t } = useI18n();
  const [before, after] = t("leads.due", { date: "\u0000" }).split("\u0000");
  return (
    <span className="lead-due">
      {before}
      <DateTime value={value} />
      {after}
    </span>
  );
}

function StageCell({ stage, since }: { stage: string | null; since: string | null }) {
  const { t } = useI18n();
  const [before, after] = t("leads.since", { date: "\u0000" }).split("\u0000");
  return (
    <>
      {stage ? <Tag className="lead-stage">{stage}</Tag> : <span className="text-secondary">{t("leads.noStage")}</span>}
      {since ? (
        <div className="text-secondary cell-note">
          {before}
          <DateTime value={since} />
          {after}
        </div>
      ) : null}
    </>
  );
}

/** `/leads`: the leads assigned to me (admins and marketers: any owner's), to accept or reject. */
export default function LeadsPage() {
  const { t, lang } = useI18n();
  const { session, workspace } = useSession();
  const canWork = useCanWorkLeads();
  const anyLead = useCanEdit(); // admins and marketers decide any lead
  const salesUser = workspace?.role === "sales";
  const [params, setParams] = useSearchParams();
  const owner = salesUser ? "me" : (params.get("owner") ?? "any");
  const stage = params.get("stage");
  const opened = Number(params.get("contact")) || null;
  const leads = useLeads(owner, stage);
  const owners = useLeadOwners(!salesUser);
  const stages = useStages();
  const accept = useAcceptLead();
  const reject = useRejectLead();
  const [rejecting, setRejecting] = useState<{ id: number; name: string } | null>(null);
  const rows = useMemo(() => (leads.data?.pages ?? []).flatMap((p) => p.data), [leads.data]);
  const userId = session?.user.id ?? null;

  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value === null) next.delete(key);
    else next.set(key, value);
    setParams(next);
  };
  const open = (id: number | null) => setParam("contact", id === null ? null : String(id));
  const nameOf = (l: Lead) => leadName(l) ?? t("leads.unnamed", { id: l.contact_id });

  const doAccept = (l: Lead) => {
    accept.mutate(l.contact_id, {
      onSuccess: () => void message.success(t("leads.accepted", { name: nameOf(l) })),
      onError: (e) => void message.error(errorText(e, t)),
    });
  };

  const actions = (l: Lead) => {
    if (!canWork || !mayDecide(l, userId, anyLead)) return null;
    const name = nameOf(l);
    return (
      <Space size="small" wrap>
        {l.stage !== "SQL" ? (
          <Button size="small" type="primary" icon={<CheckOutlined />} aria-label={t("leads.acceptNamed", { name })} loading={accept.isPending && accept.variables === l.contact_id} onClick={() => doAccept(l)}>
            {t("leads.accept")}
          </Button>
        ) : null}
        {l.stage !== "nurture" ? (
          <Button size="small" danger icon={<CloseOutlined />} aria-label={t("leads.rejectNamed", { name })} onClick={() => setRejecting({ id: l.contact_id, name })}>
            {t("leads.reject")}
          </Button>
        ) : null}
      </Space>
    );
  };

  const columns: TableColumnsType<Lead> = [
    {
      title: t("leads.col.contact"),
      key: "contact",
      render: (_: unknown, l) => {
        const name = nameOf(l);
        return (
          <>
            <Button type="link" className="lead-open" onClick={() => open(l.contact_id)} aria-label={t("leads.open", { name })}>
              {name}
            </Button>
            {l.email && l.email !== name ? <div className="text-secondary cell-note">{l.email}</div> : null}
          </>
        );
      },
    },
    { title: t("leads.col.stage"), key: "stage", render: (_: unknown, l) => <StageCell stage={l.stage} since={l.stage_since} /> },
    { title: t("leads.col.score"), dataIndex: "score", align: "right", render: (s: number) => scoreText(s, lang) },
    ...(owner === "me"
      ? []
      : [{ title: t("leads.col.owner"), key: "owner", render: (_: unknown, l: Lead) => l.owner?.name || l.owner?.email || "—" }]),
    { title: t("leads.col.assigned"), dataIndex: "assigned_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("leads.col.sla"), key: "sla", render: (_: unknown, l) => <SlaCell lead={l} /> },
    ...(canWork ? [{ title: t("leads.col.actions"), key: "actions", render: (_: unknown, l: Lead) => actions(l) }] : []),
  ];

  const openedLead = opened === null ? null : (rows.find((l) => l.contact_id === opened) ?? null);
  const title = owner === "me" ? t("leads.title") : t("leads.titleAll");
  const filtered = owner !== (salesUser ? "me" : "any") || stage !== null;

  return (
    <>
      <div className="page-head">
        <PageTitle title={title}>{title}</PageTitle>
      </div>
      <p className="text-secondary page-intro">{t("leads.intro")}</p>
      <div role="search" className="list-search">
        <Space wrap size="middle">
          {salesUser ? null : (
            <Space>
              <label htmlFor="lead-owner">{t("leads.filter.owner")}</label>
              <Select
                id="lead-owner"
                value={owner}
                onChange={(v: string) => setParam("owner", v === "any" ? null : v)}
                loading={owners.isPending}
                showSearch={{ optionFilterProp: "label" }}
                options={[
                  { value: "any", label: t("leads.filter.any") },
                  { value: "me", label: t("leads.filter.mine") },
                  ...(owners.data?.data ?? [])
                    .filter((o) => o.id !== userId)
                    .map((o) => ({ value: String(o.id), label: t("leads.filter.ownerName", { name: o.name || o.email, role: t(`role.${o.role}`) }) })),
                ]}
                style={{ width: 240 }}
              />
            </Space>
          )}
          <Space>
            <label htmlFor="lead-stage">{t("leads.filter.stage")}</label>
            <Select
              id="lead-stage"
              value={stage ?? ""}
              onChange={(v: string) => setParam("stage", v || null)}
              loading={stages.isPending}
              options={[
                { value: "", label: t("leads.filter.anyStage") },
                ...(stages.data?.data ?? []).map((s) => ({ value: s.stage, label: s.stage })),
                ...(stage && !(stages.data?.data ?? []).some((s) => s.stage === stage) ? [{ value: stage, label: stage }] : []),
              ]}
              style={{ width: 200 }}
            />
          </Space>
        </Space>
      </div>
      {leads.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={leads.error} onRetry={() => void leads.refetch()} />
        </div>
      ) : null}
      <Table<Lead>
        className="clickable-rows"
        rowKey="contact_id"
        columns={columns}
        dataSource={rows}
        loading={leads.isPending || (leads.isFetching && !leads.isFetchingNextPage)}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        rowClassName={(l) => (l.overdue ? "lead-row-overdue" : "")}
        locale={{ emptyText: <Empty description={filtered ? t("leads.noMatch") : owner === "me" ? t("leads.empty") : t("leads.emptyAll")} /> }}
        onRow={(l) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button")) return;
            open(l.contact_id);
          },
        })}
      />
      {leads.hasNextPage ? (
        <div className="list-more">
          <Button onClick={() => void leads.fetchNextPage()} loading={leads.isFetchingNextPage}>
            {t("leads.more")}
          </Button>
        </div>
      ) : null}
      <LeadDrawer
        contactId={opened}
        lead={openedLead}
        listed={!leads.isPending}
        onClose={() => open(null)}
        actions={openedLead ? actions(openedLead) : null}
      />
      <RejectDialog
        open={rejecting !== null}
        name={rejecting?.name ?? ""}
        pending={reject.isPending}
        error={reject.error}
        onCancel={() => {
          setRejecting(null);
          reject.reset();
        }}
        onReject={(reason) => {
          if (!rejecting) return;
          const who = rejecting;
          reject.mutate(
            { contactId: who.id, reason },
            {
              onSuccess: () => {
                setRejecting(null);
                void message.success(t("leads.rejected", { name: who.name }));
              },
            },
          );
        }}
      />
    </>
  );
}

/** One lead: details, every score with its top reasons, attributes, the contact's tasks. */
function LeadDrawer({
  contactId,
  lead,
  listed,
  onClose,
  actions,
}: {
  contactId: number | null;
  lead: Lead | null;
  listed: boolean;
  onClose: () => void;
  actions: ReactNode;
}) {
  const { t, lang } = useI18n();
  const zone = useWorkspaceTimeZone();
  // reached from a notification (`?contact=12`) for a lead not on this page: the contact itself
  const contact = useContact(contactId, listed && lead === null);
  const scores = useContactScores(contactId);
  const tasks = useContactTasks(contactId);
  const accounts = useContactAccounts(contactId);
  const accountList = accounts.data?.data ?? [];
  const name = lead
    ? (leadName(lead) ?? t("leads.unnamed", { id: lead.contact_id }))
    : contact.data
      ? (personName(contact.data) ?? t("leads.unnamed", { id: contact.data.id }))
      : contactId !== null
        ? t("leads.unnamed", { id: contactId })
        : "";
  const traits = lead ? Object.entries(lead.traits ?? {}) : [];
  return (
    <Drawer open={contactId !== null} onClose={onClose} title={t("leads.drawer.title", { name })} size={640} destroyOnHidden>
      {contactId === null ? null : (
        <div className="lead-drawer">
          <div className="lead-drawer-actions">
            {actions}
            <Link to={`/contacts/${contactId}`} className="lead-profile-link">
              <ExportOutlined aria-hidden="true" /> {t("leads.profile")}
            </Link>
          </div>
          <section aria-labelledby="lead-details">
            <h2 id="lead-details" className="lead-section-title">
              {t("leads.drawer.details")}
            </h2>
            {lead ? (
              <dl className="lead-facts">
                <div>
                  <dt>{t("leads.drawer.email")}</dt>
                  <dd>{lead.email ?? "—"}</dd>
                </div>
                {lead.external_id ? (
                  <div>
                    <dt>{t("leads.drawer.externalId")}</dt>
                    <dd>{lead.external_id}</dd>
                  </div>
                ) : null}
                <div>
                  <dt>{t("leads.drawer.stage")}</dt>
                  <dd>
                    <StageCell stage={lead.stage} since={lead.stage_since} />
                  </dd>
                </div>
                {accountList.length ? (
                  <div>
                    <dt>{t("leads.drawer.account")}</dt>
                    <dd>
                      {accountList.map((a, i) => (
                        <span key={a.id}>
                          {i ? ", " : null}
                          <Link to={`/accounts/${a.id}`}>{a.name || a.domain || `#${a.id}`}</Link>
                        </span>
                      ))}
                    </dd>
                  </div>
                ) : null}
                <div>
                  <dt>{t("leads.drawer.owner")}</dt>
                  <dd>{lead.owner ? lead.owner.name || lead.owner.email : "—"}</dd>
                </div>
                <div>
                  <dt>{t("leads.drawer.assigned")}</dt>
                  <dd>
                    <DateTime value={lead.assigned_at} />
                  </dd>
                </div>
                <div>
                  <dt>{t("leads.drawer.sla")}</dt>
                  <dd>
                    <SlaCell lead={lead} />
                  </dd>
                </div>
              </dl>
            ) : contact.isPending && listed ? (
              <Spin />
            ) : contact.data ? (
              <>
                <Alert type="info" showIcon title={t("leads.drawer.notLead")} style={{ marginBottom: 12 }} />
                <dl className="lead-facts">
                  <div>
                    <dt>{t("leads.drawer.email")}</dt>
                    <dd>{contact.data.email ?? "—"}</dd>
                  </div>
                  <div>
                    <dt>{t("leads.drawer.stage")}</dt>
                    <dd>{contact.data.lifecycle_stage ?? t("leads.noStage")}</dd>
                  </div>
                </dl>
              </>
            ) : contact.isError ? (
              <ErrorAlert error={contact.error} />
            ) : null}
          </section>
          <section aria-labelledby="lead-scores">
            <h2 id="lead-scores" className="lead-section-title">
              {t("leads.drawer.scores")}
            </h2>
            {scores.isPending ? (
              <Spin />
            ) : scores.isError ? (
              <ErrorAlert error={scores.error} onRetry={() => void scores.refetch()} />
            ) : scores.data.data.length === 0 ? (
              <p className="text-secondary">{t("leads.drawer.noScores")}</p>
            ) : (
              <ul className="lead-scores">
                {scores.data.data.map((s) => {
                  const reasons = topReasons(s);
                  return (
                    <li key={s.model.id} className="lead-score">
                      <div className="lead-score-head">
                        <span className="lead-score-name">{s.model.name}</span>
                        {s.model.is_default ? <Tag>{t("leads.drawer.defaultModel")}</Tag> : null}
                        <strong className="lead-score-value">{scoreText(s.score, lang)}</strong>
                      </div>
                      {reasons.length ? (
                        <>
                          <div className="text-secondary lead-reasons-title">{t("leads.drawer.reasons")}</div>
                          <ul className="lead-reasons">
                            {reasons.map((r) => (
                              <li key={`${r.kind}:${r.label}`}>
                                <span>{r.kind === "rule" ? r.label : t(`leads.reason.${r.kind}`)}</span>{" "}
                                <span className={r.points >= 0 ? "lead-points-up" : "lead-points-down"}>{signedPoints(r.points, lang)}</span>
                              </li>
                            ))}
                          </ul>
                        </>
                      ) : (
                        <div className="text-secondary">{t("leads.drawer.noReasons")}</div>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
          </section>
          {lead ? (
            <section aria-labelledby="lead-attributes">
              <h2 id="lead-attributes" className="lead-section-title">
                {t("leads.drawer.attributes")}
              </h2>
              {traits.length ? (
                <dl className="lead-facts">
                  {traits.map(([key, value]) => (
                    <div key={key}>
                      <dt>{key}</dt>
                      <dd>{typeof value === "boolean" ? (value ? t("common.yes") : t("common.no")) : String(value)}</dd>
                    </div>
                  ))}
                </dl>
              ) : (
                <p className="text-secondary">{t("leads.drawer.noAttributes")}</p>
              )}
            </section>
          ) : null}
          <section aria-labelledby="lead-tasks">
            <h2 id="lead-tasks" className="lead-section-title">
              {t("leads.drawer.tasks")}
            </h2>
            {tasks.isPending ? (
              <Spin />
            ) : tasks.isError ? (
              <ErrorAlert error={tasks.error} />
            ) : tasks.data.data.length === 0 ? (
              <p className="text-secondary">{t("leads.drawer.noTasks")}</p>
            ) : (
              <ul className="lead-tasks">
                {tasks.data.data.map((task) => (
                  <li key={task.id}>
                    <Link to={`/tasks?task=${task.id}&who=all&status=any`}>{task.title}</Link> <TaskStatusTag task={task} />
                    {task.due_at ? (
                      <span className="text-secondary">
                        {" "}
                        · <DateTime value={task.due_at} />
                      </span>
                    ) : null}
                  </li>
                ))}
              </ul>
            )}
            {zone ? <p className="text-secondary lead-hint">{t("tasks.drawer.zone", { zone })}</p> : null}
          </section>
        </div>
      )}
    </Drawer>
  );
}
