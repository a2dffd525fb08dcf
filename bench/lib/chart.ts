/**
 * Latency percentile curves as a hand-written SVG (no chart library): one panel per scenario, one line per
 * target. x: percentile on a "nines" scale (p50, p90, p99, p99.9 equally spaced), y: latency, log scale.
 */
export interface ChartSeries {
  label: string;
  color: string;
  /** [quantile, ms] */
  curve: [number, number][];
}

export interface ChartPanel {
  title: string;
  series: ChartSeries[];
}

const WIDTH = 820;
const PANEL_HEIGHT = 250;
const MARGIN = { left: 64, right: 190, top: 34, bottom: 40 };
const MAX_NINES = 4.6; // where "max" sits, right of p99.99
const X_TICKS: [number, string][] = [
  [0, 'min'],
  [Math.log10(2), 'p50'],
  [1, 'p90'],
  [2, 'p99'],
  [3, 'p99.9'],
  [4, 'p99.99'],
  [MAX_NINES, 'max'],
];
const Y_STEPS = [1, 2, 5];

const nines = (q: number) => (q >= 1 ? MAX_NINES : -Math.log10(1 - q));
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function latencyChart(title: string, panels: ChartPanel[]): string {
  const height = 30 + panels.length * (PANEL_HEIGHT + MARGIN.top + MARGIN.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, i) => parts.push(drawPanel(panel, 30 + i * (PANEL_HEIGHT + MARGIN.top + MARGIN.bottom))));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function drawPanel(panel: ChartPanel, top: number): string {
  const values = panel.series.flatMap((s) => s.curve.map(([, ms]) => ms)).filter((ms) => Number.isFinite(ms) && ms > 0);
  const lo = Math.log10(Math.min(...values, 1)) - 0.05;
  const hi = Math.log10(Math.max(...values, 1)) + 0.05;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const y0 = top + MARGIN.top;
  const x = (q: number) => MARGIN.left + (nines(q) / MAX_NINES) * plotW;
  const y = (ms: number) => y0 + PANEL_HEIGHT - ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * PANEL_HEIGHT;
  const out = [
    `<g>`,
    `<text x="${MARGIN.left}" y="${top + 22}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`,
  ];
  out.push(`<rect x="${MARGIN.left}" y="${y0}" width="${plotW}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`);
  for (let decade = Math.floor(lo); decade <= Math.ceil(hi); decade++) {
    for (const step of Y_STEPS) {
      const ms = step * 10 ** decade;
      if (Math.log10(ms) < lo || Math.log10(ms) > hi) continue;
      const yy = y(ms).toFixed(1);
      out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yy}" y2="${yy}" stroke="#e4e4e4"/>`);
      out.push(
        `<text x="${MARGIN.left - 6}" y="${yy}" dy="4" text-anchor="end">${ms >= 1 ? ms : ms.toFixed(1)}</text>`,
      );
    }
  }
  for (const [n, label] of X_TICKS) {
    const xx = (MARGIN.left + (n / MAX_NINES) * plotW).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${y0}" y2="${y0 + PANEL_HEIGHT}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${xx}" y="${y0 + PANEL_HEIGHT + 16}" text-anchor="middle">${label}</text>`);
  }
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${y0 + PANEL_HEIGHT + 32}" text-anchor="middle" fill="#555">percentile</text>`,
  );
  out.push(
    `<text transform="translate(${MARGIN.left - 44},${y0 + PANEL_HEIGHT / 2}) rotate(-90)" text-anchor="middle" fill="#555">latency, ms (log)</text>`,
  );
  panel.series.forEach((s, i) => {
    const points = s.curve
      .filter(([, ms]) => Number.isFinite(ms))
      .map(([q, ms]) => `${x(q).toFixed(1)},${y(ms).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.join(' ')}"/>`);
    const ly = y0 + 14 + i * 18;
    const lx = MARGIN.left + plotW + 14;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 28}" y="${ly}">${esc(s.label)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}
