import { useEffect, useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Form, Input, message as antMessage, Space, Spin, Tag } from "antd";
import { ArrowLeftOutlined, SaveOutlined } from "@ant-design/icons";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/http";
import { useCanEdit, useWorkspaceKey } from "../../auth/SessionProvider";
import { DateTime } from "../../components/DateTime";
import { ErrorAlert, errorText } from "../../components/ErrorAlert";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import { ChannelTag } from "./ChannelTag";
import { DeleteTemplate } from "./DeleteTemplate";
import { FIELD_EDITORS } from "./editors";
import { LiquidNamesContext, type LiquidNames } from "./LiquidInput";
import { cleanFields, errorField, isChannel, missingFields, type Template, type TemplateChannel, type TemplateFields } from "./model";
import { PreviewPanel, type PreviewOptions } from "./PreviewPanel";
import { useAttributes, useComputedTraits, useFirstContact, useTemplate, templateKey, templatesKey } from "./queries";
import { StarterGallery } from "./StarterGallery";
import { blankFields, STARTERS, type StarterLanguage } from "./starters";
import { TestSendPanel } from "./TestSendPanel";
import { useDraftPreview, type DraftPreviewRequest } from "./useDraftPreview";
import { templateVariables } from "./variables";
import "../../i18n/content";
import "../../i18n/audiences"; // the contact picker's strings
import "./templates.css";

interface Draft {
  name: string;
  fields: TemplateFields;
}

/** The field names as the form labels them, for "fill in the subject and body". */
const FIELD_LABEL: Record<string, MessageKey> = {
  subject: "template.subject",
  body: "template.body",
  text: "template.smsText",
  title: "template.title",
  template_id: "template.wechatTemplateId",
  data: "template.wechatData",
  payload: "template.payload",
};

/** The draft a new template starts from: a starter (`?starter=welcome&lang=zh-CN`) or a blank channel (`?channel=sms`). */
function newTemplate(params: URLSearchParams): { channel: TemplateChannel; draft: Draft } | null {
  const lang: StarterLanguage = params.get("lang") === "zh-CN" ? "zh-CN" : "en";
  const starter = STARTERS.find((s) => s.id === params.get("starter"));
  if (starter) return { channel: starter.channel, draft: { name: starter.name[lang], fields: structuredClone(starter.fields[lang]) } };
  const channel = params.get("channel");
  if (!isChannel(channel)) return null;
  return { channel, draft: { name: "", fields: blankFields(channel, params.get("format") === "html" ? "html" : "mjml", lang) } };
}

const sameDraft = (channel: TemplateChannel, a: Draft, b: Draft) =>
  a.name.trim() === b.name.trim() && JSON.stringify(cleanFields(channel, a.fields)) === JSON.stringify(cleanFields(channel, b.fields));

