//! The data layer on the shipped MovieLens copies, bad input, and downloads from a local server.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use recsys::data::{self, checksum, DataPaths, Dataset, RatingsFormat};

fn shipped() -> DataPaths {
    DataPaths::new(None).unwrap()
}

#[test]
fn ml100k_ratings_items_users() {
    let paths = shipped();
    let df = Dataset::Ml100k.ratings(&paths).unwrap();
    assert_eq!(df.get_column_names(), data::RATINGS_COLUMNS);
    let s = data::summarize(&df).unwrap();
    assert_eq!((s.rows, s.users, s.items), (100_000, 943, 1682));
    let hist: Vec<(f64, usize)> = s.histogram.clone();
    assert_eq!(
        hist,
        vec![
            (1.0, 6110),
            (2.0, 11370),
            (3.0, 27145),
            (4.0, 34174),
            (5.0, 21201)
        ]
    );
    let first = (
        df.column("user_id").unwrap().i64().unwrap().get(0),
        df.column("item_id").unwrap().i64().unwrap().get(0),
        df.column("rating").unwrap().f64().unwrap().get(0),
        df.column("timestamp").unwrap().i64().unwrap().get(0),
    );
    assert_eq!(first, (Some(196), Some(242), Some(3.0), Some(881250949)));

    let items = Dataset::Ml100k.items(&paths).unwrap();
    assert_eq!(items.height(), 1682);
    assert_eq!(items.width(), 5 + 19);
    let titles = items.column("title").unwrap().str().unwrap();
    assert_eq!(titles.get(0), Some("Toy Story (1995)"));
    // ISO-8859-1 decoded: item 1633 is "Á köldum klaka (Cold Fever) (1994)".
    assert!(titles
        .iter()
        .flatten()
        .any(|t| t.starts_with("Á köldum klaka")));
    let src = Dataset::Ml100k.source(&paths).unwrap();
    let users = data::movielens::ml100k_users(&src).unwrap();
    assert_eq!(users.height(), 943);
}

#[test]
fn ml_latest_small_from_the_zip() {
    let paths = shipped();
    let df = Dataset::MlLatestSmall.ratings(&paths).unwrap();
    let s = data::summarize(&df).unwrap();
    assert_eq!((s.rows, s.users, s.items), (100_836, 610, 9724));
    assert_eq!(s.histogram.len(), 10, "half-star ratings 0.5 .. 5.0");
    let movies = Dataset::MlLatestSmall.items(&paths).unwrap();
    assert_eq!(movies.height(), 9742);
}

#[test]
fn shipped_checksums_all_match() {
    let paths = shipped();
    let files = checksum::check_dir(&paths.shipped).unwrap();
    assert!(files.len() >= 9);
    for (name, status) in files {
        assert_eq!(status, checksum::FileStatus::Ok, "{name}");
    }
}

/// A copy of the shipped ml-100k in a scratch directory, with `u.data` replaced by `u_data`.
fn scratch_ml100k(u_data: Option<&[u8]>, update_sums: bool) -> (tempfile::TempDir, DataPaths) {
    let dir = tempfile::tempdir().unwrap();
    let shipped = shipped().shipped;
    std::fs::create_dir(dir.path().join("ml-100k")).unwrap();
    for f in ["u.data", "u.item", "u.user"] {
        std::fs::copy(
            shipped.join("ml-100k").join(f),
            dir.path().join("ml-100k").join(f),
        )
        .unwrap();
    }
    if let Some(bytes) = u_data {
        std::fs::write(dir.path().join("ml-100k/u.data"), bytes).unwrap();
    }
    let mut sums = String::new();
    for f in ["u.data", "u.item", "u.user"] {
        let rel = format!("ml-100k/{f}");
        let digest = if update_sums || f != "u.data" {
            checksum::sha256_file(&dir.path().join(&rel)).unwrap()
        } else {
            checksum::read_sha256sums(&shipped.join("SHA256SUMS")).unwrap()[&rel].clone()
        };
        sums.push_str(&format!("{digest}  {rel}\n"));
    }
    std::fs::write(dir.path().join("SHA256SUMS"), sums).unwrap();
    let paths = DataPaths {
        shipped: dir.path().to_path_buf(),
        cache: dir.path().join("cache"),
    };
    (dir, paths)
}

