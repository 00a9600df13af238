//! The three-node Garage cluster of `scripts/garage.sh start-cluster` (replication factor 3):
//! a smoke test that it replicates, the ground the failover tests of issue #15 stand on.

use bucketstream_core::source::s3::S3Source;

use crate::common::{bytes, put, Garage};

#[tokio::test]
async fn a_three_node_cluster_serves_with_one_node_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garage = Garage::cluster(dir.path());
    let client = garage.client();
    let bucket = garage.bucket(&client, "cluster").await;
    let body = bytes(300_000, 15);
    put(&client, &bucket, "music/a b/track.mp3", body.clone()).await;

    // Node 2 is not the endpoint's node: reads and listings still have a quorum (2 of 3).
    garage.stop_node(2);
    let got = client
        .get_object()
        .bucket(&bucket)
        .key("music/a b/track.mp3")
        .send()
        .await
        .expect("get with node 2 stopped");
    let got = got.body.collect().await.expect("body").into_bytes();
    assert!(
        got.as_ref() == body.as_slice(),
        "the object reads back byte-exact"
    );
    let source = S3Source::new(&garage.source(&bucket)).await;
    let listed = source.list().await.expect("list with node 2 stopped");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, "music/a b/track.mp3");
    assert_eq!(listed[0].size, body.len() as u64);

    // Back again, it serves as a member (the endpoint still answers, nothing lost).
    garage.start_node(2);
    let again = client
        .head_object()
        .bucket(&bucket)
        .key("music/a b/track.mp3")
        .send()
        .await
        .expect("head after node 2 returned");
    assert_eq!(again.content_length(), Some(body.len() as i64));
}
