// The template editor's code fields: CodeMirror 6 with HTML or MJML highlighting and Liquid
// completion. Loaded lazily (LiquidInput.tsx): CodeMirror stays out of every other chunk.
// Tab is not bound: it moves the focus on, as in any form (indent with Ctrl-] / Ctrl-[).
import { useEffect, useRef } from "react";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { xml } from "@codemirror/lang-xml";
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorState, Prec, type Extension } from "@codemirror/state";
import {
  Decoration,
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  MatchDecorator,
  placeholder as placeholderText,
  ViewPlugin,
  type DecorationSet,
  type ViewUpdate,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { emailHtmlLanguage } from "./htmlLanguage";
import { liquidCompletionSource } from "./liquidCompletion";
import { MJML_ELEMENTS } from "./mjmlSchema";
import type { LiquidVariable, VariableKind } from "./variables";

export type CodeLanguage = "html" | "mjml" | "text";

export interface CodeEditorProps {
  value: string;
  onChange: (value: string) => void;
  language: CodeLanguage;
  /** What `{{ ` offers. */
  variables: LiquidVariable[];
  /** The heading of each group of completions, in the user's language. */
  sectionLabel: (kind: VariableKind | "filter" | "tag") => string;
  /** The id of the element naming the field (its label). */
  labelledBy: string;
  describedBy?: string;
  invalid?: boolean;
  readOnly?: boolean;
  /** One line, like a text input (subjects, titles): Enter does not add a line. */
  singleLine?: boolean;
  /** Code (HTML, MJML, JSON): a monospaced font and line numbers. Otherwise prose, like a text area. */
  code?: boolean;
  /** The editor's height in lines (multi-line editors grow up to `maxLines`, then scroll). */
  minLines?: number;
  maxLines?: number;
  placeholder?: string;
  testId?: string;
}

// Colours chosen to pass WCAG AA (4.5:1) on white and on the active line.
const highlight = HighlightStyle.define([
  { tag: [tags.tagName, tags.standard(tags.tagName)], color: "#1d4ed8" },
  { tag: tags.attributeName, color: "#9a3412" },
  { tag: [tags.attributeValue, tags.string], color: "#166534" },
  { tag: [tags.comment, tags.meta, tags.documentMeta, tags.processingInstruction], color: "#57606a", fontStyle: "italic" },
  { tag: [tags.angleBracket, tags.separator, tags.definitionOperator], color: "#4b5563" },
  { tag: [tags.character, tags.escape], color: "#92400e" },
  { tag: [tags.keyword, tags.propertyName], color: "#6d28d9" },
  { tag: [tags.number, tags.unit, tags.color], color: "#0e7490" },
  { tag: tags.invalid, color: "#b91c1c" },
]);

const liquidMark = Decoration.mark({ class: "cm-liquid" });
const liquidMatcher = new MatchDecorator({ regexp: /\{\{.*?\}\}|\{%.*?%\}/g, decoration: () => liquidMark });
/** Liquid output and tags stand out from the HTML around them. */
const liquidHighlight = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = liquidMatcher.createDeco(view);
    }
    update(update: ViewUpdate) {
      this.decorations = liquidMatcher.updateDeco(update, this.decorations);
    }
  },
  { decorations: (v) => v.decorations },
);

const MONO = "'SFMono-Regular', Menlo, Consolas, 'Liberation Mono', monospace";

function theme(singleLine: boolean, code: boolean, minLines: number, maxLines: number): Extension {
  const line = code ? 20 : 22;
  return EditorView.theme({
    "&": {
      backgroundColor: "#ffffff",
      border: "1px solid #d9d9d9",
      borderRadius: "6px",
      fontSize: code ? "13px" : "14px",
    },
    "&.cm-focused": { outline: "none", borderColor: "#1677ff", boxShadow: "0 0 0 2px rgba(5, 145, 255, 0.2)" },
    ".cm-scroller": {
      fontFamily: code ? MONO : "inherit",
      lineHeight: `${line}px`,
      minHeight: singleLine ? "auto" : `${minLines * line + 12}px`,
      maxHeight: singleLine ? "none" : `${maxLines * line + 12}px`,
      overflow: singleLine ? "hidden" : "auto",
    },
    ".cm-content": { padding: singleLine ? "4px 0" : "6px 0" },
    ".cm-line": { padding: code ? "0 8px" : "0 11px" },
    ".cm-gutters": { backgroundColor: "#f7f7f8", color: "#595959", borderRight: "1px solid #e5e7eb" },
    ".cm-activeLine": { backgroundColor: code ? "#f5f8ff" : "transparent" },
    ".cm-activeLineGutter": { backgroundColor: "#e8eefc", color: "#1f2937" },
    ".cm-liquid": { backgroundColor: "#fff1cc", borderRadius: "2px" },
    ".cm-placeholder": { color: "#6b7280" },
    ".cm-tooltip": {
      backgroundColor: "#ffffff",
      border: "1px solid #d9d9d9",
      borderRadius: "6px",
      boxShadow: "0 6px 16px rgba(0, 0, 0, 0.08), 0 3px 6px -4px rgba(0, 0, 0, 0.12)",
      overflow: "hidden",
    },
    ".cm-tooltip-autocomplete > ul": { fontFamily: MONO, fontSize: "13px", maxHeight: "16em" },
    ".cm-tooltip-autocomplete > ul > li": { padding: "2px 10px" },
    ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "#1d4ed8", color: "#ffffff" },
    ".cm-completionDetail": { color: "inherit", opacity: 1 },
    ".cm-completionSection": {
      color: "#374151",
      fontWeight: 600,
      fontFamily: "inherit",
      fontSize: "12px",
      padding: "4px 10px 2px",
      borderBottom: "none",
      background: "#f7f7f8",
    },
  });
}