function TemplateEditor({ channel, saved, start }: { channel: TemplateChannel; saved?: Template; start: Draft }) {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const workspace = useWorkspaceKey();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [message, messageHolder] = antMessage.useMessage();
  const [baseline, setBaseline] = useState<Template | undefined>(saved);
  const initial = useMemo<Draft>(() => (baseline ? { name: baseline.name, fields: baseline.fields } : start), [baseline, start]);
  const [draft, setDraft] = useState<Draft>(start);
  const [revision, setRevision] = useState(0); // remounts the field editors on "Discard changes"
  const [jsonErrors, setJsonErrors] = useState<Record<string, string>>({});
  const [saveErrors, setSaveErrors] = useState<Record<string, string>>({});
  const [nameError, setNameError] = useState<string | null>(null);
  const [options, setOptions] = useState<PreviewOptions>({ contact: null, offerId: null, strict: true, width: "desktop" });
  const [contactChosen, setContactChosen] = useState(false);

  // Completion names: contact fields, attributes, computed traits, offer fields, links.
  const attributes = useAttributes();
  const computed = useComputedTraits();
  const names = useMemo<LiquidNames>(
    () => ({
      variables: templateVariables(attributes.data?.data ?? [], computed.data?.data ?? []),
      sectionLabel: (kind) => t(`liquid.section.${kind}` as MessageKey),
      readOnly: !canEdit,
    }),
    [attributes.data, computed.data, t, canEdit],
  );

  // The preview starts with the workspace's first contact, until the user picks another (or none).
  const first = useFirstContact();
  useEffect(() => {
    if (!contactChosen && first.data) setOptions((o) => ({ ...o, contact: first.data ?? null }));
  }, [first.data, contactChosen]);

  const fields = cleanFields(channel, draft.fields);
  const missing = missingFields(channel, fields);
  const jsonInvalid = Object.keys(jsonErrors).length > 0;
  // Nothing is asked before the contact to preview for is known.
  const contactReady = contactChosen || !first.isPending;
  const waitingFor = missing.length
    ? t("render.waiting", { fields: missing.map((f) => (FIELD_LABEL[f] ? t(FIELD_LABEL[f]) : f)).join(t("render.listSeparator")) })
    : jsonInvalid
      ? t("render.fixJson")
      : !contactReady
        ? t("render.updating")
        : null;
  const request: DraftPreviewRequest | null = waitingFor
    ? null
    : {
        channel,
        fields,
        contact_id: options.contact?.id ?? null,
        offer_id: options.offerId,
        strict: options.strict,
        tracking: false,
      };
  const preview = useDraftPreview(request);

  // Errors per field: the preview's (as the user types), those of the last save, JSON that does not parse.
  const previewError = preview.error instanceof ApiError && preview.error.status === 422 ? preview.error : null;
  const previewField =
    previewError && ["template_invalid", "template_too_large", "template_too_complex"].includes(previewError.code)
      ? errorField(previewError.message)
      : null;
  const errors: Record<string, string> = {
    ...(previewField ? { [previewField.field]: previewError?.message ?? "" } : {}),
    ...saveErrors,
    ...jsonErrors,
  };

  const dirty = !sameDraft(channel, draft, initial);
  const save = useMutation({
    mutationFn: async (d: Draft): Promise<Template> => {
      const clean = cleanFields(channel, d.fields);
      if (baseline) {
        const body: { name?: string; fields?: TemplateFields } = {};
        if (d.name.trim() !== baseline.name) body.name = d.name.trim();
        if (JSON.stringify(clean) !== JSON.stringify(cleanFields(channel, baseline.fields))) body.fields = clean;
        return unwrap(api.PATCH("/api/v1/templates/{template_id}", { params: { path: { template_id: baseline.id } }, body }));
      }
      return unwrap(api.POST("/api/v1/templates", { body: { name: d.name.trim(), channel, fields: clean } }));
    },
    onSuccess: (result) => {
      queryClient.setQueryData(templateKey(workspace, result.id), result);
      void queryClient.invalidateQueries({ queryKey: templatesKey(workspace) });
      if (!baseline) {
        void message.success(t("template.created"));
        navigate(`/templates/${result.id}`, { replace: true });
        return;
      }
      const bumped = result.version !== baseline.version;
      setBaseline(result);
      void message.success(bumped ? t("template.savedVersion", { version: result.version }) : t("template.saved"));
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      if (error.code === "template_exists") setNameError(t("template.exists"));
      else if (error.code === "validation_error" && error.message.startsWith("name")) setNameError(error.message);
      else {
        const named = errorField(error.message);
        if (error.status === 422 && named && named.field !== "name") setSaveErrors({ [named.field]: error.message });
      }
    },
  });

  const submit = () => {
    setNameError(null);
    setSaveErrors({});
    if (!draft.name.trim()) {
      setNameError(t("template.nameRequired"));
      return;
    }
    if (missing.length > 0) {
      setSaveErrors(Object.fromEntries(missing.map((f) => [f, t("template.required")])));
      return;
    }
    if (jsonInvalid) return;
    save.mutate(draft);
  };

  const editFields = (next: TemplateFields) => {
    setSaveErrors({});
    setDraft((d) => ({ ...d, fields: next }));
  };
  const Fields = FIELD_EDITORS[channel];
  const saveError =
    save.error && !(save.error instanceof ApiError && (nameError || Object.keys(saveErrors).length > 0)) ? save.error : null;
  const title = baseline ? baseline.name : t(`template.new.${channel}` as MessageKey);

  return (
    <LiquidNamesContext.Provider value={names}>
      {messageHolder}
      <div className="page-head">
        <PageTitle title={title}>{title}</PageTitle>
        <Space wrap>
          <ChannelTag channel={channel} />
          {baseline ? (
            <Tag variant="outlined" color="blue" className="template-version" data-testid="template-version">
              {t("template.version", { version: baseline.version })}
            </Tag>
          ) : null}
          {baseline ? (
            <span className="text-secondary">
              {t("template.updated")} <DateTime value={baseline.updated_at} />
            </span>
          ) : null}
          {baseline && canEdit ? <DeleteTemplate template={baseline} onDeleted={() => navigate("/templates")} /> : null}
        </Space>
      </div>
      {!canEdit ? <Alert className="page-alert" type="info" showIcon title={t("template.readOnly")} /> : null}
      <div className="template-editor">
        <section className="template-form" aria-labelledby="template-content-title">
          <h2 id="template-content-title" className="visually-hidden">
            {t("template.content")}
          </h2>
          <Form layout="vertical" component="div" disabled={!canEdit}>
            <Form.Item
              label={t("template.name")}
              htmlFor="template-name"
              required
              validateStatus={nameError ? "error" : undefined}
              help={nameError ?? undefined}
            >
              <Input
                id="template-name"
                value={draft.name}
                maxLength={200}
                onChange={(e) => setDraft((d) => ({ ...d, name: e.target.value }))}
              />
            </Form.Item>
            <Fields
              key={revision}
              fields={draft.fields}
              onChange={editFields}
              errors={errors}
              onJsonError={(field, problem) =>
                setJsonErrors((current) => {
                  const { [field]: _old, ...rest } = current;
                  return problem ? { ...rest, [field]: problem } : rest;
                })
              }
              readOnly={!canEdit}
              derivedText={typeof preview.content?.text === "string" ? preview.content.text : undefined}
            />
          </Form>
          {canEdit ? (
            <div className="form-actions template-actions">
              {saveError ? (
                <Alert type="error" showIcon title={t("template.saveFailed")} description={errorText(saveError, t)} style={{ marginBottom: 12 }} />
              ) : null}
              <Space wrap>
                <Button type="primary" icon={<SaveOutlined />} onClick={submit} loading={save.isPending} disabled={!!baseline && !dirty}>
                  {baseline ? t("template.save") : t("template.create")}
                </Button>
                {baseline && dirty ? (
                  <Button
                    onClick={() => {
                      setDraft(initial);
                      setJsonErrors({});
                      setSaveErrors({});
                      setRevision((r) => r + 1);
                    }}
                  >
                    {t("template.discard")}
                  </Button>
                ) : null}
                {baseline && dirty ? <span className="text-secondary">{t("template.unsaved")}</span> : null}
                {baseline && !dirty ? <span className="text-secondary">{t("template.versionHint")}</span> : null}
              </Space>
            </div>
          ) : null}
        </section>
        <div className="template-side">
          <PreviewPanel
            channel={channel}
            preview={preview}
            waitingFor={waitingFor}
            options={options}
            onOptions={(next) => {
              if (next.contact !== options.contact) setContactChosen(true);
              setOptions(next);
            }}
          />
          {canEdit ? (
            <TestSendPanel
              templateId={baseline?.id ?? null}
              channel={channel}
              contact={options.contact}
              offerId={options.offerId}
              blockedBy={!baseline ? t("testSend.saveFirst") : dirty ? t("testSend.unsaved") : null}
            />
          ) : null}
        </div>
      </div>
    </LiquidNamesContext.Provider>
  );
}

