/**
 * The starter gallery: a few responsive MJML emails and SMS texts, written in English and in
 * Chinese (not translated word for word), and a blank template per channel. Starters use
 * system fonts (no web font: Chinese has none worth downloading, and a preview loads nothing
 * from other sites — none of the fonts MJML fetches from Google either: Roboto, Open Sans,
 * Lato, Ubuntu, Droid Sans) and no remote image, so they look the same everywhere. See
 * docs/console.md, "Content".
 */
import type { TemplateChannel, TemplateFields } from "./model";

export type StarterLanguage = "en" | "zh-CN";

export interface Starter {
  id: string;
  channel: TemplateChannel;
  /** The template's name when created from the starter. */
  name: Record<StarterLanguage, string>;
  description: Record<StarterLanguage, string>;
  /** An accent colour for the gallery card. */
  accent: string;
  fields: Record<StarterLanguage, TemplateFields>;
}

const FONT_EN = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif";
const FONT_ZH =
  "-apple-system, BlinkMacSystemFont, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif";

function head(lang: StarterLanguage, title: string, accent: string): string {
  const font = lang === "en" ? FONT_EN : FONT_ZH;
  return `  <mj-head>
    <mj-title>${title}</mj-title>
    <mj-attributes>
      <mj-all font-family="${font}" />
      <mj-text font-size="16px" line-height="26px" color="#1f2937" padding="8px 28px" />
      <mj-button background-color="${accent}" color="#ffffff" font-size="16px" font-weight="600" border-radius="6px" inner-padding="14px 32px" padding="20px 28px" />
      <mj-section padding="0" />
    </mj-attributes>
    <mj-style>
      .footer a { color: #4b5563; text-decoration: underline; }
      .code div { letter-spacing: 4px; }
      @media only screen and (max-width: 480px) {
        .hero-title div { font-size: 26px !important; line-height: 34px !important; }
      }
    </mj-style>
  </mj-head>`;
}

function brandBar(name: string, accent: string): string {
  return `    <mj-section padding="28px 0 12px">
      <mj-column>
        <mj-text align="center" font-size="20px" font-weight="700" color="${accent}">${name}</mj-text>
      </mj-column>
    </mj-section>`;
}

function footer(lang: StarterLanguage): string {
  const [why, prefs, unsubscribe] =
    lang === "en"
      ? ["You are receiving this email because you signed up at example.com.", "Email preferences", "Unsubscribe"]
      : ["您收到这封邮件，是因为您在 example.com 注册了账户。", "管理订阅偏好", "退订"];
  return `    <mj-section padding="16px 0 32px">
      <mj-column>
        <mj-text css-class="footer" align="center" font-size="13px" line-height="20px" color="#4b5563">
          ${why}<br />
          <a href="{{ links.preferences_url }}">${prefs}</a> · <a href="{{ links.unsubscribe_url }}">${unsubscribe}</a>
        </mj-text>
      </mj-column>
    </mj-section>`;
}

// --- welcome ---------------------------------------------------------------------------

const WELCOME_ACCENT = "#1d4ed8";

