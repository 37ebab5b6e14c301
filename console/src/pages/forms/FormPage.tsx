import { useMemo, useState } from "react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Col, Form, Input, InputNumber, Radio, Row, Space, Spin, Switch, Table, Tabs, message as antMessage, type TableColumnsType } from "antd";
import { CopyOutlined } from "@ant-design/icons";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { FieldBuilder } from "./FieldBuilder";
import {
  KEY_PATTERN,
  consentPayload,
  embedSnippet,
  fieldProblems,
  fieldsPayload,
  linkSnippet,
  newField,
  publicUrl,
  uid,
  type DraftConsent,
  type DraftField,
  type Form as KForm,
  type Submission,
} from "./model";
import { usePreviewHtml } from "./usePreviewHtml";
import "../../i18n/offers";
import "../offers/offers.css";

export const formsKey = (ws: number | null) => ["forms", ws] as const;
const formKey = (ws: number | null, id: number) => ["form", ws, id] as const;

interface Draft {
  key: string;
  name: string;
  fields: DraftField[];
  consent: DraftConsent[];
  success_message: string;
  return_urls: string;
  status: "active" | "paused";
  limited: boolean;
  rate_max: number;
  rate_minutes: number;
}

function draftOf(form: KForm | null): Draft {
  return {
    key: form?.key ?? "",
    name: form?.name ?? "",
    fields: form
      ? form.fields.map((f) => ({ uid: uid(), name: String(f.name), label: (f.label as string | null) ?? "", type: f.type as DraftField["type"], required: !!f.required, options: (f.options as string[] | null) ?? null, value: (f.value as string | null) ?? null }))
      : [{ ...newField("email", []), label: "" }],
    consent: (form?.consent ?? []).map((c) => ({ uid: uid(), topic_id: Number(c.topic_id), label: String(c.label), wording_version: String(c.wording_version ?? "1"), required: !!c.required })),
    success_message: form?.success_message ?? "",
    return_urls: (form?.return_urls ?? []).join("\n"),
    status: form?.status === "paused" ? "paused" : "active",
    limited: form ? form.rate_limit !== null : true,
    rate_max: form?.rate_limit?.max ?? 5,
    rate_minutes: Math.max(1, Math.round((form?.rate_limit?.window_seconds ?? 600) / 60)),
  };
}

function useTopicOptions() {
  const ws = useWorkspaceKey();
  return useQuery({ queryKey: ["topics", ws], queryFn: () => unwrap(api.GET("/api/v1/topics")), staleTime: 60_000 });
}

function CopyField({ id, label, value, multiline }: { id: string; label: string; value: string; multiline?: boolean }) {
  const { t } = useI18n();
  const [state, setState] = useState<"copied" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState("copied");
    } catch {
      setState("failed");
    }
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <Space.Compact block>
        {multiline ? <Input.TextArea id={id} readOnly value={value} autoSize={{ minRows: 2, maxRows: 6 }} className="mono" /> : <Input id={id} readOnly value={value} className="mono" />}
        <Button icon={<CopyOutlined />} onClick={() => void copy()} aria-label={t("share.copyWhat", { what: label })}>
          {t("share.copy")}
        </Button>
      </Space.Compact>
      <span role="status" className="text-secondary copy-status">
        {state === "copied" ? t("share.copied") : state === "failed" ? t("share.copyFailed") : ""}
      </span>
    </div>
  );
}

