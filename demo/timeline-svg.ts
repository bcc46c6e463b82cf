import { type OccupancyStep, occupancySteps } from './occupancy.js';
import type { ExecutionRecord } from './record.js';

const laneHeight = 28;
const rowHeight = 14;
const chartHeight = 120;
const left = 120;
const width = 960;
/**
 * Up to this many executions, one row each; past it the rows would be a wall (300 made the
 * picture 5,400 px tall), so a chart of slots busy and requests waiting takes their place.
 */
export const maxRows = 40;

/**
 * Draws the demo as an SVG: on top one lane per slot with a bar per holder (red when its work
 * failed on purpose). Below, for up to `maxRows` executions, one row per execution: grey while
 * it waited, the bar while it held, a cross where it failed; for more, a step chart of slots
 * busy and requests waiting on the same time axis.
 */
export function timelineSvg(records: ExecutionRecord[], concurrency: number, title: string): string {
  const start = Math.min(...records.map((record) => record.startedMs));
  const end = Math.max(...records.map((record) => record.endedMs ?? record.work?.endMs ?? record.startedMs));
  const scale = (width - left - 20) / Math.max(1, end - start);
  const x = (ms: number) => (left + (ms - start) * scale).toFixed(1);
  const span = (from: number, to: number) => Math.max(1, (to - from) * scale).toFixed(1);
  const lanesTop = 40;
  const rowsTop = lanesTop + concurrency * laneHeight + 30;
  const drawsRows = records.length <= maxRows;
  const height = rowsTop + (drawsRows ? records.length * rowHeight : chartHeight) + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-labelledby="timeline-title">`,
    `<title id="timeline-title">${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let slot = 0; slot < concurrency; slot++) {
    const y = lanesTop + slot * laneHeight;
    parts.push(`<text x="10" y="${y + 18}">slot ${slot}</text>`);
    parts.push(
      `<rect x="${left}" y="${y + 2}" width="${width - left - 20}" height="${laneHeight - 4}" fill="#f3f4f6"/>`,
    );
  }
  if (drawsRows)
    parts.push(
      `<text x="10" y="${rowsTop - 8}" fill="#555">executions (grey: waiting, bar: holding, ✕: failed)</text>`,
    );
  else parts.push(...occupancyChart(occupancySteps(records), { top: rowsTop, end, x, concurrency }));
  for (const record of records) {
    const color = record.failOnPurpose ? '#dc2626' : '#2563eb';
    const row = rowsTop + record.index * rowHeight;
    if (drawsRows) parts.push(`<text x="10" y="${row + 10}" fill="#555">#${record.index + 1}</text>`);
    if (record.grant && drawsRows) {
      const arrived = record.grant.atMs - record.grant.waitedMs;
      parts.push(line(x(arrived), x(record.grant.atMs), row + 6, '#9ca3af'));
    }
    if (record.grant && record.work) {
      const lane = lanesTop + record.grant.slot * laneHeight;
      parts.push(
        `<rect x="${x(record.work.startMs)}" y="${lane + 5}" width="${span(record.work.startMs, record.work.endMs)}" height="${laneHeight - 10}" fill="${color}" rx="3"><title>#${record.index + 1}</title></rect>`,
        `<text x="${x(record.work.startMs)}" dx="3" y="${lane + 18}" fill="white">${record.index + 1}</text>`,
      );
      if (drawsRows)
        parts.push(
          `<rect x="${x(record.work.startMs)}" y="${row + 2}" width="${span(record.work.startMs, record.work.endMs)}" height="${rowHeight - 4}" fill="${color}"/>`,
        );
    }
    if (drawsRows && record.status === 'FAILED' && record.endedMs !== undefined) {
      parts.push(`<text x="${x(record.endedMs)}" dx="2" y="${row + 11}" fill="#dc2626">✕</text>`);
    }
  }
  const axisY = height - 20;
  for (
    let second = 0;
    second <= (end - start) / 1000;
    second += Math.max(1, Math.round((end - start) / 10_000))
  ) {
    parts.push(`<text x="${x(start + second * 1000)}" y="${axisY}" fill="#555">${second}s</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * The step chart under the lanes: slots busy (blue) and requests waiting (grey) over time, on
 * the lanes' time axis, scaled to the larger of the concurrency and the most that waited.
 */
function occupancyChart(
  steps: OccupancyStep[],
  { top, end, x, concurrency }: { top: number; end: number; x: (ms: number) => string; concurrency: number },
): string[] {
  const most = Math.max(concurrency, ...steps.map((step) => step.waiting));
  const y = (value: number) => (top + chartHeight - (value / most) * chartHeight).toFixed(1);
  const polyline = (value: (step: OccupancyStep) => number, color: string) => {
    const points: string[] = [];
    let previous = 0;
    for (const step of steps) {
      // A step: along at the old value to this moment, then up or down to the new one.
      points.push(`${x(step.atMs)},${y(previous)}`, `${x(step.atMs)},${y(value(step))}`);
      previous = value(step);
    }
    points.push(`${x(end)},${y(previous)}`);
    return `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`;
  };
  const peakWaiting = Math.max(0, ...steps.map((step) => step.waiting));
  return [
    `<text x="10" y="${top - 8}" fill="#555"><tspan fill="#2563eb">slots busy</tspan> (of ${concurrency}) and <tspan fill="#6b7280">requests waiting</tspan> (at most ${peakWaiting}) over time</text>`,
    `<rect x="${left}" y="${top}" width="${width - left - 20}" height="${chartHeight}" fill="#f9fafb"/>`,
    `<text x="10" y="${top + 10}" fill="#555">${most}</text>`,
    `<text x="10" y="${top + chartHeight}" fill="#555">0</text>`,
    polyline((step) => step.waiting, '#6b7280'),
    polyline((step) => step.busy, '#2563eb'),
  ];
}

function line(from: string, to: string, y: number, color: string): string {
  return `<line x1="${from}" x2="${to}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="3"/>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
