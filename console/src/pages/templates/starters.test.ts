import { describe, expect, it } from "vitest";
import { missingFields, REQUIRED } from "./model";
import { blankFields, STARTERS } from "./starters";

const CJK = /[\u4e00-\u9fff]/;

describe("starters", () => {
  it("has three or more email starters and SMS starters", () => {
    expect(STARTERS.filter((s) => s.channel === "email").length).toBeGreaterThanOrEqual(3);
    expect(STARTERS.filter((s) => s.channel === "sms").length).toBeGreaterThanOrEqual(1);
  });

  it.each(STARTERS.map((s) => [s.id, s] as const))("%s is complete in English and Chinese", (_, starter) => {
    for (const lang of ["en", "zh-CN"] as const) {
      const fields = starter.fields[lang];
      expect(missingFields(starter.channel, fields)).toEqual([]);
      expect(Object.keys(fields).every((k) => ["subject", "preheader", "format", "body", "text"].includes(k))).toBe(true);
      const copy = JSON.stringify(fields);
      // written in its language: Chinese copy in the Chinese starter, none in the English one
      expect(CJK.test(copy)).toBe(lang === "zh-CN");
      expect(CJK.test(starter.name[lang] + starter.description[lang])).toBe(lang === "zh-CN");
      // personalised, with a fallback for contacts without a first name
      expect(copy).toMatch(/contact\.first_name \| default:/);
    }
  });

  it.each(STARTERS.filter((s) => s.channel === "email").map((s) => [s.id, s] as const))(
    "%s is responsive MJML that loads nothing from elsewhere",
    (_, starter) => {
      for (const lang of ["en", "zh-CN"] as const) {
        const body = String(starter.fields[lang].body);
        expect(starter.fields[lang].format).toBe("mjml");
        expect(body).toContain(`<mjml lang="${lang}">`);
        expect(body).toContain("<mj-all font-family=");
        // MJML links Google Fonts for these names; a preview must not fetch them
        expect(body).not.toMatch(/Roboto|Open Sans|Lato|Ubuntu|Droid Sans|<mj-font/);
        expect(body).not.toMatch(/<mj-image|src="http/);
        expect(body).toContain("{{ links.unsubscribe_url }}");
        expect(body).toContain("@media only screen and (max-width: 480px)");
      }
    },
  );

  it("has the coupon in the promotion", () => {
    const promotion = STARTERS.find((s) => s.id === "promotion");
    expect(promotion?.fields.en.body).toContain("{{ offer.code }}");
    expect(promotion?.fields["zh-CN"].body).toContain("{{ offer.code }}");
  });

  it("gives every channel a blank template with its required fields present", () => {
    for (const channel of Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]) {
      const fields = blankFields(channel);
      for (const name of REQUIRED[channel]) expect(name in fields).toBe(true);
    }
    expect(blankFields("email", "html").format).toBe("html");
  });
});
