// errors.js: GENERATED from crates/core/src/error/code.rs (`ErrorCode::help`); do not edit.
// To change a text, edit code.rs, then run
//   BUCKETSTREAM_BLESS=1 cargo test -p bucketstream-core --lib wire::tests::ui_
// (the test fails while this file differs from what the enum generates).

/** Title and help for the server's (and the desktop shell's) error codes, by code. */
export const ERROR_HELP = {
  config: ["Bucketstream is not configured correctly", "Correct the setting the message names (settings file, environment or flag)."],
  folder_unreadable: ["A media folder cannot be read", "Check that the media folder (in the settings, or the server's --media-dir) exists and is readable."],
  cache_dir_foreign: ["The cache folder holds other files", "The cache only uses an empty folder or one it made: set `dir` in the settings file's [cache] table to a new folder (nothing in this one was touched)."],
  cache_dir_unusable: ["The cache folder cannot be used", "Check that the cache folder is writable and the disk has room."],
  endpoint_unreachable: ["S3 is unreachable", "Check the endpoint URL and the network connection; the server did not answer. Bucketstream keeps retrying on its own."],
  bad_credentials: ["S3 refused the credentials", "Check the access key id and the secret access key (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile)."],
  access_denied: ["S3 denied access", "The key works but may not list or read this bucket: grant it read access."],
  no_such_bucket: ["The bucket does not exist", "Check the bucket name (and the region or endpoint it lives at) in the settings, or the server's --bucket / BUCKET_NAME."],
  upstream: ["The storage answered with an error", "Bucketstream keeps retrying; its log has the details."],
  no_keyring: ["No keyring is available", "Credentials cannot be saved. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or use an AWS profile (~/.aws/credentials), then restart."],
  lan_bind: ["The media server cannot start", "Choose another port in the LAN settings."],
  ffmpeg_missing: ["This item needs ffmpeg to play", "The browser cannot play this format as it is, and the host has no ffmpeg to convert it: install ffmpeg on the host (Debian: apt install ffmpeg), or download the file."],
};