function welcome(lang: StarterLanguage): TemplateFields {
  const t =
    lang === "en"
      ? {
          brand: "Your Brand",
          subject: 'Welcome aboard, {{ contact.first_name | default: "friend" }}!',
          preheader: "Three things to try in your first week.",
          title: 'Welcome aboard, {{ contact.first_name | default: "friend" }}!',
          intro: "We're glad you're here. Your account is ready — here are three things to try first.",
          steps: [
            ["Complete your profile", "Tell us what you like and we will tailor what we send you."],
            ["Explore the collection", "New arrivals every week, picked with care."],
            ["Ask us anything", "Just reply to this email: a real person reads every message."],
          ],
          cta: "Get started",
        }
      : {
          brand: "品牌名称",
          subject: '{{ contact.first_name | default: "您好" }}，欢迎加入！',
          preheader: "三步开启您的专属体验",
          title: '欢迎加入，{{ contact.first_name | default: "朋友" }}！',
          intro: "很高兴认识您！账户已经准备就绪，不妨先从下面三件事开始。",
          steps: [
            ["完善个人资料", "告诉我们您的喜好，之后推送的内容会更合您心意。"],
            ["逛逛新品", "每周上新，精选好物等您发现。"],
            ["随时联系我们", "直接回复这封邮件，我们的客服会尽快答复。"],
          ],
          cta: "立即开始",
        };
  const steps = t.steps
    .map(
      ([title, text], i) => `      <mj-column>
        <mj-text align="center" font-size="28px" font-weight="700" color="${WELCOME_ACCENT}" padding="16px 16px 0">${i + 1}</mj-text>
        <mj-text align="center" font-size="17px" font-weight="600" padding="4px 16px">${title}</mj-text>
        <mj-text align="center" font-size="15px" line-height="23px" color="#4b5563" padding="0 16px 16px">${text}</mj-text>
      </mj-column>`,
    )
    .join("\n");
  const body = `<mjml lang="${lang}">
${head(lang, t.brand, WELCOME_ACCENT)}
  <mj-body background-color="#f3f4f6" width="600px">
${brandBar(t.brand, WELCOME_ACCENT)}
    <mj-wrapper background-color="#ffffff" border-radius="10px" padding="24px 0">
      <mj-section>
        <mj-column>
          <mj-text css-class="hero-title" font-size="30px" line-height="38px" font-weight="700" padding="16px 28px 8px">${t.title}</mj-text>
          <mj-text>${t.intro}</mj-text>
        </mj-column>
      </mj-section>
      <mj-section padding="8px 12px">
${steps}
      </mj-section>
      <mj-section>
        <mj-column>
          <mj-button href="https://example.com/start">${t.cta}</mj-button>
        </mj-column>
      </mj-section>
    </mj-wrapper>
${footer(lang)}
  </mj-body>
</mjml>
`;
  return { subject: t.subject, preheader: t.preheader, format: "mjml", body };
}

// --- promotion with a coupon -------------------------------------------------------------

const PROMO_ACCENT = "#b42318";

function promotion(lang: StarterLanguage): TemplateFields {
  const t =
    lang === "en"
      ? {
          brand: "Your Brand",
          subject: "Your exclusive code: {{ offer.name }}",
          preheader: "Use code {{ offer.code }} at checkout before it expires.",
          kicker: 'A little something for you, {{ contact.first_name | default: "friend" }}',
          yourCode: "Your code",
          until: 'Valid until {{ offer.ends_at | date: "%b %d, %Y" }}',
          cta: "Shop now",
          small: "Enter the code at checkout. One use per customer; cannot be combined with other offers.",
        }
      : {
          brand: "品牌名称",
          subject: "专属优惠已到账：{{ offer.name }}",
          preheader: "优惠码 {{ offer.code }}，记得在有效期内使用哦",
          kicker: '{{ contact.first_name | default: "亲爱的顾客" }}，送您一份专属礼遇',
          yourCode: "您的专属优惠码",
          until: '有效期至 {{ offer.ends_at | date: "%Y年%m月%d日" }}',
          cta: "立即使用",
          small: "结算时输入优惠码即可抵扣。每位顾客限用一次，不与其他优惠同享。",
        };
  const body = `<mjml lang="${lang}">
${head(lang, t.brand, PROMO_ACCENT)}
  <mj-body background-color="#f3f4f6" width="600px">
${brandBar(t.brand, PROMO_ACCENT)}
    <mj-section background-color="${PROMO_ACCENT}" border-radius="10px 10px 0 0" padding="36px 0 28px">
      <mj-column>
        <mj-text align="center" color="#ffffff" font-size="17px">${t.kicker}</mj-text>
        <mj-text css-class="hero-title" align="center" color="#ffffff" font-size="36px" line-height="44px" font-weight="800">{{ offer.name }}</mj-text>
        <mj-text align="center" color="#ffffff">{% if offer.description %}{{ offer.description }}{% endif %}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="28px 0 8px">
      <mj-column width="80%" border="2px dashed ${PROMO_ACCENT}" border-radius="8px" background-color="#fef3f2">
        <mj-text align="center" font-size="14px" color="#4b5563" padding="16px 16px 0">${t.yourCode}</mj-text>
        <mj-text css-class="code" align="center" font-size="30px" line-height="40px" font-weight="800" color="${PROMO_ACCENT}" font-family="'SFMono-Regular', Menlo, Consolas, monospace" padding="4px 16px">{{ offer.code }}</mj-text>
        <mj-text align="center" font-size="14px" color="#4b5563" padding="0 16px 16px">{% if offer.ends_at %}${t.until}{% endif %}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" border-radius="0 0 10px 10px" padding="8px 0 24px">
      <mj-column>
        <mj-button href="https://example.com/shop?code={{ offer.code | url_encode }}">${t.cta}</mj-button>
        <mj-text align="center" font-size="13px" line-height="20px" color="#4b5563">${t.small}</mj-text>
      </mj-column>
    </mj-section>
${footer(lang)}
  </mj-body>
</mjml>
`;
  return { subject: t.subject, preheader: t.preheader, format: "mjml", body };
}

