/**
 * A small line of values (e.g. a segment's members per day) drawn as SVG: no chart library,
 * so a list can show one per row without loading one. The picture is decorative; `label`
 * says what it shows in words (screen readers read that, not the line).
 */
export function Sparkline({
  values,
  label,
  width = 96,
  height = 24,
}: {
  values: number[];
  label: string;
  width?: number;
  height?: number;
}) {
  const pad = 2;
  const max = Math.max(...values, 0);
  const min = Math.min(...values, max);
  const span = max - min || 1;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const points = values
    .map((v, i) => {
      const x = pad + i * step;
      const y = height - pad - ((v - min) / span) * (height - 2 * pad);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {values.length > 1 ? <polyline points={points} fill="none" stroke="currentColor" strokeWidth={1.5} /> : null}
    </svg>
  );
}