fn load_err(u_data: &[u8]) -> String {
    let (_dir, paths) = scratch_ml100k(Some(u_data), true);
    format!("{:#}", Dataset::Ml100k.ratings(&paths).unwrap_err())
}

#[test]
fn wrong_checksum_is_refused() {
    let (_dir, paths) = scratch_ml100k(Some(b"1\t2\t5\t881250949\n"), false);
    let err = format!("{:#}", Dataset::Ml100k.ratings(&paths).unwrap_err());
    assert!(err.contains("u.data: checksum mismatch"), "{err}");
}

#[test]
fn bad_lines_are_named() {
    let err = load_err(b"1\t2\t5\t881250949\n1\t3\t4\n");
    assert!(
        err.contains("u.data line 2: expected 4 fields, found 3"),
        "{err}"
    );
    let err = load_err(b"1\t2\t5\t881250949\n1\t3\t4\t88125\t7\n");
    assert!(
        err.contains("u.data line 2: expected 4 fields, found 5"),
        "{err}"
    );
    let err = load_err(b"1\t2\t5\t881250949\n2\t3\tfive\t881250949\n");
    assert!(
        err.contains("u.data line 2: rating \"five\" is not a number"),
        "{err}"
    );
    let err = load_err(b"1\t2\t5\t881250949\nx\t3\t4\t881250949\n");
    assert!(
        err.contains("u.data line 2: user_id \"x\" is not an integer"),
        "{err}"
    );
    let err = load_err(b"1\t2\t5\t881250949\n1\t3\t");
    assert!(err.contains("u.data line 2"), "{err}");
    let err = load_err(b"");
    assert!(err.contains("u.data: empty file"), "{err}");
}

#[test]
fn missing_file_is_named() {
    let (dir, paths) = scratch_ml100k(None, true);
    std::fs::remove_file(dir.path().join("ml-100k/u.item")).unwrap();
    let err = format!("{:#}", Dataset::Ml100k.items(&paths).unwrap_err());
    assert!(
        err.contains("u.item") && err.contains("No such file"),
        "{err}"
    );
    let err = format!(
        "{:#}",
        data::read_ratings_file(
            Path::new("/nonexistent/r.csv"),
            &RatingsFormat::movielens_csv()
        )
        .unwrap_err()
    );
    assert!(err.contains("/nonexistent/r.csv"), "{err}");
}

#[test]
fn a_users_csv_with_a_column_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.csv");
    std::fs::write(&path, "item,user,score\n10,1,4.5\n11,1,3\n10,2,5\n").unwrap();
    let fmt = RatingsFormat {
        separator: b',',
        has_header: true,
        n_fields: None,
        user: "user".parse().unwrap(),
        item: "item".parse().unwrap(),
        rating: Some("score".parse().unwrap()),
        timestamp: None,
    };
    let df = data::read_ratings_file(&path, &fmt).unwrap();
    let s = data::summarize(&df).unwrap();
    assert_eq!((s.rows, s.users, s.items), (3, 2, 2));
    std::fs::write(&path, "item,user,score\n10,1,4.5\n11,1,great\n").unwrap();
    let err = format!("{:#}", data::read_ratings_file(&path, &fmt).unwrap_err());
    assert!(
        err.contains("mine.csv line 3: rating \"great\" is not a number"),
        "{err}"
    );
}