// --- newsletter --------------------------------------------------------------------------

const NEWS_ACCENT = "#0f766e";

function newsletter(lang: StarterLanguage): TemplateFields {
  const t =
    lang === "en"
      ? {
          brand: "Your Brand",
          subject: "This month at Your Brand: new arrivals, tips and stories",
          preheader: "Our favourite picks and stories of the month.",
          hello: 'Hi {{ contact.first_name | default: "there" }}, here is what is new this month.',
          featureTitle: "The spring collection is here",
          featureText:
            "Light linen, soft colours and easy shapes: everything you need for the change of season, made to last.",
          featureCta: "See the collection",
          stories: [
            ["How to care for linen", "Three simple habits that keep linen soft and looking better with every wash."],
            ["Meet the makers", "We visited the family workshop that has woven our fabrics for twenty years."],
          ],
          more: "Read more →",
        }
      : {
          brand: "品牌名称",
          subject: "本月精选｜新品上市、实用贴士一次看",
          preheader: "本月最值得一看的新品与故事",
          hello: '{{ contact.first_name | default: "您好" }}，本月有这些新鲜事：',
          featureTitle: "春季新品正式上市",
          featureText: "轻盈的亚麻、柔和的配色、舒适的剪裁，为换季衣橱添一抹新意。",
          featureCta: "查看新品",
          stories: [
            ["亚麻衣物护理指南", "三个小习惯，让亚麻单品越洗越柔软、越穿越有质感。"],
            ["走近手艺人", "探访与我们合作二十年的家庭工坊，听听他们和面料的故事。"],
          ],
          more: "阅读全文 →",
        };
  const stories = t.stories
    .map(
      ([title, text]) => `      <mj-column padding="0 4px">
        <mj-text font-size="18px" line-height="26px" font-weight="700" padding="16px 24px 4px">${title}</mj-text>
        <mj-text font-size="15px" line-height="23px" color="#4b5563" padding="0 24px">${text}</mj-text>
        <mj-text padding="4px 24px 20px"><a href="https://example.com/journal" style="color: ${NEWS_ACCENT}; font-weight: 600; text-decoration: none">${t.more}</a></mj-text>
      </mj-column>`,
    )
    .join("\n");
  const body = `<mjml lang="${lang}">
${head(lang, t.brand, NEWS_ACCENT)}
  <mj-body background-color="#f3f4f6" width="600px">
${brandBar(t.brand, NEWS_ACCENT)}
    <mj-section background-color="#ffffff" border-radius="10px 10px 0 0" padding="20px 0 0">
      <mj-column>
        <mj-text color="#4b5563">${t.hello}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="0 0 8px">
      <mj-column>
        <mj-text padding="8px 28px 0"><div style="height: 6px; width: 48px; background-color: ${NEWS_ACCENT}; border-radius: 3px"></div></mj-text>
        <mj-text css-class="hero-title" font-size="28px" line-height="36px" font-weight="700" padding="12px 28px 4px">${t.featureTitle}</mj-text>
        <mj-text>${t.featureText}</mj-text>
        <mj-button background-color="${NEWS_ACCENT}" align="left" href="https://example.com/new">${t.featureCta}</mj-button>
        <mj-divider border-width="1px" border-color="#e5e7eb" padding="8px 28px" />
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" border-radius="0 0 10px 10px" padding="0 0 12px">
${stories}
    </mj-section>
${footer(lang)}
  </mj-body>
</mjml>
`;
  return { subject: t.subject, preheader: t.preheader, format: "mjml", body };
}

