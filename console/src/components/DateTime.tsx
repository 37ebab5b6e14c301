import { useI18n } from "../i18n";

/** A date in the user's language and time zone; the exact instant on hover. */
export function DateTime({ value }: { value: string | null | undefined }) {
  const { formatDateTime } = useI18n();
  if (!value) return <>{formatDateTime(null)}</>;
  return (
    <time dateTime={value} title={value}>
      {formatDateTime(value)}
    </time>
  );
}
