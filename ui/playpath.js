// playpath.js: how an item plays in this browser, decided from what the browser says it
// decodes (MediaSource.isTypeSupported, canPlayType, then MediaCapabilities.decodingInfo for
// the stream the first two chose, with the file's size, bitrate and frame rate) and what the
// library read from the file (video_codec, audio_codec, width, height, bitrate, the extension). In this order: direct play (/media, ranges);
// remux (streams copied into fragmented MP4: e.g. an mkv of H.264/AAC); audio transcode (video
// copied, sound to AAC: AC3/DTS soundtracks); full transcode (HEVC, MPEG-2, MPEG-4 Part 2 to
// H.264). Pure: the browser's answers come in as `caps`, so the choices are table-tested in a
// real browser (tests/browser/transcode.test.js) without playing anything.
//
// A transcoded stream starts at `start` seconds into the item (the server's X-Start says
// exactly where, at or before it); the player shows `offset + media.currentTime`.

/** MIME types of the containers browsers may play as they are, by extension. */
const NATIVE = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/mp4',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
};

/** RFC 6381 codec strings for ffprobe's codec names (what the library stores). */
const CODECS = {
  h264: 'avc1.42E01E',
  hevc: 'hvc1.1.6.L93.B0',
  vp8: 'vp8',
  vp9: 'vp09.00.10.08',
  av1: 'av01.0.04M.08',
  mpeg4: 'mp4v.20.9',
  aac: 'mp4a.40.2',
  mp3: 'mp4a.6B',
  opus: 'opus',
  vorbis: 'vorbis',
  flac: 'flac',
  ac3: 'ac-3',
  eac3: 'ec-3',
  alac: 'alac',
};

