// What each channel's message looks like to its reader. Everything is shown as text, never
// as HTML, except an email's HTML, which only ever goes into a sandboxed iframe (srcdoc, no
// scripts, no same origin, no forms, no popups): contact data cannot run in the console.
import { useState } from "react";
import { Tabs } from "antd";
import { useI18n } from "../../i18n";
import type { RenderedContent } from "./useDraftPreview";
import { SmsCounter } from "./SmsCounter";

export type PreviewWidth = "desktop" | "mobile";
export const PREVIEW_WIDTHS: Record<PreviewWidth, number> = { desktop: 640, mobile: 375 };

const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v));

export function EmailPreview({ content, width, who }: { content: RenderedContent; width: PreviewWidth; who: string }) {
  const { t } = useI18n();
  const [tab, setTab] = useState("html");
  const preheader = str(content.preheader);
  return (
    <div className="email-preview">
      <dl className="email-envelope">
        <dt>{t("render.subject")}</dt>
        <dd data-testid="preview-subject">{str(content.subject)}</dd>
        {preheader ? (
          <>
            <dt>{t("render.preheader")}</dt>
            <dd className="text-secondary">{preheader}</dd>
          </>
        ) : null}
      </dl>
      <Tabs
        activeKey={tab}
        onChange={setTab}
        size="small"
        items={[
          {
            key: "html",
            label: t("render.html"),
            children: (
              <div className={`email-frame-wrap email-frame-${width}`}>
                <iframe
                  title={t("render.frameTitle", { who })}
                  className="email-frame"
                  // No token: no scripts, no same origin, no forms, no popups, no navigation of the console.
                  sandbox=""
                  referrerPolicy="no-referrer"
                  srcDoc={str(content.html)}
                  style={{ width: PREVIEW_WIDTHS[width] }}
                  data-testid="email-frame"
                />
              </div>
            ),
          },
          {
            key: "text",
            label: t("render.text"),
            children: <pre className="email-text">{str(content.text)}</pre>,
          },
        ]}
      />
      <p className="text-secondary field-note">{t("render.linksInert")}</p>
    </div>
  );
}

export function SmsPreview({ content }: { content: RenderedContent }) {
  const { t } = useI18n();
  const text = str(content.text);
  return (
    <div className="phone" aria-label={t("render.phone")} role="figure">
      <div className="phone-screen">
        <div className="phone-sender">{t("render.smsSender")}</div>
        <p className="sms-bubble" data-testid="sms-bubble">
          {text}
        </p>
      </div>
      <SmsCounter text={text} />
    </div>
  );
}

export function PushPreview({ content }: { content: RenderedContent }) {
  const { t } = useI18n();
  const image = str(content.image);
  const data = content.data && typeof content.data === "object" ? Object.entries(content.data as Record<string, unknown>) : [];
  return (
    <div className="phone phone-lock" role="figure" aria-label={t("render.phone")}>
      <div className="phone-screen">
        <div className="push-card">
          <div className="push-app">
            <span className="push-icon" aria-hidden="true" />
            {t("render.pushApp")}
            <span className="push-time">{t("render.now")}</span>
          </div>
          <div className="push-title">{str(content.title)}</div>
          <div className="push-body">{str(content.body)}</div>
          {/^https:\/\//i.test(image) ? <img className="push-image" src={image} alt={t("render.pushImage")} /> : null}
          {image && !/^https:\/\//i.test(image) ? <div className="push-image-url">{image}</div> : null}
        </div>
      </div>
      {data.length > 0 ? <KeyValues title={t("render.data")} entries={data.map(([k, v]) => [k, str(v)])} /> : null}
    </div>
  );
}

export function WechatPreview({ content }: { content: RenderedContent }) {
  const { t } = useI18n();
  const data = content.data && typeof content.data === "object" ? Object.entries(content.data as Record<string, { value?: unknown }>) : [];
  const url = str(content.url);
  return (
    <div className="wechat-card" role="figure" aria-label={t("render.wechatCard")}>
      <div className="wechat-head">
        <span className="wechat-title">{t("render.wechatTitle")}</span>
        <span className="wechat-template text-secondary">{str(content.template_id)}</span>
      </div>
      <dl className="wechat-data">
        {data.map(([key, item]) => (
          <div key={key} className="wechat-row">
            <dt>{key}</dt>
            <dd>{str(item?.value)}</dd>
          </div>
        ))}
      </dl>
      {url ? (
        <div className="wechat-link">
          <span>{t("render.wechatDetails")}</span>
          <span className="text-secondary wechat-url">{url}</span>
        </div>
      ) : null}
    </div>
  );
}

export function InappPreview({ content }: { content: RenderedContent }) {
  const { t } = useI18n();
  const data = content.data;
  const hasData = data && typeof data === "object" && Object.keys(data as object).length > 0;
  return (
    <div className="inapp-preview" role="figure" aria-label={t("render.inappCard")}>
      <div className="inapp-card">
        <span className="inapp-dot" aria-hidden="true" />
        <div>
          <div className="inapp-title">{str(content.title)}</div>
          <div className="inapp-body">{str(content.body)}</div>
        </div>
      </div>
      {hasData ? (
        <>
          <h3 className="preview-subtitle">{t("render.data")}</h3>
          <pre className="json-block">{JSON.stringify(data, null, 2)}</pre>
        </>
      ) : null}
    </div>
  );
}

export function WebhookPreview({ content }: { content: RenderedContent }) {
  const { t } = useI18n();
  return (
    <>
      <h3 className="preview-subtitle">{t("render.payload")}</h3>
      <pre className="json-block">{JSON.stringify(content.payload ?? null, null, 2)}</pre>
    </>
  );
}

function KeyValues({ title, entries }: { title: string; entries: [string, string][] }) {
  return (
    <>
      <h3 className="preview-subtitle">{title}</h3>
      <dl className="kv-list">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}
