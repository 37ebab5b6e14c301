import { useEffect, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Alert, Button, Form, Input } from "antd";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { ApiError } from "../api/http";
import { getSetupStatus, signIn, type SignInRequest } from "../api/session";
import { safeReturnPath } from "../api/state";
import { useSession } from "../auth/SessionProvider";
import { AuthLayout } from "../components/AuthLayout";
import { errorText } from "../components/ErrorAlert";
import { useI18n } from "../i18n";

/** Seconds left until `until` (ms), ticking every second; 0 when past or none. */
function useCountdown(until: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === null) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [until]);
  return until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
}

export default function LoginPage() {
  const { t } = useI18n();
  const { session, signedIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeReturnPath(params.get("next"));
  const [retryUntil, setRetryUntil] = useState<number | null>(null);
  const waitSeconds = useCountdown(retryUntil);

  const setup = useQuery({ queryKey: ["setup-status"], queryFn: getSetupStatus, retry: false, staleTime: Infinity });

  const mutation = useMutation({
    mutationFn: (values: SignInRequest) => signIn(values),
    onSuccess: (result) => {
      signedIn(result);
      navigate(next, { replace: true });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 429 && error.retryAfter !== null) {
        setRetryUntil(Date.now() + error.retryAfter * 1000);
      }
    },
  });

  if (session) return <Navigate to={next} replace />;

  let problem: string | null = null;
  const error = mutation.error;
  if (error instanceof ApiError && error.status === 401) problem = t("login.invalidCredentials");
  else if (error instanceof ApiError && error.status === 429) {
    problem =
      error.retryAfter === null
        ? t("login.tooManyAttemptsLater")
        : waitSeconds > 0
          ? t("login.tooManyAttempts", { seconds: waitSeconds })
          : null;
  } else if (error) problem = errorText(error, t);

  return (
    <AuthLayout title={t("login.title")}>
      {setup.data?.needed ? (
        <Alert
          type="info"
          showIcon
          title={t("login.setupNeeded")}
          action={<Link to="/setup">{t("setup.title")}</Link>}
          style={{ marginBottom: 16 }}
        />
      ) : null}
      {problem ? <Alert type="error" showIcon title={problem} style={{ marginBottom: 16 }} /> : null}
      <Form<SignInRequest>
        name="login"
        layout="vertical"
        requiredMark={false}
        onFinish={(values) => mutation.mutate({ email: values.email.trim(), password: values.password })}
      >
        <Form.Item
          label={t("login.email")}
          name="email"
          rules={[
            { required: true, message: t("login.emailRequired") },
            { type: "email", message: t("login.emailInvalid") },
          ]}
        >
          <Input type="email" autoComplete="username" autoFocus />
        </Form.Item>
        <Form.Item
          label={t("login.password")}
          name="password"
          rules={[{ required: true, message: t("login.passwordRequired") }]}
        >
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={mutation.isPending} disabled={waitSeconds > 0}>
          {t("login.submit")}
        </Button>
      </Form>
    </AuthLayout>
  );
}
