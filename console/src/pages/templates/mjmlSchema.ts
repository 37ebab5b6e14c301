import type { ElementSpec } from "@codemirror/lang-xml";

// The MJML elements and their usual attributes, for tag and attribute completion in MJML
// bodies (mjml.io/documentation). Children are not restricted: MJML reports misplaced ones.
const BOX = ["padding", "padding-top", "padding-bottom", "padding-left", "padding-right", "css-class", "mj-class"];
const TEXT = ["align", "color", "font-family", "font-size", "font-style", "font-weight", "line-height", "letter-spacing", "text-decoration", "text-transform"];
const BACKGROUND = ["background-color", "background-url", "background-repeat", "background-size", "background-position"];
const BORDER = ["border", "border-radius", "border-top", "border-bottom", "border-left", "border-right"];

function el(name: string, attributes: string[] = [], top = false): ElementSpec {
  return { name, attributes: [...attributes, ...BOX], ...(top ? { top: true } : {}) };
}

export const MJML_ELEMENTS: ElementSpec[] = [
  { name: "mjml", top: true, attributes: ["lang", "dir", "owa"], children: ["mj-head", "mj-body"] },
  { name: "mj-head", children: ["mj-attributes", "mj-breakpoint", "mj-font", "mj-preview", "mj-style", "mj-title", "mj-html-attributes"] },
  { name: "mj-attributes" },
  { name: "mj-all", attributes: ["font-family", ...TEXT] },
  { name: "mj-class", attributes: ["name", ...TEXT, ...BACKGROUND] },
  { name: "mj-breakpoint", attributes: ["width"] },
  { name: "mj-font", attributes: ["name", "href"] },
  { name: "mj-preview" },
  { name: "mj-style", attributes: ["inline"] },
  { name: "mj-title" },
  el("mj-body", ["background-color", "width"]),
  el("mj-wrapper", [...BACKGROUND, ...BORDER, "full-width", "text-align"]),
  el("mj-section", [...BACKGROUND, ...BORDER, "full-width", "direction", "text-align"]),
  el("mj-column", ["width", "vertical-align", "background-color", "inner-background-color", ...BORDER]),
  el("mj-group", ["width", "vertical-align", "background-color", "direction"]),
  el("mj-text", [...TEXT, "height", "container-background-color"]),
  el("mj-button", ["href", "target", "rel", ...TEXT, "background-color", "inner-padding", "width", "height", "vertical-align", ...BORDER]),
  el("mj-image", ["src", "srcset", "alt", "href", "title", "width", "height", "align", "fluid-on-mobile", ...BORDER]),
  el("mj-divider", ["border-color", "border-style", "border-width", "width", "align"]),
  el("mj-spacer", ["height", "container-background-color"]),
  el("mj-hero", ["mode", "height", "background-url", "background-color", "background-width", "background-height", "vertical-align"]),
  el("mj-navbar", ["align", "hamburger", "base-url"]),
  el("mj-navbar-link", ["href", ...TEXT]),
  el("mj-social", ["mode", "align", "icon-size", ...TEXT]),
  el("mj-social-element", ["name", "href", "src", "alt", "background-color", ...TEXT]),
  el("mj-table", ["width", "cellpadding", "cellspacing", "table-layout", ...TEXT]),
  el("mj-accordion"),
  el("mj-accordion-element"),
  el("mj-accordion-title"),
  el("mj-accordion-text"),
  el("mj-carousel"),
  el("mj-carousel-image", ["src", "alt", "href"]),
  el("mj-raw"),
];
