import { useEffect, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Alert, Button, Form, Input } from "antd";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { ApiError } from "../api/http";
import { completeSetup, getSetupStatus, MIN_PASSWORD_LENGTH, type SetupRequest } from "../api/session";
import { FullPageSpin, useSession } from "../auth/SessionProvider";
import { AuthLayout } from "../components/AuthLayout";
import { ErrorAlert, errorText } from "../components/ErrorAlert";
import { useI18n } from "../i18n";

interface SetupForm extends SetupRequest {
  confirm: string;
}

export default function SetupPage() {
  const { t } = useI18n();
  const { session, signedIn } = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const [form] = Form.useForm<SetupForm>();
  // The token is read once, then taken out of the address bar (and so out of the history).
  const [initialToken] = useState(() => params.get("token") ?? "");
  useEffect(() => {
    if (params.has("token")) setParams({}, { replace: true });
  }, [params, setParams]);

  const status = useQuery({ queryKey: ["setup-status"], queryFn: getSetupStatus, retry: false });

  const mutation = useMutation({
    mutationFn: (body: SetupRequest) => completeSetup(body),
    onSuccess: (result) => {
      signedIn(result);
      navigate("/", { replace: true });
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      if (error.code === "invalid_setup_token") {
        form.setFields([{ name: "token", errors: [t("setup.tokenInvalid")] }]);
      } else if (error.code === "weak_password") {
        form.setFields([{ name: "password", errors: [t("setup.passwordWeak")] }]);
      }
    },
  });

  if (status.isPending) return <FullPageSpin />;
  if (status.isError) {
    return (
      <AuthLayout title={t("setup.title")}>
        <ErrorAlert error={status.error} onRetry={() => void status.refetch()} />
      </AuthLayout>
    );
  }
  if (!status.data.needed) return <Navigate to={session ? "/" : "/login"} replace />;

  const error = mutation.error;
  const fieldError =
    error instanceof ApiError && (error.code === "invalid_setup_token" || error.code === "weak_password");
  const done = error instanceof ApiError && error.code === "setup_done";

  return (
    <AuthLayout title={t("setup.title")}>
      <p>{t("setup.intro")}</p>
      {done ? (
        <Alert
          type="info"
          showIcon
          title={t("setup.done")}
          action={<Link to="/login">{t("setup.toLogin")}</Link>}
          style={{ marginBottom: 16 }}
        />
      ) : error && !fieldError ? (
        <Alert type="error" showIcon title={errorText(error, t)} style={{ marginBottom: 16 }} />
      ) : null}
      <Form<SetupForm>
        form={form}
        name="setup"
        layout="vertical"
        requiredMark={false}
        initialValues={{ token: initialToken }}
        onFinish={({ token, name, email, password }) =>
          mutation.mutate({ token: token.trim(), name: name.trim(), email: email.trim(), password })
        }
      >
        <Form.Item
          label={t("setup.token")}
          name="token"
          rules={[{ required: true, whitespace: true, message: t("setup.tokenRequired") }]}
        >
          <Input autoComplete="off" spellCheck={false} />
        </Form.Item>
        <Form.Item
          label={t("setup.name")}
          name="name"
          rules={[{ required: true, whitespace: true, message: t("setup.nameRequired") }]}
        >
          <Input autoComplete="name" />
        </Form.Item>
        <Form.Item
          label={t("setup.email")}
          name="email"
          rules={[
            { required: true, message: t("login.emailRequired") },
            { type: "email", message: t("login.emailInvalid") },
          ]}
        >
          <Input type="email" autoComplete="username" />
        </Form.Item>
        <Form.Item
          label={t("setup.password")}
          name="password"
          extra={t("setup.passwordHint", { min: MIN_PASSWORD_LENGTH })}
          rules={[
            { required: true, message: t("setup.passwordTooShort", { min: MIN_PASSWORD_LENGTH }) },
            { min: MIN_PASSWORD_LENGTH, message: t("setup.passwordTooShort", { min: MIN_PASSWORD_LENGTH }) },
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          label={t("setup.confirm")}
          name="confirm"
          dependencies={["password"]}
          rules={[
            { required: true, message: t("setup.confirmRequired") },
            ({ getFieldValue }) => ({
              validator: (_rule, value: string | undefined) =>
                !value || getFieldValue("password") === value
                  ? Promise.resolve()
                  : Promise.reject(new Error(t("setup.confirmMismatch"))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={mutation.isPending}>
          {t("setup.submit")}
        </Button>
      </Form>
    </AuthLayout>
  );
}
