// lib/s3.js: S3 access for the browser tests (Garage on loopback, path-style): creates the
// test bucket and uploads the fixture folder, and lets a test put or delete one object while
// the player is open. Run as `node lib/s3.js upload BUCKET DIR` from run.sh.

import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { S3Client, CreateBucketCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';

/** A client for the endpoint in S3_ENDPOINT (or BUCKETSTREAM_TEST_S3_ENDPOINT). */
export function client() {
  const endpoint = process.env.S3_ENDPOINT || process.env.BUCKETSTREAM_TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error('S3_ENDPOINT is not set');
  return new S3Client({
    endpoint,
    region: process.env.AWS_REGION || 'garage',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    },
  });
}

const TYPES = { mp3: 'audio/mpeg', m4a: 'audio/mp4', mp4: 'video/mp4', webm: 'video/webm' };

/** Puts one object. */
export async function put(bucket, key, body) {
  const ext = key.split('.').pop().toLowerCase();
  await client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: TYPES[ext] || 'application/octet-stream' }));
}

/** Deletes one object. */
export async function del(bucket, key) {
  await client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Creates `bucket` and uploads every file under `dir` with its relative path as the key. */
export async function upload(bucket, dir) {
  const s3 = client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  let n = 0;
  for await (const path of walk(dir)) {
    const key = relative(dir, path).split(sep).join('/');
    await put(bucket, key, await readFile(path));
    n += 1;
  }
  return n;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cmd, bucket, dir] = process.argv.slice(2);
  if (cmd !== 'upload' || !bucket || !dir) {
    console.error('usage: node lib/s3.js upload BUCKET DIR');
    process.exit(2);
  }
  const n = await upload(bucket, dir);
  console.error(`browser-tests: uploaded ${n} objects to ${bucket}`);
}
