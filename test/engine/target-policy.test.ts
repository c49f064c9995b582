/** leastPrivilegePolicy: the shape measured on Ceph RGW (measured), pure. */
import { describe, expect, it } from 'vitest';

import { isBulwarkError } from '../../src-main/engine/errors.ts';
import {
  leastPrivilegePolicy,
  PRINCIPAL_PLACEHOLDER,
  type PolicyStatement,
} from '../../src-main/engine/target/policy.ts';

const actions = (statements: PolicyStatement[], effect: 'Allow' | 'Deny'): string[] =>
  statements
    .filter((s) => s.Effect === effect)
    .flatMap((s) => s.Action)
    .sort();

describe('leastPrivilegePolicy', () => {
  it('allows writing, reading, listing and extending locks; explicitly denies deletion, bypass and bucket changes', () => {
    const p = leastPrivilegePolicy({
      bucket: 'backups',
      prefix: '/office-pc/',
      principalArn: 'arn:aws:iam:::user/writer',
    });
    const st = p.awsBucketPolicy.Statement;
    expect(p.awsBucketPolicy.Version).toBe('2012-10-17');
    expect(actions(st, 'Allow')).toEqual(
      [
        's3:PutObject',
        's3:GetObject',
        's3:GetObjectVersion',
        's3:GetObjectRetention',
        's3:PutObjectRetention',
        's3:GetObjectLegalHold',
        's3:PutObjectLegalHold',
        's3:ListBucket',
        's3:ListBucketVersions',
        's3:GetBucketObjectLockConfiguration',
        's3:GetBucketVersioning',
      ].sort(),
    );
    expect(actions(st, 'Deny')).toEqual(
      [
        's3:BypassGovernanceRetention',
        's3:DeleteObjectVersion',
        's3:DeleteObject',
        's3:PutBucketPolicy',
        's3:DeleteBucketPolicy',
        's3:PutBucketObjectLockConfiguration',
        's3:PutBucketVersioning',
      ].sort(),
    );
    // nothing both allowed and denied, and no wildcard actions
    expect(actions(st, 'Allow').filter((a) => actions(st, 'Deny').includes(a))).toEqual([]);
    expect(st.flatMap((s) => s.Action).some((a) => a.includes('*'))).toBe(false);

    // every statement names the principal; resources: objects under the prefix, the bucket, or (denies) all objects
    for (const s of st) expect(s.Principal).toEqual({ AWS: ['arn:aws:iam:::user/writer'] });
    const byAction = (a: string): string[] => st.find((s) => s.Action.includes(a))?.Resource ?? [];
    expect(byAction('s3:PutObject')).toEqual(['arn:aws:s3:::backups/office-pc/*']);
    expect(byAction('s3:PutObjectRetention')).toEqual(['arn:aws:s3:::backups/office-pc/*']);
    expect(byAction('s3:ListBucket')).toEqual(['arn:aws:s3:::backups']);
    expect(byAction('s3:GetBucketObjectLockConfiguration')).toEqual(['arn:aws:s3:::backups']);
    expect(byAction('s3:BypassGovernanceRetention')).toEqual(['arn:aws:s3:::backups/*']);
    expect(byAction('s3:DeleteObjectVersion')).toEqual(['arn:aws:s3:::backups/*']);
    expect(byAction('s3:PutBucketPolicy')).toEqual(['arn:aws:s3:::backups']);
    // Sids are unique (AWS requires it)
    expect(new Set(st.map((s) => s.Sid)).size).toBe(st.length);
  });

  it('gives the same statements without Principal as an IAM policy', () => {
    const p = leastPrivilegePolicy({ bucket: 'backups', prefix: 'x', principalArn: 'arn:aws:iam:::user/w' });
    expect(p.awsIamPolicy.Statement.every((s) => s.Principal === undefined)).toBe(true);
    expect(p.awsIamPolicy.Statement).toEqual(
      p.awsBucketPolicy.Statement.map(({ Principal: _, ...rest }) => rest),
    );
    // JSON round trip (what PutBucketPolicy / the CLI prints)
    expect(JSON.parse(JSON.stringify(p.awsBucketPolicy))).toEqual(p.awsBucketPolicy);
  });

  it('names the B2 key capabilities it needs and those it must not have', () => {
    const p = leastPrivilegePolicy({ bucket: 'backups', prefix: 'pc' });
    for (const c of ['writeFiles', 'listFiles', 'readFiles', 'writeFileRetentions', 'writeFileLegalHolds']) {
      expect(p.b2Capabilities).toContain(c);
    }
    for (const c of ['deleteFiles', 'bypassGovernance', 'writeBucketRetentions', 'writeKeys']) {
      expect(p.b2ForbiddenCapabilities).toContain(c);
      expect(p.b2Capabilities).not.toContain(c);
      expect(p.explanation).toContain(c);
    }
    expect(p.explanation).toContain('s3:BypassGovernanceRetention');
    expect(p.explanation).toContain('pc/');
  });

  it('says plainly what a stolen writer key can and cannot do', () => {
    const p = leastPrivilegePolicy({ bucket: 'backups' });
    expect(p.explanation).toMatch(/can still do.*put a new version over any backup object/s);
    expect(p.explanation).toMatch(/reads back exactly the versions it wrote/);
    expect(p.explanation).toMatch(/cannot do: delete, shorten or overwrite any locked version/);
    expect(p.explanation).toContain('without the repository password they are unreadable');
  });

  it('without legal holds: no legal-hold permissions or capabilities', () => {
    const p = leastPrivilegePolicy({ bucket: 'backups', legalHold: false });
    const allowed = actions(p.awsIamPolicy.Statement, 'Allow');
    expect(allowed).not.toContain('s3:PutObjectLegalHold');
    expect(allowed).not.toContain('s3:GetObjectLegalHold');
    expect(p.b2Capabilities).not.toContain('writeFileLegalHolds');
  });

  it('without a prefix covers the whole bucket; without a principal uses a placeholder to replace', () => {
    const p = leastPrivilegePolicy({ bucket: 'backups' });
    const put = p.awsBucketPolicy.Statement.find((s) => s.Action.includes('s3:PutObject'));
    expect(put?.Resource).toEqual(['arn:aws:s3:::backups/*']);
    expect(put?.Principal).toEqual({ AWS: [PRINCIPAL_PLACEHOLDER] });
    expect(p.explanation).toContain(PRINCIPAL_PLACEHOLDER);
  });

  it('refuses bucket names and prefixes that would make a wrong policy', () => {
    for (const opts of [{ bucket: 'a' }, { bucket: 'bad/bucket' }, { bucket: 'ok-bucket', prefix: 'x*' }]) {
      let err: unknown;
      try {
        leastPrivilegePolicy(opts);
      } catch (e) {
        err = e;
      }
      expect(isBulwarkError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
