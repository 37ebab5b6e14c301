import { useCallback, useMemo } from "react";
import { Col, Row } from "antd";
import type { SegmentReference, Topic } from "../../../api/types";
import { useI18n } from "../../../i18n";
import { BuilderProvider, builderEnv } from "./BuilderContext";
import { ConditionEditor } from "./ConditionEditor";
import { errorPath, incompletePaths, type Condition, type Definition } from "./model";
import { PreviewPanel } from "./PreviewPanel";
import { usePreview } from "./usePreview";

function hasPath(root: Condition, path: string): boolean {
  try {
    let node: unknown = root;
    const re = /\.conditions\[(\d+)\]|\.condition(?!s)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(path)) !== null) {
      const n = node as Record<string, unknown>;
      node = m[1] !== undefined ? (n.conditions as unknown[])[Number(m[1])] : n.condition;
      if (typeof node !== "object" || node === null) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** The definition tree, generated from the reference, with the live preview beside it. */
export function SegmentBuilder({
  reference,
  topics,
  definition,
  onChange,
  readOnly,
  selfId,
}: {
  reference: SegmentReference;
  topics: Topic[];
  definition: Definition;
  onChange: (next: Definition) => void;
  readOnly: boolean;
  selfId: number | null;
}) {
  const { t } = useI18n();
  const incomplete = useMemo(() => new Set(incompletePaths(reference, definition.root)), [reference, definition]);
  const isComplete = useCallback((d: Definition) => incompletePaths(reference, d.root).length === 0, [reference]);
  const preview = usePreview(definition, isComplete);

  // A 422 names the bad node first (`root.conditions[2].operator: …`): shown on that node.
  const errors = useMemo(() => {
    const out = new Map<string, string>();
    const message = preview.error instanceof Error ? preview.error.message : "";
    const found = message ? errorPath(message) : null;
    if (found && hasPath(definition.root, found.path)) out.set(found.path, message);
    return out;
    // Kept on its node until the next answer (the tree may change meanwhile).
  }, [preview.error]);

  const env = useMemo(
    () => builderEnv(reference, { readOnly, errors, incomplete, topics, selfId }),
    [reference, readOnly, errors, incomplete, topics, selfId],
  );

  return (
    <Row gutter={[24, 16]}>
      <Col xs={24} xl={16}>
        <section aria-label={t("builder.label")} className="segment-builder">
          <BuilderProvider env={env}>
            <ConditionEditor value={definition.root} path="root" onChange={(root) => onChange({ ...definition, root })} />
          </BuilderProvider>
        </section>
      </Col>
      <Col xs={24} xl={8}>
        <PreviewPanel preview={preview} incomplete={!readOnly && incomplete.size > 0} />
      </Col>
    </Row>
  );
}
