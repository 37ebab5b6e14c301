import { useI18n } from "../../i18n";
import { countSms, GSM_MULTI, GSM_SINGLE, UCS2_MULTI, UCS2_SINGLE } from "./smsCounter";

/**
 * Characters, encoding and parts of an SMS. `source`: the template as written (Liquid
 * included); otherwise the message as sent to the preview's contact.
 */
export function SmsCounter({ id, text, source }: { id?: string; text: string; source?: boolean }) {
  const { t, lang } = useI18n();
  const n = new Intl.NumberFormat(lang);
  const count = countSms(text);
  const gsm = count.encoding === "GSM-7";
  return (
    <div id={id} className="sms-counter" data-testid={source ? "sms-counter" : "sms-counter-sent"}>
      <span>
        {source ? t("smsCount.template") : t("smsCount.sent")}{" "}
        <strong>{t("smsCount.characters", { n: n.format(count.characters) })}</strong>
        {" · "}
        <strong className={gsm ? "sms-encoding" : "sms-encoding sms-encoding-unicode"}>{count.encoding}</strong>
        {" · "}
        <strong>{count.parts === 1 ? t("smsCount.onePart") : t("smsCount.parts", { n: n.format(count.parts) })}</strong>
        {count.parts > 0 ? <> {" · "}{t("smsCount.remaining", { n: n.format(count.remaining) })}</> : null}
      </span>
      {!gsm && count.unicode.length > 0 ? (
        <span className="sms-hint">
          {t("smsCount.unicode", {
            chars: count.unicode.map((c) => `“${c}”`).join(" "),
            single: UCS2_SINGLE,
            multi: UCS2_MULTI,
          })}
        </span>
      ) : null}
      {gsm && count.doubled.length > 0 ? (
        <span className="sms-hint">{t("smsCount.doubled", { chars: count.doubled.map((c) => (c === "\f" ? "FF" : c)).join(" ") })}</span>
      ) : null}
      {gsm && count.parts > 1 ? (
        <span className="sms-hint">{t("smsCount.split", { single: GSM_SINGLE, multi: GSM_MULTI })}</span>
      ) : null}
    </div>
  );
}
