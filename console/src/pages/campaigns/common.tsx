import { Tag } from "antd";
import { useI18n } from "../../i18n";
import type { CampaignStatus } from "./queries";

const STATUS_CLASS: Record<CampaignStatus, string> = {
  draft: "tag-draft",
  pending_approval: "tag-pending",
  approved: "tag-approved",
  active: "tag-active",
  completed: "tag-done",
  cancelled: "tag-cancelled",
};

export function CampaignStatusTag({ status }: { status: CampaignStatus }) {
  const { t } = useI18n();
  return <Tag className={`campaign-status ${STATUS_CLASS[status]}`}>{t(`campaigns.status.${status}`)}</Tag>;
}

/** A money amount in the user's language (the currency's own decimals), or the number alone. */
export function money(lang: string, amount: number, currency: string | null | undefined): string {
  if (currency) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency }).format(amount);
    } catch {
      // an unknown code: the number and the code
    }
  }
  return `${new Intl.NumberFormat(lang).format(amount)}${currency ? ` ${currency}` : ""}`;
}

/** A date (no time) in the user's language and the workspace's zone. */
export function dayFormat(lang: string, zone: string | null): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: zone ?? undefined });
  } catch {
    return new Intl.DateTimeFormat(lang, { dateStyle: "medium" });
  }
}
