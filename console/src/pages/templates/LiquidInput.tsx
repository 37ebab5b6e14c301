import { createContext, lazy, Suspense, useContext } from "react";
import { Spin } from "antd";
import type { CodeEditorProps } from "./CodeEditor";
import type { LiquidVariable, VariableKind } from "./variables";

// CodeMirror is loaded with the first code field shown, in a chunk of its own.
const CodeEditor = lazy(() => import("./CodeEditor"));

export interface LiquidNames {
  variables: LiquidVariable[];
  sectionLabel: (kind: VariableKind | "filter" | "tag") => string;
  readOnly: boolean;
}

/** What the Liquid completion offers, and whether the fields are read-only (analysts). */
export const LiquidNamesContext = createContext<LiquidNames>({ variables: [], sectionLabel: (k) => k, readOnly: false });

type Props = Omit<CodeEditorProps, "variables" | "sectionLabel" | "readOnly">;

/** A text or code field of a template, with Liquid completion (`{{ ` offers the names). */
export function LiquidInput(props: Props) {
  const names = useContext(LiquidNamesContext);
  const lines = props.singleLine ? 1 : (props.minLines ?? 8);
  return (
    <Suspense
      fallback={
        <div className="code-editor-loading" style={{ minHeight: props.singleLine ? 32 : lines * 20 + 14 }}>
          <Spin size="small" />
        </div>
      }
    >
      <CodeEditor {...props} variables={names.variables} sectionLabel={names.sectionLabel} readOnly={names.readOnly} />
    </Suspense>
  );
}
