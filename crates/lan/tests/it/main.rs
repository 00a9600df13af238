//! Integration tests of the core over real services: a local folder and a real Garage S3 store.
//!
//! One test binary (the ripgrep layout) with small helpers in [`common`]. The same HTTP and
//! WebSocket suite ([`suite`]) runs against both sources; S3-only behaviour (pagination past
//! 1,000 objects, credentials and bucket errors, an outage and recovery) is in [`s3`].
//!
//! Garage: the project's test command starts one with `scripts/garage.sh` and exports
//! `BUCKETSTREAM_TEST_GARAGE=DIR`; without it the tests start (or reuse) one under
//! `target/garage-test`. Every test creates its own bucket. The cluster tests ([`cluster`],
//! [`cluster_failover`]) share a three-node cluster: `$BUCKETSTREAM_TEST_GARAGE_CLUSTER`, or
//! one under `target/garage-cluster-test`.

mod apps_wire;
mod byteproxy;
mod cache;
mod cache_dir;
mod cache_faults;
mod cluster;
mod cluster_failover;
mod common;
mod counting;
mod dlna;
mod dlna_events;
mod dlna_transcode;
mod lan_access;
mod lan_common;
mod lan_exhaust;
mod lan_limits;
mod lan_logs;
mod lan_origin;
mod local;
mod local_races;
mod manage;
mod manage_local;
mod paging;
mod paths;
mod positions;
mod proxy;
mod s3;
mod s3_list;
mod scan;
mod scan_fixtures;
mod shutdown;
mod subsonic;
mod subsonic_account;
mod subsonic_folders;
mod subsonic_wire;
mod subtitles;
mod suite;
mod throttle;
mod transcode;
mod transcode_ffmpeg;
mod transcode_reads;
mod tus;
mod upload_kill;
mod uploads;
mod uploads_local;
mod ws_list;