function FormBuilder({ form }: { form: KForm | null }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const ws = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(form));
  const [checked, setChecked] = useState(false);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const topics = useTopicOptions();
  const attributes = useQuery({ queryKey: ["attributes", ws], queryFn: () => unwrap(api.GET("/api/v1/attributes")), staleTime: 60_000 });
  const problems = useMemo(() => fieldProblems(draft.fields), [draft.fields]);
  const readOnly = !canEdit;

  const previewBody =
    problems.byField.size === 0 && !problems.noIdentity && draft.name.trim()
      ? { name: draft.name.trim(), key: draft.key.trim() || null, fields: fieldsPayload(draft.fields), consent: consentPayload(draft.consent).filter((c) => c.label), success_message: draft.success_message || null }
      : null;
  const preview = usePreviewHtml("form-preview", previewBody, (body, signal) => unwrap(api.POST("/api/v1/forms/preview", { body, signal })));

  const save = useMutation({
    mutationFn: (d: Draft) => {
      const body = {
        name: d.name.trim(),
        fields: fieldsPayload(d.fields),
        consent: consentPayload(d.consent),
        success_message: d.success_message.trim() || null,
        return_urls: d.return_urls.split(/\s+/).filter(Boolean),
        status: d.status,
        rate_limit: d.limited ? { max: d.rate_max, window_seconds: d.rate_minutes * 60 } : null,
      };
      if (form) return unwrap(api.PATCH("/api/v1/forms/{form_id}", { params: { path: { form_id: form.id } }, body }));
      return unwrap(api.POST("/api/v1/forms", { body: { ...body, key: d.key.trim() } }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(formKey(ws, saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: formsKey(ws) });
      void antMessage.success(t("form.saved"));
      if (!form) navigate(`/forms/${saved.id}`, { replace: true });
    },
  });
  const keyBad = !form && !KEY_PATTERN.test(draft.key.trim());
  const submit = () => {
    setChecked(true);
    if (!keyBad && draft.name.trim() && problems.byField.size === 0 && !problems.noIdentity) save.mutate(draft);
  };
  const refusedKey = save.error instanceof ApiError && (save.error.code === "form_exists" || save.error.code === "invalid_key");

  return (
    <Row gutter={[24, 16]}>
      <Col xs={24} xl={14}>
        <Form layout="vertical" onFinish={submit} disabled={readOnly}>
          <div className="offer-grid">
            <Form.Item label={t("form.name")} htmlFor="form-name" required validateStatus={checked && !draft.name.trim() ? "error" : undefined} help={checked && !draft.name.trim() ? t("form.error.name") : undefined}>
              <Input id="form-name" value={draft.name} maxLength={200} onChange={(e) => set("name", e.target.value)} />
            </Form.Item>
            <Form.Item
              label={t("form.key")}
              htmlFor="form-key"
              required={!form}
              validateStatus={(checked && keyBad) || refusedKey ? "error" : undefined}
              help={refusedKey ? errorText(save.error, t) : checked && keyBad ? t("form.error.key") : t("form.key.hint")}
            >
              <Input id="form-key" value={draft.key} disabled={!!form || readOnly} maxLength={100} onChange={(e) => set("key", e.target.value.toLowerCase())} />
            </Form.Item>
          </div>
          <FieldBuilder
            fields={draft.fields}
            onFields={(v) => set("fields", v)}
            consent={draft.consent}
            onConsent={(v) => set("consent", v)}
            topics={(topics.data?.data ?? []).map((x) => ({ id: x.id, name: x.name }))}
            attributes={(attributes.data?.data ?? []).map((a) => a.name)}
            readOnly={readOnly}
            problems={problems.byField}
            showProblems={checked}
          />
          {checked && problems.noIdentity ? <Alert type="error" showIcon className="page-alert" title={t("form.error.identity")} /> : null}
          <h2 className="section-title">{t("form.after")}</h2>
          <Form.Item label={t("form.success")} htmlFor="form-success" help={t("form.success.hint")}>
            <Input.TextArea id="form-success" value={draft.success_message} maxLength={2000} autoSize={{ minRows: 2, maxRows: 4 }} onChange={(e) => set("success_message", e.target.value)} />
          </Form.Item>
          <Form.Item label={t("form.returnUrls")} htmlFor="form-return" help={t("form.returnUrls.hint")}>
            <Input.TextArea id="form-return" value={draft.return_urls} autoSize={{ minRows: 2, maxRows: 6 }} className="mono" onChange={(e) => set("return_urls", e.target.value)} placeholder="https://www.example.com/thanks" />
          </Form.Item>
          <h2 className="section-title">{t("form.protection")}</h2>
          <Space wrap align="center" className="rate-limit">
            <Switch id="form-limited" checked={draft.limited} onChange={(v) => set("limited", v)} />
            <label htmlFor="form-limited">{t("form.rateLimit")}</label>
            {draft.limited ? (
              <>
                <label htmlFor="form-rate-max" className="visually-hidden">{t("form.rateMax")}</label>
                <InputNumber id="form-rate-max" min={1} max={1000} precision={0} value={draft.rate_max} onChange={(v) => set("rate_max", typeof v === "number" ? v : 5)} />
                <span>{t("form.ratePer")}</span>
                <label htmlFor="form-rate-minutes" className="visually-hidden">{t("form.rateMinutes")}</label>
                <InputNumber id="form-rate-minutes" min={1} max={1440} precision={0} value={draft.rate_minutes} onChange={(v) => set("rate_minutes", typeof v === "number" ? v : 10)} />
                <span>{t("form.minutes")}</span>
              </>
            ) : null}
          </Space>
          <p className="text-secondary field-hint">{t("form.protection.hint")}</p>
          <Form.Item label={t("form.status")}>
            <Radio.Group
              aria-label={t("form.status")}
              value={draft.status}
              onChange={(e) => set("status", e.target.value as Draft["status"])}
              options={[
                { value: "active", label: t("form.status.active") },
                { value: "paused", label: t("form.status.paused") },
              ]}
            />
          </Form.Item>
          {save.isError && !refusedKey ? <Alert type="error" showIcon className="page-alert" title={t("form.saveFailed")} description={errorText(save.error, t)} /> : null}
          {canEdit ? (
            <Button type="primary" htmlType="submit" loading={save.isPending}>
              {form ? t("form.save") : t("form.create")}
            </Button>
          ) : null}
        </Form>
      </Col>
      <Col xs={24} xl={10}>
        <section aria-labelledby="form-preview-title" className="sticky-preview">
          <h2 id="form-preview-title" className="section-title">{t("form.preview")}</h2>
          {preview.isError ? <Alert type="error" showIcon className="page-alert" title={errorText(preview.error, t)} /> : null}
          {!previewBody ? <p className="text-secondary">{t("form.preview.incomplete")}</p> : null}
          {preview.data ? (
            <iframe title={t("form.preview.frame")} className="page-frame" sandbox="" referrerPolicy="no-referrer" srcDoc={preview.data.html} data-testid="form-frame" />
          ) : preview.isFetching ? (
            <Spin />
          ) : null}
        </section>
      </Col>
    </Row>
  );
}

function Share({ form }: { form: KForm }) {
  const { t } = useI18n();
  const [utm, setUtm] = useState({ utm_source: "", utm_medium: "", utm_campaign: "" });
  const url = publicUrl(window.location.origin, form.url, utm);
  return (
    <div className="share">
      {form.status !== "active" ? <Alert type="warning" showIcon className="page-alert" title={t("share.paused")} /> : null}
      <CopyField id="share-url" label={t("share.url")} value={url} />
      <p>
        <a href={url} target="_blank" rel="noreferrer noopener">{t("share.open")}</a>
      </p>
      <fieldset className="offer-fieldset">
        <legend>{t("share.utm")}</legend>
        <p className="text-secondary field-hint">{t("share.utm.hint")}</p>
        <Space wrap>
          {(Object.keys(utm) as (keyof typeof utm)[]).map((k) => (
            <span key={k} className="field-cell">
              <label htmlFor={`share-${k}`}>{k}</label>
              <Input id={`share-${k}`} value={utm[k]} onChange={(e) => setUtm((u) => ({ ...u, [k]: e.target.value }))} />
            </span>
          ))}
        </Space>
      </fieldset>
      <CopyField id="share-embed" label={t("share.embed")} value={embedSnippet(url, form.name)} multiline />
      <p className="text-secondary field-hint">{t("share.embed.hint")}</p>
      <CopyField id="share-link" label={t("share.link")} value={linkSnippet(url, form.name)} multiline />
    </div>
  );
}

function Submissions({ form }: { form: KForm }) {
  const { t } = useI18n();
  const ws = useWorkspaceKey();
  const topics = useTopicOptions();
  const topicName = (id: number) => topics.data?.data.find((x) => x.id === id)?.name ?? `#${id}`;
  const query = useInfiniteQuery({
    queryKey: ["form-submissions", ws, form.id],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/forms/{form_id}/submissions", { params: { path: { form_id: form.id }, query: { limit: 50, after: pageParam ?? undefined } } })),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });
  const rows = query.data?.pages.flatMap((p) => p.data) ?? [];
  const labels = new Map(form.fields.map((f) => [String(f.name), String(f.label || f.name)]));
  const columns: TableColumnsType<Submission> = [
    { title: t("subs.when"), dataIndex: "submitted_at", render: (v: string) => <DateTime value={v} /> },
    { title: t("subs.contact"), dataIndex: "contact_id", render: (id: number) => <Link to={`/contacts/${id}`}>{t("pool.contact", { id })}</Link> },
    {
      title: t("subs.values"),
      key: "values",
      render: (_, s) => (
        <dl className="submission-values">
          {Object.entries(s.values).map(([k, v]) => (
            <div key={k}>
              <dt>{labels.get(k) ?? k}</dt>
              <dd>{typeof v === "boolean" ? (v ? t("subs.yes") : t("subs.no")) : String(v)}</dd>
            </div>
          ))}
        </dl>
      ),
    },
    { title: t("subs.consents"), key: "consents", render: (_, s) => s.consents.map(topicName).join(", ") },
  ];
  return (
    <>
      <p className="text-secondary">{t("subs.hint")}</p>
      {query.isError ? <ErrorAlert error={query.error} onRetry={() => void query.refetch()} /> : null}
      <Table<Submission> rowKey="id" columns={columns} dataSource={rows} loading={query.isPending} pagination={false} size="small" scroll={{ x: "max-content" }} locale={{ emptyText: t("subs.empty") }} />
      {query.hasNextPage ? (
        <Button className="load-more" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t("subs.more")}
        </Button>
      ) : null}
    </>
  );
}

const TABS = ["build", "share", "submissions"] as const;

/** `/forms/new`, `/forms/:id` (`?tab=share|submissions`): the form builder, embedding, submissions. */
export default function FormPage() {
  const { t } = useI18n();
  const { id } = useParams();
  const formId = id && /^\d+$/.test(id) ? Number(id) : null;
  const ws = useWorkspaceKey();
  const [params, setParams] = useSearchParams();
  const query = useQuery({
    queryKey: formKey(ws, formId ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/forms/{form_id}", { params: { path: { form_id: formId ?? 0 } } })),
    enabled: formId !== null,
  });
  const back = <p className="breadcrumb-link"><Link to="/forms">{t("form.back")}</Link></p>;
  if (formId === null) {
    return (
      <>
        {back}
        <PageTitle title={t("form.newTitle")}>{t("form.newTitle")}</PageTitle>
        <FormBuilder form={null} />
      </>
    );
  }
  if (query.isError) return <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  const form = query.data;
  if (!form) return <Spin className="page-spin" />;
  const tab = TABS.find((x) => x === params.get("tab")) ?? "build";
  return (
    <>
      {back}
      <PageTitle title={form.name}>{form.name}</PageTitle>
      <p className="text-secondary">
        <code>{form.key}</code> · {t(form.status === "active" ? "form.status.active" : "form.status.paused")} · {t("offer.updated")} <DateTime value={form.updated_at} />
      </p>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams(key === "build" ? {} : { tab: key }, { replace: true })}
        items={[
          { key: "build", label: t("form.tab.build"), children: <FormBuilder key={form.updated_at} form={form} /> },
          { key: "share", label: t("form.tab.share"), children: <Share form={form} /> },
          { key: "submissions", label: t("form.tab.submissions"), children: <Submissions form={form} /> },
        ]}
      />
    </>
  );
}