/** The extension of an item's key, lowercase ('' without one). */
export function extension(item) {
  const name = String(item.key || item.name || '').split('/').pop();
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** The browser's answers, as `caps` for choosePath. */
export function browserCaps() {
  const probe = document.createElement('video');
  const ms = typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported ? MediaSource : null;
  return {
    canPlayType: (type) => probe.canPlayType(type),
    isTypeSupported: (type) => (ms ? ms.isTypeSupported(type) : false),
    decodingInfo: navigator.mediaCapabilities && navigator.mediaCapabilities.decodingInfo
      ? (config) => navigator.mediaCapabilities.decodingInfo(config)
      : null,
  };
}

/**
 * Whether `caps` decodes `mime` with the codecs named (ffprobe names; null = no such stream).
 * A codec the table does not know cannot be asked about: false.
 */
export function decodes(caps, mime, video, audio) {
  const names = [video, audio].filter(Boolean);
  if (names.some((n) => !CODECS[n])) return false;
  if (!names.length) return caps.canPlayType(mime) !== '';
  const type = `${mime}; codecs="${names.map((n) => CODECS[n]).join(', ')}"`;
  return caps.isTypeSupported(type) || caps.canPlayType(type) === 'probably';
}

/**
 * How `item` plays: {how: 'direct'} or {how: 'transcode', mode: 'remux'|'audio'|'full'}, and
 * `guess: true` when the library knows no codecs (then a failed direct play falls back to a
 * full transcode, once: fallbackPath).
 */
export function choosePath(item, caps) {
  const ext = extension(item);
  const native = NATIVE[ext];
  const video = item.kind === 'video' ? item.video_codec || null : null;
  const audio = item.audio_codec || null;
  if (item.kind === 'audio') {
    if (!audio) return native && caps.canPlayType(native) !== '' ? { how: 'direct', guess: true } : { how: 'transcode', mode: 'audio' };
    if (native && decodes(caps, native, null, audio)) return { how: 'direct' };
    if (decodes(caps, 'audio/mp4', null, audio)) return { how: 'transcode', mode: 'remux' };
    return { how: 'transcode', mode: 'audio' };
  }
  if (!video && !audio) {
    return native && caps.canPlayType(native) !== '' ? { how: 'direct', guess: true } : { how: 'transcode', mode: 'full' };
  }
  if (native && decodes(caps, native, video, audio)) return { how: 'direct' };
  if (video && decodes(caps, 'video/mp4', video, audio)) return { how: 'transcode', mode: 'remux' };
  if (video && decodes(caps, 'video/mp4', video, audio ? 'aac' : null)) return { how: 'transcode', mode: 'audio' };
  return { how: 'transcode', mode: 'full' };
}

/**
 * The MediaCapabilities configuration of what `path` would feed the decoder for `item`: the
 * file itself (direct) or a fragmented MP4 through Media Source (remux, audio transcode); null
 * when there is nothing to ask (no codecs known, a full transcode, which is always H.264/AAC).
 */
export function decodingConfig(item, path) {
  if (path.how === 'direct' && path.guess) return null;
  if (path.how === 'transcode' && path.mode === 'full') return null;
  const direct = path.how === 'direct';
  const mime = direct ? NATIVE[extension(item)] : item.kind === 'audio' ? 'audio/mp4' : 'video/mp4';
  const video = item.kind === 'video' ? item.video_codec || null : null;
  let audio = item.audio_codec || null;
  if (path.how === 'transcode' && path.mode === 'audio') audio = (audio || item.kind === 'audio') ? 'aac' : null; // the sound becomes AAC
  if (!mime || (!video && !audio) || [video, audio].some((c) => c && !CODECS[c])) return null;
  const kbps = Number(item.bitrate_kbps) || 0;
  const config = { type: direct ? 'file' : 'media-source' };
  if (video) {
    config.video = {
      contentType: `${mime}; codecs="${CODECS[video]}"`,
      width: Number(item.width) || 1280,
      height: Number(item.height) || 720,
      bitrate: Math.max(1, kbps * 1000 || 2_000_000),
      framerate: 30,
    };
  }
  if (audio) {
    const audioMime = video ? mime.replace('video/', 'audio/') : mime;
    config.audio = { contentType: `${audioMime}; codecs="${CODECS[audio]}"` };
  }
  return config;
}

/**
 * choosePath, then asked of MediaCapabilities where the browser has it: a direct play or a
 * remux its decoder says it cannot take (a codec profile, level or picture size beyond it)
 * becomes a full transcode (a video) or an audio transcode (audio). Its `smooth` and
 * `powerEfficient` are not used: a file the browser decodes slowly would be transcoded more
 * slowly still on a small host.
 */
export async function decidePath(item, caps) {
  const path = choosePath(item, caps);
  const config = caps.decodingInfo ? decodingConfig(item, path) : null;
  if (!config) return path;
  try {
    const info = await caps.decodingInfo(config);
    if (info && info.supported === false) {
      return { how: 'transcode', mode: item.kind === 'audio' ? 'audio' : 'full', decoder: 'unsupported' };
    }
  } catch {
    /* a configuration this browser will not even consider: keep the first answer */
  }
  return path;
}

/** The path after a media error on `path`, or null when there is nothing else to try. */
export function fallbackPath(item, path) {
  if (path.how === 'direct' && path.guess) return { how: 'transcode', mode: item.kind === 'audio' ? 'audio' : 'full' };
  if (path.how === 'transcode' && path.mode !== 'full' && item.kind === 'video') return { how: 'transcode', mode: 'full' };
  return null;
}

/** The path of a transcode of `item` in `mode` from `start` seconds, for `session`. */
export function transcodePath(item, mode, start, session) {
  const q = new URLSearchParams({ mode });
  if (start > 0) q.set('start', (Math.round(start * 1000) / 1000).toString());
  if (session) q.set('session', session);
  return `/transcode/${item.id}?${q}`;
}

/** Whether `t` (seconds into the stream) lies in one of the ranges [[start, end], …]. */
export function inRanges(ranges, t) {
  return ranges.some(([a, b]) => t >= a && t <= b + 0.5);
}
