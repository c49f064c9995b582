// Draws Bulwark's icons into resources/ (no image tools needed): a blue shield with a white check mark.
//   node scripts/make-icons.ts
// Writes icon.png (1024 px: window icon, and what electron-builder turns into .ico/.icns/linux sizes),
// tray.png (16 px) and tray@2x.png (32 px), and one tray icon per state (16 and 32 px), told apart by shape
// as well as colour: protected (green, check mark), backing-up (blue, upward arrow), warning (amber,
// exclamation mark), error (red, cross). The PNGs are committed; rerun after changing the drawing.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

type Rgba = [number, number, number, number];

const OUTER: Rgba = [0x1f, 0x5f, 0xbf, 255];
const INNER: Rgba = [0x2f, 0x7a, 0xe5, 255];
const MARK: Rgba = [255, 255, 255, 255];

/** Half-width of the shield at height y (0 = top, 1 = bottom tip), in units of the icon size. */
function shieldHalfWidth(y: number, scale: number): number {
  const top = 0.5 - 0.41 * scale;
  const bottom = 0.5 + 0.45 * scale;
  if (y < top || y > bottom) return -1;
  const t = (y - top) / (bottom - top);
  const w = 0.36 * scale;
  return t < 0.45 ? w : w * Math.cos(((t - 0.45) / 0.55) * (Math.PI / 2)) ** 0.8;
}

function insideShield(x: number, y: number, scale: number): boolean {
  return Math.abs(x - 0.5) <= shieldHalfWidth(y, scale);
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function onCheckMark(x: number, y: number, stroke: number): boolean {
  return (
    distanceToSegment(x, y, 0.34, 0.5, 0.45, 0.62) <= stroke ||
    distanceToSegment(x, y, 0.45, 0.62, 0.67, 0.37) <= stroke
  );
}

type Mark = 'check' | 'arrow' | 'exclamation' | 'cross';

function onMark(mark: Mark, x: number, y: number, stroke: number): boolean {
  const seg = (ax: number, ay: number, bx: number, by: number) =>
    distanceToSegment(x, y, ax, ay, bx, by) <= stroke;
  switch (mark) {
    case 'check':
      return onCheckMark(x, y, stroke);
    case 'arrow':
      return seg(0.5, 0.3, 0.5, 0.68) || seg(0.5, 0.3, 0.35, 0.45) || seg(0.5, 0.3, 0.65, 0.45);
    case 'exclamation':
      return seg(0.5, 0.28, 0.5, 0.56) || Math.hypot(x - 0.5, y - 0.69) <= stroke * 1.1;
    case 'cross':
      return seg(0.36, 0.33, 0.64, 0.63) || seg(0.64, 0.33, 0.36, 0.63);
  }
}

interface Style {
  outer: Rgba;
  inner: Rgba;
  mark: Mark;
}

const BRAND: Style = { outer: OUTER, inner: INNER, mark: 'check' };
const STATES: Record<'protected' | 'backing-up' | 'warning' | 'error', Style> = {
  protected: { outer: [0x1a, 0x7f, 0x37, 255], inner: [0x2d, 0x9a, 0x4e, 255], mark: 'check' },
  'backing-up': { outer: OUTER, inner: INNER, mark: 'arrow' },
  warning: { outer: [0xb2, 0x6a, 0x00, 255], inner: [0xd9, 0x8a, 0x0b, 255], mark: 'exclamation' },
  error: { outer: [0xb4, 0x23, 0x18, 255], inner: [0xd1, 0x3b, 0x2e, 255], mark: 'cross' },
};

function colorAt(x: number, y: number, size: number, style: Style): Rgba | undefined {
  if (!insideShield(x, y, 1)) return undefined;
  // small sizes: a plain shield with a bold mark reads better than fine detail
  if (onMark(style.mark, x, y, size <= 32 ? 0.075 : 0.055)) return MARK;
  if (size > 32 && insideShield(x, y, 0.84)) return style.inner;
  return style.outer;
}

function render(size: number, style: Style = BRAND): Buffer {
  const samples = 4; // 4×4 supersampling for smooth edges
  const rowBytes = size * 4 + 1;
  const raw = Buffer.alloc(rowBytes * size);
  for (let py = 0; py < size; py++) {
    raw[py * rowBytes] = 0; // filter: none
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const c = colorAt(
            (px + (sx + 0.5) / samples) / size,
            (py + (sy + 0.5) / samples) / size,
            size,
            style,
          );
          if (!c) continue;
          r += c[0] * c[3];
          g += c[1] * c[3];
          b += c[2] * c[3];
          a += c[3];
        }
      }
      const o = py * rowBytes + 1 + px * 4;
      raw[o] = a ? Math.round(r / a) : 0;
      raw[o + 1] = a ? Math.round(g / a) : 0;
      raw[o + 2] = a ? Math.round(b / a) : 0;
      raw[o + 3] = Math.round(a / (samples * samples));
    }
  }
  return encodePng(size, size, raw);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function encodePng(width: number, height: number, raw: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const out = path.join(import.meta.dirname, '..', 'resources');
for (const [name, size] of [
  ['icon.png', 1024],
  ['tray.png', 16],
  ['tray@2x.png', 32],
] as const) {
  writeFileSync(path.join(out, name), render(size));
  console.log(`resources/${name} (${size}×${size})`);
}
for (const [state, style] of Object.entries(STATES)) {
  for (const [suffix, size] of [
    ['', 16],
    ['@2x', 32],
  ] as const) {
    const name = `tray-${state}${suffix}.png`;
    writeFileSync(path.join(out, name), render(size, style));
    console.log(`resources/${name} (${size}×${size})`);
  }
}
