// Pieces the broadcast pages share: the status tag, the send time in words, the progress.
import { Progress, Tag } from "antd";
import { DateTime } from "../../components/DateTime";
import { useI18n, type MessageKey } from "../../i18n";
import "../../i18n/broadcasts";
import { sentOf, settledOf, whenOf, type Broadcast, type BroadcastStatus, type Channel } from "./model";

const TONE: Partial<Record<BroadcastStatus, string>> = {
  scheduled: "bc-tag-info",
  sending: "bc-tag-good",
  testing: "bc-tag-good",
  queued: "bc-tag-info",
  paused: "bc-tag-warn",
};

export function StatusTag({ status }: { status: BroadcastStatus }) {
  const { t } = useI18n();
  return <Tag className={TONE[status]}>{t(`broadcasts.status.${status}` as MessageKey)}</Tag>;
}

export function channelKey(channel: string): MessageKey {
  return (["email", "sms", "push", "wechat", "inapp", "webhook"].includes(channel)
    ? `broadcasts.channel.${channel}`
    : "broadcasts.channel.other") as MessageKey;
}

export function ChannelName({ channel }: { channel: Channel | string }) {
  const { t } = useI18n();
  const key = channelKey(channel);
  return <>{key === "broadcasts.channel.other" ? channel : t(key)}</>;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** A calendar date ("2026-09-01") in the user's language: no time zone moves it. */
export function formatDay(lang: string, day: string): string {
  let f = dateFormats.get(lang);
  if (!f) {
    f = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
    dateFormats.set(lang, f);
  }
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : f.format(d);
}

/** When it goes: an instant in the workspace's zone, "10:00 local time on …", or now. */
export function SendTime({ broadcast }: { broadcast: Pick<Broadcast, "send_at" | "local_date" | "local_time" | "starts_at" | "status"> }) {
  const { t, lang } = useI18n();
  const when = whenOf(broadcast);
  if (when.kind === "local") return <>{t("broadcasts.when.local", { time: when.time, date: formatDay(lang, when.date) })}</>;
  if (when.kind === "instant") return <DateTime value={when.at} />;
  if (broadcast.status !== "draft" && broadcast.starts_at) return <DateTime value={broadcast.starts_at} />;
  return <>{t("broadcasts.when.now")}</>;
}

/** Sent of queued, as a bar with its words (the bar is decoration: the words say it). */
export function SendProgress({ broadcast, compact }: { broadcast: Broadcast; compact?: boolean }) {
  const { t, lang } = useI18n();
  const n = new Intl.NumberFormat(lang);
  if (broadcast.status === "draft" || (broadcast.queued === 0 && broadcast.audience === null)) {
    return <span className="text-secondary">{t("common.none")}</span>;
  }
  const sent = sentOf(broadcast);
  const settled = settledOf(broadcast);
  const percent = broadcast.queued > 0 ? Math.round((settled / broadcast.queued) * 100) : 0;
  return (
    <div className={compact ? "send-progress compact" : "send-progress"}>
      <span>{t("broadcasts.progress.sentOf", { sent: n.format(sent), queued: n.format(broadcast.queued) })}</span>
      <Progress percent={percent} size="small" showInfo={false} aria-hidden="true" />
    </div>
  );
}
