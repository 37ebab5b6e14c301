// A saved template as the workspace's first contact would get it (POST /templates/{id}/preview,
// links as written and no open pixel): the template pages' previews, an email's HTML only in
// a sandboxed iframe.
import { useQuery } from "@tanstack/react-query";
import { Alert, Spin } from "antd";
import { api, unwrap } from "../../api/client";
import { useWorkspaceKey } from "../../auth/SessionProvider";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import "../../i18n/content";
import { EmailPreview, InappPreview, PushPreview, SmsPreview, WebhookPreview, WechatPreview } from "../templates/previews";
import "../templates/templates.css";
import type { Template } from "./model";

function useFirstContact() {
  const workspace = useWorkspaceKey();
  return useQuery({
    queryKey: ["contacts-first", workspace],
    queryFn: async () => (await unwrap(api.GET("/api/v1/contacts", { params: { query: { limit: 1 } } }))).data[0] ?? null,
    staleTime: 60_000,
  });
}

export function TemplatePreview({ template }: { template: Template }) {
  const { t } = useI18n();
  const workspace = useWorkspaceKey();
  const first = useFirstContact();
  const contactId = first.data?.id ?? null;
  const preview = useQuery({
    queryKey: ["broadcast-template-preview", workspace, template.id, template.version, contactId],
    enabled: !first.isPending,
    queryFn: ({ signal }) =>
      unwrap(
        api.POST("/api/v1/templates/{template_id}/preview", {
          params: { path: { template_id: template.id } },
          body: { contact_id: contactId, strict: false, tracking: false },
          signal,
        }),
      ),
    staleTime: 30_000,
  });
  const who = first.data
    ? (first.data.email ?? first.data.external_id ?? `#${first.data.id}`)
    : t("broadcasts.preview.emptyContact");
  return (
    <section className="broadcast-preview" aria-label={t("broadcasts.preview.title", { name: template.name })}>
      <p className="field-hint">{t("broadcasts.preview.for", { who })}</p>
      {preview.isError ? <Alert type="warning" showIcon title={errorText(preview.error, t)} /> : null}
      {preview.isPending && !preview.isError ? <Spin /> : null}
      {preview.data ? <Rendered channel={template.channel} content={preview.data.content} who={who} /> : null}
    </section>
  );
}

function Rendered({ channel, content, who }: { channel: Template["channel"]; content: Record<string, unknown>; who: string }) {
  switch (channel) {
    case "email":
      return <EmailPreview content={content} width="desktop" who={who} />;
    case "sms":
      return <SmsPreview content={content} />;
    case "push":
      return <PushPreview content={content} />;
    case "wechat":
      return <WechatPreview content={content} />;
    case "inapp":
      return <InappPreview content={content} />;
    case "webhook":
      return <WebhookPreview content={content} />;
  }
}
