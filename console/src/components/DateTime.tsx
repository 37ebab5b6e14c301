import { useWorkspaceTimeZone } from "../auth/SessionProvider";
import { useI18n, type Language } from "../i18n";

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A medium date and short time in `lang`, in `zone` (the browser's when null or unknown). */
export function dateTimeFormat(lang: Language, zone: string | null): Intl.DateTimeFormat {
  const key = `${lang} ${zone ?? ""}`;
  let found = formatters.get(key);
  if (!found) {
    try {
      found = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", timeZone: zone ?? undefined });
    } catch {
      found = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    }
    formatters.set(key, found);
  }
  return found;
}

/**
 * A date in the user's language and the workspace's time zone (the session names it; the
 * browser's zone outside a session); the exact instant and the zone on hover.
 */
export function DateTime({ value }: { value: string | null | undefined }) {
  const { lang, formatDateTime } = useI18n();
  const zone = useWorkspaceTimeZone();
  if (!value) return <>{formatDateTime(null)}</>;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return <>{value}</>;
  return (
    <time dateTime={value} title={zone ? `${value} (${zone})` : value}>
      {dateTimeFormat(lang, zone).format(date)}
    </time>
  );
}
