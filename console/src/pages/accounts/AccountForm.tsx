// The account form (create and edit, in a dialog): name, domain, external id, owner, traits.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { Alert, Button, Form, Input, Select, Space } from "antd";
import { api, unwrap } from "../../api/client";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/accounts";
import { useOwners, type Account, type AccountWrite } from "./queries";

interface Values {
  name?: string;
  domain?: string;
  external_id?: string;
  owner_user_id?: number | null;
  traits?: string;
}

function parseTraits(text: string | undefined): Record<string, unknown> | null | "invalid" {
  if (!text || !text.trim()) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : "invalid";
  } catch {
    return "invalid";
  }
}

export function AccountForm({
  account,
  onCancel,
  onSaved,
}: {
  account: Account | null;
  onCancel: () => void;
  onSaved: (a: Account) => void;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<unknown>(null);
  const owners = useOwners(true);

  const save = useMutation({
    mutationFn: (body: AccountWrite) =>
      account
        ? unwrap(api.PATCH("/api/v1/accounts/{account_id}", { params: { path: { account_id: account.id } }, body }))
        : unwrap(api.POST("/api/v1/accounts", { body })),
    onSuccess: (a) => onSaved(a),
    onError: (e) => setError(e),
  });

  const submit = (v: Values) => {
    setError(null);
    const traits = parseTraits(v.traits);
    if (traits === "invalid") {
      form.setFields([{ name: "traits", errors: [t("accounts.field.traitsInvalid")] }]);
      return;
    }
    const body: AccountWrite = {
      name: v.name?.trim() || null,
      domain: v.domain?.trim() || null,
      owner_user_id: v.owner_user_id ?? null,
    };
    const external = v.external_id?.trim() || null;
    if (external !== (account?.external_id ?? null)) body.external_id = external;
    if (traits) body.traits = traits;
    if (!body.name && !body.domain && !external && !account) {
      form.setFields([{ name: "name", errors: [t("accounts.field.required")] }]);
      return;
    }
    save.mutate(body);
  };

  return (
    <Form<Values>
      form={form}
      layout="vertical"
      onFinish={submit}
      initialValues={{
        name: account?.name ?? "",
        domain: account?.domain ?? "",
        external_id: account?.external_id ?? "",
        owner_user_id: account?.owner_user_id ?? null,
        traits: account && Object.keys(account.traits).length ? JSON.stringify(account.traits, null, 2) : "",
      }}
    >
      {error ? <Alert className="page-alert" type="error" showIcon title={t("accounts.createFailed")} description={errorText(error, t)} /> : null}
      <Form.Item name="name" label={t("accounts.field.name")}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="domain" label={t("accounts.field.domain")} extra={t("accounts.field.domainHint")}>
        <Input maxLength={300} />
      </Form.Item>
      <Form.Item name="external_id" label={t("accounts.field.externalId")} extra={t("accounts.field.externalIdHint")}>
        <Input maxLength={255} />
      </Form.Item>
      <Form.Item name="owner_user_id" label={t("accounts.field.owner")} extra={t("accounts.field.ownerHint")}>
        <Select
          allowClear
          loading={owners.isPending}
          placeholder={t("accounts.noOwner")}
          options={(owners.data?.data ?? []).map((u) => ({ value: u.id, label: `${u.name} <${u.email}>` }))}
        />
      </Form.Item>
      <Form.Item
        name="traits"
        label={t("accounts.field.traits")}
        extra={t("accounts.field.traitsHint")}
      >
        <Input.TextArea rows={4} spellCheck={false} />
      </Form.Item>
      <Space>
        <Button type="primary" htmlType="submit" loading={save.isPending}>
          {account ? t("accounts.save") : t("accounts.create")}
        </Button>
        <Button onClick={onCancel}>{t("common.cancel")}</Button>
      </Space>
    </Form>
  );
}
