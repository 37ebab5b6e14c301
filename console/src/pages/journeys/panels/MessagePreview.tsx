// A simulated message as its reader would see it: the template editor's previews (an email's
// HTML only in a sandboxed iframe, everything else as text). A chunk of its own, loaded when
// a simulation answers with a message.
import { EmailPreview, InappPreview, PushPreview, SmsPreview, WebhookPreview, WechatPreview } from "../../templates/previews";
import "../../../i18n/content";
import "../../templates/templates.css";

export default function MessagePreview({ channel, content, who }: { channel: string; content: Record<string, unknown>; who: string }) {
  switch (channel) {
    case "email":
      return <EmailPreview content={content} width="mobile" who={who} />;
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
    default:
      return <pre className="json-block">{JSON.stringify(content, null, 2)}</pre>;
  }
}
