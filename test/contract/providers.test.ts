import { describe, expect, it } from 'vitest';

import {
  B2_FORBIDDEN_CAPABILITIES,
  B2_KEY_CAPABILITIES,
  CANNOT_LOCK,
  estimateLockCost,
  formatDollars,
  PROVIDERS,
  providerById,
  providerEndpoint,
} from '../../src-main/contract/providers.ts';
import { leastPrivilegePolicy } from '../../src-main/engine/target/policy.ts';

describe('provider presets', () => {
  it('has the six presets the wizard offers, each S3 one with a lock note and key advice', () => {
    expect(PROVIDERS.map((p) => p.id)).toEqual(['aws', 'wasabi', 'b2', 'nas-s3', 's3-other', 'folder']);
    for (const p of PROVIDERS) {
      expect(p.lockNote.length, p.id).toBeGreaterThan(20);
      if (p.kind === 's3') expect(p.keyAdvice.length, p.id).toBeGreaterThan(0);
      expect(p.regions.length > 0 || p.regionOptional, p.id).toBe(true);
    }
    expect(providerById('folder')).toMatchObject({ kind: 'fs', lock: 'none' });
    expect(providerById('wasabi')).toMatchObject({ lock: 'at-creation', minStorageDays: 90 });
    expect(providerById('wasabi').minStorageNote).toMatch(/90 days/);
    expect(providerById('aws').pricePerGbMonth).toBeGreaterThan(0);
    expect(providerById('nas-s3').pricePerGbMonth).toBeUndefined();
  });

  it('fills the region into the endpoint template; no template or region: none', () => {
    expect(providerEndpoint(providerById('wasabi'), 'eu-central-2')).toBe(
      'https://s3.eu-central-2.wasabisys.com',
    );
    expect(providerEndpoint(providerById('b2'), 'us-west-004')).toBe(
      'https://s3.us-west-004.backblazeb2.com',
    );
    expect(providerEndpoint(providerById('b2'), '  ')).toBeUndefined();
    expect(providerEndpoint(providerById('aws'), 'us-east-1')).toBeUndefined();
  });

  it('the B2 capabilities match the policy generator the self-test uses', () => {
    const p = leastPrivilegePolicy({ bucket: 'office-backups', legalHold: true });
    expect([...B2_KEY_CAPABILITIES].sort()).toEqual([...p.b2Capabilities].sort());
    expect([...B2_FORBIDDEN_CAPABILITIES].sort()).toEqual([...p.b2ForbiddenCapabilities].sort());
  });

  it('explains providers that cannot lock, R2 first', () => {
    expect(CANNOT_LOCK[0]?.name).toBe('Cloudflare R2');
    expect(CANNOT_LOCK[0]?.why).toMatch(/ignores the S3 lock settings/);
  });
});

describe('estimateLockCost', () => {
  it('stored GB × lock days × price per GB-day', () => {
    const e = estimateLockCost({ storedGb: 500, lockDays: 30, pricePerGbMonth: 0.006 });
    expect(e?.billedDays).toBe(30);
    expect(e?.monthlyCost).toBeCloseTo(3, 10);
    expect(e?.lockedCost).toBeCloseTo((500 * 30 * 0.006) / (365.25 / 12), 10);
    expect(e?.minimumApplies).toBe(false);
  });

  it('a minimum storage duration longer than the lock sets the floor (Wasabi 90 days)', () => {
    const w = providerById('wasabi');
    const e = estimateLockCost({
      storedGb: 100,
      lockDays: 30,
      pricePerGbMonth: w.pricePerGbMonth,
      minStorageDays: w.minStorageDays,
    });
    expect(e).toMatchObject({ billedDays: 90, minimumApplies: true });
    const longer = estimateLockCost({
      storedGb: 100,
      lockDays: 365,
      pricePerGbMonth: 0.00699,
      minStorageDays: 90,
    });
    expect(longer).toMatchObject({ billedDays: 365, minimumApplies: false });
  });

  it('no estimate without a price or with nonsense input', () => {
    expect(estimateLockCost({ storedGb: 100, lockDays: 30, pricePerGbMonth: undefined })).toBeUndefined();
    expect(estimateLockCost({ storedGb: Number.NaN, lockDays: 30, pricePerGbMonth: 0.01 })).toBeUndefined();
    expect(estimateLockCost({ storedGb: -1, lockDays: 30, pricePerGbMonth: 0.01 })).toBeUndefined();
  });

  it('formats dollars for people', () => {
    expect(formatDollars(0)).toBe('$0.00');
    expect(formatDollars(0.001)).toBe('less than $0.01');
    expect(formatDollars(2.345)).toBe('$2.35');
    expect(formatDollars(12_345.6)).toBe('$12,346');
  });
});
