import { lazy, Suspense, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Col, Form, Input, Radio, Row, Select, Spin, Switch, message as antMessage } from "antd";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import type { components } from "../../api/schema";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n } from "../../i18n";
import { KEY_PATTERN, publicUrl } from "../forms/model";
import { usePreviewHtml } from "../forms/usePreviewHtml";
import type { LiquidVariable } from "../templates/variables";
import { STARTER_HTML, STARTER_MJML } from "./starter";
import "../../i18n/offers";
import "../offers/offers.css";

// CodeMirror in its own chunk, loaded with the editor (as the template editor does).
const CodeEditor = lazy(() => import("../templates/CodeEditor"));

type LandingPage = components["schemas"]["PageRead"];
type Source = "body" | "template";

interface Draft {
  title: string;
  slug: string;
  source: Source;
  body_format: "mjml" | "html";
  body: string;
  template_id: number | null;
  form_id: number | null;
  published: boolean;
}

const VARIABLES: LiquidVariable[] = [
  { path: "form", kind: "payload", detail: "HTML" },
  { path: "page.title", kind: "payload" },
  { path: "page.slug", kind: "payload" },
  { path: "page.url", kind: "payload" },
];

function draftOf(page: LandingPage | null): Draft {
  return {
    title: page?.title ?? "",
    slug: page?.slug ?? "",
    source: page && page.body === null ? "template" : "body",
    body_format: page?.body_format === "html" ? "html" : "mjml",
    body: page?.body ?? STARTER_MJML,
    template_id: page?.template_id ?? null,
    form_id: page?.form_id ?? null,
    published: page ? page.status === "active" : false,
  };
}

