/**
 * What Bulwark knows about the places an office may keep its backups: one preset per provider, as plain
 * data both sides use (the "Add target" wizard shows it; the main side uses it to word advice). The facts
 * come from the providers' public documentation and the issue trackers of other backup tools (Kopia,
 * restic, SFTPGo), and from our own measurements on Ceph RGW 16.2.15 (docs/DECISIONS.md, Immutability).
 *
 * Prices are list prices in US dollars per GB and month (1 GB = 10^9 bytes, as providers bill) when this
 * version was written; the wizard says so and points at the provider's own price page. Whether a bucket
 * really keeps backups immutable is never taken from here: the self-test (targets.test) decides.
 */

export type ProviderId = 'aws' | 'wasabi' | 'b2' | 'nas-s3' | 's3-other' | 'folder';

/** When Object Lock can be switched on for a bucket. */
export type LockAvailability =
  /** only when the bucket is created: an existing bucket without it cannot be used (make a new one) */
  | 'at-creation'
  /** also on an existing bucket (with versioning on), but once on it can never be switched off */
  | 'existing-bucket'
  /** no server-enforced lock at all (a folder): tamper-evident, not immutable */
  | 'none';

export interface ProviderRegion {
  id: string;
  label: string;
}

export interface ProviderPreset {
  id: ProviderId;
  /** what the wizard's list says */
  name: string;
  /** one line under the name */
  summary: string;
  kind: 's3' | 'fs';
  /**
   * The address of the service. `{region}` is replaced with the chosen region; absent: the provider's
   * default (AWS), or the person types it (a NAS, other services).
   */
  endpointTemplate?: string;
  /** shown as the example in the address field when there is no template */
  endpointExample?: string;
  /** the regions offered (the first is the default); empty: the person types one (or none) */
  regions: readonly ProviderRegion[];
  /** the region field may be left empty (the server ignores it) */
  regionOptional: boolean;
  lock: LockAvailability;
  /** the lock facts in plain words (when and how it can be switched on) */
  lockNote: string;
  /** data deleted before this many days is billed as if kept that long (0: no minimum) */
  minStorageDays: number;
  /** what the minimum storage duration means for the bill, in plain words (absent: none) */
  minStorageNote?: string;
  /** list price, US dollars per GB and month; absent where unknown (your own hardware, other services) */
  pricePerGbMonth?: number;
  /** where to check the price */
  priceSource?: string;
  /** what the access keys for Bulwark must be allowed, and must not be allowed, in plain words */
  keyAdvice: readonly string[];
  /** anything else an office should know */
  notes: readonly string[];
}

/** The capabilities of a Backblaze B2 application key for Bulwark (and those it must not have). */
export const B2_KEY_CAPABILITIES = [
  'listAllBucketNames',
  'listFiles',
  'readFiles',
  'writeFiles',
  'readBucketRetentions',
  'readFileRetentions',
  'writeFileRetentions',
  'readFileLegalHolds',
  'writeFileLegalHolds',
] as const;
export const B2_FORBIDDEN_CAPABILITIES = [
  'deleteFiles',
  'bypassGovernance',
  'writeBucketRetentions',
  'writeBuckets',
  'deleteBuckets',
  'writeKeys',
  'deleteKeys',
] as const;

const OWNER_KEYS_WARNING =
  'Do not use the keys of the account owner: whoever holds them may be able to lift the locks. The test ' +
  'below tells you, and gives the exact permissions to copy if the keys can do too much.';

