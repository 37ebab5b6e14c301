import type { I18n } from "../../../i18n";
import { isMessageKey } from "../../../i18n";
import type { Window } from "./model";

/** A window in words: "in the last 30 days", "since 1 Mar 2026", "ever". */
export function windowText(window: Window | undefined, i18n: Pick<I18n, "t" | "formatDateTime">): string {
  const { t, formatDateTime } = i18n;
  if (window?.last) {
    const key = `builder.unit.${window.last.unit}`;
    const unit = isMessageKey(key) ? t(key) : window.last.unit;
    return t("window.last", { amount: window.last.amount, unit });
  }
  if (window?.since && window.until) {
    return t("window.between", { since: formatDateTime(window.since), until: formatDateTime(window.until) });
  }
  if (window?.since) return t("window.since", { since: formatDateTime(window.since) });
  if (window?.until) return t("window.until", { until: formatDateTime(window.until) });
  return t("window.ever");
}
