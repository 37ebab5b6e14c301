import { useMemo, useState, type ReactNode } from "react";
import { Alert, Button, Drawer, Empty, message, Radio, Select, Space, Spin, Table, type TableColumnsType } from "antd";
import { CheckOutlined, ExportOutlined, UserAddOutlined } from "@ant-design/icons";
import { Link, useSearchParams } from "react-router";
import { useCanEdit, useCanWorkLeads, useSession, useWorkspaceTimeZone } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import "../../i18n/leads";
import { CompleteDialog } from "./LeadDialogs";
import { mayClaim, mayComplete, taskContactName, taskFiltersFrom, taskFiltersTo, type TaskFilters, type TaskStatusFilter, type TaskWho } from "./model";
import { TASK_KINDS, useClaimTask, useCompleteTask, useTask, useTasks, type Task, type TaskKind } from "./queries";
import { AssigneeText, TaskKindLabel, TaskStatusTag } from "./TaskBits";
import "./leads.css";

/** `/tasks`: the task inbox — mine, claimable or all; open, overdue, done or expired; by kind. */
export default function TasksPage() {
  const { t } = useI18n();
  const { session, workspace } = useSession();
  const zone = useWorkspaceTimeZone();
  const canWork = useCanWorkLeads();
  const anyTask = useCanEdit();
  const salesUser = workspace?.role === "sales";
  const [params, setParams] = useSearchParams();
  const filters = taskFiltersFrom(params, salesUser);
  const opened = Number(params.get("task")) || null;
  const tasks = useTasks(filters);
  const claim = useClaimTask();
  const complete = useCompleteTask();
  const [completing, setCompleting] = useState<Task | null>(null);
  const rows = useMemo(() => (tasks.data?.pages ?? []).flatMap((p) => p.data), [tasks.data]);
  const userId = session?.user.id ?? null;

  const setFilters = (f: TaskFilters) => setParams(taskFiltersTo(f, salesUser, params));
  const open = (id: number | null) => {
    const next = new URLSearchParams(params);
    if (id === null) next.delete("task");
    else next.set("task", String(id));
    setParams(next);
  };
  const doClaim = (task: Task) =>
    claim.mutate(task.id, {
      onSuccess: () => void message.success(t("tasks.claimed")),
      onError: (e) => void message.error(errorText(e, t)),
    });

  const actions = (task: Task) => {
    if (!canWork) return null;
    return (
      <Space size="small" wrap>
        {mayClaim(task) ? (
          <Button size="small" icon={<UserAddOutlined />} aria-label={t("tasks.claimNamed", { title: task.title })} loading={claim.isPending && claim.variables === task.id} onClick={() => doClaim(task)}>
            {t("tasks.claim")}
          </Button>
        ) : null}
        {mayComplete(task, userId, anyTask) ? (
          <Button size="small" type="primary" icon={<CheckOutlined />} aria-label={t("tasks.completeNamed", { title: task.title })} onClick={() => setCompleting(task)}>
            {t("tasks.complete")}
          </Button>
        ) : null}
      </Space>
    );
  };

  const columns: TableColumnsType<Task> = [
    {
      title: t("tasks.col.task"),
      key: "task",
      render: (_: unknown, task) => (
        <>
          <Button type="link" className="lead-open" onClick={() => open(task.id)} aria-label={t("tasks.open", { title: task.title })}>
            {task.title}
          </Button>
          <div className="text-secondary cell-note">
            <TaskKindLabel kind={task.kind} />
          </div>
        </>
      ),
    },
    {
      title: t("tasks.col.contact"),
      key: "contact",
      render: (_: unknown, task) => (
        <>
          <Link to={`/contacts/${task.contact_id}`}>{taskContactName(task) ?? t("leads.unnamed", { id: task.contact_id })}</Link>
          {task.contact_stage ? <div className="text-secondary cell-note">{task.contact_stage}</div> : null}
        </>
      ),
    },
    { title: t("tasks.col.assignee"), key: "assignee", render: (_: unknown, task) => <AssigneeText task={task} /> },
    {
      title: t("tasks.col.due"),
      key: "due",
      render: (_: unknown, task) =>
        task.due_at ? (
          <span className={task.overdue ? "lead-overdue" : undefined}>
            <DateTime value={task.due_at} />
          </span>
        ) : (
          <span className="text-secondary">{t("tasks.noDue")}</span>
        ),
    },
    { title: t("tasks.col.status"), key: "status", render: (_: unknown, task) => <TaskStatusTag task={task} /> },
    ...(canWork ? [{ title: t("tasks.col.actions"), key: "actions", render: (_: unknown, task: Task) => actions(task) }] : []),
  ];

  const defaults = taskFiltersFrom(new URLSearchParams(), salesUser);
  const filtered = filters.who !== defaults.who || filters.status !== defaults.status || filters.kind !== null;

  return (
    <>
      <div className="page-head">
        <PageTitle title={t("tasks.title")}>{t("tasks.title")}</PageTitle>
      </div>
      <p className="text-secondary page-intro">
        {t("tasks.intro")} {zone ? t("tasks.drawer.zone", { zone }) : null}
      </p>
      {canWork ? null : <Alert type="info" showIcon title={t("tasks.readOnly")} style={{ marginBottom: 16 }} />}
      <div role="search" className="list-search">
        <Space wrap size="middle">
          <Radio.Group
            aria-label={t("tasks.filter.who")}
            optionType="button"
            value={filters.who}
            onChange={(e) => setFilters({ ...filters, who: e.target.value as TaskWho })}
            options={[
              { value: "mine", label: t("tasks.filter.mine") },
              { value: "queue", label: t("tasks.filter.queue") },
              { value: "all", label: t("tasks.filter.all") },
            ]}
          />
          <Space>
            <label htmlFor="task-status">{t("tasks.filter.status")}</label>
            <Select<string>
              id="task-status"
              value={filters.status ?? "any"}
              onChange={(v) => setFilters({ ...filters, status: v === "any" ? null : (v as TaskStatusFilter) })}
              options={[
                { value: "open", label: t("tasks.filter.open") },
                { value: "overdue", label: t("tasks.filter.overdue") },
                { value: "done", label: t("tasks.filter.done") },
                { value: "expired", label: t("tasks.filter.expired") },
                { value: "any", label: t("tasks.filter.anyStatus") },
              ]}
              style={{ width: 160 }}
            />
          </Space>
          <Space>
            <label htmlFor="task-kind">{t("tasks.filter.kind")}</label>
            <Select<string>
              id="task-kind"
              value={filters.kind ?? ""}
              onChange={(v) => setFilters({ ...filters, kind: (v || null) as TaskKind | null })}
              options={[{ value: "", label: t("tasks.filter.anyKind") }, ...TASK_KINDS.map((k) => ({ value: k, label: t(`tasks.kind.${k}`) }))]}
              style={{ width: 180 }}
            />
          </Space>
        </Space>
      </div>
      {tasks.isError ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={tasks.error} onRetry={() => void tasks.refetch()} />
        </div>
      ) : null}
      <Table<Task>
        className="clickable-rows"
        rowKey="id"
        columns={columns}
        dataSource={rows}
        loading={tasks.isPending || (tasks.isFetching && !tasks.isFetchingNextPage)}
        pagination={false}
        size="middle"
        scroll={{ x: "max-content" }}
        rowClassName={(task) => [task.overdue ? "lead-row-overdue" : "", task.id === opened ? "task-row-opened" : ""].join(" ")}
        locale={{ emptyText: <Empty description={filtered ? t("tasks.noMatch") : t("tasks.empty")} /> }}
        onRow={(task) => ({
          onClick: (event) => {
            if ((event.target as HTMLElement).closest("a, button, input, label")) return;
            open(task.id);
          },
        })}
      />
      {tasks.hasNextPage ? (
        <div className="list-more">
          <Button onClick={() => void tasks.fetchNextPage()} loading={tasks.isFetchingNextPage}>
            {t("tasks.more")}
          </Button>
        </div>
      ) : null}
      <TaskDrawer taskId={opened} onClose={() => open(null)} actions={actions} />
      <CompleteDialog
        open={completing !== null}
        task={completing}
        pending={complete.isPending}
        error={complete.error}
        onCancel={() => {
          setCompleting(null);
          complete.reset();
        }}
        onComplete={(outcome, notes) => {
          if (!completing) return;
          complete.mutate(
            { taskId: completing.id, outcome, notes },
            {
              onSuccess: () => {
                setCompleting(null);
                void message.success(t("tasks.completed", { outcome }));
              },
            },
          );
        }}
      />
    </>
  );
}

