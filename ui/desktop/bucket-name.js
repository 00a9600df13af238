// bucket-name.js: S3's bucket naming rules, checked as the name is typed in the settings view.
//
// A copy of crates/core/src/source/manage/bucket_name.rs (the reference, with the table test):
// the same rules in the same order, the same messages. The server checks again before it asks
// the store, so this copy only saves a round trip.

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** Why `name` is not a valid bucket name, or null when it is. */
export function bucketNameProblem(name) {
  const chars = [...name];
  if (chars.length < 3 || chars.length > 63) {
    return `a bucket name has 3 to 63 characters (this one has ${chars.length})`;
  }
  const bad = chars.find((c) => !/^[a-z0-9.-]$/.test(c));
  if (bad !== undefined) {
    return `a bucket name may only hold lowercase letters, digits, '-' and '.' (not ${JSON.stringify(bad)})`;
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return 'a bucket name starts and ends with a lowercase letter or a digit';
  }
  const pair = ['..', '.-', '-.'].find((p) => name.includes(p));
  if (pair) return `a bucket name may not contain ${JSON.stringify(pair)}`;
  const parts = name.split('.');
  if (parts.length === 4 && parts.every((p) => /^[0-9]+$/.test(p))) {
    return 'a bucket name may not look like an IP address (such as 192.168.1.2)';
  }
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `bucket names starting with ${JSON.stringify(prefix)} are reserved by S3`;
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `bucket names ending with ${JSON.stringify(suffix)} are reserved by S3`;
  return null;
}
