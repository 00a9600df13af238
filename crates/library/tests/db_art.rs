//! The art store on a real SQLite file: deduplication, real resized JPEG copies (checked by
//! decoding them and with ffprobe), and hostile pictures (garbage, truncated, a
//! decompression-bomb header) refused without a panic and without a large allocation.
//!
//! This binary counts heap bytes with its own global allocator; its tests take one lock so
//! the peak measured is theirs alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use bucketstream_library::art::{ArtError, ArtSize};
use bucketstream_library::db::{Db, DbError};
use image::{ImageFormat, RgbImage, RgbaImage};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only adds counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Peak heap bytes above the starting level while `f` runs.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

fn encode(image: &image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn gradient(w: u32, h: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    }))
}

fn art_rows(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .expect("raw")
        .query_row("SELECT count(*) FROM art", [], |r| r.get(0))
        .expect("count")
}

/// Width and height of a JPEG as ffprobe (an independent decoder) reads them.
fn ffprobe_size(bytes: &[u8], dir: &Path) -> (u32, u32) {
    let file = dir.join("copy.jpg");
    std::fs::write(&file, bytes).expect("write");
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&file)
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let parts: Vec<&str> = text.split(',').collect();
    assert_eq!(parts.first().copied(), Some("mjpeg"), "{text}");
    (
        parts[1].parse().expect("width"),
        parts[2].parse().expect("height"),
    )
}

fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .expect("guess");
    assert_eq!(reader.format(), Some(ImageFormat::Jpeg));
    let decoded = reader.decode().expect("a real JPEG");
    (decoded.width(), decoded.height())
}

#[test]
fn art_is_deduplicated_and_its_copies_are_real_jpegs_of_the_right_size() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.db");
    let db = Db::open(&path).expect("open");
    let png = encode(&gradient(1200, 800), ImageFormat::Png);

    let hash = db.put_art(&png, "image/png").expect("put");
    assert_eq!(hash.len(), 64);
    assert_eq!(
        db.put_art(&png, "image/jpeg").expect("again"),
        hash,
        "same bytes, same hash"
    );
    assert_eq!(art_rows(&path), 1, "stored once");

    let original = db
        .art(&hash, ArtSize::Original)
        .expect("get")
        .expect("some");
    assert_eq!(
        (original.mime.as_str(), original.bytes == png),
        ("image/png", true)
    );
    let small = db.art(&hash, ArtSize::Small).expect("get").expect("some");
    assert_eq!(small.mime, "image/jpeg");
    assert_eq!(jpeg_size(&small.bytes), (300, 200));
    assert_eq!(ffprobe_size(&small.bytes, dir.path()), (300, 200));
    let large = db.art(&hash, ArtSize::Large).expect("get").expect("some");
    assert_eq!(jpeg_size(&large.bytes), (1000, 667));
    assert_eq!(ffprobe_size(&large.bytes, dir.path()), (1000, 667));
    assert_eq!(
        db.art(&hash, ArtSize::from_param(Some("640")))
            .expect("get"),
        Some(large)
    );

    // A big portrait JPEG takes the two-step path (area average, then Lanczos).
    let tall = encode(&gradient(1000, 2600), ImageFormat::Jpeg);
    let tall_hash = db.put_art(&tall, "image/jpeg").expect("tall");
    let copy = db
        .art(&tall_hash, ArtSize::Large)
        .expect("get")
        .expect("some");
    assert_eq!(jpeg_size(&copy.bytes), (385, 1000));
    assert_eq!(art_rows(&path), 2);

    // Reopened, the pictures are still there.
    drop(db);
    let db = Db::open(&path).expect("reopen");
    assert!(db.has_art(&hash).expect("has"));
    assert_eq!(
        db.art(&hash, ArtSize::Original)
            .expect("get")
            .map(|b| b.bytes),
        Some(png)
    );
}

#[test]
fn small_pictures_are_never_upscaled() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("l.db")).expect("open");
    let rgba = image::DynamicImage::ImageRgba8(RgbaImage::from_fn(200, 100, |x, _| {
        image::Rgba([x as u8, 0, 0, 128])
    }));
    let webp_like = encode(&rgba, ImageFormat::Png);
    let hash = db
        .put_art(&webp_like, "application/octet-stream")
        .expect("put");
    let small = db.art(&hash, ArtSize::Small).expect("get").expect("some");
    assert_eq!(jpeg_size(&small.bytes), (200, 100));
    assert_eq!(
        db.art(&hash, ArtSize::Large).expect("get"),
        Some(small),
        "the large copy is the small one"
    );
    let mid = encode(&gradient(500, 500), ImageFormat::Bmp);
    let mid_hash = db.put_art(&mid, "image/bmp").expect("bmp");
    let large = db
        .art(&mid_hash, ArtSize::Large)
        .expect("get")
        .expect("some");
    assert_eq!(jpeg_size(&large.bytes), (500, 500));
    assert_eq!(
        db.art(&mid_hash, ArtSize::Original)
            .expect("get")
            .map(|b| b.mime),
        Some("image/bmp".into())
    );
}

