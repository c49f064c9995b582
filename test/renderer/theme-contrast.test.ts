import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

// Measures (WCAG 2.x relative luminance) every foreground/background pair the components use, in both
// themes, straight from the tokens file: text needs 4.5:1, UI components (control borders, focus rings,
// icons that carry meaning) 3:1.

const TOKENS = path.resolve(import.meta.dirname, '../../src-renderer/src/ui/tokens.css');

function parseTokens(css: string): Map<string, { light: string; dark: string }> {
  const tokens = new Map<string, { light: string; dark: string }>();
  for (const m of css.matchAll(/--([\w-]+):\s*light-dark\(\s*(#[0-9a-f]{6})\s*,\s*(#[0-9a-f]{6})\s*\)/gi)) {
    tokens.set(m[1]!, { light: m[2]!, dark: m[3]! });
  }
  return tokens;
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const surfaces = ['color-bg', 'color-surface', 'color-surface-2'];
const text = [
  'color-text',
  'color-text-muted',
  'color-nav-text',
  'color-link',
  'color-success',
  'color-warning',
  'color-danger',
  'color-info',
  'color-neutral',
];
const pairs: [fg: string, bg: string, min: number][] = [
  ...surfaces.flatMap((bg) => text.map((fg): [string, string, number] => [fg, bg, 4.5])),
  ...surfaces.flatMap((bg) =>
    ['color-border-strong', 'color-focus', 'color-primary', 'color-danger-solid'].map(
      (fg): [string, string, number] => [fg, bg, 3],
    ),
  ),
  ['color-on-primary', 'color-primary', 4.5],
  ['color-on-primary', 'color-primary-hover', 4.5],
  ['color-on-danger', 'color-danger-solid', 4.5],
  ['color-on-danger', 'color-danger-solid-hover', 4.5],
  ['color-success', 'color-success-bg', 4.5],
  ['color-warning', 'color-warning-bg', 4.5],
  ['color-danger', 'color-danger-bg', 4.5],
  ['color-info', 'color-info-bg', 4.5],
  ['color-neutral', 'color-neutral-bg', 4.5],
  ['color-text', 'color-success-bg', 4.5],
  ['color-text', 'color-warning-bg', 4.5],
  ['color-text', 'color-danger-bg', 4.5],
  ['color-text', 'color-info-bg', 4.5],
  ['color-text', 'color-selected', 4.5],
  ['color-link', 'color-selected', 4.5],
  ['color-text-muted', 'color-selected', 4.5],
  ['color-focus', 'color-selected', 3],
  ['color-link', 'color-warning-bg', 4.5],
  ['color-link', 'color-surface-2', 4.5],
  ['color-surface', 'color-text', 4.5],
];

describe('theme tokens', () => {
  const tokens = parseTokens(fs.readFileSync(TOKENS, 'utf8'));

  it('the contrast helper matches known WCAG values', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
  });

  it('defines every colour the pairs use, light and dark', () => {
    for (const [fg, bg] of pairs) {
      expect(tokens.has(fg), fg).toBe(true);
      expect(tokens.has(bg), bg).toBe(true);
    }
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`meets WCAG AA in the ${theme} theme (text 4.5:1, components and focus 3:1)`, () => {
      const failures: string[] = [];
      for (const [fg, bg, min] of pairs) {
        const ratio = contrast(tokens.get(fg)![theme], tokens.get(bg)![theme]);
        if (ratio < min) failures.push(`${fg} on ${bg}: ${ratio.toFixed(2)} < ${min}`);
      }
      expect(failures).toEqual([]);
    });
  }
});