export default function TemplatePage() {
  const { t } = useI18n();
  const canEdit = useCanEdit();
  const { id: idParam } = useParams();
  const [params] = useSearchParams();
  const isNew = idParam === undefined;
  const id = /^\d+$/.test(idParam ?? "") ? Number(idParam) : null;
  const query = useTemplate(isNew ? null : id);
  const start = useMemo(() => (isNew ? newTemplate(params) : null), [isNew, params]);

  const back = (
    <Link to="/templates" className="back-link">
      <Space size={4}>
        <ArrowLeftOutlined />
        {t("template.back")}
      </Space>
    </Link>
  );

  if (isNew) {
    if (!canEdit) {
      return (
        <>
          {back}
          <PageTitle title={t("templates.newTitle")}>{t("templates.newTitle")}</PageTitle>
          <Alert type="warning" showIcon title={t("errors.forbidden")} />
        </>
      );
    }
    if (!start) {
      return (
        <>
          {back}
          <StarterGallery />
        </>
      );
    }
    return (
      <>
        {back}
        <TemplateEditor key={params.toString()} channel={start.channel} start={start.draft} />
      </>
    );
  }
  if (id === null || (query.error instanceof ApiError && query.error.status === 404)) {
    return (
      <>
        {back}
        <PageTitle title={t("template.notFound")}>{t("template.notFound")}</PageTitle>
      </>
    );
  }
  if (query.isError) {
    return (
      <>
        {back}
        <PageTitle title={t("templates.title")}>{t("templates.title")}</PageTitle>
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      </>
    );
  }
  if (!query.data) return <Spin className="page-spin" />;
  const template = query.data;
  return (
    <>
      {back}
      <TemplateEditor key={template.id} channel={template.channel} saved={template} start={{ name: template.name, fields: template.fields }} />
    </>
  );
}
