import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Button } from "antd";
import { useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { useWorkspaceKey } from "../auth/SessionProvider";
import { DateTime } from "../components/DateTime";
import { ErrorAlert } from "../components/ErrorAlert";
import { useI18n, type I18n } from "../i18n";
import "../i18n/campaigns";
import { notificationsKey } from "./Notifications";
import "./notifications.css";

type Notification = components["schemas"]["NotificationRead"];

/** The sentence of a notification in the reader's language, from its kind and parameters. */
export function notificationText(n: Notification, t: I18n["t"]): string {
  const params = {
    actor: n.params.actor ?? t("notifications.unknownActor"),
    campaign: n.params.campaign ?? `#${n.params.campaign_id ?? ""}`,
    contact: n.params.contact ?? `#${n.params.contact_id ?? ""}`,
    stage: n.params.stage ?? "",
    hours: String(n.params.hours ?? ""),
    title: n.params.title ?? `#${n.params.task_id ?? ""}`,
  };
  return t(`notifications.kind.${n.kind}`, params);
}

/** The bell's panel: newest first, ten at a time; opening one marks it read. */
export default function NotificationList({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const key = [...notificationsKey(workspace), "list"];
  const list = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/notifications", { params: { query: { limit: 10, after: pageParam ?? undefined } } })),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: notificationsKey(workspace) });
  const markAll = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/notifications/read-all")),
    onSuccess: refresh,
  });
  const open = async (n: Notification) => {
    if (!n.read_at) {
      try {
        await unwrap(api.POST("/api/v1/notifications/{notification_id}/read", { params: { path: { notification_id: n.id } } }));
      } catch {
        // still open the page; it stays unread
      }
      refresh();
    }
    onClose();
    // a console path only (the API writes them; never follow anything else)
    navigate(n.link.startsWith("/") && !n.link.startsWith("//") ? n.link : "/");
  };
  const items = list.data?.pages.flatMap((p) => p.data) ?? [];
  const unread = list.data?.pages[0]?.unread ?? 0;

  return (
    <div className="notification-list">
      <div className="notification-head">
        <h2>{t("notifications.title")}</h2>
        <Button size="small" type="link" disabled={unread === 0} loading={markAll.isPending} onClick={() => markAll.mutate()}>
          {t("notifications.markAll")}
        </Button>
      </div>
      {list.isError ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.isSuccess && items.length === 0 ? <p className="text-secondary notification-empty">{t("notifications.empty")}</p> : null}
      <ul>
        {items.map((n) => (
          <li key={n.id} className={n.read_at ? "notification" : "notification notification-unread"}>
            <button type="button" onClick={() => void open(n)}>
              {n.read_at ? null : <span className="visually-hidden">{t("notifications.unread")}: </span>}
              <span className="notification-text">{notificationText(n, t)}</span>
              {n.params.comment ? <span className="notification-comment">{n.params.comment}</span> : null}
              <span className="notification-time">
                <DateTime value={n.created_at} />
              </span>
            </button>
          </li>
        ))}
      </ul>
      {list.hasNextPage ? (
        <Button block type="link" loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          {t("notifications.more")}
        </Button>
      ) : null}
    </div>
  );
}
