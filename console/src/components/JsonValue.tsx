/** Contact data is shown as text, never as HTML: scalars inline, anything else as JSON in a <pre>. */
export function JsonValue({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="json-null">null</span>;
  if (typeof value === "string") return <span className="json-text">{value}</span>;
  if (typeof value === "number" || typeof value === "boolean") return <span>{String(value)}</span>;
  return <pre className="json-block">{JSON.stringify(value, null, 2)}</pre>;
}
