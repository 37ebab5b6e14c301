import { useState } from "react";
import { Radio } from "antd";
import { Link } from "react-router";
import { PageTitle } from "../../components/PageTitle";
import { useI18n, type MessageKey } from "../../i18n";
import { ChannelTag, CHANNEL_ICON } from "./ChannelTag";
import type { TemplateChannel } from "./model";
import { STARTERS, type StarterLanguage } from "./starters";

const BLANKS: { channel: TemplateChannel; format?: "mjml" | "html"; label: MessageKey }[] = [
  { channel: "email", format: "mjml", label: "starters.blank.emailMjml" },
  { channel: "email", format: "html", label: "starters.blank.emailHtml" },
  { channel: "sms", label: "starters.blank.sms" },
  { channel: "push", label: "starters.blank.push" },
  { channel: "wechat", label: "starters.blank.wechat" },
  { channel: "inapp", label: "starters.blank.inapp" },
  { channel: "webhook", label: "starters.blank.webhook" },
];

/** `/templates/new`: start from a starter (in English or Chinese) or from a blank template of a channel. */
export function StarterGallery() {
  const { t, lang: uiLang } = useI18n();
  const [lang, setLang] = useState<StarterLanguage>(uiLang === "zh-CN" ? "zh-CN" : "en");
  return (
    <>
      <PageTitle title={t("templates.newTitle")}>{t("templates.newTitle")}</PageTitle>
      <section aria-labelledby="starters-title" className="starters">
        <div className="starters-head">
          <h2 id="starters-title" className="section-title">
            {t("starters.title")}
          </h2>
          <span className="starters-language">
            <span id="starter-language-label">{t("starters.language")}</span>
            <Radio.Group
              aria-labelledby="starter-language-label"
              optionType="button"
              size="small"
              value={lang}
              onChange={(e) => setLang(e.target.value as StarterLanguage)}
              options={[
                { value: "en", label: "English" },
                { value: "zh-CN", label: "中文" },
              ]}
            />
          </span>
        </div>
        <p className="text-secondary">{t("starters.intro")}</p>
        <ul className="starter-grid">
          {STARTERS.map((s) => (
            <li key={s.id} className="starter-card" style={{ borderTopColor: s.accent }}>
              <div className="starter-card-head">
                <h3 className="starter-name" lang={lang}>
                  {s.name[lang]}
                </h3>
                <ChannelTag channel={s.channel} />
              </div>
              <p className="starter-description" lang={lang}>
                {s.description[lang]}
              </p>
              <Link
                to={`/templates/new?starter=${s.id}&lang=${lang}`}
                className="link-button link-button-primary starter-use"
                aria-label={t("starters.useNamed", { name: s.name[lang] })}
              >
                {t("starters.use")}
              </Link>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="blank-title" className="starters">
        <h2 id="blank-title" className="section-title">
          {t("starters.blankTitle")}
        </h2>
        <div className="blank-list">
          {BLANKS.map((b) => (
            <Link
              key={`${b.channel}-${b.format ?? ""}`}
              className="link-button"
              to={`/templates/new?channel=${b.channel}${b.format ? `&format=${b.format}` : ""}&lang=${lang}`}
            >
              {CHANNEL_ICON[b.channel]} {t(b.label)}
            </Link>
          ))}
        </div>
      </section>
    </>
  );
}
