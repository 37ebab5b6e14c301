import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Button, Spin } from "antd";
import { BellOutlined } from "@ant-design/icons";
import { api, unwrap } from "../api/client";
import { useWorkspaceKey } from "../auth/SessionProvider";
import { useI18n } from "../i18n";

// The list (and the campaigns catalog that words it) loads when the bell is first opened.
const NotificationList = lazy(() => import("./NotificationList"));

/** The unread count's query (the list invalidates it when it marks notifications read). */
export const notificationsKey = (workspace: number | null) => ["notifications", workspace] as const;

/**
 * The bell in the header: the unread count, polled every 30 s (`GET /notifications?limit=1`),
 * and a panel with the list. A plain disclosure (no antd popover): Escape or a click outside
 * closes it and the focus goes back to the bell.
 */
export function NotificationsBell() {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const [open, setOpen] = useState(false);
  const wrapper = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const count = useQuery({
    queryKey: [...notificationsKey(workspace), "count"],
    queryFn: () => unwrap(api.GET("/api/v1/notifications", { params: { query: { limit: 1 } } })),
    refetchInterval: 30_000,
    enabled: workspace !== null,
  });
  const unread = count.data?.unread ?? 0;

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onPointer = (e: MouseEvent) => {
      if (wrapper.current && !wrapper.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("mousedown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mousedown", onPointer);
    };
  }, [open]);

  if (workspace === null) return null;
  return (
    <div className="notifications" ref={wrapper}>
      <Button
        ref={button}
        type="text"
        icon={<BellOutlined />}
        aria-expanded={open}
        aria-controls="notifications-panel"
        aria-label={unread > 0 ? t("shell.notificationsUnread", { count: unread }) : t("shell.notifications")}
        onClick={() => setOpen((o) => !o)}
      >
        {unread > 0 ? (
          <span className="notifications-count" aria-hidden="true">
            {unread > 99 ? "99+" : unread}
          </span>
        ) : null}
      </Button>
      {open ? (
        <div id="notifications-panel" className="notifications-panel" role="region" aria-label={t("shell.notifications")}>
          <Suspense fallback={<Spin className="page-spin" />}>
            <NotificationList onClose={() => setOpen(false)} />
          </Suspense>
        </div>
      ) : null}
    </div>
  );
}
