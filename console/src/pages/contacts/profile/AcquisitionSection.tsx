// The contact profile's acquisition source: the first touch (the earliest visit) and the last
// touch (the latest non-direct one), each with its channel group, UTM values, landing page and
// referrer (GET /contacts/{id} → acquisition; docs/leads.md, "Acquisition source").
import { Col, Descriptions, Row, Tag, Typography, type DescriptionsProps } from "antd";
import type { components } from "../../../api/schema";
import type { ContactWithTraits } from "../../../api/types";
import { DateTime } from "../../../components/DateTime";
import { useI18n } from "../../../i18n";
import type { ContactsKey } from "../../../i18n/contacts.en";

type Touch = components["schemas"]["AcquisitionTouch"];

/** The channel groups the API names, with their catalog keys. */
export const CHANNELS = [
  "direct", "paid_search", "paid_social", "display", "paid_other", "organic_social",
  "organic_search", "referral", "email", "affiliates", "sms", "other",
] as const;

const PAID = new Set(["paid_search", "paid_social", "display", "paid_other", "affiliates"]);

export function channelKey(channel: string): ContactsKey | null {
  return (CHANNELS as readonly string[]).includes(channel) ? (`profile.acquisition.channel.${channel}` as ContactsKey) : null;
}

function TouchCard({ which, touch }: { which: "first" | "last"; touch: Touch }) {
  const { t } = useI18n();
  const text = (value: string | null | undefined) => value || t("common.none");
  // workspace data (URLs, campaign names): text only, long values wrap
  const url = (value: string | null | undefined) => (
    <span style={{ wordBreak: "break-all" }}>{text(value)}</span>
  );
  const key = channelKey(touch.channel);
  const headingId = `acquisition-${which}`;
  const items: DescriptionsProps["items"] = [
    { key: "at", label: t("profile.acquisition.at"), children: <DateTime value={touch.at} /> },
    {
      key: "channel",
      label: t("profile.acquisition.channel"),
      children: (
        <Tag className={PAID.has(touch.channel) ? "tag-paid" : touch.channel === "direct" ? undefined : "tag-earned"}>
          {key ? t(key) : touch.channel}
        </Tag>
      ),
    },
    { key: "source", label: t("profile.acquisition.sourceMedium"), children: `${text(touch.source)} / ${text(touch.medium)}` },
    { key: "campaign", label: t("profile.acquisition.campaign"), children: text(touch.campaign) },
    { key: "term", label: t("profile.acquisition.term"), children: text(touch.term) },
    { key: "content", label: t("profile.acquisition.content"), children: text(touch.content) },
    { key: "landing", label: t("profile.acquisition.landingUrl"), children: url(touch.landing_url) },
    { key: "referrer", label: t("profile.acquisition.referrer"), children: url(touch.referrer) },
  ];
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId} className="section-title" style={{ marginBottom: 4 }}>
        {t(which === "first" ? "profile.acquisition.first" : "profile.acquisition.last")}
      </h3>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        {t(which === "first" ? "profile.acquisition.firstHint" : "profile.acquisition.lastHint")}
      </Typography.Paragraph>
      {/* labels on one line, as narrow as the longest (they wrapped beside long URLs) */}
      <Descriptions size="small" bordered column={1} items={items} styles={{ label: { whiteSpace: "nowrap", width: "1%" } }} />
    </section>
  );
}

export function AcquisitionSection({ contact }: { contact: ContactWithTraits }) {
  const { t } = useI18n();
  const acquisition = contact.acquisition;
  return (
    <section aria-labelledby="profile-acquisition">
      <h2 id="profile-acquisition" className="section-title">
        {t("profile.acquisition.title")}
      </h2>
      {acquisition ? (
        <Row gutter={[16, 16]}>
          <Col xs={24} lg={12}>
            <TouchCard which="first" touch={acquisition.first} />
          </Col>
          <Col xs={24} lg={12}>
            <TouchCard which="last" touch={acquisition.last} />
          </Col>
        </Row>
      ) : (
        <Typography.Paragraph type="secondary">{t("profile.acquisition.none")}</Typography.Paragraph>
      )}
    </section>
  );
}