export const STARTERS: Starter[] = [
  {
    id: "welcome",
    channel: "email",
    name: { en: "Welcome email", "zh-CN": "欢迎邮件" },
    description: {
      en: "Greets a new subscriber by name, with three first steps and a button.",
      "zh-CN": "按姓名问候新用户，列出三个入门步骤，配一个行动按钮。",
    },
    accent: WELCOME_ACCENT,
    fields: { en: welcome("en"), "zh-CN": welcome("zh-CN") },
  },
  {
    id: "promotion",
    channel: "email",
    name: { en: "Promotion with a coupon", "zh-CN": "优惠券促销邮件" },
    description: {
      en: "A bold offer with the contact's own coupon code ({{ offer.code }}) and its end date.",
      "zh-CN": "醒目的优惠主视觉，展示联系人的专属优惠码（{{ offer.code }}）和有效期。",
    },
    accent: PROMO_ACCENT,
    fields: { en: promotion("en"), "zh-CN": promotion("zh-CN") },
  },
  {
    id: "newsletter",
    channel: "email",
    name: { en: "Monthly newsletter", "zh-CN": "月度资讯" },
    description: {
      en: "A featured story and two articles side by side that stack on phones.",
      "zh-CN": "一篇头条加两篇并排文章，在手机上自动改为上下排列。",
    },
    accent: NEWS_ACCENT,
    fields: { en: newsletter("en"), "zh-CN": newsletter("zh-CN") },
  },
  {
    id: "sms-coupon",
    channel: "sms",
    name: { en: "Coupon code SMS", "zh-CN": "优惠码短信" },
    description: {
      en: "Sends the contact's coupon code, with the opt-out line carriers ask for.",
      "zh-CN": "发送联系人的专属优惠码，带短信签名和退订提示。",
    },
    accent: PROMO_ACCENT,
    fields: {
      en: {
        text: 'Your Brand: Hi {{ contact.first_name | default: "there" }}, your code {{ offer.code }} gets you {{ offer.name }}. Use it at checkout. Reply STOP to opt out',
      },
      "zh-CN": {
        text: '【品牌名称】{{ contact.first_name | default: "您好" }}，您的专属优惠码 {{ offer.code }}（{{ offer.name }}）已到账，结算时输入即可使用。回T退订',
      },
    },
  },
  {
    id: "sms-welcome",
    channel: "sms",
    name: { en: "Welcome SMS", "zh-CN": "欢迎短信" },
    description: {
      en: "A short welcome that fits in one part.",
      "zh-CN": "简短的欢迎语，一条短信就能发完。",
    },
    accent: WELCOME_ACCENT,
    fields: {
      en: {
        text: 'Your Brand: Welcome, {{ contact.first_name | default: "friend" }}! Thanks for joining. Reply STOP to opt out',
      },
      "zh-CN": {
        text: '【品牌名称】{{ contact.first_name | default: "您好" }}，欢迎加入！新品和专属优惠会第一时间通知您。回T退订',
      },
    },
  },
];

/** A blank template of each channel (for "Start from scratch"). */
export function blankFields(channel: TemplateChannel, format: "mjml" | "html" = "mjml", lang: StarterLanguage = "en"): TemplateFields {
  const hi = lang === "en" ? 'Hi {{ contact.first_name | default: "there" }},' : '{{ contact.first_name | default: "您好" }}：';
  const unsubscribe = lang === "en" ? "Unsubscribe" : "退订";
  switch (channel) {
    case "email":
      return format === "html"
        ? {
            subject: "",
            format: "html",
            body: `<!DOCTYPE html>
<html lang="${lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>
    body { margin: 0; background: #f3f4f6; }
    .container { max-width: 600px; margin: 0 auto; padding: 24px; background: #ffffff; font-family: ${lang === "en" ? FONT_EN : FONT_ZH}; font-size: 16px; line-height: 1.6; color: #1f2937; }
    .footer { font-size: 13px; color: #4b5563; }
  </style>
</head>
<body>
  <div class="container">
    <p>${hi}</p>
    <p></p>
    <p class="footer"><a href="{{ links.unsubscribe_url }}">${unsubscribe}</a></p>
  </div>
</body>
</html>
`,
          }
        : {
            subject: "",
            format: "mjml",
            body: `<mjml lang="${lang}">
  <mj-head>
    <mj-attributes>
      <mj-all font-family="${lang === "en" ? FONT_EN : FONT_ZH}" />
      <mj-text font-size="16px" line-height="26px" color="#1f2937" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#f3f4f6">
    <mj-section background-color="#ffffff" padding="24px 0">
      <mj-column>
        <mj-text>${hi}</mj-text>
        <mj-text></mj-text>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 0">
      <mj-column>
        <mj-text align="center" font-size="13px" color="#4b5563"><a href="{{ links.unsubscribe_url }}" style="color: #4b5563">${unsubscribe}</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
`,
          };
    case "sms":
      return { text: "" };
    case "push":
      return { title: "", body: "" };
    case "wechat":
      return { template_id: "", data: { first: "", keyword1: "", keyword2: "", remark: "" } };
    case "inapp":
      return { title: "", body: "", data: {} };
    case "webhook":
      return { payload: { email: "{{ contact.email }}", first_name: "{{ contact.first_name }}" } };
  }
}
