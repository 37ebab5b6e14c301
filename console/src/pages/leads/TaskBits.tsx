import { Tag } from "antd";
import { CustomerServiceOutlined, EnvironmentOutlined, MessageOutlined, ToolOutlined } from "@ant-design/icons";
import type { ReactNode } from "react";
import { useI18n } from "../../i18n";
import type { Task, TaskKind } from "./queries";

export const TASK_KIND_ICONS: Record<TaskKind, ReactNode> = {
  call: <CustomerServiceOutlined />,
  wechat: <MessageOutlined />,
  visit: <EnvironmentOutlined />,
  custom: <ToolOutlined />,
};

/** Open (overdue in red), done, expired. */
export function TaskStatusTag({ task }: { task: Pick<Task, "status" | "overdue"> }) {
  const { t } = useI18n();
  if (task.status === "open" && task.overdue) return <Tag className="lead-tag lead-tag-overdue">{t("tasks.overdue")}</Tag>;
  return <Tag className={`lead-tag lead-tag-${task.status}`}>{t(`tasks.status.${task.status}`)}</Tag>;
}

export function TaskKindLabel({ kind }: { kind: TaskKind }) {
  const { t } = useI18n();
  return (
    <span className="task-kind">
      <span aria-hidden="true">{TASK_KIND_ICONS[kind]}</span> {t(`tasks.kind.${kind}`)}
    </span>
  );
}

/** Who has the task: a user, a queue nobody took yet, or nobody. */
export function AssigneeText({ task }: { task: Pick<Task, "assignee_user_id" | "assignee_name" | "queue"> }) {
  const { t } = useI18n();
  if (task.assignee_user_id !== null) return <>{task.assignee_name ?? `#${task.assignee_user_id}`}</>;
  if (task.queue) return <span className="text-secondary">{t("tasks.queue", { queue: task.queue })}</span>;
  return <span className="text-secondary">{t("tasks.unassigned")}</span>;
}
