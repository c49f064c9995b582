/**
 * The least-privilege "backup writer" credentials for an S3 Object Lock target (DESIGN.md §5), in the
 * shape measured on Ceph RGW 16.2.15 (measured):
 * the writer may write, read, list and EXTEND locks, but not delete versions, shorten locks, bypass
 * GOVERNANCE, or change versioning, the lock configuration or the policy.
 *
 * The explicit Deny of s3:BypassGovernanceRetention is what matters most: on RGW an identity that is
 * allowed PutObjectRetention or DeleteObjectVersion can bypass GOVERNANCE unless bypass is denied.
 */
import { BulwarkError } from '../errors.ts';

export interface LeastPrivilegeOptions {
  bucket: string;
  /** key prefix of the repository inside the bucket ('' for the whole bucket); '/' at either end ignored */
  prefix?: string;
  /**
   * Who the bucket policy is for: e.g. `arn:aws:iam::123456789012:user/bulwark` on AWS,
   * `arn:aws:iam:::user/NAME` on Ceph RGW. Default: a placeholder to replace.
   */
  principalArn?: string;
  /** also allow placing/lifting legal holds (Get/PutObjectLegalHold); default true (Bulwark sets holds) */
  legalHold?: boolean;
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: { AWS: string[] };
  Action: string[];
  Resource: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface LeastPrivilegePolicy {
  /** a bucket policy (with Principal) the bucket owner sets with PutBucketPolicy */
  awsBucketPolicy: PolicyDocument;
  /** the same statements without Principal: an IAM user policy (AWS IAM, or the IAM API of RGW) */
  awsIamPolicy: PolicyDocument;
  /** the capabilities of a Backblaze B2 application key (restricted to the bucket and prefix) */
  b2Capabilities: string[];
  /** B2 capabilities the key must NOT have */
  b2ForbiddenCapabilities: string[];
  /** what this is and how to apply it, for a person */
  explanation: string;
}

export const PRINCIPAL_PLACEHOLDER = 'arn:aws:iam::<ACCOUNT-ID>:user/<BACKUP-WRITER>';

/** Object-level permissions the writer needs (on bucket/prefix/*). */
const OBJECT_ALLOW = [
  's3:PutObject',
  's3:GetObject',
  's3:GetObjectVersion',
  's3:GetObjectRetention',
  's3:PutObjectRetention',
];
const LEGAL_HOLD_ALLOW = ['s3:GetObjectLegalHold', 's3:PutObjectLegalHold'];
/** Bucket-level permissions the writer needs (on the bucket). HeadBucket needs s3:ListBucket. */
const BUCKET_ALLOW = [
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:GetBucketObjectLockConfiguration',
  's3:GetBucketVersioning',
];
/** Explicitly denied on every object of the bucket (a Deny wins over any Allow elsewhere). */
const OBJECT_DENY = ['s3:BypassGovernanceRetention', 's3:DeleteObjectVersion', 's3:DeleteObject'];
const BUCKET_DENY = [
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutBucketObjectLockConfiguration',
  's3:PutBucketVersioning',
];

const B2_BASE = [
  'listAllBucketNames',
  'listFiles',
  'readFiles',
  'writeFiles',
  'readBucketRetentions',
  'readFileRetentions',
  'writeFileRetentions',
];
const B2_LEGAL_HOLD = ['readFileLegalHolds', 'writeFileLegalHolds'];
const B2_FORBIDDEN = [
  'deleteFiles',
  'bypassGovernance',
  'writeBucketRetentions',
  'writeBuckets',
  'deleteBuckets',
  'writeKeys',
  'deleteKeys',
];

/** The least-privilege policy for a backup writer on `bucket` (objects under `prefix`). Pure. */
export function leastPrivilegePolicy(opts: LeastPrivilegeOptions): LeastPrivilegePolicy {
  const { bucket } = opts;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$/.test(bucket)) {
    throw new BulwarkError('INVALID_ARGUMENT', `invalid bucket name: ${JSON.stringify(bucket)}`);
  }
  const prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (/[*?"\\\s]/.test(prefix)) {
    throw new BulwarkError('INVALID_ARGUMENT', `invalid prefix for a policy: ${JSON.stringify(prefix)}`);
  }
  const legalHold = opts.legalHold ?? true;
  const principal = opts.principalArn ?? PRINCIPAL_PLACEHOLDER;

  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectsArn = prefix === '' ? `${bucketArn}/*` : `${bucketArn}/${prefix}/*`;
  const allObjectsArn = `${bucketArn}/*`;

  const statements: PolicyStatement[] = [
    {
      Sid: 'BulwarkWriterObjects',
      Effect: 'Allow',
      Action: legalHold ? [...OBJECT_ALLOW, ...LEGAL_HOLD_ALLOW] : [...OBJECT_ALLOW],
      Resource: [objectsArn],
    },
    { Sid: 'BulwarkWriterBucket', Effect: 'Allow', Action: [...BUCKET_ALLOW], Resource: [bucketArn] },
    // Denied on the whole bucket, not just the prefix: this principal never needs them anywhere.
    { Sid: 'BulwarkDenyObjectDeletion', Effect: 'Deny', Action: [...OBJECT_DENY], Resource: [allObjectsArn] },
    { Sid: 'BulwarkDenyBucketChanges', Effect: 'Deny', Action: [...BUCKET_DENY], Resource: [bucketArn] },
  ];

  const principalNote =
    opts.principalArn === undefined ? `replace ${PRINCIPAL_PLACEHOLDER} with the writer's ARN; ` : '';
  const where = prefix === '' ? `bucket ${bucket}` : `bucket ${bucket}, prefix ${prefix}/`;
  const explanation = [
    `Least-privilege credentials for Bulwark on ${where}: they can write, read and list backups and`,
    'extend their locks, but cannot delete object versions, shorten a lock, bypass GOVERNANCE retention,',
    'or change the bucket policy, versioning or Object Lock configuration.',
    '',
    `- AWS S3 / S3-compatible servers: as the bucket owner, set awsBucketPolicy on the bucket (${principalNote}on`,
    '  Ceph RGW the principal form is arn:aws:iam:::user/NAME), or attach awsIamPolicy to the writer user.',
    "  Use the writer's keys for Bulwark, never the owner's.",
    '- The explicit Deny of s3:BypassGovernanceRetention is essential: on some servers (Ceph RGW) anyone',
    '  allowed PutObjectRetention or DeleteObjectVersion can otherwise lift GOVERNANCE locks.',
    `- Backblaze B2: an application key restricted to the bucket${
      prefix === '' ? '' : ` and the name prefix ${prefix}/`
    } with the`,
    `  capabilities ${B2_BASE.concat(legalHold ? B2_LEGAL_HOLD : []).join(', ')}; and WITHOUT`,
    `  ${B2_FORBIDDEN.join(', ')}.`,
    '',
    'What these keys can still do, if someone steals them (ransomware on the computer that holds them):',
    '- put a new version over any backup object, or (where DeleteObject is allowed) hide one behind a delete',
    '  marker. The locked original stays: Bulwark reads back exactly the versions it wrote (by version id),',
    '  reports every foreign version (`bulwark verify --locks`, and an alert), and stops backing up when the',
    "  repository's settings object was replaced, so locks cannot be switched off by rewriting it;",
    '- fill the bucket with new objects or versions, which cost storage until their lock (if any) ends;',
    '- read the backups, which stay encrypted: without the repository password they are unreadable;',
    '- lengthen locks (never shorten them).',
    'What they cannot do: delete, shorten or overwrite any locked version Bulwark wrote, bypass GOVERNANCE,',
    'or turn Object Lock or versioning off. So the backups already written survive; replace leaked keys.',
    legalHold
      ? '- Whoever may place a legal hold may also lift it; a lock extension in COMPLIANCE mode nobody can undo.'
      : '- Without the legal-hold permissions Bulwark cannot place legal holds (locks still work).',
  ].join('\n');

  return {
    awsBucketPolicy: {
      Version: '2012-10-17',
      Statement: statements.map(({ Sid, Effect, ...rest }) => ({
        Sid,
        Effect,
        Principal: { AWS: [principal] },
        ...rest,
      })),
    },
    awsIamPolicy: { Version: '2012-10-17', Statement: statements.map((s) => ({ ...s })) },
    b2Capabilities: [...B2_BASE, ...(legalHold ? B2_LEGAL_HOLD : [])],
    b2ForbiddenCapabilities: [...B2_FORBIDDEN],
    explanation,
  };
}