#[test]
fn garbage_and_truncated_pictures_are_refused_without_a_panic() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.db");
    let db = Db::open(&path).expect("open");
    let png = encode(&gradient(640, 480), ImageFormat::Png);
    let jpeg = encode(&gradient(640, 480), ImageFormat::Jpeg);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let mut png_noise = png[..64].to_vec();
    png_noise.extend_from_slice(&noise);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("noise", noise.clone()),
        ("text", b"<svg onload=alert(1)>".to_vec()),
        ("half png", png[..png.len() / 2].to_vec()),
        ("png header then noise", png_noise),
        ("png signature only", png[..8].to_vec()),
        ("jpeg marker only", vec![0xff, 0xd8, 0xff]),
    ];
    for (name, bytes) in cases {
        let result = db.put_art(&bytes, "image/png");
        assert!(matches!(result, Err(DbError::Art(_))), "{name}: {result:?}");
    }
    assert_eq!(art_rows(&path), 0, "nothing stored");
    // A truncated JPEG decodes to a partly grey picture (as in a browser): kept or refused,
    // it must not panic.
    let half = db.put_art(&jpeg[..jpeg.len() / 2], "image/jpeg");
    assert!(matches!(half, Ok(_) | Err(DbError::Art(_))), "{half:?}");
    assert_eq!(db.art("not a hash", ArtSize::Original).expect("get"), None);
    assert_eq!(db.art(&"0".repeat(64), ArtSize::Small).expect("get"), None);
    assert_eq!(db.art(&"A".repeat(64), ArtSize::Small).expect("get"), None);
}

/// A PNG of a signature, an IHDR chunk claiming `width`x`height` RGBA, the start of an
/// IDAT chunk (a few bytes of a zlib stream) and IEND: what a decompression bomb looks like
/// to a decoder before it inflates anything.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffff_u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0x00, 0x00]);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn a_decompression_bomb_header_is_refused_without_allocating() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.db");
    let db = Db::open(&path).expect("open");
    // Warm up the connection's statement cache so that the measurement is the decoder's.
    db.has_art(&"0".repeat(64)).expect("warm");

    // The counter sees a real decode: a 1500x1500 picture needs 6.75 MB of pixels.
    let real = encode(&gradient(1500, 1500), ImageFormat::Png);
    let (hash, peak) = peak_during(|| db.put_art(&real, "image/png"));
    assert!(hash.is_ok(), "{hash:?}");
    assert!(peak > 6_000_000, "the allocation counter works: {peak}");

    for (w, h) in [(20_000, 20_000), (8193, 1), (8000, 8000)] {
        let bomb = png_header(w, h);
        let (result, peak) = peak_during(|| db.put_art(&bomb, "image/png"));
        assert!(
            matches!(result, Err(DbError::Art(ArtError::TooLarge(_)))),
            "{w}x{h}: {result:?}"
        );
        println!("{w}x{h} PNG header: refused, {peak} bytes allocated at peak");
        assert!(
            peak < 1 << 20,
            "{w}x{h}: refused with {peak} bytes allocated"
        );
    }
    assert_eq!(art_rows(&path), 1, "only the real picture");
}

/// A JPEG of `w`x`h` pixels carrying an EXIF orientation tag.
fn jpeg_with_orientation(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    use image::ImageEncoder;
    // A big-endian TIFF header and one IFD with one entry: 0x0112 (Orientation), SHORT, 1.
    let mut exif = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    encoder.set_exif_metadata(exif).expect("exif");
    let pixels = gradient(w, h).into_rgb8();
    encoder
        .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .expect("encode");
    out
}

#[test]
fn copies_follow_the_exif_orientation() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("l.db")).expect("open");
    // Stored 600x300 with "rotate 90° clockwise": shown 300x600, as a browser shows it.
    let rotated = jpeg_with_orientation(600, 300, 6);
    let hash = db.put_art(&rotated, "image/jpeg").expect("put");
    let small = db.art(&hash, ArtSize::Small).expect("get").expect("some");
    assert_eq!(jpeg_size(&small.bytes), (150, 300));
    let upright = jpeg_with_orientation(600, 300, 1);
    let hash = db.put_art(&upright, "image/jpeg").expect("put");
    let small = db.art(&hash, ArtSize::Small).expect("get").expect("some");
    assert_eq!(jpeg_size(&small.bytes), (300, 150));
}
