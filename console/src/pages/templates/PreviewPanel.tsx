import { useState } from "react";
import { Alert, Button, Radio, Select, Space, Spin, Switch } from "antd";
import { DesktopOutlined, MobileOutlined } from "@ant-design/icons";
import { ApiError } from "../../api/http";
import { contactLabel, type Contact } from "../../api/types";
import { errorText } from "../../components/ErrorAlert";
import { useI18n } from "../../i18n";
import { ContactPicker } from "../segments/ContactPicker";
import { mentionsOffer, undefinedVariables, type TemplateChannel } from "./model";
import {
  EmailPreview,
  InappPreview,
  PushPreview,
  SmsPreview,
  WebhookPreview,
  WechatPreview,
  type PreviewWidth,
} from "./previews";
import { useOffers } from "./queries";
import type { DraftPreviewState, RenderedContent } from "./useDraftPreview";

export interface PreviewOptions {
  contact: Contact | null;
  offerId: number | null;
  strict: boolean;
  width: PreviewWidth;
}

function Rendered({ channel, content, width, who }: { channel: TemplateChannel; content: RenderedContent; width: PreviewWidth; who: string }) {
  switch (channel) {
    case "email":
      return <EmailPreview content={content} width={width} who={who} />;
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

/** The message as the chosen contact would get it, with the server's objections. */
export function PreviewPanel({
  channel,
  preview,
  waitingFor,
  options,
  onOptions,
}: {
  channel: TemplateChannel;
  preview: DraftPreviewState;
  /** Why nothing is asked yet (a required field is empty, a JSON field does not parse), or null. */
  waitingFor: string | null;
  options: PreviewOptions;
  onOptions: (options: PreviewOptions) => void;
}) {
  const { t } = useI18n();
  const offers = useOffers();
  const [picking, setPicking] = useState(false);
  const { content, error, updating } = preview;
  const invalid = error instanceof ApiError && error.status === 422;
  const undefinedVars = invalid ? undefinedVariables(error.message) : null;
  const who = options.contact
    ? (contactLabel(options.contact) ?? t("contacts.unnamed", { id: options.contact.id }))
    : t("render.emptyContact");

  return (
    <section className="template-preview" aria-labelledby="template-preview-title">
      <h2 id="template-preview-title" className="section-title">
        {t("render.title")} {updating && !waitingFor ? <Spin size="small" className="preview-spin" /> : null}
      </h2>
      <div className="preview-controls">
        <div className="preview-as">
          <span className="text-secondary">{t("render.as")}</span>{" "}
          <strong data-testid="preview-contact">{who}</strong>
          {options.contact?.email ? <span className="text-secondary"> · {options.contact.email}</span> : null}{" "}
          <Button size="small" type="link" onClick={() => setPicking(!picking)} aria-expanded={picking}>
            {t("render.changeContact")}
          </Button>
          {options.contact ? (
            <Button size="small" type="link" onClick={() => onOptions({ ...options, contact: null })}>
              {t("render.noContact")}
            </Button>
          ) : null}
        </div>
        {picking ? (
          <ContactPicker
            id="preview-contact-search"
            label={t("render.findContact")}
            action={(name) => t("render.useContact", { name })}
            onPick={(contact) => {
              onOptions({ ...options, contact });
              setPicking(false);
            }}
          />
        ) : null}
        <Space wrap size={[16, 8]} className="preview-options">
          <span className="preview-option">
            <label htmlFor="preview-offer">{t("render.offer")}</label>
            <Select
              id="preview-offer"
              allowClear
              placeholder={t("render.noOffer")}
              value={options.offerId ?? undefined}
              onChange={(value: number | undefined) => onOptions({ ...options, offerId: value ?? null })}
              options={(offers.data?.data ?? []).map((o) => ({ value: o.id, label: `${o.name} (${o.key})` }))}
              loading={offers.isPending}
              style={{ minWidth: 200 }}
              popupMatchSelectWidth={false}
            />
          </span>
          <span className="preview-option">
            <Switch id="preview-strict" size="small" checked={options.strict} onChange={(strict) => onOptions({ ...options, strict })} />
            <label htmlFor="preview-strict">{t("render.strict")}</label>
          </span>
          {channel === "email" ? (
            <Radio.Group
              aria-label={t("render.width")}
              optionType="button"
              size="small"
              value={options.width}
              onChange={(e) => onOptions({ ...options, width: e.target.value as PreviewWidth })}
              options={[
                { value: "desktop", label: <><DesktopOutlined /> {t("render.desktop")}</> },
                { value: "mobile", label: <><MobileOutlined /> {t("render.mobile")}</> },
              ]}
            />
          ) : null}
        </Space>
      </div>
      <div aria-live="polite" className="preview-status">
        {waitingFor ? (
          <p className="text-secondary">{waitingFor}</p>
        ) : error ? (
          <Alert
            type={invalid ? "warning" : "error"}
            showIcon
            title={
              invalid
                ? undefinedVars
                  ? t("render.undefined")
                  : error.code === "template_invalid" || error.code === "template_too_large"
                    ? t("render.invalid")
                    : t("render.failed")
                : errorText(error, t)
            }
            description={
              invalid ? (
                <>
                  {undefinedVars ? (
                    <ul className="preview-undefined">
                      {undefinedVars.map((u, i) => (
                        <li key={i}>
                          {u.field ? <code>{u.field}</code> : null} {u.text}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <span className="preview-error-message">{error.message}</span>
                  )}
                  {mentionsOffer(error.message) && options.offerId === null ? <p>{t("render.chooseOffer")}</p> : null}
                  {undefinedVars ? <p>{t("render.undefinedHint")}</p> : null}
                </>
              ) : undefined
            }
          />
        ) : null}
        {updating && !waitingFor ? <span className="visually-hidden">{t("render.updating")}</span> : null}
      </div>
      {content && !error && !waitingFor ? (
        <div className={updating ? "preview-stale" : undefined}>
          <Rendered channel={channel} content={content} width={options.width} who={who} />
        </div>
      ) : null}
    </section>
  );
}
