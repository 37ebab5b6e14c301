import { Tag } from "antd";
import { useI18n } from "../../i18n";

/** A journey's status in the user's language. */
export function StatusTag({ status }: { status: string }) {
  const { t } = useI18n();
  const key = `journeys.status.${status}` as const;
  return (
    <Tag className={`journey-status journey-status-${status}`}>
      {["draft", "active", "paused", "archived"].includes(status) ? t(key as "journeys.status.draft") : status}
    </Tag>
  );
}
