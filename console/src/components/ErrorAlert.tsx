import { Alert, Button } from "antd";
import { ApiError, NetworkError } from "../api/http";
import { useI18n, type I18n } from "../i18n";

/** A sentence for the user from any error a request can end with. */
export function errorText(error: unknown, t: I18n["t"]): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return t("errors.forbidden");
    return error.message && error.message !== error.code
      ? error.message
      : t("errors.generic", { code: error.code });
  }
  if (error instanceof NetworkError) return t("errors.network");
  return t("errors.generic", { code: error instanceof Error ? error.name : "error" });
}

export function isForbidden(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403;
}

export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <Alert
      type={isForbidden(error) ? "warning" : "error"}
      showIcon
      title={errorText(error, t)}
      action={
        onRetry && !isForbidden(error) ? (
          <Button size="small" onClick={onRetry}>
            {t("common.retry")}
          </Button>
        ) : undefined
      }
    />
  );
}
