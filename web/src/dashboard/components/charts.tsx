// Small SVG charts for the reports page, drawn here rather than with a chart
// library: a line over time, horizontal grouped bars, and columns. Each is
// an image with a label for screen readers, and the numbers are also in a
// table the page shows under it.

export interface Series {
  name: string;
  color: string;
}

/** Round numbers for an axis from 0 to at least max. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export function LineChart({ points, label, format }: { points: { at: string; value: number }[]; label: string; format: (iso: string) => string }) {
  const W = 900;
  const H = 220;
  const pad = { l: 36, r: 12, t: 10, b: 28 };
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const x = (i: number) => pad.l + (points.length <= 1 ? 0 : (i / (points.length - 1)) * (W - pad.l - pad.r));
  const y = (v: number) => pad.t + (1 - v / max) * (H - pad.t - pad.b);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const area = points.length ? `${line} L${x(points.length - 1).toFixed(1)},${y(0)} L${x(0).toFixed(1)},${y(0)} Z` : "";
  const ticks = [0, max / 2, max];
  const labels = points.length > 1 ? [0, Math.floor((points.length - 1) / 2), points.length - 1] : points.length ? [0] : [];
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} className="h-auto w-full" data-chart="line">
      {ticks.map((t) => (
        <g key={t}>
          <line x1={pad.l} x2={W - pad.r} y1={y(t)} y2={y(t)} className="stroke-line" strokeDasharray={t ? "3 3" : undefined} />
          <text x={pad.l - 6} y={y(t) + 4} textAnchor="end" className="fill-muted text-[11px]">
            {Number.isInteger(t) ? t : t.toFixed(1)}
          </text>
        </g>
      ))}
      {area && <path d={area} className="fill-accent/15" />}
      {line && <path d={line} fill="none" className="stroke-accent" strokeWidth={2} strokeLinejoin="round" />}
      {labels.map((i) => (
        <text key={i} x={x(i)} y={H - 8} textAnchor={i === 0 ? "start" : i === points.length - 1 ? "end" : "middle"} className="fill-muted text-[11px]">
          {format(points[i].at)}
        </text>
      ))}
    </svg>
  );
}

export function BarChart({ rows, series, label }: { rows: { label: string; values: number[] }[]; series: Series[]; label: string }) {
  const barH = 14;
  const gap = 5;
  const rowH = series.length * (barH + 2) + gap * 2;
  const W = 440;
  const left = 110;
  const H = Math.max(1, rows.length) * rowH + 24;
  const max = niceMax(Math.max(0, ...rows.flatMap((r) => r.values)));
  const w = (v: number) => (v / max) * (W - left - 40);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} className="h-auto w-full" data-chart="bars">
      {rows.map((r, i) => (
        <g key={r.label + i} transform={`translate(0 ${i * rowH + gap})`}>
          <text x={left - 8} y={rowH / 2} textAnchor="end" dominantBaseline="middle" className="fill-fg text-[12px]">
            {r.label.length > 16 ? r.label.slice(0, 15) + "…" : r.label}
          </text>
          {r.values.map((v, j) => (
            <g key={j}>
              <rect x={left} y={j * (barH + 2)} width={Math.max(v ? 2 : 0, w(v))} height={barH} rx={2} fill={series[j].color} />
              <text x={left + w(v) + 4} y={j * (barH + 2) + barH - 2} className="fill-muted text-[10px]">
                {v}
              </text>
            </g>
          ))}
        </g>
      ))}
      <g transform={`translate(${left} ${H - 12})`}>
        {series.map((s, j) => (
          <g key={s.name} transform={`translate(${j * 90} 0)`}>
            <rect width={10} height={10} y={-9} rx={2} fill={s.color} />
            <text x={14} className="fill-muted text-[11px]">
              {s.name}
            </text>
          </g>
        ))}
      </g>
    </svg>
  );
}

export function Columns({ values, labels, label, color = "#f59e0b" }: { values: number[]; labels: string[]; label: string; color?: string }) {
  const W = 320;
  const H = 140;
  const pad = { t: 14, b: 22 };
  const max = niceMax(Math.max(0, ...values));
  const cw = W / values.length;
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} className="h-auto w-full max-w-sm" data-chart="columns">
      {values.map((v, i) => {
        const h = (v / max) * (H - pad.t - pad.b);
        return (
          <g key={i}>
            <rect x={i * cw + cw * 0.2} y={H - pad.b - h} width={cw * 0.6} height={h} rx={3} fill={color} />
            <text x={i * cw + cw / 2} y={H - pad.b - h - 3} textAnchor="middle" className="fill-muted text-[11px]">
              {v}
            </text>
            <text x={i * cw + cw / 2} y={H - 6} textAnchor="middle" className="fill-fg text-[12px]">
              {labels[i]}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