export const PROVIDERS: readonly ProviderPreset[] = [
  {
    id: 'aws',
    name: 'Amazon S3',
    summary: 'Amazon Web Services cloud storage.',
    kind: 's3',
    regions: [
      { id: 'us-east-1', label: 'US East (N. Virginia)' },
      { id: 'us-west-2', label: 'US West (Oregon)' },
      { id: 'eu-central-1', label: 'Europe (Frankfurt)' },
      { id: 'eu-west-1', label: 'Europe (Ireland)' },
      { id: 'eu-west-2', label: 'Europe (London)' },
      { id: 'ca-central-1', label: 'Canada (Central)' },
      { id: 'ap-southeast-2', label: 'Asia Pacific (Sydney)' },
    ],
    regionOptional: false,
    lock: 'existing-bucket',
    lockNote:
      'Object Lock can be switched on when the bucket is created, or later on a bucket with versioning on. ' +
      'Once on, it can never be switched off.',
    minStorageDays: 0,
    minStorageNote:
      'The Standard storage class has no minimum. Colder classes (Infrequent Access, Glacier) bill 30 to ' +
      '180 days at least: keep the bucket on Standard.',
    pricePerGbMonth: 0.023,
    priceSource: 'aws.amazon.com/s3/pricing (S3 Standard, US East)',
    keyAdvice: [
      'Create a separate IAM user for Bulwark and give it only the policy the test shows: write, read and ' +
        'list backups and extend their locks.',
      'The policy must explicitly deny s3:BypassGovernanceRetention, s3:DeleteObjectVersion and ' +
        's3:DeleteObject, and any change to the bucket’s policy, versioning or lock settings.',
      OWNER_KEYS_WARNING,
    ],
    notes: [],
  },
  {
    id: 'wasabi',
    name: 'Wasabi',
    summary: 'Hot cloud storage with no fees for downloads.',
    kind: 's3',
    endpointTemplate: 'https://s3.{region}.wasabisys.com',
    regions: [
      { id: 'us-east-1', label: 'US East 1 (N. Virginia)' },
      { id: 'us-east-2', label: 'US East 2 (N. Virginia)' },
      { id: 'us-central-1', label: 'US Central 1 (Texas)' },
      { id: 'us-west-1', label: 'US West 1 (Oregon)' },
      { id: 'ca-central-1', label: 'Canada (Toronto)' },
      { id: 'eu-central-1', label: 'Europe (Amsterdam)' },
      { id: 'eu-central-2', label: 'Europe (Frankfurt)' },
      { id: 'eu-west-1', label: 'Europe (London)' },
      { id: 'eu-west-2', label: 'Europe (Paris)' },
      { id: 'ap-southeast-2', label: 'Asia Pacific (Sydney)' },
    ],
    regionOptional: false,
    lock: 'at-creation',
    lockNote:
      'Object Lock can only be switched on when the bucket is created ("Object Locking" in the create ' +
      'bucket screen). A bucket made without it cannot be used: create a new one.',
    minStorageDays: 90,
    minStorageNote:
      'Wasabi bills every object for at least 90 days (30 days on reserved capacity plans): deleting ' +
      'backups sooner saves nothing, so a lock shorter than 90 days costs the same as 90 days.',
    pricePerGbMonth: 0.00699,
    priceSource: 'wasabi.com/pricing (pay as you go)',
    keyAdvice: [
      'Create a sub-user for Bulwark with a policy of its own (Wasabi accepts the same policies as AWS): ' +
        'the test shows the one to copy.',
      OWNER_KEYS_WARNING,
    ],
    notes: ['Wasabi slows down clients that send many requests at once; Bulwark waits and tries again.'],
  },
  {
    id: 'b2',
    name: 'Backblaze B2',
    summary: 'Low-cost cloud storage, through its S3-compatible address.',
    kind: 's3',
    endpointTemplate: 'https://s3.{region}.backblazeb2.com',
    regions: [
      { id: 'us-west-004', label: 'US West (us-west-004)' },
      { id: 'us-west-002', label: 'US West (us-west-002)' },
      { id: 'us-west-001', label: 'US West (us-west-001)' },
      { id: 'us-east-005', label: 'US East (us-east-005)' },
      { id: 'eu-central-003', label: 'Europe (eu-central-003)' },
    ],
    regionOptional: false,
    lock: 'existing-bucket',
    lockNote:
      'Object Lock ("File Lock" in the Backblaze web site) can be switched on when the bucket is created, ' +
      'or once on an existing bucket; it can never be switched off. The bucket’s address shows its region.',
    minStorageDays: 0,
    pricePerGbMonth: 0.006,
    priceSource: 'backblaze.com/cloud-storage/pricing',
    keyAdvice: [
      `Create an application key for this bucket only, with the capabilities ${B2_KEY_CAPABILITIES.join(', ')}.`,
      `The key must not have ${B2_FORBIDDEN_CAPABILITIES.join(', ')}.`,
      'Such a key can still hide a file by name; Bulwark reads the locked original by its version, so ' +
        'nothing is lost.',
    ],
    notes: [],
  },
  {
    id: 'nas-s3',
    name: 'NAS or server with S3 (MinIO, Ceph)',
    summary: 'Your own storage in the office that offers an S3 service.',
    kind: 's3',
    endpointExample: 'http://nas.local:9000',
    regions: [],
    regionOptional: true,
    lock: 'at-creation',
    lockNote:
      'Object Lock must be switched on when the bucket is created (MinIO: "Object Locking"; Ceph: ' +
      'object lock enabled). MinIO supports it only on storage set up with several disks (erasure coding), ' +
      'not on a single-disk or gateway setup.',
    minStorageDays: 0,
    keyAdvice: [
      'Create a separate user for Bulwark and give it the bucket policy the test shows; the policy must ' +
        'deny s3:BypassGovernanceRetention (on Ceph, anyone allowed to change locks can otherwise lift ' +
        'governance locks).',
      OWNER_KEYS_WARNING,
    ],
    notes: [
      'Some of these servers accept lock settings they do not keep (for example Ceph before version 19 on ' +
        'large uploads). Bulwark writes every object in one piece with its lock and reads the lock back; the ' +
        'test proves it on your server.',
      'Whoever administers the NAS itself can still erase its disks: keep a second copy off site.',
    ],
  },
  {
    id: 's3-other',
    name: 'Other S3-compatible service',
    summary: 'OVHcloud, Scaleway, Hetzner, IDrive e2 and others.',
    kind: 's3',
    endpointExample: 'https://s3.example.com',
    regions: [],
    regionOptional: true,
    lock: 'at-creation',
    lockNote:
      'Most services let you switch Object Lock on only when the bucket is created: create the bucket with ' +
      'it on. The test shows whether this service really keeps the locks.',
    minStorageDays: 0,
    minStorageNote: 'Some services bill a minimum storage period: check their price page.',
    keyAdvice: [
      'Use keys that may write, read and list backups and extend their locks, but not delete versions, ' +
        'shorten locks or change the bucket: the test shows the policy to copy.',
      OWNER_KEYS_WARNING,
    ],
    notes: ['Hetzner needs path-style addresses, which Bulwark uses for every service given by address.'],
  },
  {
    id: 'folder',
    name: 'Network drive or folder',
    summary: 'A folder on this computer, a USB disk or a shared folder on a NAS.',
    kind: 'fs',
    regions: [],
    regionOptional: true,
    lock: 'none',
    lockNote:
      'A folder cannot lock backups: Bulwark writes each file once and read-only and detects any change, ' +
      'but whoever can write to the folder (or a virus running as them) can still delete the backups.',
    minStorageDays: 0,
    keyAdvice: [],
    notes: [
      'For backups nobody can delete, use cloud storage with Object Lock, or the S3 service of your NAS.',
    ],
  },
];