function languageOf(language: CodeLanguage): Extension {
  if (language === "html") return emailHtmlLanguage();
  if (language === "mjml") return xml({ elements: MJML_ELEMENTS });
  return [];
}

/** Keeps a single-line field on one line: pasted line breaks become spaces. */
const oneLine = EditorState.transactionFilter.of((tr) => {
  if (!tr.docChanged || tr.newDoc.lines === 1) return tr;
  const text = tr.newDoc.toString().replace(/\r?\n/g, " ");
  return [tr, { changes: { from: 0, to: tr.newDoc.length, insert: text }, sequential: true }];
});

export default function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const compartments = useRef({ language: new Compartment(), readOnly: new Compartment(), aria: new Compartment() });

  const aria = (p: CodeEditorProps) =>
    EditorView.contentAttributes.of({
      // focusable as it is (contenteditable), but said so: axe then knows a scrolled editor is reachable
      tabindex: "0",
      "aria-labelledby": p.labelledBy,
      ...(p.describedBy ? { "aria-describedby": p.describedBy } : {}),
      "aria-invalid": p.invalid ? "true" : "false",
      "aria-multiline": p.singleLine ? "false" : "true",
      ...(p.testId ? { "data-testid": p.testId } : {}),
    });
  const readOnly = (value: boolean) => [EditorState.readOnly.of(value)];

  useEffect(() => {
    const p = latest.current;
    const c = compartments.current;
    const single = p.singleLine ?? false;
    const liquidData = [
      {
        autocomplete: liquidCompletionSource(
          () => latest.current.variables,
          (kind) => latest.current.sectionLabel(kind),
        ),
      },
    ];
    const extensions: Extension[] = [
      history(),
      drawSelection(),
      bracketMatching(),
      closeBrackets(),
      highlightSelectionMatches(),
      syntaxHighlighting(highlight),
      liquidHighlight,
      autocompletion({ icons: false }),
      // One source for the editor's life: completion tells sources apart by identity.
      EditorState.languageData.of(() => liquidData),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...completionKeymap]),
      c.language.of(languageOf(p.language)),
      c.readOnly.of(readOnly(p.readOnly ?? false)),
      c.aria.of(aria(p)),
      theme(single, p.code ?? false, p.minLines ?? 8, p.maxLines ?? 30),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) latest.current.onChange(update.state.doc.toString());
      }),
    ];
    if (single) extensions.push(oneLine, Prec.high(keymap.of([{ key: "Enter", run: () => true }])));
    else if (p.code) extensions.push(lineNumbers(), highlightActiveLine(), highlightActiveLineGutter(), indentOnInput(), EditorView.lineWrapping);
    else extensions.push(EditorView.lineWrapping);
    if (p.placeholder) extensions.push(placeholderText(p.placeholder));
    const created = new EditorView({
      parent: host.current ?? undefined,
      state: EditorState.create({ doc: p.value, extensions }),
    });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
    // The editor is made once; later prop changes are applied below.
  }, []);

  // A value changed from outside (a starter, "Discard changes"): replace the text.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
    }
  }, [props.value]);

  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.language.reconfigure(languageOf(props.language)) });
  }, [props.language]);

  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.readOnly.reconfigure(readOnly(props.readOnly ?? false)) });
  }, [props.readOnly]);

  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.aria.reconfigure(aria(props)) });
  }, [props.labelledBy, props.describedBy, props.invalid, props.singleLine]);

  return <div ref={host} className="code-editor" data-invalid={props.invalid ? "true" : undefined} />;
}
