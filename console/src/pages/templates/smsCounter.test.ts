import { describe, expect, it } from "vitest";
import { countSms, gsmSeptets } from "./smsCounter";

describe("countSms", () => {
  it("counts an empty message as no part", () => {
    expect(countSms("")).toMatchObject({ encoding: "GSM-7", characters: 0, units: 0, parts: 0, remaining: 160 });
  });

  it("sends plain text in GSM-7: 160 characters in one part", () => {
    expect(countSms("Hello!")).toMatchObject({ encoding: "GSM-7", characters: 6, units: 6, parts: 1, perPart: 160, remaining: 154 });
    expect(countSms("a".repeat(160))).toMatchObject({ parts: 1, remaining: 0 });
  });

  it("splits longer GSM-7 text into parts of 153", () => {
    expect(countSms("a".repeat(161))).toMatchObject({ parts: 2, perPart: 153, remaining: 153 * 2 - 161 });
    expect(countSms("a".repeat(306))).toMatchObject({ parts: 2, remaining: 0 });
    expect(countSms("a".repeat(307))).toMatchObject({ parts: 3, remaining: 152 });
  });

  it("knows the whole default alphabet, accents and Greek capitals included", () => {
    const alphabet =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const count = countSms(alphabet);
    expect(count.encoding).toBe("GSM-7");
    expect(count.units).toBe(Array.from(alphabet).length);
  });

  it("counts the extension table twice", () => {
    for (const ch of ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"]) expect(gsmSeptets(ch)).toBe(2);
    const count = countSms("Save 10€ [today]");
    expect(count).toMatchObject({ encoding: "GSM-7", characters: 16, units: 19, parts: 1, remaining: 141 });
    expect(count.doubled).toEqual(["€", "[", "]"]);
    // 159 plain characters and one € need 161 septets: two parts
    expect(countSms("a".repeat(159) + "€")).toMatchObject({ units: 161, parts: 2 });
    expect(countSms("a".repeat(158) + "€")).toMatchObject({ units: 160, parts: 1, remaining: 0 });
  });

  it("never splits an escape pair between two parts", () => {
    // 152 septets, then "€" (2): the pair would straddle the 153rd septet, so it moves to part two
    const count = countSms("a".repeat(152) + "€" + "a".repeat(10));
    expect(count.units).toBe(164);
    expect(count).toMatchObject({ parts: 2, remaining: 153 - 12 });
  });

  it("switches to UCS-2 for any character outside GSM-7: 70 in one part, then 67", () => {
    const count = countSms("你好，欢迎光临");
    expect(count).toMatchObject({ encoding: "UCS-2", characters: 7, units: 7, parts: 1, perPart: 70, remaining: 63 });
    expect(count.unicode).toEqual(["你", "好", "，", "欢", "迎"]);
    expect(countSms("字".repeat(70))).toMatchObject({ parts: 1, remaining: 0 });
    expect(countSms("字".repeat(71))).toMatchObject({ parts: 2, perPart: 67, remaining: 67 * 2 - 71 });
    expect(countSms("字".repeat(135))).toMatchObject({ parts: 3 });
  });

  it("one Unicode character turns the whole message to UCS-2", () => {
    const text = "a".repeat(100) + "’"; // a curly apostrophe, as word processors type it
    expect(countSms(text)).toMatchObject({ encoding: "UCS-2", units: 101, parts: 2 });
    expect(countSms(text).unicode).toEqual(["’"]);
    // In UCS-2 the extension table is nothing special
    expect(countSms("€ 你").doubled).toEqual([]);
    expect(countSms("€ 你").units).toBe(3);
  });

  it("counts an emoji outside the BMP as two units and never splits it", () => {
    expect(countSms("🎉")).toMatchObject({ encoding: "UCS-2", characters: 1, units: 2, parts: 1 });
    // 66 units, then a surrogate pair: it does not fit the first part of 67
    const count = countSms("字".repeat(66) + "🎉" + "字".repeat(5));
    expect(count).toMatchObject({ characters: 72, units: 73, parts: 2, remaining: 67 - 7 });
  });

  it("counts Liquid markup as written (the preview counts the message as sent)", () => {
    expect(countSms("Hi {{ contact.first_name }}")).toMatchObject({ encoding: "GSM-7", units: 31 });
  });
});
