import type { ExecutionRecord } from './record.js';

const laneHeight = 28;
const rowHeight = 14;
const left = 120;
const width = 960;
/** Past this many executions only the first rows are drawn (the slot lanes show every holder). */
const maxRows = 200;

/**
 * Draws the demo as an SVG: on top one lane per slot with a bar per holder (red when its work
 * failed on purpose), below one row per execution: grey while it waited, the bar while it held,
 * a cross where it failed. Rows for the first `maxRows` executions only.
 */
export function timelineSvg(records: ExecutionRecord[], concurrency: number, title: string): string {
  const start = Math.min(...records.map((record) => record.startedMs));
  const end = Math.max(...records.map((record) => record.endedMs ?? record.work?.endMs ?? record.startedMs));
  const scale = (width - left - 20) / Math.max(1, end - start);
  const x = (ms: number) => (left + (ms - start) * scale).toFixed(1);
  const span = (from: number, to: number) => Math.max(1, (to - from) * scale).toFixed(1);
  const lanesTop = 40;
  const rowsTop = lanesTop + concurrency * laneHeight + 30;
  const rows = records.filter((record) => record.index < maxRows);
  const height = rowsTop + rows.length * rowHeight + 40;
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
  parts.push(
    `<text x="10" y="${rowsTop - 8}" fill="#555">executions (grey: waiting, bar: holding, ✕: failed)${records.length > rows.length ? `: the first ${rows.length} of ${records.length}` : ''}</text>`,
  );
  for (const record of records) {
    const color = record.failOnPurpose ? '#dc2626' : '#2563eb';
    const row = rowsTop + record.index * rowHeight;
    const drawsRow = record.index < maxRows;
    if (drawsRow) parts.push(`<text x="10" y="${row + 10}" fill="#555">#${record.index + 1}</text>`);
    if (record.grant && drawsRow) {
      const arrived = record.grant.atMs - record.grant.waitedMs;
      parts.push(line(x(arrived), x(record.grant.atMs), row + 6, '#9ca3af'));
    }
    if (record.grant && record.work) {
      const lane = lanesTop + record.grant.slot * laneHeight;
      parts.push(
        `<rect x="${x(record.work.startMs)}" y="${lane + 5}" width="${span(record.work.startMs, record.work.endMs)}" height="${laneHeight - 10}" fill="${color}" rx="3"><title>#${record.index + 1}</title></rect>`,
        `<text x="${x(record.work.startMs)}" dx="3" y="${lane + 18}" fill="white">${record.index + 1}</text>`,
      );
      if (drawsRow)
        parts.push(
          `<rect x="${x(record.work.startMs)}" y="${row + 2}" width="${span(record.work.startMs, record.work.endMs)}" height="${rowHeight - 4}" fill="${color}"/>`,
        );
    }
    if (drawsRow && record.status === 'FAILED' && record.endedMs !== undefined) {
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

function line(from: string, to: string, y: number, color: string): string {
  return `<line x1="${from}" x2="${to}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="3"/>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