function Editor({ page }: { page: LandingPage | null }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const ws = useWorkspaceKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(page));
  const [checked, setChecked] = useState(false);
  const [copied, setCopied] = useState<string>("");
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const forms = useQuery({ queryKey: ["forms", ws], queryFn: () => unwrap(api.GET("/api/v1/forms")) });
  const templates = useQuery({ queryKey: ["templates", ws], queryFn: () => unwrap(api.GET("/api/v1/templates")), enabled: draft.source === "template" });
  const readOnly = !canEdit;

  const content = draft.source === "body" ? { body_format: draft.body_format, body: draft.body, template_id: null } : { template_id: draft.template_id, body: null, body_format: null };
  const previewBody = draft.title.trim() && (draft.source === "body" ? draft.body.trim() : draft.template_id)
    ? { title: draft.title.trim(), slug: draft.slug.trim() || "preview", form_id: draft.form_id, ...content }
    : null;
  const preview = usePreviewHtml("landing-preview", previewBody, (body, signal) => unwrap(api.POST("/api/v1/landing-pages/preview", { body, signal })));

  const save = useMutation({
    mutationFn: (d: Draft) => {
      const body = { title: d.title.trim(), form_id: d.form_id, status: d.published ? ("active" as const) : ("paused" as const), ...content };
      if (page) return unwrap(api.PATCH("/api/v1/landing-pages/{page_id}", { params: { path: { page_id: page.id } }, body }));
      return unwrap(api.POST("/api/v1/landing-pages", { body: { ...body, slug: d.slug.trim() } }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(["landing-page", ws, saved.id], saved);
      void queryClient.invalidateQueries({ queryKey: ["landing-pages", ws] });
      void antMessage.success(saved.status === "active" ? t("lp.savedPublished") : t("lp.saved"));
      if (!page) navigate(`/landing-pages/${saved.id}`, { replace: true });
    },
  });
  const slugBad = !page && !KEY_PATTERN.test(draft.slug.trim());
  const refused = save.error instanceof ApiError ? (save.error.code === "landing_page_exists" || save.error.code === "invalid_slug" ? "slug" : /^body:/.test(save.error.message) || save.error.code === "invalid_body" ? "body" : null) : null;
  const bodyError = refused === "body" ? errorText(save.error, t) : preview.error instanceof ApiError && /^body:/.test(preview.error.message) ? preview.error.message : null;
  const url = page ? publicUrl(window.location.origin, page.url) : null;
  const submit = () => {
    setChecked(true);
    if (!slugBad && draft.title.trim() && (draft.source === "body" ? draft.body.trim() : draft.template_id)) save.mutate(draft);
  };

  return (
    <Row gutter={[24, 16]}>
      <Col xs={24} xl={12}>
        <Form layout="vertical" onFinish={submit} disabled={readOnly}>
          {page ? (
            <div className="copy-field">
              <label htmlFor="lp-url">{t("lp.url")}</label>
              <Input.Search
                id="lp-url"
                readOnly
                value={url ?? ""}
                className="mono"
                enterButton={t("share.copy")}
                onSearch={() => {
                  navigator.clipboard.writeText(url ?? "").then(() => setCopied(t("share.copied")), () => setCopied(t("share.copyFailed")));
                }}
              />
              <span role="status" className="text-secondary copy-status">{copied}</span>
              {page.status === "active" ? (
                <p><a href={page.url} target="_blank" rel="noreferrer noopener">{t("lp.open")}</a></p>
              ) : (
                <p className="text-secondary">{t("lp.notPublished")}</p>
              )}
            </div>
          ) : null}
          <div className="offer-grid">
            <Form.Item label={t("lp.title")} htmlFor="lp-title" required validateStatus={checked && !draft.title.trim() ? "error" : undefined} help={checked && !draft.title.trim() ? t("lp.error.title") : undefined}>
              <Input id="lp-title" value={draft.title} maxLength={200} onChange={(e) => set("title", e.target.value)} />
            </Form.Item>
            <Form.Item
              label={t("lp.slug")}
              htmlFor="lp-slug"
              required={!page}
              validateStatus={(checked && slugBad) || refused === "slug" ? "error" : undefined}
              help={refused === "slug" ? errorText(save.error, t) : checked && slugBad ? t("lp.error.slug") : t("lp.slug.hint")}
            >
              <Input id="lp-slug" value={draft.slug} maxLength={100} disabled={!!page || readOnly} onChange={(e) => set("slug", e.target.value.toLowerCase())} />
            </Form.Item>
          </div>
          <Form.Item label={t("lp.form")} htmlFor="lp-form" help={t("lp.form.hint")}>
            <Select
              id="lp-form"
              allowClear
              value={draft.form_id ?? undefined}
              onChange={(v: number | undefined) => set("form_id", v ?? null)}
              options={(forms.data?.data ?? []).map((f) => ({ value: f.id, label: f.status === "active" ? f.name : `${f.name} (${t("form.status.paused")})` }))}
              placeholder={t("lp.form.none")}
            />
          </Form.Item>
          <Form.Item label={t("lp.source")}>
            <Radio.Group
              aria-label={t("lp.source")}
              value={draft.source}
              onChange={(e) => set("source", e.target.value as Source)}
              options={[
                { value: "body", label: t("lp.source.body") },
                { value: "template", label: t("lp.source.template") },
              ]}
            />
          </Form.Item>
          {draft.source === "body" ? (
            <>
              <Form.Item label={t("lp.format")}>
                <Radio.Group
                  aria-label={t("lp.format")}
                  value={draft.body_format}
                  optionType="button"
                  onChange={(e) => {
                    const format = e.target.value as Draft["body_format"];
                    const untouched = draft.body === STARTER_MJML || draft.body === STARTER_HTML || !draft.body.trim();
                    setDraft((d) => ({ ...d, body_format: format, body: untouched ? (format === "mjml" ? STARTER_MJML : STARTER_HTML) : d.body }));
                  }}
                  options={[
                    { value: "mjml", label: "MJML" },
                    { value: "html", label: "HTML" },
                  ]}
                />
              </Form.Item>
              <div className="code-field">
                <span id="lp-body-label" className="field-label">{t("lp.body")}</span>
                <p id="lp-body-hint" className="text-secondary field-hint">{t("lp.body.hint")}</p>
                <Suspense fallback={<Spin size="small" />}>
                  <CodeEditor
                    value={draft.body}
                    onChange={(v) => set("body", v)}
                    language={draft.body_format}
                    variables={VARIABLES}
                    sectionLabel={() => t("lp.variables")}
                    labelledBy="lp-body-label"
                    describedBy="lp-body-hint"
                    invalid={!!bodyError}
                    readOnly={readOnly}
                    code
                    minLines={14}
                    maxLines={30}
                    testId="lp-body"
                  />
                </Suspense>
                {bodyError ? <p className="field-error" role="alert">{bodyError}</p> : null}
              </div>
            </>
          ) : (
            <Form.Item label={t("lp.template")} htmlFor="lp-template" required help={t("lp.template.hint")}>
              <Select
                id="lp-template"
                value={draft.template_id ?? undefined}
                onChange={(v: number) => set("template_id", v)}
                options={(templates.data?.data ?? []).filter((x) => x.channel === "email").map((x) => ({ value: x.id, label: x.name }))}
              />
            </Form.Item>
          )}
          <Form.Item label={t("lp.publish")} htmlFor="lp-published" help={t("lp.publish.hint")}>
            <Switch id="lp-published" checked={draft.published} onChange={(v) => set("published", v)} />
          </Form.Item>
          {save.isError && !refused ? <Alert type="error" showIcon className="page-alert" title={t("lp.saveFailed")} description={errorText(save.error, t)} /> : null}
          {canEdit ? (
            <Button type="primary" htmlType="submit" loading={save.isPending}>
              {page ? t("lp.save") : t("lp.create")}
            </Button>
          ) : null}
        </Form>
      </Col>
      <Col xs={24} xl={12}>
        <section aria-labelledby="lp-preview-title" className="sticky-preview">
          <h2 id="lp-preview-title" className="section-title">{t("lp.preview")}</h2>
          {preview.isError && !bodyError ? <Alert type="error" showIcon className="page-alert" title={errorText(preview.error, t)} /> : null}
          {preview.data ? (
            <iframe title={t("lp.preview.frame")} className="page-frame page-frame-tall" sandbox="" referrerPolicy="no-referrer" srcDoc={preview.data.html} data-testid="lp-frame" />
          ) : preview.isFetching ? (
            <Spin />
          ) : (
            <p className="text-secondary">{t("lp.preview.incomplete")}</p>
          )}
        </section>
      </Col>
    </Row>
  );
}

/** `/landing-pages/new`, `/landing-pages/:id`: a landing page's content, form, preview and publishing. */
export default function LandingPagePage() {
  const { t } = useI18n();
  const { id } = useParams();
  const pageId = id && /^\d+$/.test(id) ? Number(id) : null;
  const ws = useWorkspaceKey();
  const query = useQuery({
    queryKey: ["landing-page", ws, pageId ?? 0],
    queryFn: () => unwrap(api.GET("/api/v1/landing-pages/{page_id}", { params: { path: { page_id: pageId ?? 0 } } })),
    enabled: pageId !== null,
  });
  const back = <p className="breadcrumb-link"><Link to="/landing-pages">{t("lp.back")}</Link></p>;
  if (pageId === null) {
    return (
      <>
        {back}
        <PageTitle title={t("lp.newTitle")}>{t("lp.newTitle")}</PageTitle>
        <Editor page={null} />
      </>
    );
  }
  if (query.isError) return <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  const page = query.data;
  if (!page) return <Spin className="page-spin" />;
  return (
    <>
      {back}
      <PageTitle title={page.title}>{page.title}</PageTitle>
      <Editor key={page.updated_at} page={page} />
    </>
  );
}
