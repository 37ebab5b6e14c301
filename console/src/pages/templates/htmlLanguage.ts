// HTML for email bodies: the HTML grammar with CSS inside <style> and style="…" — and no
// JavaScript, which email clients never run (@codemirror/lang-html would bring a JavaScript
// parser along: a quarter of the editor's download for nothing).
import { cssLanguage } from "@codemirror/lang-css";
import { bracketMatchingHandle, foldNodeProp, indentNodeProp, LanguageSupport, LRLanguage } from "@codemirror/language";
import { configureNesting, parser } from "@lezer/html";

const emailHtml = LRLanguage.define({
  name: "html",
  parser: parser.configure({
    props: [
      indentNodeProp.add({
        Element(context) {
          const after = /^(\s*)(<\/)?/.exec(context.textAfter);
          if (after && context.node.to <= context.pos + after[0].length) return context.continue();
          return context.lineIndent(context.node.from) + (after?.[2] ? 0 : context.unit);
        },
        "OpenTag CloseTag SelfClosingTag"(context) {
          return context.column(context.node.from) + context.unit;
        },
      }),
      foldNodeProp.add({
        Element(node) {
          const first = node.firstChild;
          const last = node.lastChild;
          if (!first || first.name !== "OpenTag" || !last) return null;
          return { from: first.to, to: last.name === "CloseTag" ? last.from : node.to };
        },
      }),
      bracketMatchingHandle.add({ "OpenTag CloseTag": (node) => node.getChild("TagName") }),
    ],
    wrap: configureNesting(
      [{ tag: "style", parser: cssLanguage.parser }],
      [{ name: "style", parser: cssLanguage.parser.configure({ top: "Styles" }) }],
    ),
  }),
  languageData: {
    commentTokens: { block: { open: "<!--", close: "-->" } },
    indentOnInput: /^\s*<\/\w+\W$/,
    wordChars: "-._",
  },
});

export function emailHtmlLanguage(): LanguageSupport {
  return new LanguageSupport(emailHtml);
}