/** One task (`?task=12`, also the notifications' link): what to do, the script, the outcome. */
function TaskDrawer({ taskId, onClose, actions }: { taskId: number | null; onClose: () => void; actions: (task: Task) => ReactNode }) {
  const { t } = useI18n();
  const query = useTask(taskId);
  const task = query.data ?? null;
  return (
    <Drawer open={taskId !== null} onClose={onClose} title={task ? t("tasks.drawer.title", { title: task.title }) : t("tasks.title")} size={640} destroyOnHidden>
      {taskId === null ? null : query.isPending ? (
        <Spin />
      ) : query.isError ? (
        <ErrorAlert error={query.error} />
      ) : task ? (
        <div className="lead-drawer">
          <div className="lead-drawer-actions">
            {actions(task)}
            <Link to={`/contacts/${task.contact_id}`} className="lead-profile-link">
              <ExportOutlined aria-hidden="true" /> {t("leads.profile")}
            </Link>
          </div>
          <dl className="lead-facts">
            <div>
              <dt>{t("tasks.drawer.kind")}</dt>
              <dd>
                <TaskKindLabel kind={task.kind} />
              </dd>
            </div>
            <div>
              <dt>{t("tasks.col.status")}</dt>
              <dd>
                <TaskStatusTag task={task} />
              </dd>
            </div>
            <div>
              <dt>{t("tasks.drawer.contact")}</dt>
              <dd>
                <Link to={`/contacts/${task.contact_id}`}>{taskContactName(task) ?? t("leads.unnamed", { id: task.contact_id })}</Link>
                {task.contact_stage ? <span className="text-secondary"> · {task.contact_stage}</span> : null}
              </dd>
            </div>
            <div>
              <dt>{t("tasks.drawer.assignee")}</dt>
              <dd>
                <AssigneeText task={task} />
              </dd>
            </div>
            <div>
              <dt>{t("tasks.drawer.due")}</dt>
              <dd className={task.overdue ? "lead-overdue" : undefined}>{task.due_at ? <DateTime value={task.due_at} /> : t("tasks.noDue")}</dd>
            </div>
            {task.timeout_at && task.status === "open" ? (
              <div>
                <dt>{t("tasks.drawer.timeout")}</dt>
                <dd>
                  <DateTime value={task.timeout_at} />
                </dd>
              </div>
            ) : null}
            <div>
              <dt>{t("tasks.drawer.created")}</dt>
              <dd>
                <DateTime value={task.created_at} />
              </dd>
            </div>
            {task.journey_id !== null ? (
              <div>
                <dt>{t("tasks.drawer.journey")}</dt>
                <dd>
                  <Link to={`/journeys/${task.journey_id}`}>{t("tasks.drawer.openJourney", { id: task.journey_id, node: task.node ?? "" })}</Link>
                </dd>
              </div>
            ) : null}
            {task.status === "done" ? (
              <>
                <div>
                  <dt>{t("tasks.drawer.outcome")}</dt>
                  <dd>
                    <strong>{task.outcome}</strong>
                  </dd>
                </div>
                <div>
                  <dt>{t("tasks.drawer.completedAt")}</dt>
                  <dd>
                    <DateTime value={task.completed_at} />
                  </dd>
                </div>
                {task.notes ? (
                  <div>
                    <dt>{t("tasks.drawer.notes")}</dt>
                    <dd className="pre-text">{task.notes}</dd>
                  </div>
                ) : null}
              </>
            ) : null}
          </dl>
          <section aria-labelledby="task-script">
            <h2 id="task-script" className="lead-section-title">
              {t("tasks.drawer.script")}
            </h2>
            {task.script ? <div className="task-script">{task.script}</div> : <p className="text-secondary">{t("tasks.drawer.noScript")}</p>}
          </section>
        </div>
      ) : (
        <p>{t("tasks.drawer.notFound")}</p>
      )}
    </Drawer>
  );
}