/// A tiny HTTP/1.1 server on 127.0.0.1 serving `files` (path -> body); `lie_about_length`
/// announces more bytes than it sends, as a broken connection would.
fn serve(files: BTreeMap<String, Vec<u8>>, lie_about_length: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            match files.get(&path) {
                Some(body) => {
                    let len = body.len()
                        + if lie_about_length && path.ends_with(".zip") {
                            1000
                        } else {
                            0
                        };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                    );
                    let _ = stream.write_all(body);
                }
                None => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    format!("http://{addr}")
}

/// An ml-1m-style archive holding a three-line `ratings.dat`.
fn tiny_ml1m_zip() -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("ml-1m/ratings.dat", opts).unwrap();
        zip.write_all(b"1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
            .unwrap();
        zip.finish().unwrap();
    }
    cursor.into_inner()
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn download_verifies_and_renames() {
    let archive = tiny_ml1m_zip();
    let files: BTreeMap<String, Vec<u8>> = [
        ("/ml-1m.zip".to_string(), archive.clone()),
        (
            "/ml-1m.zip.md5".to_string(),
            format!("MD5 (ml-1m.zip) = {}\n", md5_hex(&archive)).into_bytes(),
        ),
    ]
    .into();
    let url = serve(files, false);
    let cache = tempfile::tempdir().unwrap();
    let path = data::download::download(Dataset::Ml1m, cache.path(), &url, false).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), archive);
    let mut left = files_in(cache.path());
    left.sort();
    let md5 = data::download::md5_path(&path);
    assert_eq!(
        left,
        vec![path.clone(), md5.clone()],
        "only the archive and its checksum are left"
    );
    let paths = DataPaths {
        shipped: cache.path().join("none"),
        cache: cache.path().to_path_buf(),
    };
    let df = Dataset::Ml1m.ratings(&paths).unwrap();
    assert_eq!(df.height(), 3);
    // An archive that does not match its checksum is refused, not read.
    std::fs::write(&md5, "0123456789abcdef0123456789abcdef  ml-1m.zip\n").unwrap();
    let err = format!("{:#}", Dataset::Ml1m.ratings(&paths).unwrap_err());
    assert!(err.contains("checksum mismatch"), "{err}");
    // A dataset not downloaded yet gets a message saying how to get it.
    let err = format!("{:#}", Dataset::Ml25m.ratings(&paths).unwrap_err());
    assert!(err.contains("recsys data download ml-25m"), "{err}");
}

#[test]
fn download_with_wrong_md5_leaves_nothing() {
    let archive = tiny_ml1m_zip();
    let files: BTreeMap<String, Vec<u8>> = [
        ("/ml-1m.zip".to_string(), archive),
        (
            "/ml-1m.zip.md5".to_string(),
            b"0123456789abcdef0123456789abcdef  ml-1m.zip\n".to_vec(),
        ),
    ]
    .into();
    let url = serve(files, false);
    let cache = tempfile::tempdir().unwrap();
    let err = format!(
        "{:#}",
        data::download::download(Dataset::Ml1m, cache.path(), &url, false).unwrap_err()
    );
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(files_in(cache.path()).is_empty(), "no partial file left");
}

#[test]
fn download_errors_404_and_truncation() {
    let archive = tiny_ml1m_zip();
    let md5 = format!("{}  ml-1m.zip\n", md5_hex(&archive)).into_bytes();
    let files: BTreeMap<String, Vec<u8>> = [
        ("/ml-1m.zip".to_string(), archive),
        ("/ml-1m.zip.md5".to_string(), md5),
    ]
    .into();
    let cache = tempfile::tempdir().unwrap();
    let url = serve(files.clone(), true);
    let err = format!(
        "{:#}",
        data::download::download(Dataset::Ml1m, cache.path(), &url, false).unwrap_err()
    );
    assert!(err.contains("ml-1m.zip"), "{err}");
    assert!(files_in(cache.path()).is_empty(), "no partial file left");
    let url = serve(BTreeMap::new(), false);
    let err = format!(
        "{:#}",
        data::download::download(Dataset::Ml1m, cache.path(), &url, false).unwrap_err()
    );
    assert!(err.contains("404"), "{err}");
}