export function providerById(id: ProviderId): ProviderPreset {
  const p = PROVIDERS.find((x) => x.id === id);
  if (!p) throw new Error(`no provider ${id}`);
  return p;
}

/** The service's address for a region (`{region}` filled in); undefined without a template or region. */
export function providerEndpoint(p: ProviderPreset, region: string): string | undefined {
  if (p.endpointTemplate === undefined) return undefined;
  const r = region.trim();
  return r === '' ? undefined : p.endpointTemplate.replace('{region}', r);
}

/** Services that look like S3 but cannot lock, and why: the wizard explains them rather than accept them. */
export const CANNOT_LOCK: readonly { name: string; why: string }[] = [
  {
    name: 'Cloudflare R2',
    why:
      'R2 ignores the S3 lock settings (they are not implemented). Its own “bucket locks” can be removed by ' +
      'anyone whose key may change the bucket’s settings, so a stolen key could delete the backups.',
  },
  {
    name: 'Google Cloud Storage',
    why:
      'Its S3-compatible access does not support S3 Object Lock; it has a retention system of its own that ' +
      'Bulwark does not use yet.',
  },
  {
    name: 'Microsoft Azure Blob Storage',
    why: 'It has no S3-compatible access; its immutability policies need a separate connector (planned).',
  },
];

/** Average days per month, for turning a price per month into a price per day. */
const DAYS_PER_MONTH = 365.25 / 12;

export interface LockCostEstimate {
  /** days each GB written is billed at least: the lock period, or the provider's minimum if longer */
  billedDays: number;
  /** US dollars for keeping `storedGb` for `billedDays` (what a backup of that size costs at least) */
  lockedCost: number;
  /** US dollars per month for keeping `storedGb` */
  monthlyCost: number;
  /** the minimum storage duration of the provider made the billed days longer than the lock */
  minimumApplies: boolean;
}

/**
 * What keeping backups locked costs at least: stored GB × days billed × the price per GB-day, where days
 * billed is the lock period or the provider's minimum storage duration, whichever is longer (a locked
 * object cannot be deleted earlier; one deleted before the minimum is billed the minimum anyway).
 * Undefined where the price is unknown.
 */
export function estimateLockCost(opts: {
  storedGb: number;
  lockDays: number;
  pricePerGbMonth: number | undefined;
  minStorageDays?: number;
}): LockCostEstimate | undefined {
  const { storedGb, lockDays, pricePerGbMonth } = opts;
  if (pricePerGbMonth === undefined) return undefined;
  if (!(storedGb >= 0) || !(lockDays >= 0) || !(pricePerGbMonth >= 0) || !Number.isFinite(storedGb))
    return undefined;
  const minimum = opts.minStorageDays ?? 0;
  const billedDays = Math.max(lockDays, minimum);
  const perDay = pricePerGbMonth / DAYS_PER_MONTH;
  return {
    billedDays,
    lockedCost: storedGb * billedDays * perDay,
    monthlyCost: storedGb * pricePerGbMonth,
    minimumApplies: minimum > lockDays,
  };
}

/** "$1.23", "$1,234", "less than $0.01": dollars as a person reads them. */
export function formatDollars(amount: number): string {
  if (amount >= 1000) return `$${Math.round(amount).toLocaleString('en-US')}`;
  if (amount > 0 && amount < 0.005) return 'less than $0.01';
  return `$${amount.toFixed(2)}`;
}
